//! The call's phase machine as the session drives it until it moves onto [`super::Machine`]
//! (the next commit removes this module).
#![allow(missing_docs)]

use super::{Phase, Problem};

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
        code: String,
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
                    Some(Problem::PeerLost | Problem::SignalingUnreachable(_))
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
                let problem = Problem::from_server_error(&code, join_refused);
                if problem.is_fatal() {
                    self.phase = Error;
                    self.signaling_up = false;
                }
                self.problem = Some(problem);
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
