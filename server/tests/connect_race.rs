//! An event sent the moment the client reads the namespace connect packet (`40`) is handled,
//! on one node and with `--redis-url`. socketioxide sends `40` before it calls the connect
//! handler, so handlers registered there could miss such an event; they are registered by a
//! connect middleware, which runs before `40` is sent.

mod common;

use common::redis::Redis;
use common::{WAIT, next_text, raw_ws, start};
use duet_server::RunningServer;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

/// Connections opened at once per round, and rounds: enough concurrency that the server's
/// connect tasks and the clients' joins interleave on both runtime threads.
const AT_ONCE: usize = 25;
const ROUNDS: usize = 8;

/// Each connection sends `join_room` in the write right after reading `40` (nothing else in
/// between) to a room of its own, and must get `all_users` back.
async fn every_join_sent_right_after_connect_is_answered(server: &RunningServer, tag: &str) {
    for round in 0..ROUNDS {
        let joins = (0..AT_ONCE).map(|i| {
            let room = format!("{tag}-{round}-{i}");
            async move {
                let mut ws = raw_ws(server).await;
                let join =
                    format!(r#"42["join_room",{{"room":"{room}","email":"x@example.com"}}]"#);
                ws.send(Message::text(join)).await.expect("send join");
                let reply = next_text(&mut ws).await;
                assert_eq!(
                    reply.as_deref(),
                    Some(r#"42["all_users",[]]"#),
                    "{room}: the join sent right after connecting was not answered"
                );
                let _ = ws.close(None).await;
            }
        });
        tokio::time::timeout(WAIT * 2, futures_util::future::join_all(joins))
            .await
            .expect("round finished in time");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_answers_a_join_sent_at_once() {
    let server = start(&[]).await;
    every_join_sent_right_after_connect_is_answered(&server, "one").await;
    assert_eq!(server.metrics().rejections("server_full"), 0);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_node_answers_a_join_sent_at_once() {
    let redis = Redis::start();
    let url = redis.url();
    let server = start(&["--redis-url", &url, "--node-lease-ms", "1000"]).await;
    every_join_sent_right_after_connect_is_answered(&server, "redis").await;
    server.shutdown().await.unwrap();
}
