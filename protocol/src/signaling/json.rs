//! The client's side of the signaling messages over any [`Json`] implementation: what the
//! browser sends ([`ClientMessage::to_json`]) and reads ([`ServerMessage::from_json`]) without a
//! JSON library in its bundle. Field names, defaults and limits are the serde ones above (the
//! tests below hold both to the same results), so a page and the server read a message alike.
//!
//! Unknown fields are ignored, absent optional fields take their default, `null` counts as
//! absent only where serde reads an `Option`, and a wrong type is [`SignalError::BadPayload`].

use super::{
    ClientMessage, ErrorCode, ErrorNotice, IceCandidate, SdpType, ServerMessage,
    SessionDescription, SignalError, User, UserExit, event,
};
use crate::json::Json;

impl SdpType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Offer => "offer",
            Self::Pranswer => "pranswer",
            Self::Answer => "answer",
            Self::Rollback => "rollback",
        }
    }
}

fn description<J: Json>(d: &SessionDescription) -> J {
    J::object(vec![
        ("type", J::string(d.kind.as_str())),
        ("sdp", J::string(&d.sdp)),
    ])
}

fn optional<J: Json>(s: &Option<String>) -> J {
    s.as_deref().map_or_else(J::null, J::string)
}

impl ClientMessage {
    /// The event arguments, in any JSON implementation: the same JSON as `args()`.
    pub fn to_json<J: Json>(&self) -> Vec<J> {
        match self {
            Self::JoinRoom(j) => {
                let mut fields = vec![("room", J::string(&j.room)), ("email", J::string(&j.email))];
                if j.warm_offer {
                    fields.push(("warmOffer", J::from_bool(true)));
                }
                vec![J::object(fields)]
            }
            Self::LeaveRoom => vec![],
            Self::Offer(d) | Self::Answer(d) => vec![description(d)],
            Self::Candidate(c) => vec![J::object(vec![
                ("candidate", J::string(&c.candidate)),
                ("sdpMid", optional(&c.sdp_mid)),
                (
                    "sdpMLineIndex",
                    c.sdp_m_line_index
                        .map_or_else(J::null, |i| J::uint(u64::from(i))),
                ),
                ("usernameFragment", optional(&c.username_fragment)),
            ])],
        }
    }
}

/// Reads the fields of one event's payload, reporting the first bad one.
struct Fields<'a, J> {
    event: &'static str,
    value: &'a J,
}

impl<J: Json> Fields<'_, J> {
    fn bad(&self, reason: String) -> SignalError {
        SignalError::BadPayload {
            event: self.event,
            reason,
        }
    }

    /// A string field; absent means `default` (`None`: required).
    fn string(&self, key: &str, default: Option<&str>) -> Result<String, SignalError> {
        match (self.value.field(key), default) {
            (Some(v), _) => v
                .as_string()
                .ok_or_else(|| self.bad(format!("{key} is not a string"))),
            (None, Some(d)) => Ok(d.to_owned()),
            (None, None) => Err(self.bad(format!("missing field {key}"))),
        }
    }

    /// An optional string field (`null` or absent: `None`).
    fn optional(&self, key: &str) -> Result<Option<String>, SignalError> {
        match self.value.field(key) {
            Some(v) if !v.is_null() => v
                .as_string()
                .map(Some)
                .ok_or_else(|| self.bad(format!("{key} is not a string"))),
            _ => Ok(None),
        }
    }

    /// A capability flag: only `true` sets it (any other value is ignored, not rejected).
    fn flag(&self, key: &str) -> bool {
        self.value.field(key).is_some_and(|v| v.is_true())
    }
}

fn first<'a, J: Json>(event: &'static str, args: &'a [J]) -> Result<Fields<'a, J>, SignalError> {
    let value = args.first().ok_or(SignalError::MissingPayload(event))?;
    let fields = Fields { event, value };
    if !value.is_object() {
        return Err(fields.bad("not an object".to_owned()));
    }
    Ok(fields)
}

fn user<J: Json>(f: &Fields<'_, J>) -> Result<User, SignalError> {
    Ok(User {
        id: f.string("id", None)?,
        email: f.string("email", Some(""))?,
        warm_offer: f.flag("warmOffer"),
    })
}

fn session_description<J: Json>(f: &Fields<'_, J>) -> Result<SessionDescription, SignalError> {
    let kind = match f.string("type", None)?.as_str() {
        "offer" => SdpType::Offer,
        "pranswer" => SdpType::Pranswer,
        "answer" => SdpType::Answer,
        "rollback" => SdpType::Rollback,
        other => return Err(f.bad(format!("unknown type {other:?}"))),
    };
    let d = SessionDescription {
        kind,
        sdp: f.string("sdp", Some(""))?,
    };
    d.validate()?;
    Ok(d)
}

fn candidate<J: Json>(f: &Fields<'_, J>) -> Result<IceCandidate, SignalError> {
    let index = match f.value.field("sdpMLineIndex") {
        Some(v) if !v.is_null() => Some(
            v.as_u64()
                .and_then(|i| u16::try_from(i).ok())
                .ok_or_else(|| f.bad("sdpMLineIndex is not an integer in 0..=65535".to_owned()))?,
        ),
        _ => None,
    };
    let c = IceCandidate {
        candidate: f.string("candidate", Some(""))?,
        sdp_mid: f.optional("sdpMid")?,
        sdp_m_line_index: index,
        username_fragment: f.optional("usernameFragment")?,
    };
    c.validate()?;
    Ok(c)
}

