//! The fuzzers' seed corpus (protocol/fuzz/seeds/TARGET/), built from the recorded socket.io
//! 2.3.0 fixtures and the malformed corpus, and kept in the repository so a short CI run starts
//! from real traffic instead of from nothing. This test fails when the committed seeds differ
//! from what the fixtures and the corpus give; rebuild them with
//!
//! ```sh
//! DUET_WRITE_FUZZ_SEEDS=1 cargo test -p duet-protocol --test fuzz_seeds
//! ```
//!
//! The regression cases of fuzzing findings are not here: each is an ordinary test next to the
//! code it broke. Native only (the wasm32 test runner has no file system).
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use duet_protocol::engineio::{Frame, Packet as EioPacket, PacketData, PacketType};
use duet_protocol::payload;
use duet_protocol::signaling::{
    ClientMessage, IceCandidate, JoinRoom, SdpType, SessionDescription,
};
use duet_protocol::socketio::Packet as SioPacket;
use duet_testkit::corpus::{Case, corpus};
use serde::Deserialize;
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/socketio-2.3.0.json");
/// Longest seed kept.
const MAX_SEED_BYTES: usize = 16 * 1024;
/// The fuzz targets, each with a seed folder.
const TARGETS: [&str; 6] = [
    "engineio_frame",
    "polling_payload",
    "socketio_packet",
    "client_frames",
    "signaling_event",
    "server_event",
];

#[derive(Deserialize)]
struct Fixture {
    records: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    session: String,
    transport: String,
    direction: String,
    form: String,
    kind: String,
    data: String,
}

impl Record {
    fn bytes(&self) -> Vec<u8> {
        if self.kind == "binary" {
            base64::engine::general_purpose::STANDARD
                .decode(&self.data)
                .expect("binary records are base64")
        } else {
            self.data.clone().into_bytes()
        }
    }
}

/// Seeds by target, each a set of inputs.
type Seeds = BTreeMap<&'static str, Vec<Vec<u8>>>;

/// A Socket.IO event as `[name, args…]` JSON, the signaling_event target's input.
fn event_json(name: &str, args: &[Value]) -> Vec<u8> {
    let mut all = vec![Value::String(name.to_owned())];
    all.extend(args.iter().cloned());
    Value::Array(all).to_string().into_bytes()
}

