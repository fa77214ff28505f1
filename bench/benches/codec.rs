//! Codec benchmarks for the frames a call actually sends: an SDP offer of realistic size, ICE
//! candidates, heartbeat pings; encode (typed message → WebSocket frame) and decode (frame → typed
//! message), plus the client state machine's full receive path.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use duet_bench::payloads::{chrome_like_offer, host_candidate};
use duet_protocol::Frame;
use duet_protocol::client::{ClientConfig, SocketClient};
use duet_protocol::engineio::{Packet as EioPacket, PacketType};
use duet_protocol::signaling::{ClientMessage, ServerMessage};
use duet_protocol::socketio::{Decoder, Packet as SioPacket};

fn encode(msg: &ClientMessage) -> Frame {
    let sio = SioPacket::event(msg.event_name(), msg.args());
    EioPacket::message(sio.encode()).encode_frame()
}

fn decode(frame: &Frame) -> ServerMessage {
    let eio = EioPacket::decode_frame(frame).unwrap();
    let sio = Decoder::new()
        .decode_text(eio.as_text().unwrap())
        .unwrap()
        .unwrap();
    ServerMessage::from_event(sio.event_name().unwrap(), sio.args()).unwrap()
}

fn relayed(msg: &ClientMessage) -> Frame {
    let name = match msg {
        ClientMessage::Offer(_) => "getOffer",
        ClientMessage::Answer(_) => "getAnswer",
        _ => "getCandidate",
    };
    EioPacket::message(SioPacket::event(name, msg.args()).encode()).encode_frame()
}

fn bench(c: &mut Criterion) {
    let offer = ClientMessage::Offer(chrome_like_offer());
    let candidate = ClientMessage::Candidate(host_candidate(1));
    for (name, msg) in [("offer", &offer), ("candidate", &candidate)] {
        let frame = relayed(msg);
        let len = match &frame {
            Frame::Text(t) => t.len(),
            Frame::Binary(b) => b.len(),
        };
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function("encode", |b| b.iter(|| encode(black_box(msg))));
        g.bench_function("decode", |b| b.iter(|| decode(black_box(&frame))));
        g.finish();
    }

    let mut g = c.benchmark_group("ping");
    let ping = Frame::Text("2".into());
    g.bench_function("encode", |b| {
        b.iter(|| EioPacket::new(black_box(PacketType::Ping)).encode_frame())
    });
    g.bench_function("decode", |b| {
        b.iter(|| EioPacket::decode_frame(black_box(&ping)).unwrap())
    });
    g.finish();

    let mut client = SocketClient::new(ClientConfig::default());
    client.connect(Duration::ZERO);
    client.handle_frame(
        &Frame::Text(
            r#"0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":5000}"#.into(),
        ),
        Duration::ZERO,
    );
    client.handle_frame(&Frame::Text("40".into()), Duration::ZERO);
    while client.poll_event().is_some() {}
    let frame = relayed(&candidate);
    let mut g = c.benchmark_group("client");
    g.bench_function("receive_candidate", |b| {
        b.iter(|| {
            client.handle_frame(black_box(&frame), Duration::from_millis(1));
            black_box(client.poll_event())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
