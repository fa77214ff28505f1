//! Duet's signaling messages: the events of the original design (socket.io 2.3.0), typed.
//!
//! Client → server: `join_room {room,email}`, `offer`, `answer`, `candidate`, and Duet's
//! `leave_room` (hang up without closing the socket). Server → client: `all_users [{id,email}]`,
//! `getOffer`, `getAnswer`, `getCandidate`, `user_exit {id}`, `room_full`, and Duet's `error
//! {code,message}` for rejected input. JSON names are the seed's; unknown fields are ignored so
//! newer peers can add some; sizes are bounded so one bad client cannot make a peer or the server
//! hold megabytes.

mod json;

use serde::{Deserialize, Serialize};
#[cfg(feature = "serde_json")]
use serde_json::Value;

pub use crate::names::{ErrorCode, event};

/// Longest SDP accepted, in bytes. Real offers with audio, video and many codecs are 3–10 KiB.
pub const MAX_SDP_BYTES: usize = 64 * 1024;
/// Longest ICE candidate line accepted, in bytes (real ones are under 300).
pub const MAX_CANDIDATE_BYTES: usize = 2 * 1024;
/// Longest room name, in characters.
pub const MAX_ROOM_CHARS: usize = 64;
/// Longest email or display name, in characters (RFC 5321's address limit). The one rule for
/// names: the server refuses longer ones, the page's form and URL use the same check.
pub const MAX_EMAIL_CHARS: usize = 254;
/// [`validate_room`]'s rule as a JavaScript regular expression (`u` or `v` flag, whole string):
/// 1 to [`MAX_ROOM_CHARS`] code points, each a Unicode letter (`Alphabetic`, as
/// [`char::is_alphabetic`]) or number (`N`, as [`char::is_numeric`]), `.`, `_` or `-`
/// ([`room_char`]). The join form's `pattern` attribute is this constant, index.html's early
/// start spells it as `/^…$/u`, and the page's own check asks it of each character; the
/// frontend's tests prove the browser reads it as [`validate_room`] does, for every code point.
pub const ROOM_PATTERN: &str = r"[\p{Alphabetic}\p{N}._\-]{1,64}";
/// Longest `sdpMid` or `usernameFragment`, in bytes.
const MAX_SHORT_FIELD_BYTES: usize = 256;

/// Why a signaling event was rejected. The server sends its `code` back in an `error` event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignalError {
    /// An event name this protocol does not have.
    #[error("unknown event {0:?}")]
    UnknownEvent(String),
    /// The event needs a payload and has none.
    #[error("{0} needs a payload")]
    MissingPayload(&'static str),
    /// The payload has the wrong JSON shape or types.
    #[error("{event}: bad payload: {reason}")]
    BadPayload {
        /// Which event.
        event: &'static str,
        /// What serde said.
        reason: String,
    },
    /// Room names are 1 to 64 characters.
    #[error("room name must be 1 to {MAX_ROOM_CHARS} characters, got {0}")]
    RoomLength(usize),
    /// Room names use letters, digits, `-`, `_` and `.` only.
    #[error("room name may hold only letters, digits, '-', '_' and '.'")]
    RoomChars,
    /// Emails or names are at most 254 characters.
    #[error("name must be at most {MAX_EMAIL_CHARS} characters, got {0}")]
    EmailTooLong(usize),
    /// SDP over 64 KiB.
    #[error("SDP of {0} bytes exceeds {MAX_SDP_BYTES}")]
    SdpTooLarge(usize),
    /// A candidate over 2 KiB, or an over-long `sdpMid`/`usernameFragment`.
    #[error("ICE candidate of {0} bytes exceeds {MAX_CANDIDATE_BYTES}")]
    CandidateTooLarge(usize),
}

