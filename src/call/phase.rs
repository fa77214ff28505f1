//! What the page shows about the call: its [`Phase`] (`#callstatus[data-state]`) and the
//! [`Call`] snapshot the machine renders for the components, with the status line in words.

use std::fmt;

use super::Problem;

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

/// What the components show: a snapshot of the call machine ([`super::Machine::view`]), written
/// into a signal whenever it changes. Plain data; the machine decides, this only says it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Call {
    pub(super) phase: Phase,
    pub(super) room: Option<String>,
    pub(super) peer_name: Option<String>,
    pub(super) problem: Option<Problem>,
    /// Media flows (the link is connected).
    pub(super) call_up: bool,
    /// The signaling connection is down and being retried.
    pub(super) signaling_down: bool,
    /// The screen is shared (sent instead of the camera).
    pub(super) sharing: bool,
}

impl Call {
    /// A call that has not started.
    pub fn new() -> Self {
        Self::default()
    }

    /// A page that could not start a call: `problem` says why, the join form shows.
    pub fn failed(problem: Problem) -> Self {
        Self {
            phase: Phase::Error,
            problem: Some(problem),
            ..Self::default()
        }
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

    /// The screen is shared.
    pub fn sharing(&self) -> bool {
        self.sharing
    }

    /// The error or notice to show, if any.
    pub fn problem(&self) -> Option<&Problem> {
        self.problem.as_ref()
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
            Phase::Reconnecting if self.signaling_down && self.call_up => {
                format!("Reconnecting to the call server… Your call with {who} continues.")
            }
            Phase::Reconnecting if self.signaling_down => {
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
