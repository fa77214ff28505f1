//! The signaling protocol against a real server on an ephemeral port, with duet-protocol's
//! client over tokio-tungstenite as the peers.

mod common;

use std::time::{Duration, Instant};

use common::{Peer, WAIT, candidate, next_text, raw_ws, sdp, start};
use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio::sync::oneshot::error::TryRecvError;
use tokio_tungstenite::tungstenite::Message;

/// A full call's signaling between two fresh peers in `room`, as the seed client does it.
async fn call_flow(server: &duet_server::RunningServer, room: &str) {
    let mut a = Peer::connect(server, "a").await;
    let mut b = Peer::connect(server, "b").await;
    assert!(a.join_expect_users(room).await.is_empty());
    assert_eq!(b.join_expect_users(room).await, vec![a.id()]);
    // Duet's addition: the one who was there first learns who joined; the joiner gets none.
    assert_eq!(
        a.expect_joined().await,
        json!({"id": b.id(), "email": "b@example.com"})
    );
    Peer::exchange_offer_answer_candidates(&mut b, &mut a).await;
    let a_id = a.id();
    a.close().await;
    assert_eq!(b.expect("user_exit").await, json!({"id": a_id}));
    b.expect_nothing_pending().await;
    assert!(b.no_joined_pending(), "the joiner is not told of itself");
}

