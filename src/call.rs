//! The call's state machine in plain Rust: which phase the call is in, what the status line says,
//! and what to do when the room answers. No browser types, so it is unit-tested natively; the
//! session feeds it [`CallEvent`]s and renders [`Call::phase`] and [`Call::status_text`].

use std::fmt;

use duet_protocol::signaling::ErrorCode;

/// The phase of the call, as `#callstatus[data-state]` shows it (tests and users rely on these
/// names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// Not in a call: the join form is shown.
    #[default]
    Idle,
    /// Asking for the camera and microphone.
    Media,
    /// Connecting to the signaling server and joining the room.
    Joining,
    /// In the room alone, waiting for the other person.
    Waiting,
    /// The other person is there; the peer connection is being set up.
    Connecting,
    /// Media flows both ways.
    Connected,
    /// Signaling or the peer connection was lost and is being re-established.
    Reconnecting,
    /// The other person left or was lost; waiting for someone to join again.
    PeerLeft,
    /// The room already holds two people.
    RoomFull,
    /// Something stopped the call; [`Call::problem`] says what and what to do.
    Error,
}

impl Phase {
    /// The `data-state` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Media => "media",
            Self::Joining => "joining",
            Self::Waiting => "waiting",
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Reconnecting => "reconnecting",
            Self::PeerLeft => "peer-left",
            Self::RoomFull => "room-full",
            Self::Error => "error",
        }
    }

    /// Whether a room is joined (or being joined), i.e. hang-up makes sense. The room is joined
    /// while the camera starts (`Media`), so set-up does not wait for it.
    pub fn in_room(self) -> bool {
        !matches!(self, Self::Idle | Self::RoomFull | Self::Error)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something the user should know, in words, with what to do about it. Some stop the call
/// (see [`Problem::is_fatal`]); the others are notices shown beside a working call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The browser or the user refused camera and microphone.
    #[error(
        "Camera and microphone access was denied. Allow them in the browser's site settings (the icon left of the address bar), then press Join again."
    )]
    PermissionDenied,
    /// No camera: the call goes on with audio only.
    #[error(
        "No camera found: you are sending audio only. Plug in a camera and pick it under Camera."
    )]
    NoCamera,
    /// No microphone: the call goes on with video only.
    #[error("No microphone found: the other person can see but not hear you.")]
    NoMicrophone,
    /// Neither: the call goes on receive-only.
    #[error(
        "No camera or microphone found: you can see and hear the other person, but they cannot see or hear you."
    )]
    NoDevices,
    /// Another application holds the camera or microphone.
    #[error(
        "The camera or microphone is in use by another application (or tab). Close it, then press Join again."
    )]
    DeviceBusy,
    /// The chosen device cannot provide what was asked.
    #[error(
        "The selected camera or microphone is not available ({0}). Pick another device and try again."
    )]
    DeviceUnavailable(String),
    /// getUserMedia needs https or localhost.
    #[error(
        "This page is not secure, so the browser will not share your camera. Open it over https, or at http://localhost on this machine{}.",
        .0.as_deref().map(|u| format!(" (for example {u})")).unwrap_or_default()
    )]
    InsecureContext(Option<String>),
    /// The browser has no WebRTC or media support.
    #[error("This browser does not support video calls. Use a recent Chrome, Firefox or Safari.")]
    Unsupported,
    /// Any other media failure.
    #[error("The camera or microphone failed: {0}. Reload the page to try again.")]
    MediaFailed(String),
    /// The signaling server cannot be reached; retrying.
    #[error("Cannot reach the call server; retrying in {0} s. Check your network connection.")]
    SignalingUnreachable(u64),
    /// The signaling server is gone while media still flows.
    #[error("Lost the call server; the call continues and Duet is reconnecting.")]
    SignalingLostInCall,
    /// `?server=` is not a usable URL.
    #[error("The server address \"{0}\" is not valid: use an http:// or https:// URL.")]
    BadServer(String),
    /// The room name is not allowed.
    #[error("Room names use 1 to 64 letters, digits, '-', '_' or '.'.")]
    BadRoom,
    /// The room holds two people already.
    #[error("Room \"{0}\" already has two people in it. Pick another room name.")]
    RoomFull(String),
    /// The other person's connection was lost.
    #[error("The connection to the other person was lost. Waiting for them to come back.")]
    PeerLost,
    /// The server refused something this client sent.
    #[error("The call server refused a request: {0}")]
    ServerRejected(String),
    /// The server has no room for another connection (`error server_full`).
    #[error("The call server is at capacity. Wait a few minutes, then press Join again.")]
    ServerFull,
    /// The server could not take the join now (`error unavailable`: with several nodes, their
    /// shared store is unreachable). It passes within seconds, so the user retries.
    #[error(
        "The call service is briefly unavailable. Wait a few seconds, then press Join to try again."
    )]
    ServiceUnavailable,
    /// The same while in the room: a message to the other person was not passed on.
    #[error(
        "The call service is briefly unavailable, so a message to the other person was lost. If the call does not connect within a few seconds, hang up and join again."
    )]
    ServiceUnavailableInCall,
    /// The name was refused (`error bad_name`).
    #[error("That name is too long: use at most 254 characters, then press Join again.")]
    BadName,
    /// The server dropped one message from this page (`rate_limited`, `not_in_room`, or a
    /// message it could not read); the call may still work.
    #[error(
        "The call server dropped a message from this page ({0}). If the call does not connect, hang up and join again."
    )]
    MessageDropped(String),
    /// Setting up the peer connection failed.
    #[error("Could not set up the call: {0}. Hang up and join again.")]
    PeerFailed(String),
    /// The TURN relay refused this page's credentials (wrong or expired: STUN error code), and
    /// the call has not connected: through the relay it cannot.
    #[error(
        "The relay server refused this page (error {0}: wrong or expired credentials), so the call cannot connect through it. Reload the page; if that does not help, tell the site's operator."
    )]
    RelayRefused(u16),
}

