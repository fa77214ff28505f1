//! The call machine's rules for the peer link: offers and answers (perfect negotiation, an
//! offer held until the camera is ready, a fresh link for the other side's fresh connection),
//! telling a hang-up from a signaling drop, and recovery: ICE restart, then fresh links for as
//! long as the other person is in the room and signaling is up.

use std::time::Duration;

use duet_protocol::ClientMessage;
use duet_protocol::signaling::{SdpType, SessionDescription};

use super::io::{Action, LinkInput, LinkState};
use super::machine::{ExitCheck, Machine, Media, Peer, Signaling};
use super::{
    ANSWER_DEADLINE, DISCONNECT_GRACE, EXIT_CHECK, EXIT_SETTLE, Problem, RESTART_DEADLINE,
    RESTART_YIELD,
};
use crate::insight::monitor;

/// The `a=fingerprint:` of a description: which DTLS certificate, so which connection, it is.
fn fingerprint(sdp: &str) -> Option<&str> {
    sdp.lines()
        .find_map(|l| l.strip_prefix("a=fingerprint:"))
        .map(str::trim)
}

impl Machine {
    /// The other side's offer: answered on the current link, or on a fresh one when it comes
    /// from a new connection of theirs; held while our camera starts; ignored on glare when we
    /// are the impolite side (our offer wins).
    pub(super) fn on_offer(&mut self, offer: SessionDescription, now: Duration) {
        self.peer = Peer::Present;
        self.timers.warm = None;
        let theirs = fingerprint(&offer.sdp).map(str::to_owned);
        // Every real offer carries its DTLS fingerprint: one without (garbage the browser will
        // refuse) cannot be a new connection of theirs and must not replace a working link.
        let from_new_connection = self.link.as_ref().is_none_or(|l| {
            theirs.is_some() && l.remote_fingerprint.is_some() && l.remote_fingerprint != theirs
        });
        // Glare on this link, decided now and not once the camera is ready: by then our offer
        // may be answered, and their offer (which they rolled back) would look fresh.
        let ours_wins = !self.polite && self.link.as_ref().is_some_and(|l| l.offer_out);
        if ours_wins && !from_new_connection {
            return;
        }
        // A warm offer is answered at once, the camera's tracks following; any other waits
        // for the camera, so the answer carries its tracks.
        let warm = !from_new_connection && self.link.as_ref().is_some_and(|l| l.warm);
        let before_media = self.media == Media::Pending;
        if before_media && !warm {
            self.held_offer = Some(offer);
            return;
        }
        if from_new_connection {
            self.open_link();
            if self.timers.restart.is_some() {
                // Their fresh attempt is ours now: give it the whole time before another.
                self.timers.restart = Some(now + RESTART_DEADLINE);
            }
        }
        let Some(link) = self.link.as_mut() else {
            return;
        };
        link.used = true;
        link.offer_out = false;
        link.candidates = 0;
        link.senders_declared |= before_media;
        if theirs.is_some() {
            link.remote_fingerprint = theirs;
        }
        self.timers.answer = None;
        if self.timers.grace.take().is_some() {
            // They are restarting already: answering is our part of it, and their restart gets
            // the time ours would have had.
            self.timers.restart.get_or_insert(now + RESTART_DEADLINE);
        }
        self.act(if before_media {
            Action::AcceptOfferBeforeMedia(offer)
        } else {
            Action::AcceptOffer(offer)
        });
    }

    pub(super) fn on_answer(&mut self, answer: SessionDescription) {
        self.act(Action::Mark("duet:answer-received"));
        // An answer with no offer of ours out (a duplicate, or for a link we replaced) is
        // ignored.
        let Some(link) = self.link.as_mut().filter(|l| l.offer_out) else {
            return;
        };
        link.offer_out = false;
        link.candidates = 0;
        link.remote_fingerprint = fingerprint(&answer.sdp).map(str::to_owned);
        self.timers.answer = None;
        self.act(Action::AcceptAnswer(answer));
    }

