//! The malformed-input corpus: bad input at every layer of the protocol, with the typed error
//! each case must give. protocol/tests/malformed.rs checks the decoders and the client with
//! it, and the server's tests send its frames raw.

use duet_protocol::engineio;
use duet_protocol::payload::PayloadError;
use duet_protocol::signaling::SignalError;
use duet_protocol::socketio;
use serde_json::{Value, json};

/// A malformed input and the layer that must reject it.
pub enum Case {
    /// An Engine.IO WebSocket frame.
    EioText(&'static str, fn(&engineio::DecodeError) -> bool),
    /// An Engine.IO binary frame.
    EioBinary(&'static [u8], fn(&engineio::DecodeError) -> bool),
    /// A Socket.IO packet inside a message (`4` + this).
    Sio(String, fn(&socketio::DecodeError) -> bool),
    /// A text polling payload.
    PayloadText(&'static str, fn(&PayloadError) -> bool),
    /// A binary polling payload.
    PayloadBinary(&'static [u8], fn(&PayloadError) -> bool),
    /// A signaling event a client could send.
    ClientEvent(&'static str, Vec<Value>, fn(&SignalError) -> bool),
    /// A signaling event a server could send.
    ServerEvent(&'static str, Vec<Value>, fn(&SignalError) -> bool),
}

/// The corpus; also used by the server's tests (sent raw over a WebSocket).
pub fn corpus() -> Vec<Case> {
    use Case::*;
    use engineio::DecodeError as E;
    use socketio::DecodeError as S;
    vec![
        EioText("", |e| *e == E::Empty),
        EioText("7", |e| matches!(e, E::UnknownType(_))),
        EioText("9hello", |e| matches!(e, E::UnknownType(_))),
        EioText("x", |e| matches!(e, E::UnknownType(_))),
        EioText("-1", |e| matches!(e, E::UnknownType(_))),
        EioText("é", |e| matches!(e, E::UnknownType(_))),
        EioText("b", |e| *e == E::Empty),
        EioText("b9AAAA", |e| matches!(e, E::UnknownType(_))),
        EioText("b4%%%", |e| matches!(e, E::Base64(_))),
        EioText("b4QUJD=", |e| matches!(e, E::Base64(_))),
        EioBinary(&[], |e| *e == E::Empty),
        EioBinary(&[7, 1, 2], |e| matches!(e, E::UnknownType(_))),
        EioBinary(&[0xFF], |e| matches!(e, E::UnknownType(_))),
        EioBinary(b"4hello", |e| matches!(e, E::UnknownType(_))),
        Sio(String::new(), |e| *e == S::Empty),
        Sio("7".into(), |e| *e == S::UnknownType('7')),
        Sio("a[]".into(), |e| *e == S::UnknownType('a')),
        Sio("5[\"x\"]".into(), |e| *e == S::BadAttachments),
        Sio("5-[\"x\"]".into(), |e| *e == S::BadAttachments),
        Sio("5-1-[\"x\"]".into(), |e| *e == S::BadAttachments),
        Sio("599999999999999999999999-[\"x\"]".into(), |e| {
            *e == S::BadAttachments
        }),
        Sio("5257-[\"x\"]".into(), |e| *e == S::BadAttachments),
        Sio("2123456789012345678901234[\"x\"]".into(), |e| {
            *e == S::BadAckId
        }),
        Sio("2[\"x\"".into(), |e| matches!(e, S::Json(_))),
        Sio("2[\"x\",]".into(), |e| matches!(e, S::Json(_))),
        Sio("2{\"a\":1}".into(), |e| matches!(e, S::WrongShape(_))),
        Sio("2\"str\"".into(), |e| matches!(e, S::WrongShape(_))),
        Sio("2[]]".into(), |e| matches!(e, S::Json(_))),
        Sio("2null".into(), |e| matches!(e, S::WrongShape(_))),
        Sio("3[".into(), |e| matches!(e, S::Json(_))),
        Sio("2/admin,{}".into(), |e| matches!(e, S::WrongShape(_))),
        Sio("2[\"\\ud800\"]".into(), |e| matches!(e, S::Json(_))),
        Sio("2[\"\\u12\"]".into(), |e| matches!(e, S::Json(_))),
        Sio("2[1e999999]".into(), |e| matches!(e, S::Json(_))),
        Sio(format!("2{}", "[".repeat(100_000)), |e| {
            matches!(e, S::Json(_))
        }),
        Sio(format!("2[{}]", "{\"a\":".repeat(5_000)), |e| {
            matches!(e, S::Json(_))
        }),
        Sio("2[\"a\"]garbage".into(), |e| matches!(e, S::Json(_))),
        Sio("51-[\"a\",{\"_placeholder\":true,\"num\":5}]".into(), |e| {
            matches!(e, S::BadPlaceholder { num: 5, .. })
        }),
        Sio(
            "50-[\"a\",{\"_placeholder\":true,\"num\":-1}]".into(),
            |e| matches!(e, S::BadPlaceholder { .. }),
        ),
        PayloadText("", |e| *e == PayloadError::Empty),
        PayloadText(":", |e| matches!(e, PayloadError::BadLength { .. })),
        PayloadText("4", |e| matches!(e, PayloadError::BadLength { .. })),
        PayloadText("-1:4", |e| matches!(e, PayloadError::BadLength { .. })),
        PayloadText("1e3:4", |e| matches!(e, PayloadError::BadLength { .. })),
        PayloadText("10:4short", |e| {
            matches!(e, PayloadError::LengthMismatch { .. })
        }),
        PayloadText("99999999999999:4", |e| {
            matches!(e, PayloadError::LengthMismatch { .. })
        }),
        PayloadText("1234567890123456789:4", |e| {
            matches!(e, PayloadError::BadLength { .. })
        }),
        PayloadText("1:41:", |e| {
            matches!(e, PayloadError::LengthMismatch { .. })
        }),
        PayloadText("2:4\u{1F600}", |e| {
            matches!(e, PayloadError::LengthMismatch { .. })
        }),
        PayloadText("1:7", |e| matches!(e, PayloadError::Packet { .. })),
        PayloadText("3:b4!", |e| matches!(e, PayloadError::Packet { .. })),
        PayloadBinary(&[], |e| *e == PayloadError::Empty),
        PayloadBinary(&[5, 1, 0xFF, b'4'], |e| {
            matches!(e, PayloadError::BadMarker { .. })
        }),
        PayloadBinary(&[0, 1, 2, 3], |e| {
            matches!(e, PayloadError::BadLength { .. })
        }),
        PayloadBinary(&[0, 0xFF, b'4'], |e| {
            matches!(e, PayloadError::BadLength { .. })
        }),
        PayloadBinary(&[0, 10, 0xFF, b'4'], |e| {
            matches!(e, PayloadError::BadLength { .. })
        }),
        PayloadBinary(&[0, 5, 0xFF, b'4'], |e| {
            matches!(e, PayloadError::LengthMismatch { .. })
        }),
        PayloadBinary(&[1, 9, 9, 9, 9, 9, 9, 9, 9, 9, 0xFF, 4], |e| {
            matches!(e, PayloadError::LengthMismatch { .. })
        }),
        PayloadBinary(&[0, 2, 0xFF, b'4', 0xFF], |e| {
            matches!(e, PayloadError::Packet { .. })
        }),
        PayloadBinary(&[1, 1, 0xFF, 9], |e| {
            matches!(e, PayloadError::Packet { .. })
        }),
        ClientEvent("join_room", vec![], |e| {
            matches!(e, SignalError::MissingPayload(_))
        }),
        ClientEvent("join_room", vec![json!("1234")], |e| {
            matches!(e, SignalError::BadPayload { .. })
        }),
        ClientEvent("join_room", vec![json!({"room": 1234})], |e| {
            matches!(e, SignalError::BadPayload { .. })
        }),
        ClientEvent("join_room", vec![json!({"email": "a"})], |e| {
            matches!(e, SignalError::BadPayload { .. })
        }),
        ClientEvent("join_room", vec![json!({"room": ""})], |e| {
            *e == SignalError::RoomLength(0)
        }),
        ClientEvent("join_room", vec![json!({"room": "x".repeat(65)})], |e| {
            *e == SignalError::RoomLength(65)
        }),
        ClientEvent("join_room", vec![json!({"room": "../etc"})], |e| {
            *e == SignalError::RoomChars
        }),
        ClientEvent("join_room", vec![json!({"room": "a\u{0}b"})], |e| {
            *e == SignalError::RoomChars
        }),
        ClientEvent(
            "join_room",
            vec![json!({"room": "r", "email": "e".repeat(300)})],
            |e| *e == SignalError::EmailTooLong(300),
        ),
        ClientEvent("offer", vec![json!(null)], |e| {
            matches!(e, SignalError::BadPayload { .. })
        }),
        ClientEvent("offer", vec![json!({"type": "offer", "sdp": 5})], |e| {
            matches!(e, SignalError::BadPayload { .. })
        }),
        ClientEvent("offer", vec![json!({"type": "banana", "sdp": ""})], |e| {
            matches!(e, SignalError::BadPayload { .. })
        }),
        ClientEvent(
            "answer",
            vec![json!({"type": "answer", "sdp": "s".repeat(70_000)})],
            |e| *e == SignalError::SdpTooLarge(70_000),
        ),
        ClientEvent("candidate", vec![json!([1, 2])], |e| {
            matches!(e, SignalError::BadPayload { .. })
        }),
        ClientEvent(
            "candidate",
            vec![json!({"candidate": "c", "sdpMLineIndex": 70000})],
            |e| matches!(e, SignalError::BadPayload { .. }),
        ),
        ClientEvent(
            "candidate",
            vec![json!({"candidate": "c", "sdpMLineIndex": 1.5})],
            |e| matches!(e, SignalError::BadPayload { .. }),
        ),
        ClientEvent(
            "candidate",
            vec![json!({"candidate": "c".repeat(3000)})],
            |e| *e == SignalError::CandidateTooLarge(3000),
        ),
        ClientEvent(
            "candidate",
            vec![json!({"candidate": "c", "sdpMid": "m".repeat(300)})],
            |e| *e == SignalError::CandidateTooLarge(300),
        ),
        ClientEvent("getOffer", vec![], |e| {
            matches!(e, SignalError::UnknownEvent(_))
        }),
        ClientEvent("__proto__", vec![], |e| {
            matches!(e, SignalError::UnknownEvent(_))
        }),
        ServerEvent("all_users", vec![json!({"id": "a"})], |e| {
            matches!(e, SignalError::BadPayload { .. })
        }),
        ServerEvent("all_users", vec![json!([{"email": "no id"}])], |e| {
            matches!(e, SignalError::BadPayload { .. })
        }),
        ServerEvent("user_exit", vec![], |e| {
            matches!(e, SignalError::MissingPayload(_))
        }),
        ServerEvent("getCandidate", vec![json!("x")], |e| {
            matches!(e, SignalError::BadPayload { .. })
        }),
        ServerEvent(
            "getOffer",
            vec![json!({"type": "offer", "sdp": "s".repeat(70_000)})],
            |e| *e == SignalError::SdpTooLarge(70_000),
        ),
        ServerEvent("offer", vec![], |e| {
            matches!(e, SignalError::UnknownEvent(_))
        }),
    ]
}

/// The corpus cases that are WebSocket frames a client could send a server (Engine.IO frames and
/// Socket.IO packets inside messages), as raw frames.
pub fn raw_frames() -> Vec<duet_protocol::Frame> {
    use duet_protocol::Frame;
    corpus()
        .into_iter()
        .filter_map(|case| match case {
            Case::EioText(t, _) => Some(Frame::Text(t.to_owned())),
            Case::EioBinary(b, _) => Some(Frame::Binary(b.to_vec())),
            Case::Sio(t, _) => Some(Frame::Text(format!("4{t}"))),
            _ => None,
        })
        .collect()
}
