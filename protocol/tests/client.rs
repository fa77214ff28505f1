//! The sans-IO client under fake time: handshake, namespace connect, heartbeat, buffering,
//! reconnection with socket.io-client 2.x's backoff, and what it does with server disconnects.

use std::time::Duration;

use duet_protocol::Frame;
use duet_protocol::client::{
    ClientConfig, ClientEvent, Command, ConnectError, DisconnectReason, EmitError, EmitStatus,
    ProtocolError, SocketClient,
};
use duet_protocol::signaling::{ClientMessage, JoinRoom};
use serde_json::json;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const HANDSHAKE: &str = r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":5000}"#;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn text(s: &str) -> Frame {
    Frame::Text(s.to_owned())
}

fn commands(c: &mut SocketClient) -> Vec<Command> {
    std::iter::from_fn(|| c.poll_command()).collect()
}

fn events(c: &mut SocketClient) -> Vec<ClientEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn sent(c: &mut SocketClient) -> Vec<String> {
    commands(c)
        .into_iter()
        .filter_map(|cmd| match cmd {
            Command::Send(Frame::Text(t)) => Some(t),
            _ => None,
        })
        .collect()
}

/// Connects a default client at time `t`, asserting each step.
fn connect_at(c: &mut SocketClient, t: Duration) {
    c.connect(t);
    assert_eq!(commands(c), vec![Command::Open]);
    c.handle_open(t);
    c.handle_frame(&text(HANDSHAKE), t);
    assert!(!c.is_connected(), "connected before the namespace CONNECT");
    c.handle_frame(&text("40"), t);
    assert!(c.is_connected());
}

