//! The call machine: every decision of a call in one plain-Rust state machine, driven like
//! duet-protocol's `SocketClient`: [`Machine::handle`] an [`Input`] with the current time,
//! [`Machine::handle_timeout`] when [`Machine::poll_timeout`] says so, and carry out what
//! [`Machine::poll_action`] returns. This file holds the state, joining and leaving, the camera
//! and the room; [`super::negotiation`] the peer link's offers, answers and recovery.
//!
//! Each fact is kept once. What the page shows ([`Machine::view`]: phase, problem, peer name) is
//! derived from the facts on demand, never stored beside them, so it cannot disagree with them.

use std::collections::VecDeque;
use std::time::Duration;

use duet_protocol::ClientMessage;
use duet_protocol::signaling::{JoinRoom, ServerMessage, SessionDescription, User};

use super::io::{Action, Input, LinkState};
use super::screen::Screen;
use super::{Call, Phase, Problem, WARM_OFFER_WAIT};
use crate::chat::Chat;
use crate::insight::monitor::{self, Monitor, Seen};

/// Where the attempt stands overall.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) enum Stage {
    /// Not in a call.
    #[default]
    Idle,
    /// In a room, or joining one.
    InRoom,
    /// The room was full.
    RoomFull,
    /// Something ended the attempt.
    Failed(Problem),
}

/// The camera and microphone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Media {
    #[default]
    Off,
    /// Asked for; not answered yet.
    Pending,
    /// Ready (possibly without tracks: receive-only).
    Ready,
}

/// The signaling connection, as its events said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Signaling {
    #[default]
    Off,
    /// Opened, not connected yet.
    Connecting,
    Up,
    /// Lost; the next attempt is in this many seconds.
    Down(u64),
}

/// The other person, as far as the room told us.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Peer {
    /// Nobody else is in the room.
    #[default]
    Absent,
    /// Someone is (from `all_users`, `user_joined` or their offer).
    Present,
    /// Someone was and left; `lost` when we concluded it rather than the server said so.
    Left { lost: bool },
}

/// How many remote candidates one description's ICE session takes. A browser sends a few per
/// network interface (a few dozen at most); each costs the page an `addIceCandidate` round and
/// the link connectivity checks, so a flood (10,000 in a second, from a hostile server) stalled
/// the session behind it for many seconds, long enough to miss the other side's ICE restart.
/// The rest are dropped; a new remote description (a restart) starts the count again.
pub(super) const REMOTE_CANDIDATES: u32 = 100;

/// The current peer link, as its events said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Link {
    pub(super) id: u64,
    pub(super) state: Option<LinkState>,
    /// Reached `connected` at least once.
    pub(super) connected_once: bool,
    /// An offer was made or accepted on it.
    pub(super) used: bool,
    /// Senders were declared before the camera was ready.
    pub(super) senders_declared: bool,
    /// Opened for a warm offer: the member already in the room has the capability (so is a
    /// Duet page) and offers on its own.
    pub(super) warm: bool,
    /// Our offer is out and unanswered (signalingState have-local-offer).
    pub(super) offer_out: bool,
    /// The DTLS fingerprint of the other side's description applied here: an offer with
    /// another one comes from a new connection of theirs and needs a new one of ours.
    pub(super) remote_fingerprint: Option<String>,
    /// Remote candidates handed to the link since its last remote description (see
    /// [`REMOTE_CANDIDATES`]).
    pub(super) candidates: u32,
}

impl Link {
    pub(super) fn is_up(&self) -> bool {
        self.state == Some(LinkState::Connected)
    }
}

/// The check after `user_exit` while media flows: does media still arrive?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ExitCheck {
    /// Letting packets in flight arrive.
    Settling,
    /// Waiting for the first count.
    Counting,
    /// Watching for packets after `.0` were counted.
    Watching(u64),
    /// Waiting for the second count, to compare with `.0`.
    Recounting(u64),
}

