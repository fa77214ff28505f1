//! What the room and the peer connection report: the server's messages (who is there, offers,
//! answers, candidates, who left) and the link's candidates, tracks and state, with the ICE
//! restart that follows a lost connection.

use duet_protocol::ClientMessage;
use duet_protocol::signaling::ServerMessage;
use leptos::prelude::*;

use super::timers::TimerKind;
use super::{ANSWER_DEADLINE, DISCONNECT_GRACE, EXIT_SETTLE, RESTART_DEADLINE, Session, mark};
use crate::call::{CallEvent, JoinAction, Phase, Role};
use crate::peer::{LinkState, PeerEvent, PeerLink};
use crate::signaling::SignalingClient;

impl Session {
    pub(super) async fn on_message(&mut self, m: ServerMessage) {
        match m {
            ServerMessage::AllUsers(users) => {
                mark("duet:joined");
                let names: Vec<String> = users.into_iter().map(|u| u.email).collect();
                let up = self.link.as_ref().is_some_and(PeerLink::is_connected);
                let mut action = JoinAction::Wait;
                self.view.call.update(|c| action = c.joined(&names, up));
                match action {
                    JoinAction::KeepCall => {}
                    JoinAction::Wait => {
                        if !up && let Err(p) = self.fresh_link() {
                            self.apply(CallEvent::Failed(p));
                        }
                    }
                    JoinAction::Offer => {
                        let used = self.link.as_ref().is_none_or(PeerLink::is_used);
                        if used && let Err(p) = self.fresh_link() {
                            self.apply(CallEvent::Failed(p));
                            return;
                        }
                        if self.media_pending
                            && let Some(link) = &self.link
                            && let Err(e) = link.add_waiting_senders()
                        {
                            web_sys::console::warn_1(&format!("offer: {e}").into());
                        }
                        self.offer(false).await;
                    }
                }
            }
            ServerMessage::Offer(offer) => {
                if !self.phase().in_room() {
                    return;
                }
                if self.media_pending {
                    // Answer with our media, not without it (see Session::join).
                    self.held_offer = Some(offer);
                    return;
                }
                self.apply(CallEvent::OfferReceived);
                let polite = self.view.call.with_untracked(|c| c.role()) != Some(Role::Impolite);
                let Some(link) = self.link.as_mut() else {
                    return;
                };
                match link.accept_offer(&offer, polite).await {
                    Ok(Some(answer)) => {
                        self.send(&ClientMessage::Answer(answer));
                        mark("duet:answer-sent");
                    }
                    Ok(None) => {}
                    Err(e) => web_sys::console::warn_1(&format!("offer: {e}").into()),
                }
            }
            ServerMessage::Answer(answer) => {
                mark("duet:answer-received");
                if let Some(link) = self.link.as_mut()
                    && let Err(e) = link.accept_answer(&answer).await
                {
                    web_sys::console::warn_1(&format!("answer: {e}").into());
                }
            }
            ServerMessage::Candidate(c) => {
                if let Some(link) = self.link.as_mut()
                    && let Err(e) = link.add_candidate(c).await
                {
                    web_sys::console::warn_1(&format!("candidate: {e}").into());
                }
            }
            ServerMessage::UserExit(_) => {
                if !matches!(
                    self.phase(),
                    Phase::Connecting | Phase::Connected | Phase::Reconnecting
                ) {
                    return;
                }
                // The server only knows the other person's socket closed. If media still flows,
                // it was their signaling that dropped (they will rejoin) and the call goes on;
                // a hang-up stops the media at once.
                match &self.link {
                    Some(link) if link.is_connected() => {
                        self.exit_timer = Some(self.timer(TimerKind::ExitSettle, EXIT_SETTLE));
                    }
                    _ => self.peer_gone(false),
                }
            }
            ServerMessage::UserJoined(user) => {
                self.apply(CallEvent::PeerJoined { name: user.email });
            }
            ServerMessage::RoomFull => {
                self.release();
                self.apply(CallEvent::RoomFull);
            }
            ServerMessage::Error(notice) => {
                web_sys::console::warn_1(
                    &format!("server refused: {} {}", notice.code, notice.message).into(),
                );
                // The call's state machine says it in words; a refused join ends the attempt
                // (the Join button retries), a refused message is a notice beside the call.
                self.apply(CallEvent::ServerError { code: notice.code });
                if self.phase() == Phase::Error {
                    self.release();
                }
            }
        }
    }

    pub(super) fn peer_gone(&mut self, lost: bool) {
        self.apply(CallEvent::PeerGone { lost });
        if let Err(p) = self.fresh_link() {
            self.apply(CallEvent::Failed(p));
        }
    }

    async fn offer(&mut self, ice_restart: bool) {
        let Some(link) = &self.link else { return };
        match link.make_offer(ice_restart).await {
            Ok(offer) => {
                self.send(&ClientMessage::Offer(offer));
                mark("duet:offer-sent");
            }
            Err(e) => web_sys::console::warn_1(&format!("offer: {e}").into()),
        }
    }

    pub(super) async fn on_peer(&mut self, ev: PeerEvent) {
        match ev {
            PeerEvent::Candidate(c) => self.send(&ClientMessage::Candidate(c)),
            PeerEvent::RemoteStream(s) => {
                mark("duet:remote-track");
                self.view.remote_stream.set(Some(s));
            }
            PeerEvent::State(LinkState::Connected) => {
                mark("duet:peer-connected");
                self.grace_timer = None;
                self.restart_timer = None;
                self.answer_timer = None;
                self.apply(CallEvent::PeerConnected);
            }
            PeerEvent::State(LinkState::Disconnected) => {
                self.apply(CallEvent::PeerInterrupted);
                if self.grace_timer.is_none() {
                    self.grace_timer =
                        Some(self.timer(TimerKind::DisconnectGrace, DISCONNECT_GRACE));
                }
            }
            PeerEvent::State(LinkState::Failed) => {
                self.apply(CallEvent::PeerInterrupted);
                self.restart_ice().await;
            }
            PeerEvent::State(_) => {}
            PeerEvent::RelayRefused { code } => self.apply(CallEvent::RelayRefused { code }),
        }
    }

    pub(super) async fn restart_ice(&mut self) {
        if self.restart_timer.is_none() {
            self.restart_timer = Some(self.timer(TimerKind::RestartDeadline, RESTART_DEADLINE));
        }
        let signaling_up = self
            .signaling
            .as_ref()
            .is_some_and(SignalingClient::is_connected);
        self.offer(true).await;
        if signaling_up {
            self.answer_timer = Some(self.timer(TimerKind::AnswerDeadline, ANSWER_DEADLINE));
        }
    }
}