    /// The server says the other person's socket closed. If media still flows, only their
    /// signaling dropped (they will rejoin) and the call goes on; a hang-up stops the media at
    /// once, which the packet count shows.
    pub(super) fn on_user_exit(&mut self, now: Duration) {
        if self.peer != Peer::Present {
            return;
        }
        if self.call_up() {
            self.timers.exit = Some(now + EXIT_SETTLE);
            self.timers.exit_check = Some(ExitCheck::Settling);
        } else {
            self.peer_gone(false);
        }
    }

    /// The other person is gone: wait for someone to join, on a fresh link.
    pub(super) fn peer_gone(&mut self, lost: bool) {
        self.peer = Peer::Left { lost };
        self.peer_name = None;
        // Nobody to show the screen to.
        self.stop_sharing();
        self.polite = true;
        self.timers = Default::default();
        self.held_offer = None;
        self.open_link();
    }

    /// Makes an offer, on a fresh link when the current one has negotiated before; before the
    /// camera is ready, with senders that get their tracks later.
    pub(super) fn offer_on_fresh_link(&mut self) {
        if self.link.as_ref().is_none_or(|l| l.used) {
            self.open_link();
        }
        if self.media == Media::Pending {
            self.act(Action::DeclareSenders);
            if let Some(l) = self.link.as_mut() {
                l.senders_declared = true;
            }
        }
        self.make_offer(false);
    }

    fn make_offer(&mut self, ice_restart: bool) {
        let Some(link) = self.link.as_mut() else {
            return;
        };
        link.used = true;
        link.offer_out = true;
        self.act(Action::MakeOffer { ice_restart });
    }

    pub(super) fn on_link(&mut self, event: LinkInput, now: Duration) {
        match event {
            LinkInput::OpenFailed(why) => self.fail(Problem::PeerFailed(why)),
            LinkInput::Described(desc) => match desc.kind {
                SdpType::Offer => {
                    self.act(Action::Send(ClientMessage::Offer(desc)));
                    self.act(Action::Mark("duet:offer-sent"));
                    // While recovering, silence means nobody is there (the original server
                    // never says who left). A live peer answers within a round trip.
                    if self.timers.restart.is_some() && self.signaling == Signaling::Up {
                        self.timers.answer = Some(now + ANSWER_DEADLINE);
                    }
                }
                SdpType::Answer => {
                    self.act(Action::Send(ClientMessage::Answer(desc)));
                    self.act(Action::Mark("duet:answer-sent"));
                }
                SdpType::Pranswer | SdpType::Rollback => {}
            },
            LinkInput::NegotiationFailed(_) => {
                if let Some(l) = self.link.as_mut() {
                    l.offer_out = false;
                }
            }
            LinkInput::Candidate(c) => self.act(Action::Send(ClientMessage::Candidate(c))),
            LinkInput::State(state) => self.on_link_state(state, now),
            LinkInput::CandidateError(401 | 403) => self.notice = Some(Problem::RelayRefused),
            LinkInput::CandidateError(_) => {}
            LinkInput::Packets(count) => self.on_packets(count, now),
            LinkInput::Stats(sample) => self.see(monitor::Input::Reading(sample), now),
            LinkInput::SafetyCode(code) => self.see(monitor::Input::SafetyCode(code), now),
            LinkInput::Chat(event) => self.on_channel(event, now),
            LinkInput::Files(event) => self.on_files(event, now),
        }
    }