/// The deadlines, as absolute times on the caller's clock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Timers {
    /// A disconnected link gets this long to come back before ICE restarts.
    pub(super) grace: Option<Duration>,
    /// Recovery is under way; at this time, if still down, start over with a fresh link.
    pub(super) restart: Option<Duration>,
    /// An offer made while recovering must be answered by then.
    pub(super) answer: Option<Duration>,
    /// The member already in the room said it offers at once (`warmOffer` in `all_users`): if
    /// its offer has not come by then, we make ours (see [`super::WARM_OFFER_WAIT`]).
    pub(super) warm: Option<Duration>,
    /// The next step of the check after `user_exit` is due then.
    pub(super) exit: Option<Duration>,
    /// Where that check stands.
    pub(super) exit_check: Option<ExitCheck>,
}

/// The call machine. See the module documentation.
#[derive(Debug, Default)]
pub struct Machine {
    pub(super) stage: Stage,
    pub(super) room: String,
    pub(super) name: String,
    /// A notice beside a working call (no camera, a dropped message, the relay refused us).
    pub(super) notice: Option<Problem>,
    pub(super) media: Media,
    pub(super) signaling: Signaling,
    /// The room answered `all_users` on the current signaling connection.
    pub(super) answered: bool,
    pub(super) peer: Peer,
    pub(super) peer_name: Option<String>,
    /// Perfect negotiation's role, derived from join order: whoever was in the room first is
    /// polite (yields on glare); the joiner is not. The warm offer keeps these roles: the
    /// member offers, polite, so an offer of a joiner that did not wait for it (a server that
    /// does not list the capability in `all_users`) still wins, and the call comes up.
    pub(super) polite: bool,
    pub(super) link: Option<Link>,
    /// An offer that came while the camera was starting: answered once it is ready, so the
    /// answer carries our media.
    pub(super) held_offer: Option<SessionDescription>,
    pub(super) timers: Timers,
    /// Stats, quality, route and safety code of the current link (issue 13): a part of the
    /// machine, fed from here, its actions and deadline merged into the machine's.
    pub(super) insight: Monitor,
    /// Screen sharing (see [`super::screen`]) and its current request's number.
    pub(super) screen: Screen,
    pub(super) screen_id: u64,
    /// The chat of this call, why the last message was not sent, and how many were.
    pub(super) chat: Chat,
    pub(super) chat_error: Option<String>,
    pub(super) chat_sent: u64,
    /// The files of this call, both ways.
    pub(super) transfers: crate::transfer::Transfers,
    /// The chat's and the transfers' code (see [`super::parts`]); `None` until the release
    /// bundle's later module brings it, with what concerns them kept meanwhile.
    pub(super) parts_code: Option<super::parts::PartsCode>,
    pub(super) held: Vec<(super::parts::Held, Duration)>,
    /// Numbers handed out to resources (media request, signaling connection, link).
    next_id: u64,
    media_id: u64,
    signaling_id: u64,
    actions: VecDeque<Action>,
}

impl Machine {
    /// A machine with no call.
    pub fn new() -> Self {
        Self {
            parts_code: super::parts::PartsCode::built_in(),
            ..Self::default()
        }
    }