impl Problem {
    /// Whether this ends the attempt (error or room-full) rather than being a notice beside a
    /// call that goes on.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Self::PermissionDenied
                | Self::DeviceBusy
                | Self::DeviceUnavailable(_)
                | Self::InsecureContext(_)
                | Self::Unsupported
                | Self::MediaFailed(_)
                | Self::BadServer(_)
                | Self::BadRoom
                | Self::RoomFull(_)
                | Self::ServerRejected(_)
                | Self::ServerFull
                | Self::ServiceUnavailable
                | Self::BadName
                | Self::PeerFailed(_)
        )
    }

    /// What the page says about the server's `error {code}`; `join_refused` tells a refused
    /// join (which ends the attempt: the page is in no room) from a refused relay (a notice
    /// beside a call that may still work). No wildcard: a new [`ErrorCode`] does not compile
    /// until it has words here.
    pub fn from_server_error(code: ErrorCode, join_refused: bool) -> Self {
        let dropped = |why: &str| Self::MessageDropped(why.to_owned());
        match code {
            ErrorCode::BadRoom => Self::BadRoom,
            ErrorCode::BadName => Self::BadName,
            ErrorCode::ServerFull => Self::ServerFull,
            ErrorCode::Unavailable if join_refused => Self::ServiceUnavailable,
            ErrorCode::Unavailable => Self::ServiceUnavailableInCall,
            ErrorCode::RateLimited => dropped("too many messages"),
            ErrorCode::NotInRoom => dropped("this page is not in the room"),
            ErrorCode::SdpTooLarge => dropped("call description too large"),
            ErrorCode::CandidateTooLarge => dropped("network address too large"),
            ErrorCode::UnknownEvent | ErrorCode::BadPayload => {
                dropped("it could not read it; is this page up to date?")
            }
            ErrorCode::Unknown => dropped("for a reason this page does not know"),
        }
    }
}

/// Which side of perfect negotiation this client plays. Roles follow join order: the one who
/// was in the room first is polite (yields on glare), the joiner who offers is impolite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Rolls back its own offer when offers collide.
    Polite,
    /// Ignores the other offer when offers collide.
    Impolite,
}

/// What the session must do after the room answered `all_users`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinAction {
    /// Someone is there and no call is up: send an offer.
    Offer,
    /// Alone in the room: wait for an offer.
    Wait,
    /// A rejoin after signaling loss while media still flows: keep the call as it is.
    KeepCall,
}