fn connected() -> SocketClient {
    let mut c = SocketClient::new(ClientConfig::default());
    connect_at(&mut c, Duration::ZERO);
    assert_eq!(
        events(&mut c),
        vec![ClientEvent::Connected { sid: "abc".into() }]
    );
    c
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn buffers_emits_until_connected_then_flushes_in_order() {
    let mut c = SocketClient::new(ClientConfig::default());
    let join = ClientMessage::JoinRoom(JoinRoom {
        room: "1234".into(),
        email: "a@b".into(),
        warm_offer: false,
    });
    assert_eq!(c.emit_message(&join), Ok(EmitStatus::Buffered));
    assert_eq!(c.emit("second", vec![json!(2)]), Ok(EmitStatus::Buffered));
    assert_eq!(c.buffered(), 2);
    c.connect(ms(0));
    c.handle_open(ms(0));
    c.handle_frame(&text(HANDSHAKE), ms(0));
    assert_eq!(sent(&mut c), Vec::<String>::new(), "nothing sent before 40");
    c.handle_frame(&text("40"), ms(0));
    assert_eq!(
        sent(&mut c),
        vec![
            r#"42["join_room",{"room":"1234","email":"a@b"}]"#.to_owned(),
            r#"42["second",2]"#.to_owned()
        ]
    );
    assert_eq!(c.buffered(), 0);
    assert_eq!(c.emit("now", vec![]), Ok(EmitStatus::Sent));
    assert_eq!(sent(&mut c), vec![r#"42["now"]"#.to_owned()]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_buffer_is_bounded() {
    let mut c = SocketClient::new(ClientConfig {
        max_buffered: 2,
        ..ClientConfig::default()
    });
    assert!(c.emit("a", vec![]).is_ok());
    assert!(c.emit("b", vec![]).is_ok());
    assert_eq!(c.emit("c", vec![]), Err(EmitError::BufferFull(2)));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn pings_every_interval_and_each_pong_schedules_the_next() {
    let mut c = connected();
    assert_eq!(c.poll_timeout(), Some(ms(25_000)));
    c.handle_timeout(ms(24_999));
    assert_eq!(sent(&mut c), Vec::<String>::new());
    c.handle_timeout(ms(25_000));
    assert_eq!(sent(&mut c), vec!["2".to_owned()]);
    // Waiting for the pong: the deadline is now pingTimeout away.
    assert_eq!(c.poll_timeout(), Some(ms(30_000)));
    c.handle_frame(&text("3"), ms(25_010));
    assert_eq!(c.poll_timeout(), Some(ms(50_010)));
    c.handle_timeout(ms(50_010));
    assert_eq!(sent(&mut c), vec!["2".to_owned()]);
    assert!(c.is_connected());
    assert_eq!(events(&mut c), vec![]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_missing_pong_is_a_dead_connection_and_reconnects_with_backoff() {
    let mut c = connected();
    c.handle_timeout(ms(25_000));
    assert_eq!(sent(&mut c), vec!["2".to_owned()]);
    c.handle_timeout(ms(29_999));
    assert!(c.is_connected());
    c.handle_timeout(ms(30_000));
    assert!(!c.is_connected());
    assert_eq!(commands(&mut c), vec![Command::Close]);
    let evs = events(&mut c);
    assert_eq!(
        evs[0],
        ClientEvent::Disconnected(DisconnectReason::PingTimeout)
    );
    let ClientEvent::Reconnecting { attempt: 1, delay } = evs[1] else {
        panic!("{evs:?}")
    };
    assert!((ms(500)..=ms(1500)).contains(&delay), "{delay:?}");
    // Emits while down are buffered, then sent after the reconnect.
    assert_eq!(c.emit("later", vec![]), Ok(EmitStatus::Buffered));
    let retry_at = ms(30_000) + delay;
    assert_eq!(c.poll_timeout(), Some(retry_at));
    c.handle_timeout(retry_at - ms(1));
    assert_eq!(commands(&mut c), vec![]);
    connect_at(&mut c, retry_at);
    assert_eq!(
        events(&mut c),
        vec![ClientEvent::Connected { sid: "abc".into() }]
    );
    assert_eq!(sent(&mut c), vec![r#"42["later"]"#.to_owned()]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn any_packet_from_the_server_pushes_the_deadline() {
    let mut c = connected();
    // No ping answered yet, but events keep arriving: the connection is alive.
    c.handle_frame(&text(r#"42["tick"]"#), ms(20_000));
    c.handle_timeout(ms(25_000));
    assert_eq!(sent(&mut c), vec!["2".to_owned()]);
    c.handle_frame(&text(r#"42["tick"]"#), ms(29_000));
    c.handle_timeout(ms(30_000));
    assert!(c.is_connected(), "deadline moved to 29 s + 30 s");
    c.handle_timeout(ms(59_000));
    assert!(!c.is_connected());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn failed_attempts_back_off_up_to_five_seconds_and_reset_on_success() {
    let mut c = SocketClient::new(ClientConfig {
        randomization_factor: 0.0,
        ..ClientConfig::default()
    });
    let mut now = ms(0);
    c.connect(now);
    let mut delays = Vec::new();
    for _ in 0..5 {
        assert_eq!(commands(&mut c), vec![Command::Open]);
        c.handle_close(now); // The WebSocket failed to open.
        let evs = events(&mut c);
        assert_eq!(
            evs[0],
            ClientEvent::ConnectError(ConnectError::TransportClose)
        );
        let ClientEvent::Reconnecting { delay, .. } = evs[1] else {
            panic!("{evs:?}")
        };
        delays.push(delay.as_millis());
        now += delay;
        c.handle_timeout(now);
    }
    assert_eq!(delays, vec![1000, 2000, 4000, 5000, 5000]);
    assert_eq!(commands(&mut c), vec![Command::Open]);
    c.handle_frame(&text(HANDSHAKE), now);
    c.handle_frame(&text("40"), now);
    assert!(c.is_connected());
    events(&mut c);
    c.handle_close(now);
    let evs = events(&mut c);
    assert_eq!(
        evs,
        vec![
            ClientEvent::Disconnected(DisconnectReason::TransportClose),
            ClientEvent::Reconnecting {
                attempt: 1,
                delay: ms(1000)
            }
        ]
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_connection_that_never_completes_times_out() {
    let mut c = SocketClient::new(ClientConfig::default());
    c.connect(ms(0));
    commands(&mut c);
    c.handle_open(ms(5));
    assert_eq!(c.poll_timeout(), Some(ms(20_000)));
    c.handle_timeout(ms(20_000));
    assert_eq!(commands(&mut c), vec![Command::Close]);
    let evs = events(&mut c);
    assert_eq!(evs[0], ClientEvent::ConnectError(ConnectError::Timeout));
    assert!(matches!(
        evs[1],
        ClientEvent::Reconnecting { attempt: 1, .. }
    ));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_bad_handshake_is_a_connect_error() {
    let mut c = SocketClient::new(ClientConfig::default());
    c.connect(ms(0));
    commands(&mut c);
    c.handle_frame(&text(r#"0{"sid":5}"#), ms(1));
    assert_eq!(commands(&mut c), vec![Command::Close]);
    assert!(matches!(
        events(&mut c)[0],
        ClientEvent::ConnectError(ConnectError::Handshake(_))
    ));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn server_disconnect_is_final_but_transport_close_retries() {
    let mut c = connected();
    c.handle_frame(&text("41"), ms(10));
    assert_eq!(commands(&mut c), vec![Command::Close]);
    assert_eq!(
        events(&mut c),
        vec![ClientEvent::Disconnected(
            DisconnectReason::ServerDisconnect
        )]
    );
    assert_eq!(c.poll_timeout(), None, "no retry after a server disconnect");

    let mut c = connected();
    c.handle_frame(&text("1"), ms(10)); // Engine.IO close packet.
    assert_eq!(commands(&mut c), vec![Command::Close]);
    let evs = events(&mut c);
    assert_eq!(
        evs[0],
        ClientEvent::Disconnected(DisconnectReason::TransportClose)
    );
    assert!(matches!(evs[1], ClientEvent::Reconnecting { .. }));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn client_disconnect_says_goodbye_and_stops() {
    let mut c = connected();
    assert_eq!(c.emit("x", vec![]), Ok(EmitStatus::Sent));
    commands(&mut c);
    c.disconnect();
    assert_eq!(
        commands(&mut c),
        vec![Command::Send(text("41")), Command::Close]
    );
    assert_eq!(
        events(&mut c),
        vec![ClientEvent::Disconnected(
            DisconnectReason::ClientDisconnect
        )]
    );
    assert_eq!(c.poll_timeout(), None);
    // A late close from the old socket changes nothing.
    c.handle_close(ms(1));
    assert_eq!(events(&mut c), vec![]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn connects_a_namespace_with_a_query() {
    let mut c = SocketClient::new(ClientConfig {
        namespace: "/admin".into(),
        query: Some("token=abc".into()),
        ..ClientConfig::default()
    });
    c.connect(ms(0));
    commands(&mut c);
    c.handle_frame(&text(HANDSHAKE), ms(0));
    assert_eq!(sent(&mut c), vec!["40/admin?token=abc,".to_owned()]);
    // The root namespace's automatic 40 is not ours.
    c.handle_frame(&text("40"), ms(0));
    assert!(!c.is_connected());
    c.handle_frame(&text("40/admin,"), ms(0));
    assert!(c.is_connected());
    c.emit("hello", vec![]).unwrap();
    assert!(c.emit_with_ack("q", vec![json!(1)]).is_ok());
    assert_eq!(
        sent(&mut c),
        vec![
            r#"42/admin,["hello"]"#.to_owned(),
            r#"42/admin,0["q",1]"#.to_owned()
        ]
    );
    events(&mut c);
    c.handle_frame(&text(r#"43/admin,0["ok"]"#), ms(1));
    assert_eq!(
        events(&mut c),
        vec![ClientEvent::Ack {
            id: 0,
            args: vec![json!("ok")]
        }]
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_refused_namespace_is_not_retried() {
    let mut c = SocketClient::new(ClientConfig {
        namespace: "/nope".into(),
        ..ClientConfig::default()
    });
    c.connect(ms(0));
    commands(&mut c);
    c.handle_frame(&text(HANDSHAKE), ms(0));
    commands(&mut c);
    c.handle_frame(&text(r#"44/nope,"Invalid namespace""#), ms(1));
    assert_eq!(commands(&mut c), vec![Command::Close]);
    assert_eq!(
        events(&mut c),
        vec![ClientEvent::ConnectError(ConnectError::Refused(json!(
            "Invalid namespace"
        )))]
    );
    assert_eq!(c.poll_timeout(), None);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn an_error_packet_on_a_connected_socket_is_reported_and_the_connection_kept() {
    // Found by the hostile-server e2e scenario: `44` mid-call ended the page's call.
    let mut c = connected();
    for (i, frame) in ["44", r#"44"boom""#, r#"44{"message":"x"}"#]
        .into_iter()
        .enumerate()
    {
        c.handle_frame(&text(frame), ms(1 + i as u64));
    }
    assert_eq!(commands(&mut c), vec![]);
    assert_eq!(
        events(&mut c),
        vec![
            ClientEvent::ProtocolError(ProtocolError::ErrorPacket(String::new())),
            ClientEvent::ProtocolError(ProtocolError::ErrorPacket(r#""boom""#.to_owned())),
            ClientEvent::ProtocolError(ProtocolError::ErrorPacket(r#"{"message":"x"}"#.to_owned())),
        ]
    );
    assert!(c.is_connected());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn receives_events_binary_events_and_ack_requests() {
    let mut c = connected();
    c.handle_frame(
        &text(r#"42["getOffer",{"type":"offer","sdp":"v=0"}]"#),
        ms(1),
    );
    c.handle_frame(
        &text(r#"451-["file",{"_placeholder":true,"num":0}]"#),
        ms(1),
    );
    assert_eq!(
        events(&mut c).len(),
        1,
        "binary event waits for its attachment"
    );
    c.handle_frame(&Frame::Binary(vec![4, 9, 9]), ms(1));
    c.handle_frame(&text(r#"427["question"]"#), ms(1));
    let evs = events(&mut c);
    assert_eq!(
        evs,
        vec![
            ClientEvent::Event {
                name: "file".into(),
                args: vec![json!({"_placeholder": true, "num": 0})],
                attachments: vec![vec![9, 9]],
                ack: None
            },
            ClientEvent::Event {
                name: "question".into(),
                args: vec![],
                attachments: vec![],
                ack: Some(7)
            }
        ]
    );
    c.ack(7, vec![json!("yes")]);
    assert_eq!(sent(&mut c), vec![r#"437["yes"]"#.to_owned()]);
}