    /// Feeds what happened, at `now` (any monotonic clock, the same for every call).
    pub fn handle(&mut self, input: Input, now: Duration) {
        let live = self.stage == Stage::InRoom;
        match input {
            Input::Join { room, name } => {
                self.join(room, name);
                if self.stage == Stage::InRoom {
                    self.see(monitor::Input::Joined, now);
                }
            }
            Input::HangUp => {
                self.release();
                self.stage = Stage::Idle;
                self.room.clear();
            }
            Input::MediaReady(id, notice) if live && self.media_current(id) => {
                self.media_ready(notice, now)
            }
            Input::MediaFailed(id, problem) if live && self.media_current(id) => self.fail(problem),
            Input::SignalingUp(id) if live && self.signaling_current(id) => self.signaling_up(),
            Input::SignalingDown(id, retry_in) if live && self.signaling_current(id) => {
                // Whole seconds, rounded up (no u128 or float arithmetic in the bundle).
                let secs = retry_in.as_secs() + u64::from(retry_in.subsec_nanos() > 0);
                self.signaling = Signaling::Down(secs);
                self.answered = false;
            }
            Input::SignalingClosed(id, why) if live && self.signaling_current(id) => {
                self.fail(Problem::ServerRejected(why))
            }
            Input::Server(id, message) if live && self.signaling_current(id) => {
                self.on_server(message, now)
            }
            Input::Link(id, event) if live && self.link.as_ref().is_some_and(|l| l.id == id) => {
                self.on_link(event, now)
            }
            Input::StatsPanel(open) if live => self.see(monitor::Input::Panel(open), now),
            Input::FirstRemoteFrame if live => self.see(monitor::Input::FirstRemoteFrame, now),
            Input::Camera(on) if live => self.see(monitor::Input::Camera(on), now),
            Input::ToggleScreen if live => self.toggle_screen(),
            Input::SendChat(text) if live => self.send_chat(&text),
            Input::ChatPanel(open) if live => self.chat(crate::chat::ChatInput::Panel(open), now),
            Input::CancelFile(key) if live => self.files(crate::transfer::Input::Cancel(key), now),
            Input::FileRead { id, start, end } => {
                self.files(crate::transfer::Input::Read { id, start, end }, now)
            }
            Input::FileReadFailed(id) => self.files(crate::transfer::Input::ReadFailed(id), now),
            Input::ScreenGranted(id) => self.screen_granted(id),
            Input::ScreenRefused(id) => self.screen_refused(id),
            Input::ScreenEnded(id) => self.screen_ended(id),
            // From a resource already replaced or closed, or after the call ended.
            _ => {}
        }
    }