impl ServerMessage {
    /// Parses and validates an event a server sent, from any JSON implementation: the same
    /// results as `from_event`.
    pub fn from_json<J: Json>(name: &str, args: &[J]) -> Result<Self, SignalError> {
        Ok(match name {
            event::ALL_USERS => {
                let event = event::ALL_USERS;
                let list = args.first().ok_or(SignalError::MissingPayload(event))?;
                let items = list.items().ok_or_else(|| SignalError::BadPayload {
                    event,
                    reason: "not a list".to_owned(),
                })?;
                Self::AllUsers(
                    items
                        .iter()
                        .map(|value| {
                            let f = first(event, std::slice::from_ref(value))?;
                            user(&f)
                        })
                        .collect::<Result<_, _>>()?,
                )
            }
            event::GET_OFFER => Self::Offer(session_description(&first(event::GET_OFFER, args)?)?),
            event::GET_ANSWER => {
                Self::Answer(session_description(&first(event::GET_ANSWER, args)?)?)
            }
            event::GET_CANDIDATE => {
                Self::Candidate(candidate(&first(event::GET_CANDIDATE, args)?)?)
            }
            event::USER_EXIT => {
                let f = first(event::USER_EXIT, args)?;
                Self::UserExit(UserExit {
                    id: f.string("id", None)?,
                })
            }
            event::USER_JOINED => Self::UserJoined(user(&first(event::USER_JOINED, args)?)?),
            event::ROOM_FULL => Self::RoomFull,
            event::ERROR => {
                let f = first(event::ERROR, args)?;
                Self::Error(ErrorNotice {
                    code: ErrorCode::from_name(&f.string("code", None)?),
                    message: f.string("message", Some(""))?,
                })
            }
            other => return Err(SignalError::UnknownEvent(other.to_owned())),
        })
    }
}

#[cfg(all(test, feature = "serde_json"))]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::signaling::JoinRoom;

    fn same_as_serde(name: &str, args: &[Value]) {
        let ours = ServerMessage::from_json(name, args);
        let serde = ServerMessage::from_event(name, args);
        match (&ours, &serde) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{name} {args:?}"),
            (Err(a), Err(b)) => assert_eq!(a.code(), b.code(), "{name} {args:?}: {a} vs {b}"),
            _ => panic!("{name} {args:?}: ours {ours:?}, serde {serde:?}"),
        }
    }

    #[test]
    fn reads_server_events_as_serde_does() {
        let cases: Vec<(&str, Vec<Value>)> = vec![
            ("all_users", vec![json!([])]),
            (
                "all_users",
                vec![json!([{"id": "a", "email": "x", "more": 1}, {"id": "b"}])],
            ),
            ("all_users", vec![json!([{"email": "x"}])]),
            ("all_users", vec![json!({"id": "a"})]),
            ("all_users", vec![json!([{"id": 3}])]),
            ("all_users", vec![]),
            (
                "user_joined",
                vec![json!({"id": "a", "email": "bo", "warmOffer": true})],
            ),
            ("user_joined", vec![json!({"id": "a", "warmOffer": false})]),
            ("user_joined", vec![json!(3)]),
            ("getOffer", vec![json!({"type": "offer", "sdp": "v=0\r\n"})]),
            ("getAnswer", vec![json!({"type": "answer"})]),
            ("getOffer", vec![json!({"type": "bogus", "sdp": ""})]),
            ("getOffer", vec![json!({"sdp": "x"})]),
            ("getOffer", vec![json!("x")]),
            (
                "getOffer",
                vec![json!({"type": "offer", "sdp": "a".repeat(70_000)})],
            ),
            ("getOffer", vec![]),
            (
                "getCandidate",
                vec![
                    json!({"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host",
                        "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": null}),
                ],
            ),
            ("getCandidate", vec![json!({})]),
            ("getCandidate", vec![json!({"sdpMLineIndex": -1})]),
            ("getCandidate", vec![json!({"sdpMLineIndex": 70000})]),
            ("getCandidate", vec![json!({"sdpMLineIndex": 1.5})]),
            ("getCandidate", vec![json!({"sdpMid": 1})]),
            ("getCandidate", vec![json!({"candidate": "c".repeat(3000)})]),
            ("user_exit", vec![json!({"id": "a"})]),
            ("user_exit", vec![json!({})]),
            ("room_full", vec![]),
            ("error", vec![json!({"code": "bad_room", "message": "m"})]),
            ("error", vec![json!({"code": "bad_room"})]),
            ("error", vec![json!({"message": "m"})]),
            ("nope", vec![]),
        ];
        for (name, args) in cases {
            same_as_serde(name, &args);
        }
    }

    #[test]
    fn writes_client_events_as_serde_does() {
        let messages = [
            ClientMessage::JoinRoom(JoinRoom {
                room: "r".into(),
                email: "e".into(),
                warm_offer: false,
            }),
            ClientMessage::JoinRoom(JoinRoom {
                room: "r".into(),
                email: "".into(),
                warm_offer: true,
            }),
            ClientMessage::LeaveRoom,
            ClientMessage::Offer(SessionDescription {
                kind: SdpType::Offer,
                sdp: "v=0\r\n".into(),
            }),
            ClientMessage::Answer(SessionDescription {
                kind: SdpType::Answer,
                sdp: String::new(),
            }),
            ClientMessage::Candidate(IceCandidate {
                candidate: "candidate:1".into(),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
                username_fragment: None,
            }),
            ClientMessage::Candidate(IceCandidate {
                candidate: String::new(),
                sdp_mid: None,
                sdp_m_line_index: None,
                username_fragment: Some("u".into()),
            }),
        ];
        for m in messages {
            let ours: Vec<Value> = m.to_json();
            assert_eq!(ours, m.args(), "{m:?}");
            // Same text, keys in the same order.
            assert_eq!(
                serde_json::to_string(&ours).unwrap(),
                serde_json::to_string(&m.args()).unwrap()
            );
        }
    }
}
