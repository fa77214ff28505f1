//! The call's chat channel: negotiated (`negotiated: true`, id 0), so both pages make it the
//! same way before their first offer and no in-band open message is needed. A page without it
//! (the original client) never says hello on it; the chat notices (`crate::chat`). One closure
//! serves its events (`open`, `close`, `message`), read by their type.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Event, MessageEvent, RtcDataChannel, RtcDataChannelInit, RtcPeerConnection};

use super::{PeerEvent, Sink};
use crate::call::ChannelEvent;
use crate::chat::rules::MAX_FRAME_BYTES;

/// The chat channel of a link and its event handler.
pub(super) struct ChatChannel {
    dc: RtcDataChannel,
    _on_event: Closure<dyn FnMut(Event)>,
}

impl ChatChannel {
    /// Makes the channel on `pc`, reporting as link `id` to `sink`.
    pub(super) fn open(pc: &RtcPeerConnection, id: u64, sink: Sink) -> Self {
        let init = RtcDataChannelInit::new();
        init.set_negotiated(true);
        init.set_id(0);
        let dc = pc.create_data_channel_with_data_channel_dict("chat", &init);
        let on_event = Closure::<dyn FnMut(Event)>::new(move |ev: Event| {
            let out = match ev.type_().as_str() {
                "open" => ChannelEvent::Open,
                "close" => ChannelEvent::Closed,
                "message" => {
                    let data = ev.unchecked_ref::<MessageEvent>().data();
                    match data.dyn_ref::<js_sys::JsString>() {
                        // UTF-16 length: a longer string has more UTF-8 bytes than the limit
                        // too, and is not even copied out of the browser.
                        Some(s) if s.length() as usize > MAX_FRAME_BYTES => ChannelEvent::Oversized,
                        Some(s) => ChannelEvent::Text(String::from(s)),
                        None => ChannelEvent::Binary,
                    }
                }
                _ => return,
            };
            sink(id, PeerEvent::Chat(out));
        });
        let f = Some(on_event.as_ref().unchecked_ref());
        dc.set_onopen(f);
        dc.set_onclose(f);
        dc.set_onmessage(f);
        Self {
            dc,
            _on_event: on_event,
        }
    }

    /// Sends a text frame (a closed channel drops it; its close event follows).
    pub(super) fn send(&self, text: &str) {
        let _ = self.dc.send_with_str(text);
    }

    /// Detaches the handler and closes the channel.
    pub(super) fn close(&self) {
        self.dc.set_onopen(None);
        self.dc.set_onclose(None);
        self.dc.set_onmessage(None);
        self.dc.close();
    }
}