/// What happened, as the session reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    /// The user asked to join `room`.
    Join {
        /// The room name.
        room: String,
    },
    /// Media is ready, possibly degraded (a notice such as [`Problem::NoCamera`]).
    MediaReady(Option<Problem>),
    /// Something fatal happened.
    Failed(Problem),
    /// The signaling connection is up (first time or again); `join_room` is sent.
    SignalingUp,
    /// The signaling connection is down; retrying in `retry_in_s`.
    SignalingDown {
        /// Seconds until the next attempt.
        retry_in_s: u64,
    },
    /// An offer from the other person arrived.
    OfferReceived,
    /// The peer connection reached `connected`.
    PeerConnected,
    /// The peer connection dropped (disconnected or failed); ICE is restarting.
    PeerInterrupted,
    /// The other person left (`user_exit`) or was lost (`lost`).
    PeerGone {
        /// True when detected from the connection rather than announced.
        lost: bool,
    },
    /// Someone joined our room (`user_joined`, Duet's addition): their name, possibly empty.
    PeerJoined {
        /// The name they joined with.
        name: String,
    },
    /// The server said the room is full.
    RoomFull,
    /// The server answered `error {code}` (see [`Problem::from_server_error`]).
    ServerError {
        /// The server's stable code.
        code: ErrorCode,
    },
    /// A TURN relay refused this page's credentials (its STUN error code).
    RelayRefused {
        /// The STUN error code (401: wrong or expired credential).
        code: u16,
    },
    /// The user hung up.
    HangUp,
}

/// The call as the user sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Call {
    phase: Phase,
    room: Option<String>,
    peer_name: Option<String>,
    problem: Option<Problem>,
    role: Option<Role>,
    signaling_up: bool,
    /// The peer connection is up (media flows), whatever signaling does.
    media_up: bool,
    /// The room answered `all_users` (possibly before the camera did).
    answered: bool,
    /// `join_room` went out (signaling came up) and the room has not answered it yet.
    join_pending: bool,
}

impl Call {
    /// A call that has not started.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The room joined or being joined.
    pub fn room(&self) -> Option<&str> {
        self.room.as_deref()
    }

    /// The other person's name when known (the seed's `email` field).
    pub fn peer_name(&self) -> Option<&str> {
        self.peer_name.as_deref()
    }

    /// The error or notice to show, if any.
    pub fn problem(&self) -> Option<&Problem> {
        self.problem.as_ref()
    }

    /// This client's negotiation role once the room answered.
    pub fn role(&self) -> Option<Role> {
        self.role
    }

    /// Whether the signaling connection is up.
    pub fn signaling_up(&self) -> bool {
        self.signaling_up
    }

    /// Applies an event. Events that make no sense in the current phase (late, duplicated, or
    /// from a call already hung up) are ignored, so remote input can never wedge the machine.
    pub fn apply(&mut self, event: CallEvent) {
        use Phase::*;
        match event {
            CallEvent::Join { room } => {
                *self = Self {
                    phase: Media,
                    room: Some(room),
                    ..Self::default()
                };
            }
            CallEvent::MediaReady(notice) if self.phase.in_room() => {
                // The room may have answered while the camera started: alone in it, the call
                // waits only now, so `waiting` still means "camera on, in the room".
                if self.phase == Media {
                    self.phase = if self.answered { Waiting } else { Joining };
                }
                if notice.is_some() {
                    self.problem = notice;
                }
            }
            CallEvent::Failed(problem) => {
                self.phase = Error;
                self.problem = Some(problem);
                self.signaling_up = false;
            }
            CallEvent::SignalingUp if self.phase.in_room() => {
                self.signaling_up = true;
                self.join_pending = true;
                if matches!(self.problem, Some(Problem::SignalingUnreachable(_)))
                    || self.problem == Some(Problem::SignalingLostInCall)
                {
                    self.problem = None;
                }
                if self.phase == Reconnecting {
                    self.phase = Joining;
                }
            }
            CallEvent::SignalingDown { retry_in_s } if self.phase.in_room() => {
                self.signaling_up = false;
                self.phase = Reconnecting;
                // Media is peer to peer: an established call keeps playing meanwhile.
                self.problem = Some(if self.media_up {
                    Problem::SignalingLostInCall
                } else {
                    Problem::SignalingUnreachable(retry_in_s)
                });
            }
            CallEvent::OfferReceived if matches!(self.phase, Waiting | PeerLeft | Joining) => {
                self.phase = Connecting;
                self.role.get_or_insert(Role::Polite);
                if self.problem == Some(Problem::PeerLost) {
                    self.problem = None;
                }
            }
            CallEvent::PeerConnected
                if matches!(self.phase, Connecting | Reconnecting | Waiting | PeerLeft) =>
            {
                self.media_up = true;
                if !self.signaling_up {
                    // Still reconnecting to the server; the rejoin will say connected.
                    return;
                }
                self.phase = Phase::Connected;
                if matches!(
                    self.problem,
                    Some(
                        Problem::PeerLost
                            | Problem::SignalingUnreachable(_)
                            | Problem::RelayRefused(_)
                    )
                ) {
                    self.problem = if self.signaling_up {
                        None
                    } else {
                        Some(Problem::SignalingLostInCall)
                    };
                }
            }
            CallEvent::PeerInterrupted if self.phase.in_room() => {
                self.media_up = false;
                if self.phase == Connected {
                    self.phase = Reconnecting;
                }
            }
            CallEvent::PeerGone { lost } if self.phase.in_room() => {
                self.media_up = false;
                self.phase = PeerLeft;
                self.peer_name = None;
                self.role = Some(Role::Polite);
                if lost {
                    self.problem = Some(Problem::PeerLost);
                }
            }
            CallEvent::PeerJoined { name } if self.phase.in_room() && !name.is_empty() => {
                self.peer_name = Some(name);
            }
            CallEvent::RoomFull if self.phase.in_room() => {
                self.phase = RoomFull;
                let room = self.room.clone().unwrap_or_default();
                self.problem = Some(Problem::RoomFull(room));
                self.signaling_up = false;
            }
            CallEvent::ServerError { code } if self.phase.in_room() => {
                // A refused rejoin while media still flows leaves the call playing: a notice.
                let join_refused = self.join_pending && !self.media_up;
                let problem = Problem::from_server_error(code, join_refused);
                if problem.is_fatal() {
                    self.phase = Error;
                    self.signaling_up = false;
                }
                self.problem = Some(problem);
            }
            // A refused relay matters only while the call is not up (another path may serve).
            CallEvent::RelayRefused { code } if self.phase.in_room() && !self.media_up => {
                self.problem = Some(Problem::RelayRefused(code));
            }
            CallEvent::HangUp => {
                *self = Self::default();
            }
            _ => {}
        }
    }

