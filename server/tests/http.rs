//! Everything over plain HTTP(S): the static site, `/config.json`, `/healthz`, `/metrics`,
//! TLS with `--self-signed`, and the Socket.IO endpoint's gate (Origin, connection limit, payload).

mod common;

use base64::Engine as _;
use common::{Peer, http_client, start};
use duet_protocol::endpoint::websocket_url;
use sha2::{Digest, Sha256};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const INLINE_BOOT: &str = "import init from '/duet-0123456789abcdef.js'; await init();";

/// A Trunk-like dist folder: index.html with an inline boot script, hashed js and wasm.
fn dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let index = format!(
        "<!doctype html><html><head><link rel=\"modulepreload\" href=\"/duet-0123456789abcdef.js\">\
         <script type=\"module\">{INLINE_BOOT}</script></head><body></body></html>"
    );
    std::fs::write(dir.path().join("index.html"), index).unwrap();
    std::fs::write(
        dir.path().join("duet-0123456789abcdef.js"),
        "export default async function init() {}\n".repeat(100),
    )
    .unwrap();
    // Compressible bytes after the wasm magic.
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    wasm.extend(std::iter::repeat_n(0u8, 4096));
    std::fs::write(dir.path().join("duet-0123456789abcdef_bg.wasm"), wasm).unwrap();
    std::fs::write(dir.path().join("favicon.ico"), [0u8; 64]).unwrap();
    dir
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_app_with_types_compression_caching_fallback_and_csp() {
    let dir = dist();
    let server = start(&["--static-dir", dir.path().to_str().unwrap()]).await;
    let http = http_client(None);
    let url = |p: &str| format!("{}{p}", server.base_url());

    let wasm = http
        .get(url("/duet-0123456789abcdef_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.status(), 200);
    assert_eq!(header(&wasm, "content-type"), "application/wasm");
    assert_eq!(
        header(&wasm, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&wasm, "content-encoding"), "");
    assert_eq!(wasm.bytes().await.unwrap().len(), 8 + 4096);

    for encoding in ["br", "gzip"] {
        let res = http
            .get(url("/duet-0123456789abcdef_bg.wasm"))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(header(&res, "content-encoding"), encoding);
        assert_eq!(header(&res, "content-type"), "application/wasm");
        let body = res.bytes().await.unwrap();
        assert!(body.len() < 1000, "{encoding}: {} bytes", body.len());
    }
    let js = http
        .get(url("/duet-0123456789abcdef.js"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(header(&js, "content-type").starts_with("text/javascript"));
    assert_eq!(header(&js, "content-encoding"), "gzip");

    let index = http.get(url("/")).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert!(header(&index, "content-type").starts_with("text/html"));
    assert_eq!(header(&index, "cache-control"), "no-cache");
    let csp = header(&index, "content-security-policy").to_owned();
    let boot_hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(INLINE_BOOT));
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(csp.contains(&format!("'sha256-{boot_hash}'")), "{csp}");
    let host = server.local_addr().to_string();
    assert!(
        csp.contains(&format!("connect-src 'self' ws://{host} wss://{host}")),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(header(&index, "x-content-type-options"), "nosniff");
    assert!(header(&index, "permissions-policy").contains("camera=(self)"));
    let index_body = index.text().await.unwrap();

    // Client-side routes get the app; missing files are 404, not the app.
    let route = http.get(url("/room/abc-123")).send().await.unwrap();
    assert_eq!(route.status(), 200);
    assert_eq!(header(&route, "cache-control"), "no-cache");
    assert_eq!(route.text().await.unwrap(), index_body);
    let hexlike = http.get(url("/room/0123abcd89")).send().await.unwrap();
    assert_eq!(hexlike.status(), 200);
    assert_eq!(header(&hexlike, "cache-control"), "no-cache");
    let head = http.head(url("/room/abc")).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert!(header(&head, "content-type").starts_with("text/html"));
    let missing = http
        .get(url("/missing-0123456789abcdef.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(header(&missing, "cache-control"), "no-cache");
    // Unhashed files are revalidated.
    let icon = http.get(url("/favicon.ico")).send().await.unwrap();
    assert_eq!(header(&icon, "cache-control"), "no-cache");
    // A rebuilt index.html (new boot script) is allowed without a restart, and every HTML
    // document gets the hashes of its own inline scripts.
    let rebuilt = "import init from '/duet-fedcba9876543210.js'; await init();";
    std::fs::write(
        dir.path().join("index.html"),
        format!("<!doctype html><script type=\"module\">{rebuilt}</script>"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("seed")).unwrap();
    std::fs::write(
        dir.path().join("seed/index.html"),
        "<!doctype html><script>seed()</script>",
    )
    .unwrap();
    for (path, script) in [("/", rebuilt), ("/room/x", rebuilt), ("/seed/", "seed()")] {
        let res = http.get(url(path)).send().await.unwrap();
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script));
        let csp = header(&res, "content-security-policy");
        assert!(csp.contains(&format!("'sha256-{hash}'")), "{path}: {csp}");
        assert!(!csp.contains(&boot_hash), "{path}: stale hash in {csp}");
    }
    // Only GET/HEAD reach files.
    let post = http.post(url("/index.html")).send().await.unwrap();
    assert_eq!(post.status(), 405);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_json_reflects_the_flags() {
    let http = http_client(None);
    let server = start(&[]).await;
    let res = http
        .get(format!("{}/config.json", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "cache-control"), "no-store");
    assert!(header(&res, "content-type").starts_with("application/json"));
    let json: serde_json::Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"iceServers": [{"urls": duet_server::config::DEFAULT_ICE_SERVER}]})
    );
    server.shutdown().await.unwrap();

    let server = start(&[
        "--ice-server",
        "stun:stun.example.org:3478",
        "--ice-server",
        "turn:turn.example.org:3478?transport=udp",
        "--turn-username",
        "duet",
        "--turn-credential",
        "secret",
    ])
    .await;
    let text = http
        .get(format!("{}/config.json", server.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"iceServers": [
            {"urls": "stun:stun.example.org:3478"},
            {"urls": "turn:turn.example.org:3478?transport=udp", "username": "duet", "credential": "secret"}
        ]})
    );
    server.shutdown().await.unwrap();
}

/// `--turn-secret`: every request gets its own short-lived pair (coturn's use-auth-secret),
/// never the secret, and the response is not stored anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_json_mints_short_lived_turn_credentials() {
    let http = http_client(None);
    let server = start(&[
        "--ice-server",
        "turn:127.0.0.1:3478",
        "--turn-secret",
        "s3cret",
        "--turn-ttl",
        "120",
    ])
    .await;
    let mut usernames = Vec::new();
    for _ in 0..2 {
        let unix_now = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
        };
        let before = unix_now();
        let res = http
            .get(format!("{}/config.json", server.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(header(&res, "cache-control"), "no-store");
        let text = res.text().await.unwrap();
        let after = unix_now();
        assert!(!text.contains("s3cret"), "the secret leaked: {text}");
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let turn = &json["iceServers"][0];
        let username = turn["username"].as_str().unwrap().to_owned();
        let expiry: u64 = username.split_once(':').unwrap().0.parse().unwrap();
        assert!(
            (before + 120..=after + 120).contains(&expiry),
            "{username} does not expire 120 s after the request ({before}..={after})"
        );
        let secret = duet_server::turn::TurnSecret::new("s3cret").unwrap();
        assert_eq!(turn["credential"], secret.credential(&username).as_str());
        usernames.push(username);
    }
    assert_ne!(usernames[0], usernames[1], "minted per request");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_metrics() {
    let server = start(&[]).await;
    let http = http_client(None);
    let health = http
        .get(format!("{}/healthz", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok\n");

    let mut a = Peer::connect(&server, "a").await;
    let mut b = Peer::connect(&server, "b").await;
    let mut c = Peer::connect(&server, "c").await;
    a.join_expect_users("m").await;
    b.join_expect_users("m").await;
    c.join("m").await;
    c.expect("room_full").await;
    a.emit("offer", vec![common::sdp("offer", "1")]).await;
    b.expect("getOffer").await;
    c.emit("join_room", vec![serde_json::json!({"room": "bad room!"})])
        .await;
    c.expect("error").await;

    let res = http
        .get(format!("{}/metrics", server.base_url()))
        .send()
        .await
        .unwrap();
    assert!(header(&res, "content-type").starts_with("text/plain; version=0.0.4"));
    let text = res.text().await.unwrap();
    for line in [
        "duet_connections 3",
        "duet_rooms 1",
        "duet_room_members 2",
        "duet_connections_total 3",
        "duet_joins_total 2",
        "duet_room_full_total 1",
        "duet_relays_total{event=\"offer\"} 1",
        "duet_rejections_total{reason=\"bad_room\"} 1",
        "duet_relay_duration_seconds_bucket{le=\"+Inf\"} 1",
        "duet_relay_duration_seconds_count 1",
        "duet_join_duration_seconds_count 2",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_answers_over_https() {
    let dir = dist();
    let server = start(&[
        "--self-signed",
        "--static-dir",
        dir.path().to_str().unwrap(),
    ])
    .await;
    assert!(server.base_url().starts_with("https://"));
    let pem = server
        .self_signed_certificate()
        .expect("a certificate")
        .to_owned();
    // Verified against the generated certificate, for the name it was made for.
    let http = http_client(Some(&pem));
    let url = format!("https://localhost:{}/healthz", server.local_addr().port());
    let res = http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let url = format!("https://127.0.0.1:{}/", server.local_addr().port());
    let res = http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("<!doctype html>"));
    // Plain HTTP on the TLS port gets nowhere.
    let plain = http_client(None)
        .get(format!("http://{}/healthz", server.local_addr()))
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_cert_and_key_files_serve_https_with_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let server = start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ])
    .await;
    assert!(server.base_url().starts_with("https://"));
    let http = http_client(Some(&made.cert.pem()));
    let url = format!("https://localhost:{}/healthz", server.local_addr().port());
    let res = http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "strict-transport-security"),
        "max-age=31536000"
    );
    server.shutdown().await.unwrap();

    // No HSTS for plain HTTP or a self-signed development certificate.
    let server = start(&["--self-signed"]).await;
    let http = http_client(server.self_signed_certificate());
    let url = format!("https://localhost:{}/healthz", server.local_addr().port());
    let res = http.get(&url).send().await.unwrap();
    assert_eq!(header(&res, "strict-transport-security"), "");
    server.shutdown().await.unwrap();

    // Unreadable files are a startup error, not a panic.
    let missing = dir.path().join("missing.pem");
    let config = duet_server::Config::from_args([
        "duet-server",
        "--tls-cert",
        missing.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ])
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = duet_server::serve(config, listener)
        .await
        .err()
        .expect("fails");
    assert!(err.to_string().contains("missing.pem"), "{err}");
}

async fn ws_with_origin(
    server: &duet_server::RunningServer,
    origin: &str,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let mut req = websocket_url(&server.base_url())
        .unwrap()
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("origin", HeaderValue::from_str(origin).unwrap());
    tokio::time::timeout(common::WAIT, tokio_tungstenite::connect_async(req))
        .await
        .expect("answer in time")
        .map(|_| ())
}

fn http_status(e: tokio_tungstenite::tungstenite::Error) -> u16 {
    match e {
        tokio_tungstenite::tungstenite::Error::Http(res) => res.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_origin_allow_list() {
    let server = start(&["--allowed-origin", "https://duet.example"]).await;
    let same = format!("http://{}", server.local_addr());
    assert!(ws_with_origin(&server, &same).await.is_ok());
    assert!(
        ws_with_origin(&server, "http://localhost:3000")
            .await
            .is_ok()
    );
    assert!(
        ws_with_origin(&server, "https://duet.example")
            .await
            .is_ok()
    );
    let refused = ws_with_origin(&server, "https://evil.example").await;
    assert_eq!(http_status(refused.unwrap_err()), 403);
    // Polling too.
    let res = http_client(None)
        .get(format!(
            "{}/socket.io/?EIO=3&transport=polling",
            server.base_url()
        ))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(server.metrics().rejections("origin"), 2);
    // An allowed page on another origin can poll: its origin is echoed for the XHR.
    let res = http_client(None)
        .get(format!(
            "{}/socket.io/?EIO=3&transport=polling",
            server.base_url()
        ))
        .header("origin", "https://duet.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "access-control-allow-origin"),
        "https://duet.example"
    );
    assert_eq!(header(&res, "access-control-allow-credentials"), "true");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limit() {
    let server = start(&["--max-connections", "2"]).await;
    let (a, mut b) = Peer::pair_in_room(&server, "r").await;
    let refused = ws_with_origin(&server, "http://localhost").await;
    assert_eq!(http_status(refused.unwrap_err()), 503);
    assert_eq!(server.metrics().rejections("server_full"), 1);
    // The server frees the slot before telling the room, so once b hears user_exit a new
    // connection must be accepted.
    a.close().await;
    b.expect("user_exit").await;
    let mut c = Peer::connect(&server, "c").await;
    c.join_expect_users("r").await;
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_payload_limit() {
    let server = start(&["--max-payload", "100000"]).await;
    let http = http_client(None);
    let (session, _) = common::polling_session(&server.base_url()).await;
    let post = |n: usize| {
        let packet = duet_protocol::engineio::Packet::message(format!(
            "2[\"candidate\",{{\"candidate\":\"{}\"}}]",
            "c".repeat(n)
        ));
        http.post(&session)
            .body(duet_protocol::payload::encode_text(&[packet]))
            .send()
    };
    // Under the limit: accepted (the candidate itself is refused later, by the signaling).
    assert_eq!(post(50_000).await.unwrap().status(), 200);
    // Over it: 413.
    assert_eq!(post(150_000).await.unwrap().status(), 413);
    server.shutdown().await.unwrap();
}
