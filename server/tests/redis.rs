//! Several duet-server nodes sharing one real redis-server (started here on an ephemeral
//! loopback port): room semantics with the peers on different nodes, the cross-node join race,
//! a node killed with SIGKILL, and a Redis outage. Fails (does not skip) without redis-server.

mod common;

use std::time::{Duration, Instant};

use common::redis::{NodeProcess, Redis};
use common::{Peer, WAIT, candidate, http_client, sdp, start};
use duet_server::RunningServer;
use serde_json::{Value, json};

/// Lease of the test nodes: short, so a dead node is noticed quickly.
const LEASE_MS: &str = "1000";

/// An in-process node on `redis` with these extra flags.
async fn node(redis: &Redis, flags: &[&str]) -> RunningServer {
    let url = redis.url();
    let mut args = vec!["--redis-url", &url, "--node-lease-ms", LEASE_MS];
    args.extend_from_slice(flags);
    start(&args).await
}

/// The next event that is not a `user_exit` (those from peers moving between rooms may arrive
/// at any time relative to other nodes' events).
async fn next_skipping_exits(p: &mut Peer) -> (String, Vec<Value>) {
    loop {
        let ev = p.next_event().await;
        if ev.0 != "user_exit" {
            return ev;
        }
    }
}

fn hlen(redis: &Redis, room: &str) -> i64 {
    redis.query(redis::cmd("HLEN").arg(format!("duet:room:{room}")))
}

