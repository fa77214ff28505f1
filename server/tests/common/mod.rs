//! Shared test support: an in-process server on an ephemeral port, a signaling peer driven by
//! duet-protocol's sans-IO client over tokio-tungstenite, and raw WebSocket access for the
//! malformed-input corpus. Every wait is bounded by [`WAIT`].
#![allow(dead_code)]

pub mod redis;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use duet_protocol::client::{ClientEvent, SocketClient};
use duet_protocol::endpoint::websocket_url;
use duet_server::{Config, RunningServer};
use duet_testkit::sio;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Longest any single expected thing may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Starts a server on 127.0.0.1:0 with these extra flags and an empty static directory unless
/// `--static-dir` is among them.
pub async fn start(flags: &[&str]) -> RunningServer {
    let mut args = vec!["duet-server".to_owned()];
    if !flags.contains(&"--static-dir") {
        args.push("--static-dir".into());
        args.push(
            std::env::temp_dir()
                .join("duet-no-static")
                .display()
                .to_string(),
        );
    }
    args.extend(flags.iter().map(|s| s.to_string()));
    let config = Config::from_args(args).expect("test flags parse");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    duet_server::serve(config, listener)
        .await
        .expect("server starts")
}

/// An HTTP client for tests (accepts the self-signed certificate of `--self-signed` servers
/// only when given it as a root).
pub fn http_client(root_pem: Option<&str>) -> reqwest::Client {
    // reqwest is built without a bundled provider; use the server's (ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder().no_proxy();
    if let Some(pem) = root_pem {
        builder = builder.tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()]);
    }
    builder.build().unwrap()
}

/// Opens an Engine.IO polling session on the server at `base_url`; returns the session's URL
/// (with its `sid`, for the polls and posts that follow) and the handshake.
#[allow(dead_code)] // each test binary compiles this module; not all of them poll
pub async fn polling_session(base_url: &str) -> (String, duet_protocol::engineio::Handshake) {
    let url = format!("{base_url}/socket.io/?EIO=3&transport=polling");
    let body = http_client(None)
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let handshake = duet_protocol::payload::decode_text(&body).expect("handshake payload")[0]
        .handshake()
        .expect("an open packet");
    (format!("{url}&sid={}", handshake.sid), handshake)
}

/// One signaling client: duet-protocol's state machine plus a real WebSocket.
pub struct Peer {
    pub name: String,
    ws: Ws,
    client: SocketClient,
    origin: Instant,
    events: VecDeque<(String, Vec<Value>)>,
    /// `user_joined` payloads, kept apart: they only add to the seed's sequence of events, which
    /// the tests check as it is; [`expect_joined`](Self::expect_joined) checks them.
    joined: VecDeque<Value>,
    pub closed: bool,
}

impl Peer {
    /// Connects and waits for the namespace to be connected.
    pub async fn connect(server: &RunningServer, name: &str) -> Peer {
        Self::connect_url(&server.base_url(), name).await
    }

    /// Connects to the server at `base` (`http://ADDR`), e.g. a server in another process.
    pub async fn connect_url(base: &str, name: &str) -> Peer {
        let url = websocket_url(base).unwrap();
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .expect("ws connect in time")
            .expect("ws connect");
        let origin = Instant::now();
        let mut peer = Peer {
            name: name.to_owned(),
            ws,
            client: sio::open_client(Duration::ZERO),
            origin,
            events: VecDeque::new(),
            joined: VecDeque::new(),
            closed: false,
        };
        let early = tokio::time::timeout(
            WAIT,
            sio::handshake(&mut peer.ws, &mut peer.client, || origin.elapsed()),
        )
        .await
        .unwrap_or_else(|_| panic!("{name}: no connect in time"))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        for ev in early {
            peer.take(ev);
        }
        peer
    }

    /// The socket id (the Engine.IO sid, as socket.io 2.x uses for the root namespace).
    pub fn id(&self) -> String {
        self.client.sid().expect("connected").to_owned()
    }

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    async fn flush(&mut self) {
        // A failed send shows as the connection closing, on the next read.
        let _ = sio::flush(&mut self.ws, &mut self.client).await;
    }

