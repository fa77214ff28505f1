//! Property tests (native only: proptest needs OS entropy and threads): encode then decode is the
//! identity at every layer, and no decoder panics on arbitrary input.
#![cfg(not(target_arch = "wasm32"))]

use duet_protocol::engineio::{Frame, Packet as EioPacket, PacketData, PacketType};
use duet_protocol::payload;
use duet_protocol::signaling::{ClientMessage, ServerMessage};
use duet_protocol::socketio::{Decoder, Packet as SioPacket, PacketKind};
use proptest::prelude::*;
use serde_json::Value;

fn packet_type() -> impl Strategy<Value = PacketType> {
    (0u8..=6).prop_map(|n| PacketType::from_number(n).unwrap())
}

fn eio_packet() -> impl Strategy<Value = EioPacket> {
    let data = prop_oneof![
        Just(PacketData::None),
        ".+".prop_map(PacketData::Text),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(PacketData::Binary),
    ];
    (packet_type(), data).prop_map(|(kind, data)| EioPacket { kind, data })
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        ".*".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(("[a-z_]{0,6}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn sio_packet() -> impl Strategy<Value = SioPacket> {
    let kind = prop_oneof![
        Just(PacketKind::Connect),
        Just(PacketKind::Disconnect),
        Just(PacketKind::Event),
        Just(PacketKind::Ack),
        Just(PacketKind::Error),
    ];
    let nsp = prop_oneof![Just("/".to_owned()), "/[a-z0-9]{1,8}"];
    (
        kind,
        nsp,
        proptest::option::of(any::<u64>()),
        proptest::collection::vec(json(), 0..4),
    )
        .prop_map(|(kind, nsp, id, args)| {
            let data = match kind {
                PacketKind::Event => {
                    let mut a = vec![Value::String("ev".into())];
                    a.extend(args);
                    Some(Value::Array(a))
                }
                PacketKind::Ack => Some(Value::Array(args)),
                PacketKind::Error => Some(Value::String("refused".into())),
                _ => None,
            };
            SioPacket {
                kind,
                nsp,
                id: matches!(kind, PacketKind::Event | PacketKind::Ack)
                    .then_some(id)
                    .flatten(),
                data,
                attachments: vec![],
            }
        })
}

proptest! {
    #[test]
    fn engineio_frames_round_trip(p in eio_packet()) {
        let decoded = EioPacket::decode_frame(&p.encode_frame()).unwrap();
        // Empty text and no data are the same on the wire.
        let expected = match &p.data {
            PacketData::Text(t) if t.is_empty() => EioPacket::new(p.kind),
            _ => p.clone(),
        };
        prop_assert_eq!(&decoded, &expected);
        prop_assert_eq!(EioPacket::decode_text(&p.encode_text()).unwrap(), expected);
    }

    #[test]
    fn payloads_round_trip(ps in proptest::collection::vec(eio_packet(), 0..8)) {
        let text = payload::encode_text(&ps);
        prop_assert_eq!(payload::decode_text(&text).unwrap(), ps.clone());
        if !ps.is_empty() {
            let bin = payload::encode_binary(&ps);
            prop_assert_eq!(payload::decode_binary(&bin).unwrap(), ps);
        }
    }

    #[test]
    fn socketio_packets_round_trip(p in sio_packet()) {
        let text = p.encode();
        let (decoded, expected) = SioPacket::decode(&text).unwrap();
        prop_assert_eq!(expected, 0);
        prop_assert_eq!(decoded.encode(), text);
        prop_assert_eq!(decoded, p);
    }

    #[test]
    fn binary_events_round_trip(args in proptest::collection::vec(
        prop_oneof![json().prop_map(duet_protocol::binary::Data::from),
                    proptest::collection::vec(any::<u8>(), 0..16).prop_map(duet_protocol::binary::Data::Binary)],
        0..4)) {
        let p = SioPacket::event_with_binary("ev", args.clone());
        let mut d = Decoder::new();
        let mut out = d.decode_text(&p.encode()).unwrap();
        for a in &p.attachments {
            prop_assert!(out.is_none());
            out = d.decode_binary(a).unwrap();
        }
        let got = out.unwrap();
        let mut all = vec![duet_protocol::binary::Data::String("ev".into())];
        all.extend(args);
        prop_assert_eq!(got.data_with_binary().unwrap().unwrap(), duet_protocol::binary::Data::Array(all));
    }

    #[test]
    fn no_decoder_panics_on_arbitrary_text(s in ".*") {
        let _ = EioPacket::decode_text(&s);
        let _ = payload::decode_text(&s);
        let _ = SioPacket::decode(&s);
        let mut d = Decoder::new();
        let _ = d.decode_text(&s);
        if let Ok(Value::Array(args)) = serde_json::from_str::<Value>(&s) {
            let _ = ClientMessage::from_event("offer", &args);
            let _ = ServerMessage::from_event("all_users", &args);
        }
    }

    #[test]
    fn no_decoder_panics_on_arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = EioPacket::decode_binary(&b);
        let _ = EioPacket::decode_frame(&Frame::Binary(b.clone()));
        let _ = payload::decode_binary(&b);
        let mut d = Decoder::new();
        let _ = d.decode_text(r#"51-["x",{"_placeholder":true,"num":0}]"#);
        let _ = d.decode_binary(&b);
    }

    #[test]
    fn no_decoder_panics_on_protocol_shaped_text(
        prefix in "[0-6b]{0,2}[0-9]{0,3}-?(/[a-z]{0,3},)?[0-9]{0,3}",
        body in "[\\[\\]{}\",:0-9a-z_ ]{0,40}",
    ) {
        let s = format!("{prefix}{body}");
        let _ = EioPacket::decode_text(&s);
        let _ = payload::decode_text(&s);
        let mut d = Decoder::new();
        if d.decode_text(&s).is_ok() {
            let _ = d.decode_binary(&[1, 2]);
        }
    }
}