    fn on_link_state(&mut self, state: LinkState, now: Duration) {
        let polite = self.polite;
        let Some(link) = self.link.as_mut() else {
            return;
        };
        let was_connected = link.connected_once;
        let before = link.state.replace(state);
        match state {
            LinkState::Connecting => {}
            LinkState::Connected => {
                self.see(monitor::Input::LinkConnected, now);
                self.chat(crate::chat::ChatInput::CallConnected, now);
            }
            _ => self.see(monitor::Input::LinkInterrupted, now),
        }
        let Some(link) = self.link.as_mut() else {
            return;
        };
        match state {
            LinkState::Connected => {
                link.connected_once = true;
                self.act(Action::Mark("duet:peer-connected"));
                if was_connected && before != Some(LinkState::Connected) {
                    // Back after an outage: the other side waits for a key frame.
                    self.act(Action::RefreshVideo);
                }
                // Recovered: the recovery deadlines go; a check after user_exit goes on.
                self.timers.grace = None;
                self.timers.restart = None;
                self.timers.answer = None;
            }
            LinkState::Connecting => {}
            LinkState::Disconnected => {
                let yielding = if polite {
                    RESTART_YIELD
                } else {
                    Duration::ZERO
                };
                self.timers
                    .grace
                    .get_or_insert(now + DISCONNECT_GRACE + yielding);
            }
            // ICE found a path but the secure handshake over it failed before the call ever
            // came up: changed fingerprints or a broken peer. Say so; retrying would not help.
            LinkState::HandshakeFailed if !was_connected => self.fail(Problem::SecureSetupFailed),
            // The impolite side restarts at once; the polite side gives it time to (see
            // RESTART_YIELD), and restarts when the grace runs out.
            LinkState::Failed | LinkState::HandshakeFailed if polite => {
                let at = now + RESTART_YIELD;
                self.timers.grace = Some(self.timers.grace.map_or(at, |g| g.min(at)));
            }
            LinkState::Failed | LinkState::HandshakeFailed => self.restart_ice(now),
        }
    }

    /// An ICE restart: new ICE credentials on the same connection, offered over signaling.
    /// Only with signaling up and someone to answer; the recovery deadline runs either way.
    /// The polite side comes here [`RESTART_YIELD`] later than the impolite side, and not at all
    /// when the other side's restart offer came first (see [`Machine::on_offer`]).
    fn restart_ice(&mut self, now: Duration) {
        self.timers.grace = None;
        self.timers.restart.get_or_insert(now + RESTART_DEADLINE);
        if self.signaling == Signaling::Up && self.peer == Peer::Present {
            self.make_offer(true);
        }
    }

    /// Runs the deadlines that are due at `now`.
    pub fn handle_timeout(&mut self, now: Duration) {
        self.insight.handle_timeout(now);
        self.take_insight_actions();
        self.parts_timeout(now);
        let due = |t: Option<Duration>| t.is_some_and(|t| t <= now);
        if due(self.timers.grace) {
            self.timers.grace = None;
            if !self.call_up() {
                self.restart_ice(now);
            }
        }
        if due(self.timers.warm) {
            self.timers.warm = None;
            // The member's warm offer did not come: ours, on the link opened for theirs.
            if self.peer == Peer::Present && !self.call_up() && self.held_offer.is_none() {
                self.offer_on_fresh_link();
            }
        }
        if due(self.timers.answer) {
            self.timers.answer = None;
            if self.link.as_ref().is_some_and(|l| l.offer_out) {
                self.peer_gone(true);
            }
        }
        if due(self.timers.restart) {
            self.timers.restart = None;
            if self.call_up() || self.peer != Peer::Present {
                // Back, or nobody to recover with.
            } else if self.signaling != Signaling::Up {
                // Signaling is gone too: nothing tells us they are still there.
                self.peer_gone(true);
            } else {
                // The restart did not bring the call back: start over on a fresh connection,
                // and again after the same time, while they are in the room.
                self.timers.restart = Some(now + RESTART_DEADLINE);
                self.offer_on_fresh_link();
            }
        }
        if due(self.timers.exit) {
            self.timers.exit = None;
            match self.timers.exit_check {
                Some(ExitCheck::Settling) if self.call_up() => {
                    self.timers.exit_check = Some(ExitCheck::Counting);
                    self.act(Action::CountPackets);
                }
                Some(ExitCheck::Watching(before)) => {
                    self.timers.exit_check = Some(ExitCheck::Recounting(before));
                    self.act(Action::CountPackets);
                }
                _ => self.peer_gone(false),
            }
        }
    }

    fn on_packets(&mut self, count: u64, now: Duration) {
        match self.timers.exit_check {
            Some(ExitCheck::Counting) => {
                self.timers.exit = Some(now + EXIT_CHECK);
                self.timers.exit_check = Some(ExitCheck::Watching(count));
            }
            Some(ExitCheck::Recounting(before)) => {
                self.timers.exit_check = None;
                if count <= before {
                    self.peer_gone(false);
                }
            }
            _ => {}
        }
    }
}