    /// Queues an event for the test: `user_joined` apart, the rest in order.
    fn take(&mut self, ev: ClientEvent) {
        if let ClientEvent::Event { name, args, .. } = ev {
            if name == "user_joined" {
                self.joined
                    .push_back(args.into_iter().next().unwrap_or(Value::Null));
            } else {
                self.events.push_back((name, args));
            }
        }
    }

    /// Handles one incoming frame or timer, or returns at `deadline`.
    async fn pump_once(&mut self, deadline: Instant) {
        self.flush().await;
        let timer = self
            .client
            .poll_timeout()
            .map(|t| self.origin + t)
            .unwrap_or(deadline)
            .min(deadline);
        tokio::select! {
            msg = self.ws.next() => {
                let now = self.now();
                match msg {
                    Some(Ok(m)) => {
                        if let Some(f) = sio::frame(&m) {
                            self.client.handle_frame(&f, now);
                        }
                    }
                    Some(Err(_)) | None => {
                        self.closed = true;
                        self.client.handle_close(now);
                    }
                }
            }
            _ = tokio::time::sleep_until(timer.into()) => {
                let now = self.now();
                self.client.handle_timeout(now);
            }
        }
        while let Some(ev) = self.client.poll_event() {
            self.take(ev);
        }
        self.flush().await;
    }

    /// Sends an event.
    pub async fn emit(&mut self, name: &str, args: Vec<Value>) {
        self.client.emit(name, args).expect("emit");
        self.flush().await;
    }

    /// Sends `join_room`.
    pub async fn join(&mut self, room: &str) {
        let email = format!("{}@example.com", self.name);
        self.emit("join_room", vec![json!({"room": room, "email": email})])
            .await;
    }

