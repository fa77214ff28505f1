//! The call's file channel: negotiated (id 1), binary as `ArrayBuffer`,
//! `bufferedAmountLowThreshold` at the transfers' low-water mark so sending resumes when the
//! channel drains. Text frames and the buffer level go to the call machine; binary chunks go
//! to the session, which asks the machine whether to keep each.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    Event, MessageEvent, RtcDataChannel, RtcDataChannelInit, RtcDataChannelType, RtcPeerConnection,
};

use super::{PeerEvent, Sink};
use crate::call::FilesEvent;
use crate::transfer::LOW_WATER;

/// The file channel of a link and its event handler.
pub(super) struct FileChannel {
    dc: RtcDataChannel,
    _on_event: Closure<dyn FnMut(Event)>,
}

impl FileChannel {
    /// Makes the channel on `pc`, reporting as link `id` to `sink`.
    pub(super) fn open(pc: &RtcPeerConnection, id: u64, sink: Sink) -> Self {
        let init = RtcDataChannelInit::new();
        init.set_negotiated(true);
        init.set_id(1);
        let dc = pc.create_data_channel_with_data_channel_dict("files", &init);
        dc.set_binary_type(RtcDataChannelType::Arraybuffer);
        dc.set_buffered_amount_low_threshold(LOW_WATER as u32);
        let for_level = dc.clone();
        let on_event = Closure::<dyn FnMut(Event)>::new(move |ev: Event| {
            let out = match ev.type_().as_str() {
                "open" => PeerEvent::Files(FilesEvent::Open),
                "close" => PeerEvent::Files(FilesEvent::Closed),
                "bufferedamountlow" => {
                    PeerEvent::Files(FilesEvent::Buffered(u64::from(for_level.buffered_amount())))
                }
                "message" => {
                    let data = ev.unchecked_ref::<MessageEvent>().data();
                    if let Some(s) = data.as_string() {
                        PeerEvent::Files(FilesEvent::Text(s))
                    } else if let Ok(buf) = data.dyn_into::<js_sys::ArrayBuffer>() {
                        PeerEvent::FileChunk(buf)
                    } else {
                        return;
                    }
                }
                _ => return,
            };
            sink(id, out);
        });
        let f = Some(on_event.as_ref().unchecked_ref());
        dc.set_onopen(f);
        dc.set_onclose(f);
        dc.set_onmessage(f);
        dc.set_onbufferedamountlow(f);
        Self {
            dc,
            _on_event: on_event,
        }
    }

    /// Sends a text frame.
    pub(super) fn send_text(&self, text: &str) {
        let _ = self.dc.send_with_str(text);
    }

    /// Sends bytes as one binary frame.
    pub(super) fn send_bytes(&self, bytes: &js_sys::Uint8Array) {
        let _ = self.dc.send_with_array_buffer_view(bytes);
    }

    /// The channel's `bufferedAmount`.
    pub(super) fn buffered(&self) -> u64 {
        u64::from(self.dc.buffered_amount())
    }

    /// Detaches the handler and closes the channel.
    pub(super) fn close(&self) {
        self.dc.set_onopen(None);
        self.dc.set_onclose(None);
        self.dc.set_onmessage(None);
        self.dc.set_onbufferedamountlow(None);
        self.dc.close();
    }
}
