//! Carrying out the call machine's actions with web-sys: the camera request, the signaling
//! connection, the peer link and its negotiation. What comes back (descriptions, candidates,
//! states, media) goes to the machine as inputs; nothing here decides.

use duet_protocol::signaling::SessionDescription;
use leptos::prelude::*;

use super::{Event, Session, Work, mark, secure_url};
use crate::call::{Action, Input, LinkInput};
use crate::media::{self, DeviceWatcher, Kind};
use crate::peer::{PeerEvent, PeerLink, stats};
use crate::signaling::{SignalingClient, SignalingEvent};

impl Session {
    pub(super) async fn execute(&mut self, action: Action) {
        match action {
            Action::AcquireMedia(id) => {
                self.acquiring = id;
                let tx = self.tx.clone();
                let request = self.media_request.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let acquired = media::acquire(&request).await;
                    let _ = tx.unbounded_send(Event::Media(id, acquired));
                });
            }
            Action::ReleaseMedia => {
                self.acquiring = 0;
                self.watcher = None;
                if let Some(m) = self.media.take() {
                    m.stop();
                }
                self.view.local_stream.set(None);
                self.view.has_mic.set(false);
                self.view.has_cam.set(false);
            }
            Action::OpenSignaling(id) => {
                let tx = self.tx.clone();
                let url = &self.settings.signaling_url;
                self.signaling = Some(SignalingClient::connect(url, move |ev| {
                    let input = match ev {
                        SignalingEvent::Connected => Input::SignalingUp(id),
                        SignalingEvent::Down { retry_in } => Input::SignalingDown(id, retry_in),
                        SignalingEvent::Closed(why) => Input::SignalingClosed(id, why),
                        SignalingEvent::Message(m) => Input::Server(id, m),
                        SignalingEvent::Garbage(why) => {
                            web_sys::console::warn_2(&"signaling: dropped:".into(), &why.into());
                            return;
                        }
                    };
                    let _ = tx.unbounded_send(Event::Call(input));
                }));
            }
            Action::CloseSignaling => {
                if let Some(s) = self.signaling.take() {
                    s.close();
                }
            }
            Action::Send(message) => {
                if let Some(s) = &self.signaling {
                    s.send(&message);
                }
            }
            Action::OpenLink(id) => self.open_link(id),
            Action::CloseLink => {
                if let Some((_, mut link)) = self.link.take() {
                    link.close();
                }
                self.view.remote_stream.set(None);
            }
            Action::DeclareSenders => {
                if let Some((_, link)) = &self.link
                    && let Err(e) = link.add_waiting_senders()
                {
                    warn("senders", &e);
                }
            }
            Action::AttachMedia => {
                if let (Some((_, link)), Some(media)) = (&self.link, &self.media)
                    && let Err(e) = link.attach_local(media).await
                {
                    warn("local media", &e);
                }
            }
            Action::MakeOffer { ice_restart } => {
                let Some((id, link)) = &self.link else { return };
                let result = link.make_offer(ice_restart).await;
                self.described(*id, result);
            }
            Action::AcceptOffer(offer) => self.accept_offer(&offer, false).await,
            Action::AcceptOfferBeforeMedia(offer) => self.accept_offer(&offer, true).await,
            Action::AcceptAnswer(answer) => {
                if let Some((_, link)) = &mut self.link
                    && let Err(e) = link.accept_answer(&answer).await
                {
                    warn("answer", &e);
                }
            }
            Action::AddCandidate(c) => {
                if let Some((_, link)) = &mut self.link
                    && let Err(e) = link.add_candidate(c).await
                {
                    warn("candidate", &e);
                }
            }
            Action::RefreshVideo => {
                if let Some((_, link)) = &self.link
                    && let Err(e) = link.refresh_video().await
                {
                    warn("video refresh", &e);
                }
            }
            // Read off the loop (getStats takes milliseconds; the loop's own future stays
            // small): the answer comes back as an event of the link it was asked of.
            // The stats and the safety code are read by the module that loads after the first
            // frame (`crate::extras`); a reading asked for before it waits for it there rather
            // than fetch it early, and is answered as refused if it cannot load.
            Action::CountPackets | Action::ReadStats | Action::WorkOutSafetyCode => {
                let Some((id, link)) = &self.link else { return };
                let (id, pc, tx) = (*id, link.connection(), self.tx.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let safety = matches!(action, Action::WorkOutSafetyCode);
                    let input = if matches!(action, Action::CountPackets) {
                        LinkInput::Packets(stats::packets_received(&pc).await)
                    } else if let Some(later) = crate::extras::loaded().await {
                        (later.read)(pc, safety).await
                    } else if safety {
                        LinkInput::SafetyCode(None)
                    } else {
                        LinkInput::Stats(None)
                    };
                    let _ = tx.unbounded_send(Event::Call(Input::Link(id, input)));
                });
            }
            Action::SendChat(frame) => {
                if let Some((_, link)) = &self.link {
                    link.send_chat(&frame);
                }
            }
            action @ (Action::Files(_)
            | Action::CaptureScreen(_)
            | Action::SendScreen
            | Action::StopScreen) => self.later(Work::Action(action)).await,
            Action::Mark(name) => mark(name),
        }
    }

    /// Applies the other side's offer and reports the answer (see [`Action::AcceptOffer`]).
    async fn accept_offer(&mut self, offer: &SessionDescription, before_media: bool) {
        let Some((id, link)) = &mut self.link else {
            return;
        };
        let id = *id;
        let result = link.accept_offer(offer, before_media).await;
        self.described(id, result);
    }

    /// Reports what `MakeOffer` or `AcceptOffer` produced to the machine.
    fn described(
        &mut self,
        id: u64,
        result: Result<duet_protocol::signaling::SessionDescription, crate::peer::PeerError>,
    ) {
        let input = match result {
            Ok(desc) => LinkInput::Described(desc),
            Err(e) => {
                warn("negotiation", &e);
                LinkInput::NegotiationFailed(e.to_string())
            }
        };
        self.machine.handle(Input::Link(id, input), super::now());
    }

    /// Opens the link the machine asked for, with the local media if there is some.
    fn open_link(&mut self, id: u64) {
        if let Some((_, mut old)) = self.link.take() {
            old.close();
        }
        self.view.remote_stream.set(None);
        // The ICE servers were loaded by the join, before any signaling event (so any
        // OpenLink) could be handled: one place awaits them, so the bundle has one copy.
        let tx = self.tx.clone();
        let opened = PeerLink::new(self.ice.as_deref().unwrap_or_default(), move |_, ev| {
            let event = match ev {
                PeerEvent::RemoteStream(s) => Event::Remote(id, s),
                PeerEvent::Candidate(c) => Event::Call(Input::Link(id, LinkInput::Candidate(c))),
                PeerEvent::State(s) => Event::Call(Input::Link(id, LinkInput::State(s))),
                PeerEvent::CandidateError(code) => {
                    Event::Call(Input::Link(id, LinkInput::CandidateError(code)))
                }
                PeerEvent::Chat(ev) => Event::Call(Input::Link(id, LinkInput::Chat(ev))),
                PeerEvent::Files(ev) => Event::Call(Input::Link(id, LinkInput::Files(ev))),
                PeerEvent::FileChunk(buf) => Event::Chunk(id, buf),
            };
            let _ = tx.unbounded_send(event);
        });
        // `?ice=relay`: only TURN relay candidates (iceTransportPolicy "relay").
        let opened = opened.and_then(|link| {
            if self.settings.ice.relay_only() {
                link.set_relay_only()?;
            }
            Ok(link)
        });
        match opened {
            Ok(link) => {
                if let Some(m) = &self.media {
                    link.add_local(m);
                }
                self.link = Some((id, link));
            }
            Err(e) => {
                let input = Input::Link(id, LinkInput::OpenFailed(e.to_string()));
                self.link = None;
                // The machine only listens to its current link: report as that link.
                self.machine.handle(input, super::now());
            }
        }
    }

    /// The camera request answered: keep the media and show it, then tell the machine.
    pub(super) fn on_media(
        &mut self,
        id: u64,
        acquired: Result<media::Acquired, media::MediaError>,
    ) {
        let input = match acquired {
            Err(e) => Input::MediaFailed(id, e.to_problem(secure_url())),
            Ok(acquired) => {
                let media = acquired.media;
                media.set_enabled(Kind::Audio, self.view.mic_on.get_untracked());
                media.set_enabled(Kind::Video, self.view.cam_on.get_untracked());
                self.view.has_mic.set(media.track(Kind::Audio).is_some());
                self.view.has_cam.set(media.track(Kind::Video).is_some());
                self.view
                    .local_stream
                    .set(Some(Clone::clone(media.stream())));
                self.view.camera_id.set(media.device_id(Kind::Video));
                self.view.mic_id.set(media.device_id(Kind::Audio));
                self.media = Some(media);
                let tx = self.tx.clone();
                self.watcher = Some(DeviceWatcher::new(move || {
                    let _ = tx.unbounded_send(Event::DevicesChanged);
                }));
                let tx = self.tx.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = tx.unbounded_send(Event::Devices(id, media::devices().await));
                });
                Input::MediaReady(id, acquired.notice)
            }
        };
        self.feed(input);
    }
}

fn warn(what: &str, e: &crate::peer::PeerError) {
    web_sys::console::warn_1(&format!("{what}: {e}").into());
}