/// Duet's `warmOffer` capability: the joiner's flag reaches the member already in the room in
/// `user_joined`, so that member may offer at once, and a later joiner reads each member's flag
/// in `all_users`, so it waits for that offer instead of making its own. Absent means false,
/// as from the seed's client, whose `all_users` stays byte for byte the seed's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_warm_offer_capability_reaches_the_other_member() {
    let server = start(&[]).await;
    let mut a = Peer::connect(&server, "a").await;
    let mut b = Peer::connect(&server, "b").await;
    assert!(a.join_expect_users("warm").await.is_empty());
    b.emit(
        "join_room",
        vec![json!({"room": "warm", "email": "b", "warmOffer": true})],
    )
    .await;
    assert_eq!(
        b.expect("all_users").await,
        json!([{"id": a.id(), "email": "a@example.com"}])
    );
    assert_eq!(
        a.expect_joined().await,
        json!({"id": b.id(), "email": "b", "warmOffer": true})
    );
    // a leaves; c (without the capability) finds b, with b's flag. b hearing a's exit is what
    // says the server has handled the leave: c's join on its own connection could otherwise be
    // handled first and find the room full.
    a.emit("leave_room", vec![]).await;
    assert_eq!(b.expect("user_exit").await, json!({"id": a.id()}));
    let mut c = Peer::connect(&server, "c").await;
    assert_eq!(
        c.join_expect_users_raw("warm").await,
        json!([{"id": b.id(), "email": "b", "warmOffer": true}])
    );
    assert_eq!(
        b.expect_joined().await,
        json!({"id": c.id(), "email": "c@example.com"})
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_lists_the_others_and_a_call_flows() {
    let server = start(&[]).await;
    call_flow(&server, "room-1").await;
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_stay_inside_the_room_with_two_rooms_in_parallel() {
    let server = start(&[]).await;
    let mut peers = Vec::new();
    for name in ["a1", "b1", "a2", "b2"] {
        peers.push(Peer::connect(&server, name).await);
    }
    let [mut a1, mut b1, mut a2, mut b2] = <[Peer; 4]>::try_from(peers).ok().unwrap();
    a1.join_expect_users("one").await;
    a2.join_expect_users("two").await;
    b1.join_expect_users("one").await;
    b2.join_expect_users("two").await;
    // Both rooms signal at once, with distinguishable payloads.
    b1.emit("offer", vec![sdp("offer", "room-one")]).await;
    b2.emit("offer", vec![sdp("offer", "room-two")]).await;
    a1.emit("candidate", vec![candidate("one")]).await;
    a2.emit("candidate", vec![candidate("two")]).await;
    assert_eq!(a1.expect("getOffer").await, sdp("offer", "room-one"));
    assert_eq!(a2.expect("getOffer").await, sdp("offer", "room-two"));
    assert_eq!(b1.expect("getCandidate").await, candidate("one"));
    assert_eq!(b2.expect("getCandidate").await, candidate("two"));
    // Every relay above has been delivered (each was seen by its addressee, and a relay reaches
    // all its recipients in one step): anything that crossed rooms would be queued by now.
    for p in [&mut a1, &mut b1, &mut a2, &mut b2] {
        p.expect_nothing_pending().await;
    }
    // The sender never hears its own relay, and nobody before joining hears anything.
    let mut lurker = Peer::connect(&server, "lurker").await;
    b1.emit("answer", vec![sdp("answer", "x")]).await;
    a1.expect("getAnswer").await;
    lurker.expect_nothing_pending().await;
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_before_join_are_refused() {
    let server = start(&[]).await;
    let mut a = Peer::connect(&server, "a").await;
    a.emit("offer", vec![sdp("offer", "1")]).await;
    assert_eq!(a.expect("error").await["code"], "not_in_room");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn third_joiner_gets_room_full_and_capacity_is_configurable() {
    let server = start(&[]).await;
    let mut a = Peer::connect(&server, "a").await;
    let mut b = Peer::connect(&server, "b").await;
    let mut c = Peer::connect(&server, "c").await;
    a.join_expect_users("r").await;
    b.join_expect_users("r").await;
    c.join("r").await;
    let (name, args) = c.next_event().await;
    assert_eq!(
        (name.as_str(), args.len()),
        ("room_full", 0),
        "no arguments, as the seed"
    );
    // The refused joiner is in no room: its relays go nowhere.
    c.emit("offer", vec![sdp("offer", "c")]).await;
    assert_eq!(c.expect("error").await["code"], "not_in_room");
    a.expect_nothing_pending().await;
    b.expect_nothing_pending().await;
    server.shutdown().await.unwrap();

    let server = start(&["--room-capacity", "3"]).await;
    let (mut ids, mut seated) = (Vec::new(), Vec::new());
    for name in ["a", "b", "c"] {
        let mut p = Peer::connect(&server, name).await;
        assert_eq!(p.join_expect_users("r").await, ids);
        ids.push(p.id());
        seated.push(p); // keeps the seat for the rest of the test
    }
    let mut d = Peer::connect(&server, "d").await;
    d.join("r").await;
    d.expect("room_full").await;
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_exit_on_close_and_on_leave_then_rejoin() {
    let server = start(&[]).await;
    let (mut a, mut b) = Peer::pair_in_room(&server, "r").await;
    // Duet's leave_room: hang up, keep the socket.
    b.emit("leave_room", vec![]).await;
    assert_eq!(a.expect("user_exit").await, json!({"id": b.id()}));
    assert_eq!(server.rooms().member_count(), 1);
    // Rejoin after exit gets the seat back.
    assert_eq!(b.join_expect_users("r").await, vec![a.id()]);
    // Joining another room leaves this one, telling it.
    let _ = b.join_expect_users("elsewhere").await;
    assert_eq!(a.expect("user_exit").await, json!({"id": b.id()}));
    // Closing the page.
    let a_id = a.id();
    assert_eq!(b.join_expect_users("r").await, vec![a_id.clone()]);
    a.close().await;
    assert_eq!(b.expect("user_exit").await, json!({"id": a_id}));
    let mut c = Peer::connect(&server, "c").await;
    assert_eq!(c.join_expect_users("r").await, vec![b.id()]);
    // Empty rooms are forgotten.
    b.close().await;
    c.expect("user_exit").await;
    c.emit("leave_room", vec![]).await;
    c.expect_nothing_pending().await;
    assert_eq!(server.rooms().room_count(), 0);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_joins_admit_exactly_the_capacity() {
    let server = start(&["--relay-burst", "100000"]).await;
    let mut peers = Vec::new();
    for i in 0..5 {
        peers.push(Peer::connect(&server, &format!("p{i}")).await);
    }
    let mut seated = Peer::connect(&server, "seated").await;
    for trial in 0..100 {
        // Odd trials: one seat left (one member already there). Even: an empty room of two.
        let room = format!("race-{trial}");
        let expected = if trial % 2 == 1 {
            seated.join_expect_users(&room).await;
            1
        } else {
            2
        };
        for p in peers.iter_mut() {
            p.join(&room).await;
        }
        let mut admitted = 0;
        for p in peers.iter_mut() {
            loop {
                match p.next_event().await.0.as_str() {
                    "all_users" => admitted += 1,
                    "room_full" => {}
                    // From a peer moving out of the previous trial's room.
                    "user_exit" => continue,
                    other => panic!("unexpected {other}"),
                }
                break;
            }
        }
        assert_eq!(admitted, expected, "trial {trial}");
        // Drain the user_exit the moves caused, so the next trial starts clean.
        for p in peers.iter_mut().chain(std::iter::once(&mut seated)) {
            p.settle().await;
        }
    }
    server.shutdown().await.unwrap();
}

/// Frames a broken or hostile client might send, each on its own connection. `Some(code)`: the
/// server must answer with an `error` event of that code; `None`: anything goes (ignore, close)
/// except disturbing others.
fn malformed_corpus() -> Vec<(&'static str, Message, Option<&'static str>)> {
    let t = |s: &str| Message::text(s.to_owned());
    let deep = format!("42[\"offer\",{}{}]", "[".repeat(5000), "]".repeat(5000));
    vec![
        // Engine.IO level.
        ("empty frame", t(""), None),
        ("unknown eio type", t("9"), None),
        ("letter type", t("x"), None),
        ("empty message", t("4"), None),
        ("client open", t("0"), None),
        ("stray upgrade", t("5"), None),
        ("noop", t("6"), None),
        ("bad base64", t("b4!!!"), None),
        (
            "binary garbage",
            Message::binary(vec![0xff, 0x00, 0x13]),
            None,
        ),
        ("empty binary", Message::binary(Vec::<u8>::new()), None),
        (
            "binary message without a binary event",
            Message::binary(vec![4, 1, 2, 3]),
            None,
        ),
        (
            "invalid utf-8 in binary",
            Message::binary(vec![4, 0xc3, 0x28]),
            None,
        ),
        // Socket.IO level.
        ("unknown sio type", t("49"), None),
        ("letter sio type", t("4x"), None),
        ("event without data", t("42"), None),
        ("unterminated json", t("42["), None),
        ("object instead of array", t("42{}"), None),
        ("empty array", t("42[]"), None),
        ("numeric event name", t("42[1]"), None),
        ("null event name", t("42[null]"), None),
        ("half an event", t("42[\"join_room\""), None),
        (
            "binary event never completed",
            t("451-[\"offer\",{\"_placeholder\":true,\"num\":0}]"),
            None,
        ),
        ("bad attachment count", t("45x-[\"offer\"]"), None),
        ("huge attachment count", t("4599999999-[\"offer\"]"), None),
        ("unknown namespace", t("40/nope,"), None),
        (
            "event to unknown namespace",
            t("42/nope,[\"offer\",{}]"),
            None,
        ),
        ("ack without id", t("43"), None),
        ("ack for nothing", t("437[]"), None),
        ("error packet from client", t("44\"boom\""), None),
        ("deeply nested json", t(&deep), None),
        // Valid frames, invalid signaling.
        (
            "join_room with a number",
            t("42[\"join_room\",42]"),
            Some("bad_payload"),
        ),
        (
            "join_room without payload",
            t("42[\"join_room\"]"),
            Some("bad_payload"),
        ),
        (
            "join_room room not a string",
            t("42[\"join_room\",{\"room\":1}]"),
            Some("bad_payload"),
        ),
        (
            "empty room",
            t("42[\"join_room\",{\"room\":\"\"}]"),
            Some("bad_room"),
        ),
        (
            "path in room",
            t("42[\"join_room\",{\"room\":\"../etc\"}]"),
            Some("bad_room"),
        ),
        (
            "room too long",
            t(&format!(
                "42[\"join_room\",{{\"room\":\"{}\"}}]",
                "r".repeat(65)
            )),
            Some("bad_room"),
        ),
        (
            "email too long",
            t(&format!(
                "42[\"join_room\",{{\"room\":\"r\",\"email\":\"{}\"}}]",
                "e".repeat(255)
            )),
            Some("bad_name"),
        ),
        (
            "offer as a string",
            t("42[\"offer\",\"v=0\"]"),
            Some("bad_payload"),
        ),
        (
            "offer with a bogus type",
            t("42[\"offer\",{\"type\":\"bogus\",\"sdp\":\"\"}]"),
            Some("bad_payload"),
        ),
        (
            "candidate with a string index",
            t("42[\"candidate\",{\"candidate\":\"c\",\"sdpMLineIndex\":\"x\"}]"),
            Some("bad_payload"),
        ),
        (
            "unknown event",
            t("42[\"hello\",{}]"),
            Some("unknown_event"),
        ),
        (
            "reserved event name",
            t("42[\"disconnect\"]"),
            Some("unknown_event"),
        ),
        (
            "offer before join",
            t("42[\"offer\",{\"type\":\"offer\",\"sdp\":\"v=0\"}]"),
            Some("not_in_room"),
        ),
        (
            "oversized sdp",
            t(&format!(
                "42[\"offer\",{{\"type\":\"offer\",\"sdp\":\"{}\"}}]",
                "a".repeat(70_000)
            )),
            Some("sdp_too_large"),
        ),
        (
            "oversized candidate",
            t(&format!(
                "42[\"candidate\",{{\"candidate\":\"{}\"}}]",
                "c".repeat(3000)
            )),
            Some("candidate_too_large"),
        ),
        // Over the Engine.IO max payload (1 MB by default).
        (
            "oversized frame",
            t(&format!("42[\"offer\",\"{}\"]", "x".repeat(1_100_000))),
            None,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_never_disturbs_a_call_in_another_room() {
    let server = start(&["--relay-burst", "1000"]).await;
    // A call in progress while the garbage arrives.
    let (mut a, mut b) = Peer::pair_in_room(&server, "healthy").await;

    for (label, frame, expected) in malformed_corpus() {
        let mut ws = raw_ws(&server).await;
        // The server may close while a frame it refuses is still being written (the oversized
        // one): a failed send is an acceptable outcome for the cases that expect no answer.
        let sent = ws.send(frame).await;
        if let Err(e) = &sent {
            assert!(expected.is_none(), "{label}: send failed: {e}");
            println!("{label}: closed while sending");
        }
        match expected {
            Some(code) => {
                let reply = next_text(&mut ws)
                    .await
                    .unwrap_or_else(|| panic!("{label}: closed instead of an error event"));
                let v: Value = serde_json::from_str(reply.strip_prefix("42").unwrap_or("null"))
                    .unwrap_or(Value::Null);
                assert_eq!(v[0], "error", "{label}: {reply}");
                assert_eq!(v[1]["code"], code, "{label}: {reply}");
            }
            None if sent.is_err() => {}
            None => {
                // Either the server dropped the connection, or it still answers a ping.
                let _ = ws.send(Message::text("2")).await;
                let outcome = loop {
                    match next_text(&mut ws).await {
                        None => break "closed".to_owned(),
                        Some(t) if t == "3" => break "still open".to_owned(),
                        Some(t) => println!("{label}: got {t:.80}"),
                    }
                };
                println!("{label}: {outcome}");
            }
        }
        // The call in the other room is unaffected, at every step.
        b.emit("candidate", vec![candidate(label)]).await;
        assert_eq!(
            a.expect("getCandidate").await,
            candidate(label),
            "after {label}"
        );
    }
    a.expect_nothing_pending().await;
    // And a new call still works from scratch.
    call_flow(&server, "after-garbage").await;
    let metrics = server.metrics();
    assert!(metrics.rejections("bad_payload") >= 6);
    assert!(metrics.rejections("bad_room") >= 3);
    server.shutdown().await.unwrap();
}

/// Every case of duet-protocol's malformed-input corpus, sent raw to the server: WebSocket frames
/// on their own connection, polling payloads as POST bodies of their own session, signaling
/// events as valid frames (answered with the `error` code the codec gives). A call in another
/// room keeps working throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_corpus_sent_raw_never_disturbs_another_room() {
    use duet_protocol::signaling::ClientMessage;
    use duet_testkit::corpus::{self, Case};
    let server = start(&["--relay-burst", "100000"]).await;
    let (mut a, mut b) = Peer::pair_in_room(&server, "healthy").await;
    let http = common::http_client(None);

    let mut checked = 0;
    for (i, case) in corpus::corpus().into_iter().enumerate() {
        let raw = match &case {
            Case::EioText(t, _) => Some(Message::text(*t)),
            Case::EioBinary(bytes, _) => Some(Message::binary(bytes.to_vec())),
            Case::Sio(t, _) => Some(Message::text(format!("4{t}"))),
            Case::PayloadText(..) | Case::PayloadBinary(..) => None,
            Case::ClientEvent(name, args, _) | Case::ServerEvent(name, args, _) => {
                let mut event = vec![Value::from(*name)];
                event.extend(args.iter().cloned());
                Some(Message::text(format!("42{}", Value::Array(event))))
            }
        };
        let expected_code = match &case {
            Case::ClientEvent(name, args, _) | Case::ServerEvent(name, args, _) => {
                Some(ClientMessage::from_event(name, args).unwrap_err().code())
            }
            _ => None,
        };
        match (raw, &case) {
            (Some(frame), _) => {
                let mut ws = raw_ws(&server).await;
                let sent = ws.send(frame).await;
                if sent.is_err() {
                    // Refused while writing: only acceptable when no answer is expected.
                    assert!(expected_code.is_none(), "case {i}: send failed");
                } else if let Some(code) = expected_code {
                    let reply = next_text(&mut ws)
                        .await
                        .unwrap_or_else(|| panic!("case {i}: closed instead of an error"));
                    let v: Value = serde_json::from_str(reply.strip_prefix("42").unwrap_or("null"))
                        .unwrap_or(Value::Null);
                    assert_eq!(
                        (&v[0], &v[1]["code"]),
                        (&json!("error"), &json!(code)),
                        "case {i}"
                    );
                } else {
                    let _ = ws.send(Message::text("2")).await;
                    while let Some(t) = next_text(&mut ws).await {
                        if t == "3" {
                            break;
                        }
                    }
                }
            }
            (None, case) => {
                let (url, _) = common::polling_session(&server.base_url()).await;
                let req = match case {
                    Case::PayloadText(t, _) => http
                        .post(&url)
                        .header("content-type", "text/plain;charset=UTF-8")
                        .body(t.to_string()),
                    Case::PayloadBinary(bytes, _) => http
                        .post(&url)
                        .header("content-type", "application/octet-stream")
                        .body(bytes.to_vec()),
                    _ => unreachable!(),
                };
                let status = req.send().await.unwrap().status();
                assert!(!status.is_server_error(), "case {i}: {status}");
            }
        }
        let tag = format!("corpus-{i}");
        b.emit("candidate", vec![candidate(&tag)]).await;
        assert_eq!(
            a.expect("getCandidate").await,
            candidate(&tag),
            "after case {i}"
        );
        checked += 1;
    }
    assert_eq!(checked, corpus::corpus().len());
    a.expect_nothing_pending().await;
    call_flow(&server, "after-corpus").await;
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relayed_events_are_rate_limited_per_connection() {
    // Five events at once, then (practically) nothing: refill is one per 1000 s.
    let server = start(&["--relay-burst", "5", "--relay-rate", "0.001"]).await;
    let mut a = Peer::connect(&server, "a").await;
    let mut b = Peer::connect(&server, "b").await;
    a.join_expect_users("r").await; // 1 token
    b.join_expect_users("r").await;
    for i in 0..10 {
        a.emit("candidate", vec![candidate(&i.to_string())]).await;
    }
    // Four candidates fit in the remaining burst; six are refused, each with an error.
    for _ in 0..6 {
        assert_eq!(a.expect("error").await["code"], "rate_limited");
    }
    for i in 0..4 {
        assert_eq!(b.expect("getCandidate").await, candidate(&i.to_string()));
    }
    b.expect_nothing_pending().await;
    // Another connection has its own budget.
    let mut c = Peer::connect(&server, "c").await;
    let mut d = Peer::connect(&server, "d").await;
    c.join_expect_users("r2").await;
    d.join_expect_users("r2").await;
    c.emit("offer", vec![sdp("offer", "c")]).await;
    d.expect("getOffer").await;
    assert_eq!(server.metrics().rejections("rate_limited"), 6);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_limits_drop_the_offender_only() {
    let server = start(&["--max-payload", "200000"]).await;
    let (mut a, mut b) = Peer::pair_in_room(&server, "r").await;
    // A 64 KiB SDP is the largest allowed and is relayed intact.
    let big = json!({"type": "offer", "sdp": "a".repeat(64 * 1024)});
    a.emit("offer", vec![big.clone()]).await;
    assert_eq!(b.expect("getOffer").await, big);
    // One byte more is refused with an error, not relayed.
    let too_big = json!({"type": "offer", "sdp": "a".repeat(64 * 1024 + 1)});
    a.emit("offer", vec![too_big]).await;
    assert_eq!(a.expect("error").await["code"], "sdp_too_large");
    // A message over the Engine.IO max payload closes that connection only.
    let mut offender = Peer::connect(&server, "offender").await;
    offender
        .emit("offer", vec![json!("x".repeat(250_000))])
        .await;
    offender.expect_closed().await;
    b.expect_nothing_pending().await;
    a.emit("answer", vec![sdp("answer", "still")]).await;
    assert_eq!(b.expect("getAnswer").await, sdp("answer", "still"));
    server.shutdown().await.unwrap();
}

/// A client stuck on polling whose page closes is only noticed by the heartbeat; with a short
/// interval/timeout its seat frees quickly. Measured here and printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_frees_the_seat_of_a_vanished_polling_client() {
    let server = start(&["--ping-interval-ms", "500", "--ping-timeout-ms", "500"]).await;
    let (session, handshake) = common::polling_session(&server.base_url()).await;
    let http = common::http_client(None);
    assert_eq!(handshake.ping_interval, 500);
    let join = duet_protocol::engineio::Packet::message(
        r#"2["join_room",{"room":"hb","email":"poller"}]"#,
    );
    let post = http
        .post(session.clone())
        .body(duet_protocol::payload::encode_text(&[join]))
        .send()
        .await
        .unwrap();
    assert!(post.status().is_success(), "{}", post.status());
    // Wait for the poller to be seated (its all_users comes on its next poll).
    let poll = http
        .get(session.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(poll.contains("all_users"), "{poll}");
    // Keep the poller alive (ping, read the pong) until b is in the room, however long that
    // takes on a loaded machine; then it vanishes. Returns when its last ping was answered.
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let keepalive = tokio::spawn({
        let (http, url) = (http.clone(), session.clone());
        async move {
            loop {
                let ping =
                    duet_protocol::engineio::Packet::new(duet_protocol::engineio::PacketType::Ping);
                let body = duet_protocol::payload::encode_text(&[ping]);
                let posted = http.post(&url).body(body).send().await.unwrap();
                assert!(posted.status().is_success(), "{}", posted.status());
                // A poll may bring b's user_joined ahead of the pong: read on until the pong.
                loop {
                    let got = http.get(&url).send().await.unwrap().text().await.unwrap();
                    if got.contains(":3") {
                        break;
                    }
                    assert!(got.contains("user_joined"), "{got}");
                }
                let answered = Instant::now();
                if !matches!(stopped.try_recv(), Err(TryRecvError::Empty)) {
                    return answered;
                }
            }
        }
    });
    let mut b = Peer::connect(&server, "b").await;
    assert_eq!(b.join_expect_users("hb").await, vec![handshake.sid.clone()]);
    stop.send(()).unwrap();
    let gone = keepalive.await.unwrap();
    assert_eq!(b.expect("user_exit").await, json!({"id": handshake.sid}));
    let freed = gone.elapsed();
    println!("seat freed {freed:?} after a polling client vanished (ping 500 ms / 500 ms)");
    assert!(freed < Duration::from_secs(5), "took {freed:?}");
    assert!(freed < WAIT);
    server.shutdown().await.unwrap();
}

/// Shutting down closes the transports (Engine.IO close) without a Socket.IO disconnect, which
/// socket.io-client treats as final: clients reconnect to the restarted server and rejoin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_transports_so_clients_reconnect() {
    let server = start(&[]).await;
    let mut ws = raw_ws(&server).await;
    let stop = tokio::spawn(server.shutdown());
    let mut frames = Vec::new();
    while let Some(t) = next_text(&mut ws).await {
        frames.push(t);
    }
    assert!(!frames.iter().any(|f| f == "41"), "{frames:?}");
    stop.await.unwrap().unwrap();
}

/// One connection's events are handled in the order sent: an offer sent right behind its
/// join_room is relayed (not refused as "not in room"), and candidates arrive in order after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_one_connection_keep_their_order() {
    let server = start(&[]).await;
    let mut b = Peer::connect(&server, "b").await;
    b.join_expect_users("order").await;
    for trial in 0..20 {
        let mut a = Peer::connect(&server, "a").await;
        // No waiting between these: they leave in one burst.
        a.join("order").await;
        a.emit("offer", vec![sdp("offer", &trial.to_string())])
            .await;
        for i in 0..20 {
            a.emit("candidate", vec![candidate(&format!("{trial}-{i}"))])
                .await;
        }
        assert_eq!(
            a.expect("all_users").await,
            json!([{"id": b.id(), "email": "b@example.com"}])
        );
        assert_eq!(b.expect("getOffer").await, sdp("offer", &trial.to_string()));
        for i in 0..20 {
            assert_eq!(
                b.expect("getCandidate").await,
                candidate(&format!("{trial}-{i}")),
                "trial {trial}"
            );
        }
        a.close().await;
        b.expect("user_exit").await;
    }
    server.shutdown().await.unwrap();
}