impl SignalError {
    /// The stable code for the `error` event and for metrics labels.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::UnknownEvent(_) => ErrorCode::UnknownEvent,
            Self::MissingPayload(_) | Self::BadPayload { .. } => ErrorCode::BadPayload,
            Self::RoomLength(_) | Self::RoomChars => ErrorCode::BadRoom,
            Self::EmailTooLong(_) => ErrorCode::BadName,
            Self::SdpTooLarge(_) => ErrorCode::SdpTooLarge,
            Self::CandidateTooLarge(_) => ErrorCode::CandidateTooLarge,
        }
    }
}

/// `join_room`: enter a room under a name (the seed calls it `email`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRoom {
    /// The room to join.
    pub room: String,
    /// The joiner's email or display name, shown to the other person.
    #[serde(default)]
    pub email: String,
    /// Duet's capability `warmOffer` (absent means false, as from the seed's client): a member
    /// with it offers as soon as it hears `user_joined` of a joiner with it, and such a joiner
    /// waits for that offer instead of making its own. The server relays it in `user_joined`
    /// and `all_users`.
    #[serde(default, rename = "warmOffer", skip_serializing_if = "is_false")]
    pub warm_offer: bool,
}

fn is_false(b: &bool) -> bool {
    !b
}

impl JoinRoom {
    /// Checks the size and character limits.
    pub fn validate(&self) -> Result<(), SignalError> {
        self.validate_with(room_char)
    }

    /// [`validate`](Self::validate) with `allowed` telling which characters a room name may
    /// hold (see [`validate_room_with`]).
    pub fn validate_with(&self, allowed: impl Fn(char) -> bool) -> Result<(), SignalError> {
        validate_room_with(&self.room, allowed)?;
        let n = self.email.chars().count();
        if n > MAX_EMAIL_CHARS {
            return Err(SignalError::EmailTooLong(n));
        }
        Ok(())
    }
}

/// Checks a room name: 1–64 characters of letters, digits, `-`, `_`, `.`.
pub fn validate_room(room: &str) -> Result<(), SignalError> {
    validate_room_with(room, room_char)
}

/// Whether a room name may hold `c`: a Unicode letter or number, `-`, `_` or `.`.
pub fn room_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// [`validate_room`] with `allowed` in place of [`room_char`], for a caller that has Unicode's
/// tables of its own and need not carry Rust's (about 2 KB of a web page's wasm): a page asks
/// its browser, through [`ROOM_PATTERN`].
pub fn validate_room_with(room: &str, allowed: impl Fn(char) -> bool) -> Result<(), SignalError> {
    let n = room.chars().count();
    if n == 0 || n > MAX_ROOM_CHARS {
        return Err(SignalError::RoomLength(n));
    }
    if !room.chars().all(allowed) {
        return Err(SignalError::RoomChars);
    }
    Ok(())
}

/// One entry of `all_users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The other member's socket id.
    pub id: String,
    /// The name they joined with.
    #[serde(default)]
    pub email: String,
    /// The member's [`JoinRoom::warm_offer`]: in `user_joined`, so the member already in the
    /// room may offer at once; in `all_users`, so the joiner waits for that offer instead of
    /// making its own. The original server sends neither: then the original flow.
    #[serde(default, rename = "warmOffer", skip_serializing_if = "is_false")]
    pub warm_offer: bool,
}

/// The kind of a session description (RTCSdpType).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SdpType {
    /// An offer.
    Offer,
    /// A provisional answer.
    Pranswer,
    /// An answer.
    Answer,
    /// Rolls back a pending offer.
    Rollback,
}

/// RTCSessionDescriptionInit: what `offer`/`answer` carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDescription {
    /// Offer, answer, …
    #[serde(rename = "type")]
    pub kind: SdpType,
    /// The SDP text (empty for a rollback).
    #[serde(default)]
    pub sdp: String,
}

impl SessionDescription {
    /// Checks the SDP size limit.
    pub fn validate(&self) -> Result<(), SignalError> {
        if self.sdp.len() > MAX_SDP_BYTES {
            return Err(SignalError::SdpTooLarge(self.sdp.len()));
        }
        Ok(())
    }
}

