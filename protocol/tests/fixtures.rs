//! Every frame and polling payload recorded from real socket.io 2.3.0 sessions
//! (protocol/vectors/record.js) decodes, and re-encodes byte for byte, at both layers.

use std::collections::{BTreeSet, HashMap};

use base64::Engine as _;
use duet_protocol::engineio::{Frame, Packet as EioPacket, PacketData, PacketType};
use duet_protocol::payload;
use duet_protocol::socketio::{Decoder, Packet as SioPacket, PacketKind};
use serde::Deserialize;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const FIXTURE: &str = include_str!("fixtures/socketio-2.3.0.json");

#[derive(Deserialize)]
struct Fixture {
    recorded_with: HashMap<String, String>,
    records: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    session: String,
    direction: String,
    form: String,
    kind: String,
    data: String,
}

#[derive(Default)]
struct Seen {
    eio: BTreeSet<u8>,
    sio: BTreeSet<u8>,
    forms: BTreeSet<String>,
}

/// Decodes one Engine.IO packet's Socket.IO content (if it is a message) and checks that the
/// Socket.IO packet re-encodes to the same text, and its binary parts survive reconstruction.
fn check_message(packet: &EioPacket, decoder: &mut Decoder, seen: &mut Seen, context: &str) {
    if packet.kind != PacketType::Message {
        return;
    }
    let done = match &packet.data {
        PacketData::Binary(b) => decoder.decode_binary(b),
        _ => decoder.decode_text(packet.as_text().unwrap()),
    }
    .unwrap_or_else(|e| panic!("{context}: socket.io decode failed: {e}"));
    let Some(sio) = done else { return };
    seen.sio.insert(sio.kind as u8);
    if let Some(PacketData::Text(text)) = Some(&packet.data).filter(|_| sio.attachments.is_empty())
    {
        assert_eq!(&sio.encode(), text, "{context}: socket.io re-encode");
    }
    if sio.kind.is_binary() {
        let data = sio.data_with_binary().unwrap().unwrap();
        let duet_protocol::binary::Data::Array(items) = data else {
            panic!("{context}: binary packet data is not an array")
        };
        let (value, attachments) =
            duet_protocol::binary::deconstruct(&duet_protocol::binary::Data::Array(items));
        assert_eq!(
            Some(&value),
            sio.data.as_ref(),
            "{context}: placeholders re-made"
        );
        assert_eq!(
            attachments, sio.attachments,
            "{context}: attachments re-made"
        );
        let rebuilt = SioPacket {
            data: Some(value),
            attachments,
            ..sio.clone()
        };
        assert_eq!(
            rebuilt.encode(),
            sio.encode(),
            "{context}: binary packet re-encode"
        );
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn every_recorded_frame_round_trips_byte_for_byte() {
    let fixture: Fixture = serde_json::from_str(FIXTURE).expect("fixture parses");
    assert_eq!(fixture.recorded_with["socket.io"], "2.3.0");
    assert_eq!(fixture.recorded_with["socket.io-client"], "2.3.0");
    assert!(
        fixture.records.len() >= 80,
        "only {} records",
        fixture.records.len()
    );

    let mut decoders: HashMap<(String, String), Decoder> = HashMap::new();
    let mut seen = Seen::default();
    for (i, r) in fixture.records.iter().enumerate() {
        let context = format!(
            "record {i} ({} {} {} {})",
            r.session, r.direction, r.form, r.kind
        );
        let decoder = decoders
            .entry((r.session.clone(), r.direction.clone()))
            .or_default();
        let bytes = match r.kind.as_str() {
            "binary" => base64::engine::general_purpose::STANDARD
                .decode(&r.data)
                .unwrap(),
            _ => r.data.clone().into_bytes(),
        };
        seen.forms.insert(format!("{}-{}", r.form, r.kind));
        let packets = match (r.form.as_str(), r.kind.as_str()) {
            ("frame", "text") => {
                let p =
                    EioPacket::decode_text(&r.data).unwrap_or_else(|e| panic!("{context}: {e}"));
                assert_eq!(p.encode_frame(), Frame::Text(r.data.clone()), "{context}");
                vec![p]
            }
            ("frame", "binary") => {
                let p =
                    EioPacket::decode_binary(&bytes).unwrap_or_else(|e| panic!("{context}: {e}"));
                assert_eq!(p.encode_frame(), Frame::Binary(bytes.clone()), "{context}");
                vec![p]
            }
            ("payload", "text") => {
                let ps = payload::decode_text(&r.data).unwrap_or_else(|e| panic!("{context}: {e}"));
                assert_eq!(payload::encode_text(&ps), r.data, "{context}");
                ps
            }
            ("payload", "binary") => {
                let ps =
                    payload::decode_binary(&bytes).unwrap_or_else(|e| panic!("{context}: {e}"));
                assert_eq!(payload::encode_binary(&ps), bytes, "{context}");
                ps
            }
            other => panic!("{context}: unknown record form {other:?}"),
        };
        for p in &packets {
            seen.eio.insert(p.kind as u8);
            if p.kind == PacketType::Open {
                let h = p.handshake().unwrap_or_else(|e| panic!("{context}: {e}"));
                assert!(!h.sid.is_empty());
            }
            check_message(p, decoder, &mut seen, &context);
        }
    }
    for d in decoders.values() {
        assert!(!d.is_waiting(), "a binary packet never got its attachments");
    }
    // The recording covers the whole spec, not just our path.
    assert_eq!(seen.eio, (0..=6).collect(), "Engine.IO packet types seen");
    assert_eq!(
        seen.sio,
        [
            PacketKind::Connect,
            PacketKind::Disconnect,
            PacketKind::Event,
            PacketKind::Ack,
            PacketKind::Error,
            PacketKind::BinaryEvent,
            PacketKind::BinaryAck
        ]
        .into_iter()
        .map(|k| k as u8)
        .collect(),
        "Socket.IO packet types seen"
    );
    for form in [
        "frame-text",
        "frame-binary",
        "payload-text",
        "payload-binary",
    ] {
        assert!(seen.forms.contains(form), "no {form} recorded");
    }
}