fn build() -> Seeds {
    let fixture: Fixture = serde_json::from_str(FIXTURE).expect("fixture parses");
    let mut seeds: Seeds = TARGETS.iter().map(|t| (*t, Vec::new())).collect();
    let mut add = |target: &'static str, input: Vec<u8>| {
        seeds.get_mut(target).expect("a known target").push(input);
    };
    // Per WebSocket session, the server's frames in order, for the client state machine (the
    // target splits its input at NUL bytes).
    let mut sessions: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
    let mut attachments: Option<String> = None;
    for r in &fixture.records {
        let bytes = r.bytes();
        if r.form == "payload" {
            // The packets of a server's polling payload, as the frames a client would see.
            if r.direction == "s2c" {
                let packets = if r.kind == "binary" {
                    payload::decode_binary(&bytes)
                } else {
                    payload::decode_text(&r.data)
                };
                let frames = sessions.entry(&r.session).or_default();
                for p in packets.into_iter().flatten() {
                    if !frames.is_empty() {
                        frames.push(0);
                    }
                    match p.encode_frame() {
                        Frame::Text(t) => frames.extend_from_slice(t.as_bytes()),
                        Frame::Binary(b) => frames.extend_from_slice(&b),
                    }
                }
            }
            add("polling_payload", bytes);
            continue;
        }
        add("engineio_frame", bytes.clone());
        if r.transport == "websocket" && r.direction == "s2c" {
            let frames = sessions.entry(&r.session).or_default();
            if !frames.is_empty() {
                frames.push(0);
            }
            frames.extend_from_slice(&bytes);
        }
        let Ok(packet) = (if r.kind == "binary" {
            EioPacket::decode_binary(&bytes)
        } else {
            EioPacket::decode_text(&r.data)
        }) else {
            continue;
        };
        if packet.kind != PacketType::Message {
            continue;
        }
        match &packet.data {
            // An attachment of the binary packet before it: the socketio_packet target takes
            // attachments as the lines after the packet.
            PacketData::Binary(b) => {
                if let Some(head) = attachments.take() {
                    let mut input = head.into_bytes();
                    input.push(b'\n');
                    input.extend_from_slice(b);
                    add("socketio_packet", input);
                }
            }
            _ => {
                let Some(text) = packet.as_text() else {
                    continue;
                };
                add("socketio_packet", text.as_bytes().to_vec());
                if r.direction == "c2s" {
                    add("server_event", text.as_bytes().to_vec());
                }
                if let Ok((sio, _)) = SioPacket::decode(text) {
                    if sio.kind.is_binary() {
                        attachments = Some(text.to_owned());
                    }
                    if let Some(name) = sio.event_name() {
                        add("signaling_event", event_json(name, sio.args()));
                    }
                }
            }
        }
    }
    for frames in sessions.into_values() {
        add("client_frames", frames);
    }
    // Duet's own client events, well formed, as the server receives them.
    let description = |kind| SessionDescription {
        kind,
        sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n".into(),
    };
    for m in [
        ClientMessage::JoinRoom(JoinRoom {
            room: "room-1".into(),
            email: "bo@example.com".into(),
            warm_offer: false,
        }),
        ClientMessage::LeaveRoom,
        ClientMessage::Offer(description(SdpType::Offer)),
        ClientMessage::Answer(description(SdpType::Answer)),
        ClientMessage::Candidate(IceCandidate {
            candidate: "candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host".into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
            username_fragment: None,
        }),
    ] {
        let packet = SioPacket::event(m.event_name(), m.args()).encode();
        add("server_event", packet.into_bytes());
        add("signaling_event", event_json(m.event_name(), &m.args()));
    }
    for case in corpus() {
        match case {
            Case::EioText(t, _) => {
                add("engineio_frame", t.as_bytes().to_vec());
                // Connected, then the bad frame.
                add("client_frames", format!("40\0{t}").into_bytes());
            }
            Case::EioBinary(b, _) => add("engineio_frame", b.to_vec()),
            Case::Sio(t, _) => {
                add("socketio_packet", t.clone().into_bytes());
                add("client_frames", format!("40\04{t}").into_bytes());
                add("server_event", t.into_bytes());
            }
            Case::PayloadText(t, _) => add("polling_payload", t.as_bytes().to_vec()),
            Case::PayloadBinary(b, _) => add("polling_payload", b.to_vec()),
            Case::ClientEvent(name, args, _) => {
                add("signaling_event", event_json(name, &args));
                let packet = SioPacket::event(name, args).encode();
                add("server_event", packet.into_bytes());
            }
            Case::ServerEvent(name, args, _) => add("signaling_event", event_json(name, &args)),
        }
    }
    for inputs in seeds.values_mut() {
        // The corpus's oversized cases (a 100 KB packet, a 70 KB SDP) test limits the unit tests
        // check; as seeds they would only raise libFuzzer's input length and slow every run.
        inputs.retain(|i| i.len() <= MAX_SEED_BYTES);
        inputs.sort();
        inputs.dedup();
    }
    seeds
}

/// A stable file name for an input: FNV-1a, 64 bits, in hex.
fn name(input: &[u8]) -> String {
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds")
}

fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    (name, std::fs::read(e.path()).unwrap_or_default())
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn committed_fuzz_seeds_match_the_fixtures_and_the_malformed_corpus() {
    let seeds = build();
    let write = std::env::var_os("DUET_WRITE_FUZZ_SEEDS").is_some();
    for (target, inputs) in &seeds {
        assert!(inputs.len() >= 10, "{target}: only {} seeds", inputs.len());
        let dir = seeds_dir().join(target);
        let want: BTreeMap<String, Vec<u8>> = inputs.iter().map(|i| (name(i), i.clone())).collect();
        if write {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            for (n, bytes) in &want {
                std::fs::write(dir.join(n), bytes).unwrap();
            }
        }
        assert!(
            read_dir(&dir) == want,
            "{}: the committed seeds differ from the fixtures and the corpus; rebuild with \
             DUET_WRITE_FUZZ_SEEDS=1 cargo test -p duet-protocol --test fuzz_seeds",
            dir.display()
        );
    }
}