    /// The next event, whatever it is.
    pub async fn next_event(&mut self) -> (String, Vec<Value>) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(ev) = self.events.pop_front() {
                return ev;
            }
            assert!(
                !self.closed,
                "{}: connection closed while waiting for an event",
                self.name
            );
            assert!(
                Instant::now() < deadline,
                "{}: no event within {WAIT:?}",
                self.name
            );
            self.pump_once(deadline).await;
        }
    }

    /// The next `user_joined` payload (`{id, email}`), waiting for it if needed.
    pub async fn expect_joined(&mut self) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(user) = self.joined.pop_front() {
                return user;
            }
            assert!(
                !self.closed,
                "{}: closed while waiting for user_joined",
                self.name
            );
            assert!(
                Instant::now() < deadline,
                "{}: no user_joined within {WAIT:?}",
                self.name
            );
            self.pump_once(deadline).await;
        }
    }

    /// Whether no `user_joined` arrived that was not taken by [`expect_joined`](Self::expect_joined).
    pub fn no_joined_pending(&self) -> bool {
        self.joined.is_empty()
    }

    /// The next event, which must be `name`; returns its first argument (or null).
    pub async fn expect(&mut self, name: &str) -> Value {
        let (got, args) = self.next_event().await;
        assert_eq!(
            got, name,
            "{}: expected {name}, got {got} {args:?}",
            self.name
        );
        args.into_iter().next().unwrap_or(Value::Null)
    }

    /// Two peers, "a" then "b", joined to `room`: where most tests start.
    pub async fn pair_in_room(server: &RunningServer, room: &str) -> (Peer, Peer) {
        let mut a = Peer::connect(server, "a").await;
        let mut b = Peer::connect(server, "b").await;
        a.join_expect_users(room).await;
        b.join_expect_users(room).await;
        (a, b)
    }

    /// The seed's signaling once both are in a room: `joiner` offers, `first` answers, each
    /// sends a candidate; asserts that every message arrives unchanged at the other one.
    pub async fn exchange_offer_answer_candidates(joiner: &mut Peer, first: &mut Peer) {
        joiner.emit("offer", vec![sdp("offer", "1")]).await;
        assert_eq!(first.expect("getOffer").await, sdp("offer", "1"));
        first.emit("answer", vec![sdp("answer", "2")]).await;
        assert_eq!(joiner.expect("getAnswer").await, sdp("answer", "2"));
        first.emit("candidate", vec![candidate("a")]).await;
        joiner.emit("candidate", vec![candidate("b")]).await;
        assert_eq!(joiner.expect("getCandidate").await, candidate("a"));
        assert_eq!(first.expect("getCandidate").await, candidate("b"));
    }

    /// Joins `room`; returns `all_users` as it came.
    pub async fn join_expect_users_raw(&mut self, room: &str) -> Value {
        self.join(room).await;
        self.expect("all_users").await
    }

    /// Joins and returns the ids in `all_users`.
    pub async fn join_expect_users(&mut self, room: &str) -> Vec<String> {
        self.join(room).await;
        let users = self.expect("all_users").await;
        users
            .as_array()
            .expect("all_users is an array")
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Proves that nothing else is queued for this peer: asks the server for an answer (an
    /// unknown event is answered with `error unknown_event`, after everything already sent to
    /// this socket) and asserts that answer is the very next event.
    pub async fn expect_nothing_pending(&mut self) {
        self.emit("duet_test_probe", vec![]).await;
        let (name, args) = self.next_event().await;
        assert_eq!(
            (name.as_str(), args.first().and_then(|a| a["code"].as_str())),
            ("error", Some("unknown_event")),
            "{}: unexpected event before the probe's answer: {name} {args:?}",
            self.name
        );
    }

    /// Returns every event queued for this peer, up to the answer to a probe (see
    /// [`expect_nothing_pending`](Self::expect_nothing_pending)).
    pub async fn settle(&mut self) -> Vec<(String, Vec<Value>)> {
        self.emit("duet_test_probe", vec![]).await;
        let mut seen = Vec::new();
        loop {
            let (name, args) = self.next_event().await;
            if name == "error"
                && args.first().and_then(|a| a["code"].as_str()) == Some("unknown_event")
            {
                return seen;
            }
            seen.push((name, args));
        }
    }

    /// Waits until the server closes this connection.
    pub async fn expect_closed(&mut self) {
        let deadline = Instant::now() + WAIT;
        while !self.closed {
            assert!(
                Instant::now() < deadline,
                "{}: not closed in time",
                self.name
            );
            self.pump_once(deadline).await;
        }
    }

    /// Closes the WebSocket (as a page closing).
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
        // Drain until the server acknowledges, so the close is really on the wire.
        let _ = tokio::time::timeout(WAIT, async {
            while let Some(Ok(_)) = self.ws.next().await {}
        })
        .await;
    }
}

/// An RTCSessionDescriptionInit.
pub fn sdp(kind: &str, tag: &str) -> Value {
    json!({"type": kind, "sdp": format!("v=0\r\no=- {tag} 2 IN IP4 127.0.0.1\r\ns=-\r\n")})
}

/// An RTCIceCandidateInit.
pub fn candidate(tag: &str) -> Value {
    json!({"candidate": format!("candidate:{tag} 1 udp 2122260223 192.0.2.1 50000 typ host"),
           "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": null})
}

/// Opens a raw WebSocket and reads the Engine.IO open and the Socket.IO connect.
pub async fn raw_ws(server: &RunningServer) -> Ws {
    let url = websocket_url(&server.base_url()).unwrap();
    let (mut ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
        .await
        .expect("ws connect in time")
        .expect("ws connect");
    let open = next_text(&mut ws).await.expect("open packet");
    assert!(open.starts_with("0{"), "open packet: {open}");
    assert_eq!(next_text(&mut ws).await.as_deref(), Some("40"));
    ws
}

/// The next text frame, or None when the connection ends (bounded by [`WAIT`]).
pub async fn next_text(ws: &mut Ws) -> Option<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Err(_) => panic!("raw socket: nothing within {WAIT:?}"),
            Ok(Some(Ok(Message::Text(t)))) => return Some(t.to_string()),
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return None,
            Ok(Some(Ok(_))) => {}
        }
    }
}
