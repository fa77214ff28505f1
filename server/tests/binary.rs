//! The `duet-server` binary itself: its `--help`, the URLs it prints, and a graceful exit on
//! SIGTERM with a client connected.

mod common;

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

const BIN: &str = env!("CARGO_BIN_EXE_duet-server");

#[test]
fn help_lists_every_flag_with_its_environment_variable() {
    let out = std::process::Command::new(BIN)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    // Normalise the wrapping: clap breaks lines to the terminal width.
    let help = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(help.contains("socket.io-client 2.3.0"), "{help}");
    for (flag, env) in [
        ("--host", "DUET_HOST"),
        ("--port", "PORT"),
        ("--static-dir", "DUET_STATIC_DIR"),
        ("--room-capacity", "DUET_ROOM_CAPACITY"),
        ("--max-connections", "DUET_MAX_CONNECTIONS"),
        ("--relay-rate", "DUET_RELAY_RATE"),
        ("--relay-burst", "DUET_RELAY_BURST"),
        ("--max-payload", "DUET_MAX_PAYLOAD"),
        ("--ping-interval-ms", "DUET_PING_INTERVAL_MS"),
        ("--ping-timeout-ms", "DUET_PING_TIMEOUT_MS"),
        ("--ice-server", "DUET_ICE_SERVERS"),
        ("--turn-username", "DUET_TURN_USERNAME"),
        ("--turn-credential", "DUET_TURN_CREDENTIAL"),
        ("--tls-cert", "DUET_TLS_CERT"),
        ("--tls-key", "DUET_TLS_KEY"),
        ("--self-signed", "DUET_SELF_SIGNED"),
        ("--allowed-origin", "DUET_ALLOWED_ORIGINS"),
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
        assert!(
            help.contains(&format!("env: {env}")),
            "--help lacks {env}:\n{help}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prints_urls_and_exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(BIN)
        .args(["--port", "0", "--static-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut urls = Vec::new();
    let first_url = loop {
        let line = tokio::time::timeout(common::WAIT, lines.next_line())
            .await
            .expect("output in time")
            .unwrap()
            .expect("a URL line before stdout ends");
        // With RUST_LOG=info the server logs plenty, all of it to stderr.
        if line == "Duet is running. Open:" {
            continue;
        }
        let url = line
            .trim()
            .strip_prefix("http://")
            .unwrap_or_else(|| panic!("stdout holds only the URLs, got {line:?}"));
        urls.push(url.to_owned());
        if url.starts_with("127.0.0.1:") {
            break url.trim_end_matches('/').to_owned();
        }
    };
    assert!(urls[0].starts_with("localhost:"), "{urls:?}");
    let health = common::http_client(None)
        .get(format!("http://{first_url}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // A connected client must not hold the shutdown up.
    let ws_url = format!("ws://{first_url}/socket.io/?EIO=3&transport=websocket");
    let (_ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();

    let pid = child.id().unwrap().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("exited in time after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status}");
}