/// Polls `ready` until it holds (waiting for the cluster's asynchronous recovery), bounded.
async fn until(what: &str, mut ready: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !ready().await {
        assert!(Instant::now() < deadline, "{what}: not within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_across_two_nodes_with_room_full_user_exit_and_rejoin() {
    let redis = Redis::start();
    let (n1, n2) = (node(&redis, &[]).await, node(&redis, &[]).await);
    let mut a = Peer::connect(&n1, "a").await;
    let mut b = Peer::connect(&n2, "b").await;
    assert!(a.join_expect_users("r").await.is_empty());
    assert_eq!(b.join_expect_users("r").await, vec![a.id()]);
    // user_joined crosses nodes, ahead of the joiner's offer.
    assert_eq!(
        a.expect_joined().await,
        json!({"id": b.id(), "email": "b@example.com"})
    );
    Peer::exchange_offer_answer_candidates(&mut b, &mut a).await;

    // A third person is refused on either node, and is in no room.
    for server in [&n1, &n2] {
        let mut c = Peer::connect(server, "c").await;
        c.join("r").await;
        c.expect("room_full").await;
        c.emit("offer", vec![sdp("offer", "c")]).await;
        assert_eq!(c.expect("error").await["code"], "not_in_room");
    }

    // leave_room on node 2 reaches node 1; the seat comes back on rejoin.
    b.emit("leave_room", vec![]).await;
    assert_eq!(a.expect("user_exit").await, json!({"id": b.id()}));
    assert_eq!(b.join_expect_users("r").await, vec![a.id()]);
    // Moving to another room tells the old one.
    assert!(b.join_expect_users("elsewhere").await.is_empty());
    assert_eq!(a.expect("user_exit").await, json!({"id": b.id()}));
    // A member's warmOffer capability is kept in Redis: a joiner on the other node reads it.
    b.emit("leave_room", vec![]).await;
    a.emit(
        "join_room",
        vec![json!({"room": "w", "email": "a", "warmOffer": true})],
    )
    .await;
    assert_eq!(a.expect("all_users").await, json!([]));
    assert_eq!(
        b.join_expect_users_raw("w").await,
        json!([{"id": a.id(), "email": "a", "warmOffer": true}])
    );
    b.emit("leave_room", vec![]).await;
    assert_eq!(a.expect("user_exit").await, json!({"id": b.id()}));
    assert_eq!(a.join_expect_users("r").await, Vec::<String>::new());
    assert_eq!(b.join_expect_users("r").await, vec![a.id()]);
    // Closing the page on node 1 reaches node 2, and frees the seat for anyone.
    let a_id = a.id();
    a.close().await;
    assert_eq!(b.expect("user_exit").await, json!({"id": a_id}));
    let mut e = Peer::connect(&n1, "e").await;
    assert_eq!(e.join_expect_users("r").await, vec![b.id()]);
    assert_eq!(hlen(&redis, "r"), 2);
    b.expect_nothing_pending().await;
    n1.shutdown().await.unwrap();
    // A node shutting down takes its members out at once: e's peer hears it.
    assert_eq!(b.expect("user_exit").await, json!({"id": e.id()}));
    assert_eq!(hlen(&redis, "r"), 1);
    n2.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_stay_inside_the_room_across_nodes() {
    let redis = Redis::start();
    let (n1, n2) = (node(&redis, &[]).await, node(&redis, &[]).await);
    let mut a1 = Peer::connect(&n1, "a1").await;
    let mut a2 = Peer::connect(&n1, "a2").await;
    let mut b1 = Peer::connect(&n2, "b1").await;
    let mut b2 = Peer::connect(&n2, "b2").await;
    let mut lurker1 = Peer::connect(&n1, "lurker1").await;
    let mut lurker2 = Peer::connect(&n2, "lurker2").await;
    a1.join_expect_users("one").await;
    a2.join_expect_users("two").await;
    b1.join_expect_users("one").await;
    b2.join_expect_users("two").await;
    b1.emit("offer", vec![sdp("offer", "room-one")]).await;
    b2.emit("offer", vec![sdp("offer", "room-two")]).await;
    a1.emit("candidate", vec![candidate("one")]).await;
    a2.emit("candidate", vec![candidate("two")]).await;
    assert_eq!(a1.expect("getOffer").await, sdp("offer", "room-one"));
    assert_eq!(a2.expect("getOffer").await, sdp("offer", "room-two"));
    assert_eq!(b1.expect("getCandidate").await, candidate("one"));
    assert_eq!(b2.expect("getCandidate").await, candidate("two"));
    // Markers: a node publishes in order on one connection and the other delivers in order,
    // and each connection's events are handled in order. So once room two's marker arrived,
    // anything room two sent before is delivered; room one's marker, sent after that, must then
    // be the very next thing room one hears: a relay that crossed rooms would come first.
    b2.emit("offer", vec![sdp("offer", "m2")]).await;
    assert_eq!(a2.expect("getOffer").await, sdp("offer", "m2"));
    b1.emit("offer", vec![sdp("offer", "m1")]).await;
    assert_eq!(a1.expect("getOffer").await, sdp("offer", "m1"));
    a2.emit("candidate", vec![candidate("m2")]).await;
    assert_eq!(b2.expect("getCandidate").await, candidate("m2"));
    a1.emit("candidate", vec![candidate("m1")]).await;
    assert_eq!(b1.expect("getCandidate").await, candidate("m1"));
    for p in [
        &mut a1,
        &mut a2,
        &mut b1,
        &mut b2,
        &mut lurker1,
        &mut lurker2,
    ] {
        p.expect_nothing_pending().await;
    }
    n1.shutdown().await.unwrap();
    n2.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_one_room_of_three() {
    let redis = Redis::start();
    let n = [
        node(&redis, &["--room-capacity", "3"]).await,
        node(&redis, &["--room-capacity", "3"]).await,
        node(&redis, &["--room-capacity", "3"]).await,
    ];
    let mut a = Peer::connect(&n[0], "a").await;
    let mut b = Peer::connect(&n[1], "b").await;
    let mut c = Peer::connect(&n[2], "c").await;
    assert!(a.join_expect_users("r").await.is_empty());
    assert_eq!(b.join_expect_users("r").await, vec![a.id()]);
    // all_users lists members from every node, in joining order.
    assert_eq!(c.join_expect_users("r").await, vec![a.id(), b.id()]);
    // Everyone already there hears of each newcomer, wherever they are.
    let (b_user, c_user) = (
        json!({"id": b.id(), "email": "b@example.com"}),
        json!({"id": c.id(), "email": "c@example.com"}),
    );
    assert_eq!(a.expect_joined().await, b_user);
    assert_eq!(a.expect_joined().await, c_user);
    assert_eq!(b.expect_joined().await, c_user);
    for server in &n {
        let mut d = Peer::connect(server, "d").await;
        d.join("r").await;
        d.expect("room_full").await;
    }
    c.emit("offer", vec![sdp("offer", "c")]).await;
    assert_eq!(a.expect("getOffer").await, sdp("offer", "c"));
    assert_eq!(b.expect("getOffer").await, sdp("offer", "c"));
    let b_id = b.id();
    b.close().await;
    assert_eq!(a.expect("user_exit").await, json!({"id": b_id}));
    assert_eq!(c.expect("user_exit").await, json!({"id": b_id}));
    for server in n {
        server.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_node_join_race_admits_exactly_the_capacity() {
    let redis = Redis::start();
    let n = [
        node(&redis, &["--relay-burst", "100000"]).await,
        node(&redis, &["--relay-burst", "100000"]).await,
    ];
    let mut peers = Vec::new();
    for i in 0..6 {
        peers.push(Peer::connect(&n[i % 2], &format!("p{i}")).await);
    }
    let mut seated = Peer::connect(&n[0], "seated").await;
    for trial in 0..100 {
        // Odd trials: one seat left (one member already there). Even: an empty room of two.
        let room = format!("race-{trial}");
        let expected = if trial % 2 == 1 {
            seated.join(&room).await;
            assert_eq!(next_skipping_exits(&mut seated).await.0, "all_users");
            1
        } else {
            2
        };
        for p in peers.iter_mut() {
            p.join(&room).await;
        }
        let mut admitted = 0;
        for p in peers.iter_mut() {
            match next_skipping_exits(p).await.0.as_str() {
                "all_users" => admitted += 1,
                "room_full" => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(admitted, expected, "trial {trial}");
        assert_eq!(hlen(&redis, &room), 2, "trial {trial}: shared state");
    }
    for server in n {
        server.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_loses_its_members_within_the_lease() {
    let redis = Redis::start();
    let url = redis.url();
    let mut doomed = NodeProcess::start(&[
        "--redis-url",
        &url,
        "--node-lease-ms",
        LEASE_MS,
        "--node-id",
        "doomed",
    ]);
    let survivor = node(&redis, &[]).await;
    let mut a = Peer::connect_url(doomed.base_url(), "a").await;
    let mut b = Peer::connect(&survivor, "b").await;
    a.join_expect_users("r").await;
    assert_eq!(b.join_expect_users("r").await, vec![a.id()]);
    let a_id = a.id();
    let killed = Instant::now();
    doomed.kill();
    assert_eq!(b.expect("user_exit").await, json!({"id": a_id}));
    eprintln!(
        "user_exit {:?} after SIGKILL (lease {LEASE_MS} ms)",
        killed.elapsed()
    );
    assert_eq!(hlen(&redis, "r"), 1);
    let left: i64 = redis.query(redis::cmd("EXISTS").arg("duet:node:doomed"));
    assert_eq!(left, 0, "the dead node's member set is gone");
    let mut c = Peer::connect(&survivor, "c").await;
    assert_eq!(c.join_expect_users("r").await, vec![b.id()]);
    survivor.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_refuses_joins_clearly_and_the_nodes_recover() {
    let mut redis = Redis::start();
    let (n1, n2) = (node(&redis, &[]).await, node(&redis, &[]).await);
    let (mut a, mut b) = Peer::pair_in_room(&n1, "same").await;
    let mut c = Peer::connect(&n1, "c").await;
    let mut d = Peer::connect(&n2, "d").await;
    c.join_expect_users("cross").await;
    d.join_expect_users("cross").await;
    let http = http_client(None);
    let health = |base: String| {
        let http = http.clone();
        async move {
            let r = http.get(format!("{base}/healthz")).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(
        health(n1.base_url()).await,
        (200, "ok\nredis: ok\n".to_owned())
    );
    let metrics = |base: String| {
        let http = http.clone();
        async move {
            let r = http.get(format!("{base}/metrics")).send().await.unwrap();
            r.text().await.unwrap()
        }
    };
    let m = metrics(n1.base_url()).await;
    assert!(m.contains("duet_node_redis_up{node=\""), "{m}");
    // a, b and c are connected to node 1, in two rooms.
    let line = |m: &str, name: &str| {
        m.lines()
            .find(|l| l.starts_with(&format!("{name}{{node=")))
            .map(|l| l.rsplit(' ').next().unwrap().to_owned())
    };
    assert_eq!(
        line(&m, "duet_node_connections").as_deref(),
        Some("3"),
        "{m}"
    );
    assert_eq!(line(&m, "duet_node_rooms").as_deref(), Some("2"), "{m}");
    assert_eq!(line(&m, "duet_node_redis_up").as_deref(), Some("1"), "{m}");

    redis.kill();
    // New joins fail with a clear error.
    let mut e = Peer::connect(&n2, "e").await;
    e.join("new").await;
    let error = e.expect("error").await;
    assert_eq!(error["code"], "unavailable", "{error}");
    // A call between two sockets of one node keeps signaling; across nodes the sender is told.
    b.emit("offer", vec![sdp("offer", "outage")]).await;
    assert_eq!(a.expect("getOffer").await, sdp("offer", "outage"));
    d.emit("offer", vec![sdp("offer", "lost")]).await;
    assert_eq!(d.expect("error").await["code"], "unavailable");
    let (status, body) = health(n1.base_url()).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("redis"), "{body}");
    let m = metrics(n1.base_url()).await;
    assert_eq!(line(&m, "duet_node_redis_up").as_deref(), Some("0"), "{m}");
    // Leaving meanwhile: the peer on the same node hears it at once.
    let b_id = b.id();
    b.close().await;
    assert_eq!(a.expect("user_exit").await, json!({"id": b_id}));

    redis.restart();
    // The nodes reconnect, re-register their members (Redis came back empty) and resubscribe.
    until("both nodes healthy", async || {
        health(n1.base_url()).await.0 == 200 && health(n2.base_url()).await.0 == 200
    })
    .await;
    until("members re-registered", async || {
        hlen(&redis, "same") == 1 && hlen(&redis, "cross") == 2
    })
    .await;
    until("both adapters resubscribed", async || {
        let (_, n): (String, i64) = redis.query(
            redis::cmd("PUBSUB")
                .arg("NUMSUB")
                .arg("duet-sio-request#/#"),
        );
        n == 2
    })
    .await;
    // The restored room holds a (not b, who left during the outage), then is full.
    let mut f = Peer::connect(&n2, "f").await;
    assert_eq!(f.join_expect_users("same").await, vec![a.id()]);
    let mut late = Peer::connect(&n1, "late").await;
    late.join("same").await;
    late.expect("room_full").await;
    // Relays cross nodes again, old calls and new.
    d.emit("offer", vec![sdp("offer", "back")]).await;
    assert_eq!(c.expect("getOffer").await, sdp("offer", "back"));
    let mut g = Peer::connect(&n2, "g").await;
    let mut h = Peer::connect(&n1, "h").await;
    g.join_expect_users("fresh").await;
    assert_eq!(h.join_expect_users("fresh").await, vec![g.id()]);
    h.emit("offer", vec![sdp("offer", "fresh")]).await;
    assert_eq!(g.expect("getOffer").await, sdp("offer", "fresh"));
    n1.shutdown().await.unwrap();
    n2.shutdown().await.unwrap();
}
