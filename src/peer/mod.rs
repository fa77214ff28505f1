//! One RTCPeerConnection and everything hung on it: its event closures, the candidates that
//! arrived before the remote description, and the mechanics of negotiation (rollback, senders
//! declared before the camera). Whether to offer, answer or ignore is the call machine's
//! decision ([`crate::call`]); this module only does it.
//!
//! A [`PeerLink`] reports what happens through a sink as [`PeerEvent`]s tagged with its id, so
//! a session can ignore late events from a link it already replaced. Closing (or dropping) the
//! link detaches its handlers, drops its closures and closes the connection; with the
//! `test-seams` feature (tests only), `live_links` counts open links so tests can prove nothing
//! leaks.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use duet_protocol::signaling::{IceCandidate, SessionDescription};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamTrack, RtcBundlePolicy, RtcConfiguration, RtcIceConnectionState,
    RtcOfferOptions, RtcPeerConnection, RtcPeerConnectionIceEvent, RtcPeerConnectionState,
    RtcRtpSender, RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcSdpType,
    RtcSessionDescriptionInit, RtcSignalingState, RtcTrackEvent,
};

mod chat;
mod dictionaries;
mod files;
pub mod stats;

use self::dictionaries::{
    candidate_to_js, description_from_js, description_to_js, ice_servers_to_js,
};
pub use crate::call::{ChannelEvent, FilesEvent, LinkState};
use crate::config::IceServer;
use crate::js::js_string;
use crate::media::{Kind, LocalMedia};

thread_local! {
    #[cfg(feature = "test-seams")]
    static LIVE_LINKS: Cell<usize> = const { Cell::new(0) };
    static NEXT_ID: Cell<u64> = const { Cell::new(1) };
}

/// How many peer connections are open.
#[cfg(feature = "test-seams")]
pub fn live_links() -> usize {
    LIVE_LINKS.with(Cell::get)
}

/// A WebRTC call failed to set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerError {
    /// The browser refused an operation (message from its exception).
    #[error("{op}: {message}")]
    Browser {
        /// What was being done.
        op: &'static str,
        /// The browser's explanation.
        message: String,
    },
    /// A description or candidate could not be converted.
    #[error("malformed {0}")]
    Malformed(&'static str),
}

