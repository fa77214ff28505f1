//! Signaling events: any JSON array as arguments to any event name gives a message or a typed
//! error; accepted messages re-serialize and parse equal.
#![no_main]
use duet_protocol::signaling::{ClientMessage, ServerMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_slice::<serde_json::Value>(data)
    else {
        return;
    };
    let Some((name, args)) = items.split_first() else {
        return;
    };
    let Some(name) = name.as_str() else { return };
    if let Ok(m) = ClientMessage::from_event(name, args) {
        assert_eq!(
            ClientMessage::from_event(m.event_name(), &m.args()).unwrap(),
            m
        );
    }
    if let Ok(m) = ServerMessage::from_event(name, args) {
        assert_eq!(
            ServerMessage::from_event(m.event_name(), &m.args()).unwrap(),
            m
        );
    }
});
