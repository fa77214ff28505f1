//! The page's JSON ([`JsJson`], the browser's `JSON.parse`/`JSON.stringify`) under the protocol:
//! it must read and write what the serde_json path does (protocol/src/signaling/json.rs checks
//! the same functions over serde_json natively).
//!
//! `cargo test -p duet --target wasm32-unknown-unknown --test json`
#![cfg(target_arch = "wasm32")]

use duet::js::JsJson;
use duet_protocol::ClientMessage;
use duet_protocol::engineio::Handshake;
use duet_protocol::json::Json;
use duet_protocol::signaling::{IceCandidate, JoinRoom, ServerMessage, SignalError, User};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn args(text: &str) -> Vec<JsJson> {
    JsJson::parse(text).unwrap().items().unwrap()
}

#[wasm_bindgen_test]
fn reads_server_events() {
    assert_eq!(
        ServerMessage::from_json(
            "user_joined",
            &args(r#"[{"id":"a","email":"bo","warmOffer":true,"extra":[1]}]"#)
        ),
        Ok(ServerMessage::UserJoined(User {
            id: "a".into(),
            email: "bo".into(),
            warm_offer: true,
        }))
    );
    assert_eq!(
        ServerMessage::from_json(
            "getCandidate",
            &args(r#"[{"candidate":"c","sdpMid":null,"sdpMLineIndex":1}]"#)
        ),
        Ok(ServerMessage::Candidate(IceCandidate {
            candidate: "c".into(),
            sdp_mid: None,
            sdp_m_line_index: Some(1),
            username_fragment: None,
        }))
    );
    // Fields come from the object itself, never from Object.prototype.
    assert!(matches!(
        ServerMessage::from_json("user_exit", &args(r#"[{"constructor":"x"}]"#)),
        Err(SignalError::BadPayload { .. })
    ));
    assert!(matches!(
        ServerMessage::from_json("getCandidate", &args(r#"[{"sdpMLineIndex":1.5}]"#)),
        Err(SignalError::BadPayload { .. })
    ));
    assert!(matches!(
        ServerMessage::from_json("all_users", &args(r#"[{"id":"a"}]"#)),
        Err(SignalError::BadPayload { .. })
    ));
    assert!(JsJson::parse("[1,").is_err());
}

#[wasm_bindgen_test]
fn writes_what_serde_writes() {
    let join = ClientMessage::JoinRoom(JoinRoom {
        room: "r".into(),
        email: "é\"".into(),
        warm_offer: true,
    });
    assert_eq!(
        join.to_json::<JsJson>()[0].to_text(),
        r#"{"room":"r","email":"é\"","warmOffer":true}"#
    );
    let candidate = ClientMessage::Candidate(IceCandidate {
        candidate: "c".into(),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
        username_fragment: None,
    });
    assert_eq!(
        candidate.to_json::<JsJson>()[0].to_text(),
        r#"{"candidate":"c","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":null}"#
    );
}

#[wasm_bindgen_test]
fn reads_the_handshake() {
    let h = Handshake::from_json(
        &JsJson::parse(r#"{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":5000}"#)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (h.sid.as_str(), h.ping_interval, h.ping_timeout),
        ("s", 25_000, 5_000)
    );
    assert!(Handshake::from_json(&JsJson::parse(r#"{"sid":"s"}"#).unwrap()).is_err());
}