/// RTCIceCandidateInit: what `candidate` carries. Browsers send nulls for absent fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IceCandidate {
    /// The candidate line; empty means end of candidates.
    #[serde(default)]
    pub candidate: String,
    /// The media stream id it belongs to.
    #[serde(default)]
    pub sdp_mid: Option<String>,
    /// The m-line index it belongs to.
    #[serde(default, rename = "sdpMLineIndex")]
    pub sdp_m_line_index: Option<u16>,
    /// The ICE username fragment.
    #[serde(default)]
    pub username_fragment: Option<String>,
}

impl IceCandidate {
    /// Checks the size limits.
    pub fn validate(&self) -> Result<(), SignalError> {
        if self.candidate.len() > MAX_CANDIDATE_BYTES {
            return Err(SignalError::CandidateTooLarge(self.candidate.len()));
        }
        for field in [&self.sdp_mid, &self.username_fragment]
            .into_iter()
            .flatten()
        {
            if field.len() > MAX_SHORT_FIELD_BYTES {
                return Err(SignalError::CandidateTooLarge(field.len()));
            }
        }
        Ok(())
    }
}

/// `user_exit`: a member left the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserExit {
    /// The socket id that left.
    pub id: String,
}

/// Duet's `error` event: why the server dropped something this client sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorNotice {
    /// Why (see [`ErrorCode`]).
    pub code: ErrorCode,
    /// A human-readable explanation.
    #[serde(default)]
    pub message: String,
}

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// `join_room`.
    JoinRoom(JoinRoom),
    /// `leave_room` (Duet's addition: hang up but keep the connection).
    LeaveRoom,
    /// `offer`.
    Offer(SessionDescription),
    /// `answer`.
    Answer(SessionDescription),
    /// `candidate`.
    Candidate(IceCandidate),
}

/// What a server sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    /// `all_users`: the others already in the room the client just joined.
    AllUsers(Vec<User>),
    /// `getOffer`.
    Offer(SessionDescription),
    /// `getAnswer`.
    Answer(SessionDescription),
    /// `getCandidate`.
    Candidate(IceCandidate),
    /// `user_exit`.
    UserExit(UserExit),
    /// `user_joined` (Duet's addition): someone joined the room this client is in, so the
    /// member who was there first learns the newcomer's name (the seed has no such event and
    /// its clients ignore events they do not listen for).
    UserJoined(User),
    /// `room_full`.
    RoomFull,
    /// `error` (Duet's addition).
    Error(ErrorNotice),
}

#[cfg(feature = "serde_json")]
fn parse<T: serde::de::DeserializeOwned>(
    event: &'static str,
    args: &[Value],
) -> Result<T, SignalError> {
    let first = args.first().ok_or(SignalError::MissingPayload(event))?;
    T::deserialize(first).map_err(|e| SignalError::BadPayload {
        event,
        reason: e.to_string(),
    })
}

#[cfg(feature = "serde_json")]
fn to_value<T: Serialize>(v: &T) -> Value {
    // These types are plain structs of strings and numbers: serializing cannot fail.
    serde_json::to_value(v).unwrap_or(Value::Null)
}

