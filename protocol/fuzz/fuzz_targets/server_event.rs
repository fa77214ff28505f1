//! duet-server's event handling: a Socket.IO packet as a client's message carries it, reduced to
//! what the handlers get (socketioxide gives a `TryData<Value>` handler the event's first
//! argument, or nothing), validated with `ClientMessage::from_event` as the handlers do. Never
//! panics; a rejection has one of the codes the server sends back in `error`; an accepted
//! message becomes what the partner's page receives (`getOffer`, `getAnswer`, `getCandidate`,
//! `user_joined`), which survives the wire encoding and the page's parser unchanged and within
//! the size limits.
#![no_main]
use duet_protocol::signaling::{
    ClientMessage, ErrorCode, MAX_CANDIDATE_BYTES, MAX_EMAIL_CHARS, MAX_SDP_BYTES, ServerMessage,
    User, validate_room,
};
use duet_protocol::socketio::{Decoder, Packet};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The codes of `error {code}` for rejected input (duet-protocol's `SignalError::code`).
const CODES: [ErrorCode; 6] = [
    ErrorCode::UnknownEvent,
    ErrorCode::BadPayload,
    ErrorCode::BadRoom,
    ErrorCode::BadName,
    ErrorCode::SdpTooLarge,
    ErrorCode::CandidateTooLarge,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(Some(packet)) = Decoder::new().decode_text(text) else {
        return;
    };
    let Some(name) = packet.event_name() else {
        return;
    };
    let args: Vec<Value> = packet.args().first().cloned().into_iter().collect();
    let message = match ClientMessage::from_event(name, &args) {
        Ok(m) => m,
        Err(e) => {
            assert!(CODES.contains(&e.code()), "{e:?}");
            return;
        }
    };
    let relayed = match message {
        ClientMessage::Offer(d) => {
            assert!(d.sdp.len() <= MAX_SDP_BYTES);
            ServerMessage::Offer(d)
        }
        ClientMessage::Answer(d) => {
            assert!(d.sdp.len() <= MAX_SDP_BYTES);
            ServerMessage::Answer(d)
        }
        ClientMessage::Candidate(c) => {
            assert!(c.candidate.len() <= MAX_CANDIDATE_BYTES);
            ServerMessage::Candidate(c)
        }
        ClientMessage::JoinRoom(j) => {
            assert!(validate_room(&j.room).is_ok());
            assert!(j.email.chars().count() <= MAX_EMAIL_CHARS);
            ServerMessage::UserJoined(User {
                id: "sid".into(),
                email: j.email,
                warm_offer: j.warm_offer,
            })
        }
        ClientMessage::LeaveRoom => return,
    };
    let wire = Packet::event(relayed.event_name(), relayed.args()).encode();
    let back = Decoder::new()
        .decode_text(&wire)
        .expect("the server's own encoding decodes")
        .expect("an event is one packet");
    let name = back.event_name().expect("an event has a name");
    assert_eq!(
        ServerMessage::from_event(name, back.args()).as_ref(),
        Ok(&relayed)
    );
});