    /// The next thing to do, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`Machine::handle_timeout`] wants to run next.
    pub fn poll_timeout(&self) -> Option<Duration> {
        [
            self.call_deadline(),
            self.insight.poll_timeout(),
            // The parts' own deadlines; without their code nothing set them, or could end them.
            self.parts_code.and(self.chat.poll_timeout()),
            self.parts_code.and(self.transfers.poll_timeout()),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next deadline of the call itself (recovery, the exit check), without the insight
    /// part's stats readings.
    pub(super) fn call_deadline(&self) -> Option<Duration> {
        let t = &self.timers;
        [t.grace, t.restart, t.answer, t.exit, t.warm]
            .into_iter()
            .flatten()
            .min()
    }

    /// What the page shows now.
    pub fn view(&self) -> Call {
        let (phase, problem) = (self.phase(), self.problem());
        Call {
            phase,
            room: (!self.room.is_empty()).then(|| self.room.clone()),
            peer_name: self.peer_name.clone(),
            problem,
            call_up: self.call_up(),
            signaling_down: matches!(self.signaling, Signaling::Down(_)),
            sharing: self.screen == Screen::On,
        }
    }

    /// What the page shows of the link's stats, quality and safety code.
    pub fn insight(&self) -> Seen {
        self.insight.view()
    }

    /// Feeds the insight part and queues what it asks for.
    pub(super) fn see(&mut self, input: monitor::Input, now: Duration) {
        self.insight.handle(input, now);
        self.take_insight_actions();
    }

    pub(super) fn take_insight_actions(&mut self) {
        while let Some(action) = self.insight.poll_action() {
            self.act(match action {
                monitor::Action::ReadStats => Action::ReadStats,
                monitor::Action::WorkOutSafetyCode => Action::WorkOutSafetyCode,
            });
        }
    }

    /// This side's role in perfect negotiation: polite yields when offers collide.
    pub fn polite(&self) -> bool {
        self.polite
    }

    /// The phase, derived from the facts (see the module documentation).
    pub fn phase(&self) -> Phase {
        match &self.stage {
            Stage::Idle => Phase::Idle,
            Stage::RoomFull => Phase::RoomFull,
            Stage::Failed(_) => Phase::Error,
            Stage::InRoom => {
                let recovering = self.timers.restart.is_some()
                    || self.link.as_ref().is_some_and(|l| l.connected_once);
                match self.peer {
                    _ if matches!(self.signaling, Signaling::Down(_)) => Phase::Reconnecting,
                    _ if self.call_up() => Phase::Connected,
                    Peer::Present if recovering => Phase::Reconnecting,
                    Peer::Present => Phase::Connecting,
                    _ if self.media == Media::Pending => Phase::Media,
                    _ if !self.answered => Phase::Joining,
                    Peer::Left { .. } => Phase::PeerLeft,
                    Peer::Absent => Phase::Waiting,
                }
            }
        }
    }

    /// The problem to show, derived like the phase: the fatal one, else what is wrong now
    /// (signaling lost, the other person lost), else the last notice.
    fn problem(&self) -> Option<Problem> {
        match &self.stage {
            Stage::Idle => None,
            Stage::RoomFull => Some(Problem::RoomFull(self.room.clone())),
            Stage::Failed(p) => Some(p.clone()),
            Stage::InRoom => match (self.signaling, self.peer) {
                (Signaling::Down(_), _) if self.call_up() => Some(Problem::SignalingLostInCall),
                (Signaling::Down(s), _) => Some(Problem::SignalingUnreachable(s)),
                (_, Peer::Left { lost: true }) => Some(Problem::PeerLost),
                _ => self.notice.clone(),
            },
        }
    }

    /// Media flows: the link is connected.
    pub(super) fn call_up(&self) -> bool {
        self.link.as_ref().is_some_and(Link::is_up)
    }

    pub(super) fn act(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    pub(super) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn media_current(&self, id: u64) -> bool {
        self.media == Media::Pending && id == self.media_id
    }

    fn signaling_current(&self, id: u64) -> bool {
        self.signaling != Signaling::Off && id == self.signaling_id
    }

    /// Joins a room without waiting for the camera: the camera request and the signaling
    /// connection start together; the link opens once `join_room` is out.
    fn join(&mut self, room: String, name: String) {
        self.release();
        let join = JoinRoom {
            room,
            email: name,
            warm_offer: true,
        };
        let valid = join.validate_with(crate::room_name::allowed());
        self.room = join.room;
        self.name = join.email;
        if let Err(e) = valid {
            self.stage = Stage::Failed(e.into());
            return;
        }
        self.stage = Stage::InRoom;
        self.media = Media::Pending;
        self.media_id = self.next_id();
        self.act(Action::AcquireMedia(self.media_id));
        self.signaling = Signaling::Connecting;
        self.signaling_id = self.next_id();
        self.act(Action::OpenSignaling(self.signaling_id));
    }

    /// Ends everything the call holds: leaves the room, closes the link and the connection,
    /// stops the camera. The stage is the caller's to set.
    pub(super) fn release(&mut self) {
        if self.signaling == Signaling::Up {
            self.act(Action::Send(ClientMessage::LeaveRoom));
        }
        if self.signaling != Signaling::Off {
            self.act(Action::CloseSignaling);
        }
        if self.screen != Screen::Off {
            self.act(Action::StopScreen);
        }
        if self.link.is_some() {
            self.act(Action::CloseLink);
        }
        if self.media != Media::Off {
            self.act(Action::ReleaseMedia);
        }
        *self = Self {
            room: std::mem::take(&mut self.room),
            name: std::mem::take(&mut self.name),
            next_id: self.next_id,
            // A grant still to come is stopped (its number is not current any more).
            screen_id: self.screen_id,
            actions: std::mem::take(&mut self.actions),
            // Code, not call state: once loaded it stays.
            parts_code: self.parts_code,
            ..Self::default()
        };
    }

    /// Ends the attempt with a problem; the join form shows it.
    pub(super) fn fail(&mut self, problem: Problem) {
        self.release();
        self.stage = Stage::Failed(problem);
    }

    fn media_ready(&mut self, notice: Option<Problem>, now: Duration) {
        self.media = Media::Ready;
        self.act(Action::Mark("duet:media-ready"));
        if notice.is_some() {
            self.notice = notice;
        }
        if let Some(link) = &self.link
            && (link.senders_declared || !link.used)
        {
            self.act(Action::AttachMedia);
        }
        if let Some(offer) = self.held_offer.take() {
            self.on_offer(offer, now);
        }
    }

    fn signaling_up(&mut self) {
        self.act(Action::Mark("duet:signaling-up"));
        self.signaling = Signaling::Up;
        self.answered = false;
        // Duet takes a member's warm offer (index.html's early join says the same).
        self.act(Action::Send(ClientMessage::JoinRoom(JoinRoom {
            room: self.room.clone(),
            email: self.name.clone(),
            warm_offer: true,
        })));
        // Opened once join_room is out: its 10-30 ms then overlap the server's answer.
        if self.link.is_none() {
            self.open_link();
        }
    }

    /// A joiner with the `warmOffer` capability: offer at once (still the polite side), on a
    /// fresh link if this one has negotiated before (as the joiner would have). Not while media
    /// flows (their rejoin after a signaling blip: nothing to renegotiate), and only once the
    /// room has answered us (before that, we are the joiner ourselves).
    fn warm_offer(&mut self) {
        if self.signaling != Signaling::Up || !self.answered || self.call_up() {
            return;
        }
        self.offer_on_fresh_link();
    }

    /// Opens a new link, closing the current one.
    pub(super) fn open_link(&mut self) {
        if self.link.take().is_some() {
            self.act(Action::CloseLink);
        }
        self.insight.link_closed();
        // The old link's channels are gone (their events are not listened to any more).
        self.channels_gone();
        let id = self.next_id();
        self.link = Some(Link {
            id,
            ..Link::default()
        });
        self.act(Action::OpenLink(id));
        self.share_on_new_link();
    }

    fn on_server(&mut self, message: ServerMessage, now: Duration) {
        match message {
            ServerMessage::AllUsers(users) => {
                self.act(Action::Mark("duet:joined"));
                self.answered = true;
                self.joined(users.into_iter().next(), now);
            }
            ServerMessage::UserJoined(user) => {
                self.peer = Peer::Present;
                if !user.email.is_empty() {
                    self.peer_name = Some(user.email);
                }
                if user.warm_offer {
                    self.warm_offer();
                }
            }
            ServerMessage::Offer(offer) => self.on_offer(offer, now),
            ServerMessage::Answer(answer) => self.on_answer(answer),
            ServerMessage::Candidate(c) => {
                if let Some(link) = self.link.as_mut()
                    && link.candidates < REMOTE_CANDIDATES
                {
                    link.candidates += 1;
                    self.act(Action::AddCandidate(c));
                }
            }
            ServerMessage::UserExit(_) => self.on_user_exit(now),
            ServerMessage::RoomFull => {
                self.release();
                self.stage = Stage::RoomFull;
            }
            ServerMessage::Error(notice) => {
                // A refused join ends the attempt (the Join button retries); a refused message
                // is a notice beside a call that may still work, and so is a refused rejoin
                // while media still flows.
                let join_refused =
                    self.signaling == Signaling::Up && !self.answered && !self.call_up();
                let problem = Problem::from_server_error(notice.code, join_refused);
                if problem.is_fatal() {
                    self.fail(problem);
                } else {
                    self.notice = Some(problem);
                }
            }
        }
    }

    /// The room answered `all_users`; `other` is who is there, if anyone.
    fn joined(&mut self, other: Option<User>, now: Duration) {
        if self.call_up() {
            // Rejoined after a signaling blip with media still flowing: nothing to renegotiate,
            // whether the other person is back in the room yet or not.
            if let Some(user) = other.filter(|u| !u.email.is_empty()) {
                self.peer_name = Some(user.email);
            }
            return;
        }
        match other {
            Some(user) => {
                self.peer = Peer::Present;
                self.peer_name = (!user.email.is_empty()).then_some(user.email);
                self.polite = false;
                if user.warm_offer {
                    // They heard our `user_joined` before we heard this, and offer at once:
                    // their offer is usually here already, waiting in the early socket.
                    if self.link.as_ref().is_none_or(|l| l.used) {
                        self.open_link();
                    }
                    if let Some(l) = self.link.as_mut() {
                        l.warm = true;
                    }
                    self.timers.warm = Some(now + WARM_OFFER_WAIT);
                } else {
                    self.offer_on_fresh_link();
                }
            }
            None => {
                self.polite = true;
                if self.peer == Peer::Present {
                    self.peer = Peer::Absent;
                }
                self.timers = Timers::default();
                if self.link.as_ref().is_none_or(|l| l.used) {
                    self.open_link();
                }
            }
        }
    }
}