fn browser(op: &'static str) -> impl Fn(JsValue) -> PeerError {
    move |e| PeerError::Browser {
        op,
        message: js_sys::Reflect::get(&e, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .or_else(|| e.as_string())
            .unwrap_or_else(|| format!("{e:?}")),
    }
}

/// What a link reports.
#[derive(Debug, Clone)]
pub enum PeerEvent {
    /// A local candidate to send to the other side.
    Candidate(IceCandidate),
    /// The remote stream (sent again whenever a track is added to it).
    RemoteStream(MediaStream),
    /// The connection state changed.
    State(LinkState),
    /// An ICE candidate error (`icecandidateerror`): the STUN/TURN error code (401 and 403 mean
    /// a relay refused our credentials).
    CandidateError(u16),
    /// The chat channel's event.
    Chat(ChannelEvent),
    /// The file channel's event.
    Files(FilesEvent),
    /// A binary chunk on the file channel (the session asks the machine whether to keep it).
    FileChunk(js_sys::ArrayBuffer),
}

type Sink = Rc<dyn Fn(u64, PeerEvent)>;

/// One peer connection. See the module documentation.
pub struct PeerLink {
    id: u64,
    pc: RtcPeerConnection,
    pending: Vec<IceCandidate>,
    remote: MediaStream,
    closed: bool,
    /// Senders declared before the camera was ready, waiting for their tracks.
    waiting_senders: RefCell<Vec<(Kind, RtcRtpSender)>>,
    _on_candidate: Closure<dyn FnMut(RtcPeerConnectionIceEvent)>,
    _on_track: Closure<dyn FnMut(RtcTrackEvent)>,
    _on_state: Closure<dyn FnMut()>,
    _on_candidate_error: Closure<dyn FnMut(web_sys::Event)>,
    chat: chat::ChatChannel,
    files: files::FileChannel,
}

impl PeerLink {
    /// Opens a peer connection with these ICE servers, reporting to `sink`.
    pub fn new(
        ice: &[IceServer],
        sink: impl Fn(u64, PeerEvent) + 'static,
    ) -> Result<Self, PeerError> {
        let sink: Sink = Rc::new(sink);
        let id = NEXT_ID.with(|n| {
            let id = n.get();
            n.set(id + 1);
            id
        });
        let config = RtcConfiguration::new();
        config.set_ice_servers(&ice_servers_to_js(ice));
        // One transport for audio and video from the start: half the candidates to gather,
        // send and check (every browser the call can reach supports BUNDLE).
        config.set_bundle_policy(RtcBundlePolicy::MaxBundle);
        let pc = RtcPeerConnection::new_with_configuration(&config)
            .map_err(browser("RTCPeerConnection"))?;
        let remote = MediaStream::new().map_err(browser("MediaStream"))?;

        let s = sink.clone();
        let on_candidate = Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new(
            move |ev: RtcPeerConnectionIceEvent| {
                let Some(c) = ev.candidate() else { return };
                let c = IceCandidate {
                    candidate: c.candidate(),
                    sdp_mid: c.sdp_mid(),
                    sdp_m_line_index: c.sdp_m_line_index(),
                    username_fragment: js_string(&c, "usernameFragment"),
                };
                if !c.candidate.is_empty() {
                    s(id, PeerEvent::Candidate(c));
                }
            },
        );
        pc.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));

        let s = sink.clone();
        // `Clone::clone`, not `MediaStream::clone` (which would copy the stream and its tracks).
        let remote_for_track = Clone::clone(&remote);
        let on_track = Closure::<dyn FnMut(RtcTrackEvent)>::new(move |ev: RtcTrackEvent| {
            // One stream for the remote video whatever streams the sender declared: tracks of a
            // replaced kind are swapped so the element never holds a dead track.
            let track = ev.track();
            for old in remote_for_track.get_tracks().iter() {
                let old: MediaStreamTrack = old.unchecked_into();
                if old.kind() == track.kind() && old.id() != track.id() {
                    remote_for_track.remove_track(&old);
                }
            }
            remote_for_track.add_track(&track);
            s(id, PeerEvent::RemoteStream(Clone::clone(&remote_for_track)));
        });
        pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));

        let s = sink.clone();
        let pc_for_state = pc.clone();
        let on_state = Closure::<dyn FnMut()>::new(move || {
            let state = match pc_for_state.connection_state() {
                RtcPeerConnectionState::Connected => LinkState::Connected,
                RtcPeerConnectionState::Disconnected => LinkState::Disconnected,
                // ICE still connected: what failed is the DTLS handshake over it.
                RtcPeerConnectionState::Failed => match pc_for_state.ice_connection_state() {
                    RtcIceConnectionState::Connected | RtcIceConnectionState::Completed => {
                        LinkState::HandshakeFailed
                    }
                    _ => LinkState::Failed,
                },
                RtcPeerConnectionState::Closed => return,
                _ => LinkState::Connecting,
            };
            s(id, PeerEvent::State(state));
        });
        pc.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));

        // Before any offer, so every offer carries the data section.
        let chat = chat::ChatChannel::open(&pc, id, sink.clone());
        let files = files::FileChannel::open(&pc, id, sink.clone());
        let s = sink;
        let on_candidate_error =
            Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
                let code = js_sys::Reflect::get(&ev, &"errorCode".into())
                    .ok()
                    .and_then(|c| c.as_f64())
                    .unwrap_or(0.0);
                s(id, PeerEvent::CandidateError(code as u16));
            });
        let _ = js_sys::Reflect::set(
            &pc,
            &"onicecandidateerror".into(),
            on_candidate_error.as_ref(),
        );

        #[cfg(feature = "test-seams")]
        LIVE_LINKS.with(|n| n.set(n.get() + 1));
        Ok(Self {
            id,
            pc,
            pending: Vec::new(),
            remote,
            closed: false,
            waiting_senders: RefCell::new(Vec::new()),
            _on_candidate: on_candidate,
            _on_track: on_track,
            _on_state: on_state,
            _on_candidate_error: on_candidate_error,
            chat,
            files,
        })
    }

    /// This link's id, as its events carry it.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Restricts ICE to TURN relay candidates (`?ice=relay`: iceTransportPolicy "relay"), as a
    /// caller behind a hostile network would, or to prove the relay path. Call before the
    /// first offer; applied through setConfiguration so [`PeerLink::new`] keeps one signature.
    pub fn set_relay_only(&self) -> Result<(), PeerError> {
        let config = self.pc.get_configuration();
        js_sys::Reflect::set(&config, &"iceTransportPolicy".into(), &"relay".into())
            .map_err(browser("iceTransportPolicy"))?;
        self.pc
            .set_configuration_with_configuration(&config)
            .map_err(browser("setConfiguration"))
    }

    /// The remote stream (empty until tracks arrive).
    pub fn remote_stream(&self) -> &MediaStream {
        &self.remote
    }

    /// Whether media flows now.
    pub fn is_connected(&self) -> bool {
        !self.closed && self.pc.connection_state() == RtcPeerConnectionState::Connected
    }

    /// Sends the local tracks; for a missing kind (no camera, no microphone) still asks to
    /// receive it, so a receive-only user sees and hears the other person.
    pub fn add_local(&self, media: &LocalMedia) {
        let stream = media.stream();
        for kind in [Kind::Audio, Kind::Video] {
            match media.track(kind) {
                Some(track) => {
                    self.pc.add_track_0(&track, stream);
                }
                None => {
                    let init = RtcRtpTransceiverInit::new();
                    init.set_direction(RtcRtpTransceiverDirection::Recvonly);
                    self.pc
                        .add_transceiver_with_str_and_init(kind.as_str(), &init);
                }
            }
        }
    }

    /// Declares an audio and a video sender before the camera is ready, so the first offer can
    /// go out at once; [`PeerLink::attach_local`] gives them their tracks later (replaceTrack
    /// needs no new negotiation). They name one stream, as `addTrack` would, for the other side's
    /// `ontrack` (the original client shows `streams[0]`).
    pub fn add_waiting_senders(&self) -> Result<(), PeerError> {
        let stream = MediaStream::new().map_err(browser("MediaStream"))?;
        let init = RtcRtpTransceiverInit::new();
        init.set_direction(RtcRtpTransceiverDirection::Sendrecv);
        init.set_streams(&js_sys::Array::of1(&stream));
        let mut waiting = self.waiting_senders.borrow_mut();
        for kind in [Kind::Audio, Kind::Video] {
            let t = self
                .pc
                .add_transceiver_with_str_and_init(kind.as_str(), &init);
            waiting.push((kind, t.sender()));
        }
        Ok(())
    }

    /// Makes the audio and video transceivers the remote offer created send as well as receive
    /// (their senders have no track yet) and keeps their senders for
    /// [`PeerLink::attach_local`]. The offer's m-lines never reuse transceivers of
    /// [`PeerLink::add_waiting_senders`] (only those of `addTrack`), hence this second way.
    fn declare_answer_senders(&self) {
        let mut waiting = self.waiting_senders.borrow_mut();
        for t in self.pc.get_transceivers().iter() {
            let t: web_sys::RtcRtpTransceiver = t.unchecked_into();
            let sender = t.sender();
            let kind = match t.receiver().track().kind().as_str() {
                "audio" => Kind::Audio,
                "video" => Kind::Video,
                _ => continue,
            };
            if t.mid().is_some() && sender.track().is_none() {
                t.set_direction(RtcRtpTransceiverDirection::Sendrecv);
                waiting.push((kind, sender));
            }
        }
    }

    /// Gives this connection the local media that arrived after it was opened: the senders
    /// declared by [`PeerLink::add_waiting_senders`] get their tracks, or, without any, the
    /// tracks are added as [`PeerLink::add_local`] does (the machine asks for that only while
    /// nothing was negotiated).
    pub async fn attach_local(&self, media: &LocalMedia) -> Result<(), PeerError> {
        let waiting = std::mem::take(&mut *self.waiting_senders.borrow_mut());
        if waiting.is_empty() {
            self.add_local(media);
            return Ok(());
        }
        for (kind, sender) in waiting {
            if let Some(track) = media.track(kind) {
                JsFuture::from(sender.replace_track(Some(&track)))
                    .await
                    .map_err(browser("replaceTrack"))?;
            }
        }
        Ok(())
    }

    /// Swaps the track a sender sends (new camera or microphone) without renegotiating.
    pub async fn replace_track(&self, track: &MediaStreamTrack) -> Result<(), PeerError> {
        for sender in self.pc.get_senders().iter() {
            let sender: RtcRtpSender = sender.unchecked_into();
            if sender.track().is_some_and(|t| t.kind() == track.kind()) {
                JsFuture::from(sender.replace_track(Some(track)))
                    .await
                    .map_err(browser("replaceTrack"))?;
            }
        }
        Ok(())
    }

    /// Restarts the video encoding (off, then on again) so that its next frame is a key frame.
    /// After an outage the other side's decoder has lost its reference frames and shows
    /// nothing until a key frame comes; Chromium's receiver only asks for one 3 s after
    /// packets return (measured: frames resumed 3.1 s after a 15 s cut, the link itself in
    /// 0.1 s). The sender knows the link is back as soon as the receiver does.
    pub async fn refresh_video(&self) -> Result<(), PeerError> {
        let mut result = Ok(());
        for sender in self.pc.get_senders().iter() {
            let sender: RtcRtpSender = sender.unchecked_into();
            if sender.track().is_none_or(|t| t.kind() != "video") {
                continue;
            }
            // Off, then on again whatever happened to "off": never leave the video off.
            for active in [false, true] {
                let params = sender.get_parameters();
                if let Ok(encodings) = js_sys::Reflect::get(&params, &"encodings".into()) {
                    for e in js_sys::Array::from(&encodings).iter() {
                        let _ = js_sys::Reflect::set(&e, &"active".into(), &active.into());
                    }
                }
                if let Err(e) = JsFuture::from(sender.set_parameters_with_parameters(&params)).await
                {
                    result = Err(browser("setParameters")(e));
                }
            }
        }
        result
    }

    /// Creates an offer (with fresh ICE credentials for a restart), sets it locally, returns it.
    pub async fn make_offer(&self, ice_restart: bool) -> Result<SessionDescription, PeerError> {
        let options = RtcOfferOptions::new();
        if ice_restart {
            options.set_ice_restart(true);
        }
        let offer = JsFuture::from(self.pc.create_offer_with_rtc_offer_options(&options))
            .await
            .map_err(browser("createOffer"))?;
        self.set_local(offer).await
    }

    async fn set_local(&self, desc: JsValue) -> Result<SessionDescription, PeerError> {
        let desc = description_from_js(&desc)?;
        JsFuture::from(self.pc.set_local_description(&description_to_js(&desc)))
            .await
            .map_err(browser("setLocalDescription"))?;
        Ok(desc)
    }

    /// Applies an offer from the other side, rolling back our own pending offer first (the
    /// polite side of perfect negotiation; the machine ignores the offer instead when it plays
    /// the impolite side). Returns the answer to send. `before_media`: the camera is not ready,
    /// so the answer declares senders whose tracks [`PeerLink::attach_local`] gives later.
    pub async fn accept_offer(
        &mut self,
        offer: &SessionDescription,
        before_media: bool,
    ) -> Result<SessionDescription, PeerError> {
        if self.pc.signaling_state() != RtcSignalingState::Stable {
            let rollback = RtcSessionDescriptionInit::new(RtcSdpType::Rollback);
            JsFuture::from(self.pc.set_local_description(&rollback))
                .await
                .map_err(browser("rollback"))?;
        }
        JsFuture::from(self.pc.set_remote_description(&description_to_js(offer)))
            .await
            .map_err(browser("setRemoteDescription(offer)"))?;
        if before_media {
            self.declare_answer_senders();
        }
        self.flush_candidates().await;
        let answer = JsFuture::from(self.pc.create_answer())
            .await
            .map_err(browser("createAnswer"))?;
        self.set_local(answer).await
    }

    /// Applies the answer to our offer. An answer when no offer is pending (a duplicate, or one
    /// meant for a connection we replaced) is ignored.
    pub async fn accept_answer(&mut self, answer: &SessionDescription) -> Result<(), PeerError> {
        if self.pc.signaling_state() != RtcSignalingState::HaveLocalOffer {
            return Ok(());
        }
        JsFuture::from(self.pc.set_remote_description(&description_to_js(answer)))
            .await
            .map_err(browser("setRemoteDescription(answer)"))?;
        self.flush_candidates().await;
        Ok(())
    }

    /// Adds a remote candidate, or holds it until the remote description is set.
    pub async fn add_candidate(&mut self, candidate: IceCandidate) -> Result<(), PeerError> {
        if candidate.candidate.is_empty() {
            return Ok(());
        }
        if self.pc.remote_description().is_none() {
            // Bounded: a flood of early candidates cannot grow without limit.
            if self.pending.len() < 256 {
                self.pending.push(candidate);
            }
            return Ok(());
        }
        // Candidates for an offer the machine ignored on glare fail here; the caller only logs.
        JsFuture::from(
            self.pc
                .add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&candidate_to_js(
                    &candidate,
                ))),
        )
        .await
        .map_err(browser("addIceCandidate"))?;
        Ok(())
    }

    async fn flush_candidates(&mut self) {
        for c in std::mem::take(&mut self.pending) {
            if let Err(e) = JsFuture::from(
                self.pc
                    .add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&candidate_to_js(&c))),
            )
            .await
            {
                web_sys::console::warn_2(&"queued candidate rejected".into(), &e);
            }
        }
    }

    /// Sends a text frame on the file channel.
    pub fn send_file_text(&self, frame: &str) {
        self.files.send_text(frame);
    }

    /// Sends a chunk on the file channel; returns the channel's `bufferedAmount` after it.
    pub fn send_file_bytes(&self, bytes: &js_sys::Uint8Array) -> u64 {
        self.files.send_bytes(bytes);
        self.files.buffered()
    }

    /// Sends a frame on the chat channel.
    pub fn send_chat(&self, frame: &str) {
        self.chat.send(frame);
    }

    /// The browser's connection, for reading its stats and applied descriptions off the
    /// session loop ([`stats`]).
    pub fn connection(&self) -> RtcPeerConnection {
        self.pc.clone()
    }

    /// Candidates waiting for the remote description.
    pub fn pending_candidates(&self) -> usize {
        self.pending.len()
    }

    /// Detaches handlers, closes the connection and stops the remote tracks. Idempotent.
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.pc.set_onicecandidate(None);
        self.pc.set_ontrack(None);
        self.pc.set_onconnectionstatechange(None);
        let _ = js_sys::Reflect::set(&self.pc, &"onicecandidateerror".into(), &JsValue::NULL);
        self.chat.close();
        self.files.close();
        self.pc.close();
        for t in self.remote.get_tracks().iter() {
            let t: MediaStreamTrack = t.unchecked_into();
            self.remote.remove_track(&t);
            t.stop();
        }
        #[cfg(feature = "test-seams")]
        LIVE_LINKS.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

impl Drop for PeerLink {
    fn drop(&mut self) {
        self.close();
    }
}