impl ClientMessage {
    /// The wire event name.
    pub fn event_name(&self) -> &'static str {
        match self {
            Self::JoinRoom(_) => event::JOIN_ROOM,
            Self::LeaveRoom => event::LEAVE_ROOM,
            Self::Offer(_) => event::OFFER,
            Self::Answer(_) => event::ANSWER,
            Self::Candidate(_) => event::CANDIDATE,
        }
    }

    /// The event arguments.
    #[cfg(feature = "serde_json")]
    pub fn args(&self) -> Vec<Value> {
        match self {
            Self::JoinRoom(j) => vec![to_value(j)],
            Self::LeaveRoom => vec![],
            Self::Offer(d) | Self::Answer(d) => vec![to_value(d)],
            Self::Candidate(c) => vec![to_value(c)],
        }
    }

    /// Parses and validates an event a client sent.
    #[cfg(feature = "serde_json")]
    pub fn from_event(name: &str, args: &[Value]) -> Result<Self, SignalError> {
        let msg = match name {
            event::JOIN_ROOM => Self::JoinRoom(parse(event::JOIN_ROOM, args)?),
            event::LEAVE_ROOM => Self::LeaveRoom,
            event::OFFER => Self::Offer(parse(event::OFFER, args)?),
            event::ANSWER => Self::Answer(parse(event::ANSWER, args)?),
            event::CANDIDATE => Self::Candidate(parse(event::CANDIDATE, args)?),
            other => return Err(SignalError::UnknownEvent(other.to_owned())),
        };
        msg.validate()?;
        Ok(msg)
    }

    /// Checks the limits of whatever this message carries.
    pub fn validate(&self) -> Result<(), SignalError> {
        match self {
            Self::JoinRoom(j) => j.validate(),
            Self::LeaveRoom => Ok(()),
            Self::Offer(d) | Self::Answer(d) => d.validate(),
            Self::Candidate(c) => c.validate(),
        }
    }
}

impl ServerMessage {
    /// The wire event name.
    pub fn event_name(&self) -> &'static str {
        match self {
            Self::AllUsers(_) => event::ALL_USERS,
            Self::Offer(_) => event::GET_OFFER,
            Self::Answer(_) => event::GET_ANSWER,
            Self::Candidate(_) => event::GET_CANDIDATE,
            Self::UserExit(_) => event::USER_EXIT,
            Self::UserJoined(_) => event::USER_JOINED,
            Self::RoomFull => event::ROOM_FULL,
            Self::Error(_) => event::ERROR,
        }
    }

    /// The event arguments.
    #[cfg(feature = "serde_json")]
    pub fn args(&self) -> Vec<Value> {
        match self {
            Self::AllUsers(u) => vec![to_value(u)],
            Self::Offer(d) | Self::Answer(d) => vec![to_value(d)],
            Self::Candidate(c) => vec![to_value(c)],
            Self::UserExit(u) => vec![to_value(u)],
            Self::UserJoined(u) => vec![to_value(u)],
            Self::RoomFull => vec![],
            Self::Error(e) => vec![to_value(e)],
        }
    }

    /// Parses and validates an event a server sent.
    #[cfg(feature = "serde_json")]
    pub fn from_event(name: &str, args: &[Value]) -> Result<Self, SignalError> {
        let msg = match name {
            event::ALL_USERS => Self::AllUsers(parse(event::ALL_USERS, args)?),
            event::GET_OFFER => Self::Offer(parse(event::GET_OFFER, args)?),
            event::GET_ANSWER => Self::Answer(parse(event::GET_ANSWER, args)?),
            event::GET_CANDIDATE => Self::Candidate(parse(event::GET_CANDIDATE, args)?),
            event::USER_EXIT => Self::UserExit(parse(event::USER_EXIT, args)?),
            event::USER_JOINED => Self::UserJoined(parse(event::USER_JOINED, args)?),
            event::ROOM_FULL => Self::RoomFull,
            event::ERROR => Self::Error(parse(event::ERROR, args)?),
            other => return Err(SignalError::UnknownEvent(other.to_owned())),
        };
        match &msg {
            Self::Offer(d) | Self::Answer(d) => d.validate()?,
            Self::Candidate(c) => c.validate()?,
            _ => {}
        }
        Ok(msg)
    }
}