    /// The room answered `all_users` with the names of the others. Decides whether to offer,
    /// records the role and the other person's name.
    pub fn joined(&mut self, others: &[String], call_is_up: bool) -> JoinAction {
        if !self.phase.in_room() {
            return JoinAction::Wait;
        }
        self.join_pending = false;
        if call_is_up {
            // Rejoined after a signaling blip with media still flowing: nothing to renegotiate,
            // whether the other person is back in the room yet or not.
            if self.phase == Phase::Joining {
                self.phase = Phase::Connected;
            }
            if let Some(name) = others.first().filter(|n| !n.is_empty()) {
                self.peer_name = Some(name.clone());
            }
            return JoinAction::KeepCall;
        }
        self.answered = true;
        match others.first() {
            Some(name) => {
                self.peer_name = (!name.is_empty()).then(|| name.clone());
                self.role = Some(Role::Impolite);
                self.phase = Phase::Connecting;
                JoinAction::Offer
            }
            None => {
                self.role = Some(Role::Polite);
                if !matches!(self.phase, Phase::PeerLeft | Phase::Media) {
                    self.phase = Phase::Waiting;
                }
                JoinAction::Wait
            }
        }
    }

    /// The status line in words.
    pub fn status_text(&self) -> String {
        let room = self.room.as_deref().unwrap_or("");
        let who = self.peer_name.as_deref().unwrap_or("the other person");
        match self.phase {
            Phase::Idle => "Not in a call. Pick a room to start one.".to_owned(),
            Phase::Media => "Starting your camera and microphone…".to_owned(),
            Phase::Joining => format!("Joining room {room}…"),
            Phase::Waiting => {
                format!("Waiting for someone to join room {room}. Share the link to invite them.")
            }
            Phase::Connecting => format!("Connecting to {who}…"),
            Phase::Connected => format!("In a call with {who}."),
            Phase::Reconnecting if !self.signaling_up && self.media_up => {
                format!("Reconnecting to the call server… Your call with {who} continues.")
            }
            Phase::Reconnecting if !self.signaling_up => {
                "Reconnecting to the call server…".to_owned()
            }
            Phase::Reconnecting => {
                format!("The connection to {who} was interrupted. Reconnecting…")
            }
            Phase::PeerLeft => {
                "The other person left. Waiting for someone to join again…".to_owned()
            }
            Phase::RoomFull => format!("Room {room} is full."),
            Phase::Error => "The call could not continue.".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined_call() -> Call {
        let mut c = Call::new();
        c.apply(CallEvent::Join { room: "r1".into() });
        c.apply(CallEvent::MediaReady(None));
        c.apply(CallEvent::SignalingUp);
        c
    }

    #[test]
    fn first_in_room_waits_then_answers() {
        let mut c = joined_call();
        assert_eq!(c.phase(), Phase::Joining);
        assert_eq!(c.joined(&[], false), JoinAction::Wait);
        assert_eq!(c.phase(), Phase::Waiting);
        assert_eq!(c.role(), Some(Role::Polite));
        c.apply(CallEvent::OfferReceived);
        assert_eq!(c.phase(), Phase::Connecting);
        c.apply(CallEvent::PeerConnected);
        assert_eq!(c.phase(), Phase::Connected);
        assert_eq!(c.phase().as_str(), "connected");
    }

    #[test]
    fn first_in_room_learns_the_name_of_who_joins() {
        let mut c = joined_call();
        c.joined(&[], false);
        c.apply(CallEvent::PeerJoined { name: "bo".into() });
        assert_eq!(c.peer_name(), Some("bo"));
        c.apply(CallEvent::OfferReceived);
        assert_eq!(c.status_text(), "Connecting to bo…");
        c.apply(CallEvent::PeerConnected);
        assert_eq!(c.status_text(), "In a call with bo.");
        // They leave: the name goes with them; a nameless newcomer is "the other person".
        c.apply(CallEvent::PeerGone { lost: false });
        assert_eq!(c.peer_name(), None);
        c.apply(CallEvent::PeerJoined { name: "".into() });
        c.apply(CallEvent::OfferReceived);
        assert_eq!(c.status_text(), "Connecting to the other person…");
        // Not in a room: ignored.
        c.apply(CallEvent::HangUp);
        c.apply(CallEvent::PeerJoined { name: "cy".into() });
        assert_eq!(c.peer_name(), None);
    }

    #[test]
    fn second_in_room_offers_and_knows_the_name() {
        let mut c = joined_call();
        assert_eq!(c.joined(&["ann".into()], false), JoinAction::Offer);
        assert_eq!(c.role(), Some(Role::Impolite));
        assert_eq!(c.peer_name(), Some("ann"));
        assert_eq!(c.status_text(), "Connecting to ann…");
    }

    #[test]
    fn signaling_loss_keeps_an_established_call() {
        let mut c = joined_call();
        c.joined(&["ann".into()], false);
        c.apply(CallEvent::PeerConnected);
        c.apply(CallEvent::SignalingDown { retry_in_s: 1 });
        assert_eq!(c.phase(), Phase::Reconnecting);
        assert_eq!(c.problem(), Some(&Problem::SignalingLostInCall));
        assert!(c.status_text().contains("continues"));
        // Each failed retry reports again; the notice stays the in-call one.
        c.apply(CallEvent::SignalingDown { retry_in_s: 2 });
        assert_eq!(c.problem(), Some(&Problem::SignalingLostInCall));
        c.apply(CallEvent::SignalingUp);
        assert_eq!(c.problem(), None);
        assert_eq!(c.phase(), Phase::Joining);
        // First back in the room after a server restart: alone, but the call is still up.
        assert_eq!(c.joined(&[], true), JoinAction::KeepCall);
        assert_eq!(c.phase(), Phase::Connected);
        assert_eq!(c.joined(&["ann".into()], true), JoinAction::KeepCall);
        assert_eq!(c.phase(), Phase::Connected);
    }

    #[test]
    fn signaling_loss_before_the_call_reconnects_and_rejoins() {
        let mut c = joined_call();
        c.joined(&[], false);
        c.apply(CallEvent::SignalingDown { retry_in_s: 2 });
        assert_eq!(c.phase(), Phase::Reconnecting);
        assert_eq!(c.status_text(), "Reconnecting to the call server…");
        assert_eq!(c.problem(), Some(&Problem::SignalingUnreachable(2)));
        c.apply(CallEvent::SignalingUp);
        assert_eq!(c.phase(), Phase::Joining);
        assert_eq!(c.joined(&["bob".into()], false), JoinAction::Offer);
    }

    #[test]
    fn peer_leaving_and_a_new_joiner() {
        let mut c = joined_call();
        c.joined(&["ann".into()], false);
        c.apply(CallEvent::PeerConnected);
        c.apply(CallEvent::PeerInterrupted);
        assert_eq!(c.phase(), Phase::Reconnecting);
        assert!(c.status_text().contains("ann was interrupted"));
        c.apply(CallEvent::PeerGone { lost: true });
        assert_eq!(c.phase(), Phase::PeerLeft);
        assert_eq!(c.phase().as_str(), "peer-left");
        assert_eq!(c.problem(), Some(&Problem::PeerLost));
        assert_eq!(c.peer_name(), None);
        // After a peer left we are the one already in the room: polite, answering.
        assert_eq!(c.role(), Some(Role::Polite));
        c.apply(CallEvent::OfferReceived);
        assert_eq!(c.phase(), Phase::Connecting);
        assert_eq!(c.problem(), None);
    }

    #[test]
    fn room_full_and_errors() {
        let mut c = joined_call();
        c.apply(CallEvent::RoomFull);
        assert_eq!(c.phase(), Phase::RoomFull);
        assert!(
            c.problem()
                .unwrap()
                .to_string()
                .contains("Pick another room")
        );
        // Late events after the room was refused change nothing.
        c.apply(CallEvent::OfferReceived);
        c.apply(CallEvent::PeerConnected);
        assert_eq!(c.phase(), Phase::RoomFull);

        let mut c = Call::new();
        c.apply(CallEvent::Join { room: "r".into() });
        c.apply(CallEvent::Failed(Problem::PermissionDenied));
        assert_eq!(c.phase(), Phase::Error);
        assert!(c.problem().unwrap().is_fatal());
        assert!(c.problem().unwrap().to_string().contains("Allow"));
        c.apply(CallEvent::HangUp);
        assert_eq!(c, Call::new());
    }

    /// Every code the server sends (duet-protocol's validation codes and the server's own)
    /// has words of its own, never the catch-all that only repeats the code.
    #[test]
    fn every_server_error_code_is_explained() {
        let catch_all = Problem::from_server_error(ErrorCode::Unknown, false).to_string();
        for &code in ErrorCode::ALL {
            for join_refused in [true, false] {
                let text = Problem::from_server_error(code, join_refused).to_string();
                assert_ne!(text, catch_all, "{code}: only the catch-all");
                let lower = text.to_lowercase();
                assert!(
                    lower.contains("join") || lower.contains("room names use"),
                    "{code}: says what to do? {text:?}"
                );
            }
        }
        assert_eq!(
            Problem::from_server_error("a_new_code".into(), false),
            Problem::MessageDropped("for a reason this page does not know".to_owned())
        );
    }

    #[test]
    fn an_unavailable_service_refusing_the_join_asks_to_retry() {
        let mut c = joined_call();
        c.apply(CallEvent::ServerError {
            code: "unavailable".into(),
        });
        assert_eq!(c.phase(), Phase::Error);
        assert!(
            !c.phase().in_room(),
            "the join form (and its Join button) shows"
        );
        assert!(!c.signaling_up());
        let problem = c.problem().unwrap();
        assert_eq!(problem, &Problem::ServiceUnavailable);
        assert!(problem.is_fatal());
        let text = problem.to_string();
        assert!(text.contains("briefly unavailable"), "{text}");
        assert!(text.contains("press Join to try again"), "{text}");
        // Join again a few seconds later: the notice goes, the call proceeds.
        c.apply(CallEvent::Join { room: "r1".into() });
        c.apply(CallEvent::MediaReady(None));
        c.apply(CallEvent::SignalingUp);
        assert_eq!(c.joined(&[], false), JoinAction::Wait);
        assert_eq!(c.phase(), Phase::Waiting);
        assert_eq!(c.problem(), None);
    }

    #[test]
    fn an_unavailable_service_in_a_call_is_a_notice() {
        let mut c = joined_call();
        c.joined(&["ann".into()], false);
        c.apply(CallEvent::ServerError {
            code: "unavailable".into(),
        });
        assert_eq!(c.phase(), Phase::Connecting);
        assert_eq!(c.problem(), Some(&Problem::ServiceUnavailableInCall));
        assert!(!c.problem().unwrap().is_fatal());
        c.apply(CallEvent::PeerConnected);
        assert_eq!(c.phase(), Phase::Connected);

        // A rejoin refused after a signaling blip keeps the media that still flows.
        c.apply(CallEvent::SignalingDown { retry_in_s: 1 });
        c.apply(CallEvent::SignalingUp);
        c.apply(CallEvent::ServerError {
            code: "unavailable".into(),
        });
        assert!(c.phase().in_room());
        assert_eq!(c.problem(), Some(&Problem::ServiceUnavailableInCall));
    }

    #[test]
    fn refused_joins_end_the_attempt_and_dropped_messages_do_not() {
        for (code, problem) in [
            ("server_full", Problem::ServerFull),
            ("bad_room", Problem::BadRoom),
            ("bad_name", Problem::BadName),
        ] {
            let mut c = joined_call();
            c.apply(CallEvent::ServerError { code: code.into() });
            assert_eq!(c.phase(), Phase::Error, "{code}");
            assert_eq!(c.problem(), Some(&problem), "{code}");
        }
        let mut c = joined_call();
        c.joined(&["ann".into()], false);
        c.apply(CallEvent::ServerError {
            code: "rate_limited".into(),
        });
        assert_eq!(c.phase(), Phase::Connecting);
        assert!(!c.problem().unwrap().is_fatal());
        // Late errors after hang-up change nothing.
        c.apply(CallEvent::HangUp);
        c.apply(CallEvent::ServerError {
            code: "server_full".into(),
        });
        assert_eq!(c, Call::new());
    }

    #[test]
    fn the_room_answers_while_the_camera_starts() {
        let mut c = Call::new();
        c.apply(CallEvent::Join { room: "r".into() });
        assert!(c.phase().in_room());
        c.apply(CallEvent::SignalingUp);
        assert_eq!(c.phase(), Phase::Media);
        assert_eq!(c.joined(&["ann".into()], false), JoinAction::Offer);
        assert_eq!(c.phase(), Phase::Connecting);
        // The camera comes after: the call goes on, the notice is kept.
        c.apply(CallEvent::MediaReady(Some(Problem::NoCamera)));
        assert_eq!(c.phase(), Phase::Connecting);
        assert_eq!(c.problem(), Some(&Problem::NoCamera));
        c.apply(CallEvent::PeerConnected);
        assert_eq!(c.phase(), Phase::Connected);

        // Alone in the room before the camera is on: `waiting` only once it is.
        let mut c = Call::new();
        c.apply(CallEvent::Join { room: "r".into() });
        c.apply(CallEvent::SignalingUp);
        assert_eq!(c.joined(&[], false), JoinAction::Wait);
        assert_eq!(c.phase(), Phase::Media);
        c.apply(CallEvent::MediaReady(None));
        assert_eq!(c.phase(), Phase::Waiting);

        // The camera first, then the room.
        let mut c = Call::new();
        c.apply(CallEvent::Join { room: "r".into() });
        c.apply(CallEvent::MediaReady(None));
        assert_eq!(c.phase(), Phase::Joining);
        c.apply(CallEvent::SignalingUp);
        assert_eq!(c.joined(&[], false), JoinAction::Wait);
        assert_eq!(c.phase(), Phase::Waiting);
    }

    #[test]
    fn degraded_media_is_a_notice() {
        let mut c = Call::new();
        c.apply(CallEvent::Join { room: "r".into() });
        c.apply(CallEvent::MediaReady(Some(Problem::NoCamera)));
        assert_eq!(c.phase(), Phase::Joining);
        assert!(!c.problem().unwrap().is_fatal());
    }

    #[test]
    fn insecure_context_says_how() {
        let p = Problem::InsecureContext(Some("https://example.org/?room=a".into()));
        assert!(p.to_string().contains("https://example.org/?room=a"));
        assert!(
            Problem::InsecureContext(None)
                .to_string()
                .contains("localhost")
        );
    }

    #[test]
    fn a_refused_relay_is_said_until_the_call_connects() {
        let mut c = joined_call();
        assert_eq!(c.joined(&["bo".into()], false), JoinAction::Offer);
        c.apply(CallEvent::RelayRefused { code: 401 });
        let p = c.problem().unwrap();
        assert_eq!(p, &Problem::RelayRefused(401));
        assert!(!p.is_fatal());
        assert!(p.to_string().contains("relay server refused"));
        // Another path (or a later relay) connected: the notice goes, later refusals are moot.
        c.apply(CallEvent::PeerConnected);
        assert_eq!(c.phase(), Phase::Connected);
        assert_eq!(c.problem(), None);
        c.apply(CallEvent::RelayRefused { code: 401 });
        assert_eq!(c.problem(), None);
    }
}
