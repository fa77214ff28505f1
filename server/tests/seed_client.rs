//! The real socket.io-client 2.3.0 (the original React client's library), from node, running
//! the seed client's event flow against duet-server over both of its transport setups.
//!
//! Needs `npm ci --prefix e2e/peers` (run by the project's test setup). Without it the tests fail
//! with a message saying so: a missing compatibility check must not look like a passing one.

mod common;

use std::path::PathBuf;
use std::process::Stdio;

use common::start;
use serde_json::{Value, json};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("server/ has a parent")
        .to_path_buf()
}

/// Runs `server/tests/node/seed_flow.js` against a fresh server and returns its JSON report.
async fn run_seed_flow(mode: &str) -> Value {
    run_node("seed_flow.js", &[mode]).await
}

/// Runs a script of `server/tests/node/` with the server's URL and `args`; returns its JSON.
async fn run_node(script: &str, args: &[&str]) -> Value {
    run_node_on(script, args, &[]).await
}

/// As [`run_node`], against a server started with `flags`.
async fn run_node_on(script: &str, args: &[&str], flags: &[&str]) -> Value {
    let mode = args.first().copied().unwrap_or(script);
    let root = repo_root();
    let node_modules = root.join("e2e/peers/node_modules");
    assert!(
        node_modules.join("socket.io-client/package.json").is_file(),
        "socket.io-client 2.3.0 is not installed in {}: run `npm ci --prefix e2e/peers` first \
         (the project's test setup does this)",
        node_modules.display()
    );
    let server = start(flags).await;
    let script = root.join("server/tests/node").join(script);
    let child = tokio::process::Command::new("node")
        .arg(&script)
        .arg(server.base_url())
        .args(args)
        .env("NODE_PATH", &node_modules)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node (is it installed?): {e}"));
    // The script has its own 15 s deadline; this bounds a hung node process.
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("node finished in time")
        .expect("node ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "seed flow ({mode}) failed: {}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    server.shutdown().await.unwrap();
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("bad JSON ({e}): {stdout}"))
}

fn check_flow(report: &Value) {
    let a = report["aId"].as_str().expect("a's id");
    let b = report["bId"].as_str().expect("b's id");
    assert_ne!(a, b);
    let offer = json!({"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"});
    let answer = json!({"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\n"});
    let candidate = |n: u32| {
        json!({"candidate": format!("candidate:{n} 1 udp 2122260223 192.0.2.{n} 5000{n} typ host"),
               "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": null})
    };
    let events = &report["events"];
    assert_eq!(
        events["a"],
        json!([
            ["all_users", []],
            ["getOffer", offer],
            ["getCandidate", candidate(2)]
        ]),
        "{report}"
    );
    assert_eq!(
        events["b"],
        json!([
            ["all_users", [{"id": a, "email": "a@example.com"}]],
            ["getAnswer", answer],
            ["getCandidate", candidate(1)],
            ["user_exit", {"id": a}]
        ]),
        "{report}"
    );
    // room_full carries no arguments: the client's handler sees `undefined`.
    assert_eq!(events["c"], json!([["room_full"]]), "{report}");
    // The bystander in another room saw only its own join.
    assert_eq!(events["other"], json!([["all_users", []]]), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_2_3_0_over_websocket_only() {
    let report = run_seed_flow("websocket").await;
    check_flow(&report);
    assert_eq!(report["transports"]["b"], "websocket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_2_3_0_polling_then_upgrade() {
    let report = run_seed_flow("polling").await;
    check_flow(&report);
    // The default transports start on polling; the upgrade to websocket must have succeeded.
    assert_eq!(report["transports"]["b"], "websocket", "{report}");
}

/// A polling client batches a large offer and a burst of candidates into one POST: over
/// socketioxide's default 100 KB max payload (which would answer 413 and drop the client), under
/// duet-server's 1 MB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_2_3_0_polling_batch_over_100_kb() {
    let report = run_node("polling_batch.js", &[]).await;
    assert_eq!(report["transport"], "polling", "{report}");
    let sent = report["sentBytes"].as_u64().unwrap();
    assert!(sent > 60_000, "{report}");
    assert_eq!(report["offerBytes"], json!([sent, sent + 15]), "{report}");
    assert_eq!(report["candidates"], 30, "{report}");
}

/// The same flow, polling then upgrade, on a node of a cluster (`--redis-url`, a real
/// redis-server): the event path that goes through Redis keeps the seed client's ordering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_2_3_0_polling_on_a_redis_node() {
    let redis = common::redis::Redis::start();
    let url = redis.url();
    let report = run_node_on("seed_flow.js", &["polling"], &["--redis-url", &url]).await;
    check_flow(&report);
    assert_eq!(report["transports"]["b"], "websocket", "{report}");
}