#[cfg(all(test, feature = "serde_json"))]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_joined_round_trips() {
        let m = ServerMessage::UserJoined(User {
            id: "abc".into(),
            email: "bo@example.com".into(),
            warm_offer: false,
        });
        assert_eq!(m.event_name(), "user_joined");
        assert_eq!(
            m.args(),
            vec![json!({"id": "abc", "email": "bo@example.com"})]
        );
        assert_eq!(
            ServerMessage::from_event("user_joined", &m.args()).unwrap(),
            m
        );
        assert!(ServerMessage::from_event("user_joined", &[json!(3)]).is_err());
    }

    #[test]
    fn parses_the_seed_payloads() {
        let m = ClientMessage::from_event(
            "join_room",
            &[json!({"room": "1234", "email": "sample@naver.com", "extra": 1})],
        )
        .unwrap();
        assert_eq!(
            m,
            ClientMessage::JoinRoom(JoinRoom {
                room: "1234".into(),
                email: "sample@naver.com".into(),
                warm_offer: false,
            })
        );
        let c = ClientMessage::from_event(
            "candidate",
            &[
                json!({"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host",
                     "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": null}),
            ],
        )
        .unwrap();
        assert_eq!(
            c.args(),
            vec![
                json!({"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host",
                        "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": null})
            ]
        );
        let o =
            ServerMessage::from_event("getOffer", &[json!({"type": "offer", "sdp": "v=0\r\n"})])
                .unwrap();
        assert_eq!(o.event_name(), "getOffer");
        assert_eq!(
            ServerMessage::from_event("all_users", &[json!([{"id": "a", "email": "x"}])]).unwrap(),
            ServerMessage::AllUsers(vec![User {
                id: "a".into(),
                email: "x".into(),
                warm_offer: false,
            }])
        );
        assert_eq!(
            ServerMessage::from_event("room_full", &[]).unwrap(),
            ServerMessage::RoomFull
        );
    }

    #[test]
    fn enforces_limits() {
        let join = |room: &str, email: &str| {
            ClientMessage::from_event("join_room", &[json!({"room": room, "email": email})])
        };
        assert_eq!(join("", "a"), Err(SignalError::RoomLength(0)));
        assert_eq!(join(&"r".repeat(65), "a"), Err(SignalError::RoomLength(65)));
        assert!(join(&"r".repeat(64), "a").is_ok());
        assert!(join("café-1_2.3", "a").is_ok());
        assert!(join(&"é".repeat(64), "a").is_ok());
        assert!(join("r", &"é".repeat(MAX_EMAIL_CHARS)).is_ok());
        assert_eq!(join("a/b", "a"), Err(SignalError::RoomChars));
        assert_eq!(join("a b", "a"), Err(SignalError::RoomChars));
        assert_eq!(
            join("r", &"e".repeat(255)),
            Err(SignalError::EmailTooLong(255))
        );
        let sdp = "a".repeat(MAX_SDP_BYTES + 1);
        assert_eq!(
            ClientMessage::from_event("offer", &[json!({"type": "offer", "sdp": sdp})]),
            Err(SignalError::SdpTooLarge(MAX_SDP_BYTES + 1))
        );
        let cand = "c".repeat(MAX_CANDIDATE_BYTES + 1);
        assert_eq!(
            ClientMessage::from_event("candidate", &[json!({"candidate": cand})]),
            Err(SignalError::CandidateTooLarge(MAX_CANDIDATE_BYTES + 1))
        );
    }

    /// The pattern spells the same length limit as the constant.
    #[test]
    fn the_room_pattern_says_the_same_length() {
        assert!(ROOM_PATTERN.ends_with(&format!("]{{1,{MAX_ROOM_CHARS}}}")));
    }

    #[test]
    fn rejects_wrong_shapes() {
        assert_eq!(
            ClientMessage::from_event("offer", &[]),
            Err(SignalError::MissingPayload("offer"))
        );
        for bad in [
            json!("x"),
            json!(1),
            json!({"type": "bogus"}),
            json!({"sdp": "x"}),
        ] {
            assert!(matches!(
                ClientMessage::from_event("offer", &[bad]),
                Err(SignalError::BadPayload { event: "offer", .. })
            ));
        }
        assert!(matches!(
            ClientMessage::from_event("candidate", &[json!({"sdpMLineIndex": -1})]),
            Err(SignalError::BadPayload { .. })
        ));
        assert_eq!(
            ClientMessage::from_event("nope", &[]),
            Err(SignalError::UnknownEvent("nope".into()))
        );
    }
}
