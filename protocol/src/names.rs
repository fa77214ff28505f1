//! The wire names of Duet's signaling, each defined once: the event names ([`event`]) and the
//! error codes of the `error` event ([`ErrorCode`]). The server, the page, the tests and the
//! load generator all take them from here.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Event names as they travel (the seed's, plus Duet's `leave_room`, `user_joined`, `error`).
pub mod event {
    /// Client → server: enter a room.
    pub const JOIN_ROOM: &str = "join_room";
    /// Client → server: hang up, keep the connection (Duet's addition).
    pub const LEAVE_ROOM: &str = "leave_room";
    /// Client → server: an SDP offer for the room's other member.
    pub const OFFER: &str = "offer";
    /// Client → server: an SDP answer.
    pub const ANSWER: &str = "answer";
    /// Client → server: an ICE candidate.
    pub const CANDIDATE: &str = "candidate";
    /// Server → client: the others already in the room just joined.
    pub const ALL_USERS: &str = "all_users";
    /// Server → client: a relayed offer.
    pub const GET_OFFER: &str = "getOffer";
    /// Server → client: a relayed answer.
    pub const GET_ANSWER: &str = "getAnswer";
    /// Server → client: a relayed candidate.
    pub const GET_CANDIDATE: &str = "getCandidate";
    /// Server → client: a member left.
    pub const USER_EXIT: &str = "user_exit";
    /// Server → client: a member joined (Duet's addition).
    pub const USER_JOINED: &str = "user_joined";
    /// Server → client: the join was refused, every seat is taken.
    pub const ROOM_FULL: &str = "room_full";
    /// Server → client: something this client sent was dropped (Duet's addition).
    pub const ERROR: &str = "error";

    /// Every event a client may send.
    pub const CLIENT: [&str; 5] = [JOIN_ROOM, LEAVE_ROOM, OFFER, ANSWER, CANDIDATE];
}

/// Defines [`ErrorCode`] from one list of `Variant => "wire_name"` (snake_case), so the enum,
/// its wire names and the list of every code cannot drift apart.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)*) => {
        /// Why the server dropped something a client sent: the `code` of the `error` event.
        /// On the wire a snake_case string; a code this build does not know decodes to
        /// [`ErrorCode::Unknown`], so an older page still shows an error, and a match without
        /// a wildcard makes every new code need its own handling where it is matched.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)*
            /// A code this build does not know (sent by a newer server).
            Unknown,
        }

        impl ErrorCode {
            /// Every code a server of this build sends ([`Unknown`](Self::Unknown) aside).
            pub const ALL: &[ErrorCode] = &[$(Self::$variant,)*];

            /// The wire name (`"unknown"` for [`Unknown`](Self::Unknown)).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                    Self::Unknown => "unknown",
                }
            }

            /// The code with this wire name, or [`Unknown`](Self::Unknown).
            pub fn from_name(name: &str) -> Self {
                match name {
                    $($name => Self::$variant,)*
                    _ => Self::Unknown,
                }
            }
        }
    };
}

error_codes! {
    /// An event name the protocol does not have.
    UnknownEvent => "unknown_event",
    /// A payload missing or of the wrong shape.
    BadPayload => "bad_payload",
    /// A room name too long, empty or with characters outside letters, digits, `-_.`.
    BadRoom => "bad_room",
    /// A name (the seed's `email`) too long.
    BadName => "bad_name",
    /// An SDP over the size limit.
    SdpTooLarge => "sdp_too_large",
    /// An ICE candidate over the size limit.
    CandidateTooLarge => "candidate_too_large",
    /// Too many events: slow down.
    RateLimited => "rate_limited",
    /// A relay from a socket in no room.
    NotInRoom => "not_in_room",
    /// A server of several lost its shared room state (Redis): try again shortly.
    Unavailable => "unavailable",
    /// The server has as many connections as it takes.
    ServerFull => "server_full",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for ErrorCode {
    fn from(name: &str) -> Self {
        Self::from_name(name)
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::from_name(&String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codes_travel_as_their_snake_case_names_and_unknown_ones_are_kept_apart() {
        for &code in ErrorCode::ALL {
            let wire = serde_json::to_value(code).unwrap();
            assert_eq!(wire, json!(code.as_str()));
            assert_eq!(serde_json::from_value::<ErrorCode>(wire).unwrap(), code);
        }
        assert_eq!(
            serde_json::to_value(ErrorCode::CandidateTooLarge).unwrap(),
            json!("candidate_too_large")
        );
        let newer: ErrorCode = serde_json::from_value(json!("a_new_code")).unwrap();
        assert_eq!(newer, ErrorCode::Unknown);
        assert!(serde_json::from_value::<ErrorCode>(json!(3)).is_err());
        let escaped: ErrorCode = serde_json::from_str(r#""bad\u005froom""#).unwrap();
        assert_eq!(escaped, ErrorCode::BadRoom);
    }
}
