//! A hostile signaling server for end-to-end tests: it speaks Engine.IO v3 / Socket.IO with
//! duet-protocol well enough to get Duet pages into a room and relay a real call between them
//! (join, `all_users`, `user_joined`, offer, answer, candidates, `user_exit`), and lets the test
//! send any page anything on top: malformed frames, events of the wrong shape, floods.
//!
//! It also serves the site (dist/) itself, so each page is same-origin with it, and answers
//! every request with `Connection: close` (the page needs only a handful of files). Asked to,
//! it never answers `/config.json`, as a hung config server would
//! ([`HostileServer::hang_config`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use duet_protocol::engineio::{Handshake, Packet as EioPacket, PacketData, PacketType};
use duet_protocol::signaling::{ClientMessage, ServerMessage, User, UserExit};
use duet_protocol::socketio::Packet as SioPacket;
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// What the server sends a page: a raw WebSocket message, or the end of the connection.
#[derive(Debug, Clone)]
pub enum Out {
    /// A text frame, sent as it is.
    Text(String),
    /// A binary frame, sent as it is.
    Binary(Vec<u8>),
    /// Close the WebSocket.
    Close,
}

/// One connected page, as the server knows it.
#[derive(Debug)]
struct Client {
    sid: String,
    tx: mpsc::UnboundedSender<Out>,
    room: Option<String>,
    name: String,
}

#[derive(Debug, Default)]
struct State {
    clients: Vec<Client>,
    /// Events received from pages, by name.
    received: HashMap<String, u64>,
    next_sid: u64,
    /// `/config.json` is left unanswered ([`HostileServer::hang_config`]).
    hang_config: bool,
    /// Requests for it that the page gave up on (closed the connection while waiting).
    config_abandoned: u64,
}

type Shared = Arc<Mutex<State>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// The running server; stops when dropped.
pub struct HostileServer {
    addr: SocketAddr,
    state: Shared,
    task: JoinHandle<()>,
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HostileServer {
    /// Starts on an ephemeral 127.0.0.1 port, serving `site`.
    pub async fn start(site: &Path) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state: Shared = Arc::default();
        let (site, shared) = (site.to_owned(), state.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (site, shared) = (site.clone(), shared.clone());
                tokio::spawn(async move {
                    if let Err(e) = connection(stream, &site, shared).await {
                        eprintln!("hostile server: {e:#}");
                    }
                });
            }
        });
        Ok(Self { addr, state, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL of the Duet page joining `room` as `name` through this server.
    pub fn page_url(&self, room: &str, name: &str) -> String {
        format!("{}/?room={room}&name={name}&ice=none", self.origin())
    }

    /// From now on, requests for `/config.json` get no answer at all: the connection stays
    /// open and silent until the page closes it.
    pub fn hang_config(&self) {
        lock(&self.state).hang_config = true;
    }

    /// How many unanswered `/config.json` requests the page closed.
    pub fn config_abandoned(&self) -> u64 {
        lock(&self.state).config_abandoned
    }

    /// The sids of the pages in a room, in the order they joined.
    pub fn members(&self) -> Vec<String> {
        lock(&self.state)
            .clients
            .iter()
            .filter(|c| c.room.is_some())
            .map(|c| c.sid.clone())
            .collect()
    }

    /// Waits (polling every 50 ms, at most `within`) until a page that joined as `name` is in a
    /// room, and returns the sid of its latest connection: a page reconnects when the server
    /// closes its transport (an Engine.IO close is among the garbage), and rejoins.
    pub async fn wait_joined(&self, name: &str, within: Duration) -> Result<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let sid = lock(&self.state)
                .clients
                .iter()
                .rev()
                .find(|c| c.room.is_some() && c.name == name)
                .map(|c| c.sid.clone());
            if let Some(sid) = sid {
                return Ok(sid);
            }
            if tokio::time::Instant::now() >= deadline {
                bail!("{name} is in no room after {within:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// How many `name` events pages have sent.
    pub fn received(&self, name: &str) -> u64 {
        lock(&self.state).received.get(name).copied().unwrap_or(0)
    }

    /// Waits (polling every 50 ms, at most `within`) until `n` pages are in a room.
    pub async fn wait_members(&self, n: usize, within: Duration) -> Result<Vec<String>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let members = self.members();
            if members.len() >= n {
                return Ok(members);
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "only {} of {n} pages joined within {within:?}",
                    members.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends `out` to the page `sid` as it is. Fails when that page is gone.
    pub fn send(&self, sid: &str, out: Out) -> Result<()> {
        let state = lock(&self.state);
        let client = state
            .clients
            .iter()
            .find(|c| c.sid == sid)
            .with_context(|| format!("no page {sid}"))?;
        client
            .tx
            .send(out)
            .map_err(|_| anyhow::anyhow!("page {sid} disconnected"))
    }

    /// Sends every frame of `outs` to `sid`, in order, as fast as the connection takes them.
    pub fn send_many(&self, sid: &str, outs: impl IntoIterator<Item = Out>) -> Result<()> {
        for out in outs {
            self.send(sid, out)?;
        }
        Ok(())
    }

    /// An event frame `42[name, args…]` as text.
    pub fn event_frame(name: &str, args: Vec<Value>) -> Out {
        Out::Text(format!("4{}", SioPacket::event(name, args).encode()))
    }
}

/// Serves one TCP connection: a WebSocket on `/socket.io/`, a file otherwise.
async fn connection(stream: TcpStream, site: &Path, state: Shared) -> Result<()> {
    let head = peek_head(&stream).await?;
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    if path.starts_with("/socket.io/") && head.to_ascii_lowercase().contains("upgrade: websocket") {
        let ws = tokio_tungstenite::accept_async(stream).await?;
        websocket(ws, state).await;
        Ok(())
    } else if path.split('?').next() == Some("/config.json") && lock(&state).hang_config {
        hang(stream, &state).await
    } else {
        file(stream, site, &path).await
    }
}

/// Reads the request and whatever follows, answering nothing, until the page closes the
/// connection; then counts it as abandoned.
async fn hang(mut stream: TcpStream, state: &Shared) -> Result<()> {
    let mut buf = vec![0u8; 4096];
    while stream.read(&mut buf).await? > 0 {}
    lock(state).config_abandoned += 1;
    Ok(())
}

/// The request head, left in the socket for the WebSocket handshake to read.
async fn peek_head(stream: &TcpStream) -> Result<String> {
    let mut buf = vec![0u8; 16 * 1024];
    for _ in 0..200 {
        let n = stream.peek(&mut buf).await?;
        let text = String::from_utf8_lossy(&buf[..n]);
        if let Some(end) = text.find("\r\n\r\n") {
            return Ok(text[..end].to_owned());
        }
        if n == 0 || n == buf.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    bail!("no complete request head")
}

async fn file(mut stream: TcpStream, site: &Path, path: &str) -> Result<()> {
    // Consume the head (GET requests have no body).
    let mut buf = vec![0u8; 16 * 1024];
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let path = path.split('?').next().unwrap_or("/");
    let relative = if path == "/" {
        "index.html"
    } else {
        path.trim_start_matches('/')
    };
    let file: PathBuf = site.join(relative);
    let (status, kind, body) = match (relative.contains(".."), std::fs::read(&file)) {
        (false, Ok(body)) => ("200 OK", content_type(relative), body),
        _ => ("404 Not Found", "text/plain", b"not found\n".to_vec()),
    };
    let header = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(header.as_bytes()).await?;
    stream.write_all(&body).await?;
    stream.shutdown().await?;
    Ok(())
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// One page's signaling connection: handshake, then relay and answer pings until it closes.
async fn websocket(ws: tokio_tungstenite::WebSocketStream<TcpStream>, state: Shared) {
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
    let sid = {
        let mut s = lock(&state);
        s.next_sid += 1;
        let sid = format!("hostile{:013}", s.next_sid);
        s.clients.push(Client {
            sid: sid.clone(),
            tx: tx.clone(),
            room: None,
            name: String::new(),
        });
        sid
    };
    let open = Handshake {
        sid: sid.clone(),
        upgrades: Vec::new(),
        ping_interval: 25_000,
        ping_timeout: 60_000,
    };
    let open = serde_json::to_string(&open).unwrap_or_default();
    let _ = tx.send(Out::Text(format!("0{open}")));
    let _ = tx.send(Out::Text("40".into()));
    let writer = tokio::spawn(async move {
        while let Some(out) = rx.recv().await {
            let sent = match out {
                Out::Text(t) => sink.send(Message::text(t)).await,
                Out::Binary(b) => sink.send(Message::binary(b)).await,
                Out::Close => {
                    let _ = sink.close().await;
                    break;
                }
            };
            if sent.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(msg)) = stream.next().await {
        let Message::Text(text) = msg else { continue };
        let Ok(packet) = EioPacket::decode_text(&text) else {
            continue;
        };
        match packet.kind {
            PacketType::Ping => {
                let _ = tx.send(Out::Text("3".into()));
            }
            PacketType::Message => {
                if let PacketData::Text(t) = &packet.data
                    && let Ok((sio, _)) = SioPacket::decode(t)
                    && let Some(name) = sio.event_name()
                {
                    on_event(&state, &sid, name, sio.args());
                }
            }
            PacketType::Close => break,
            _ => {}
        }
    }
    writer.abort();
    leave(&state, &sid, true);
}

/// Does what a room-scoped server does with a page's event.
fn on_event(state: &Shared, sid: &str, name: &str, args: &[Value]) {
    let mut s = lock(state);
    *s.received.entry(name.to_owned()).or_default() += 1;
    let Ok(message) = ClientMessage::from_event(name, args) else {
        return;
    };
    match message {
        ClientMessage::JoinRoom(join) => {
            drop(s);
            leave(state, sid, false);
            let mut s = lock(state);
            let users: Vec<User> = s
                .clients
                .iter()
                .filter(|c| c.room.as_deref() == Some(join.room.as_str()))
                .map(|c| User {
                    id: c.sid.clone(),
                    email: c.name.clone(),
                    warm_offer: false,
                })
                .collect();
            let joined = ServerMessage::UserJoined(User {
                id: sid.to_owned(),
                email: join.email.clone(),
                warm_offer: join.warm_offer,
            });
            for c in s
                .clients
                .iter()
                .filter(|c| c.room.as_deref() == Some(join.room.as_str()))
            {
                let _ = c.tx.send(frame(&joined));
            }
            if let Some(me) = s.clients.iter_mut().find(|c| c.sid == sid) {
                me.room = Some(join.room);
                me.name = join.email;
                let _ = me.tx.send(frame(&ServerMessage::AllUsers(users)));
            }
        }
        ClientMessage::LeaveRoom => {
            drop(s);
            leave(state, sid, false);
        }
        ClientMessage::Offer(d) => relay(&s, sid, &ServerMessage::Offer(d)),
        ClientMessage::Answer(d) => relay(&s, sid, &ServerMessage::Answer(d)),
        ClientMessage::Candidate(c) => relay(&s, sid, &ServerMessage::Candidate(c)),
    }
}

fn frame(m: &ServerMessage) -> Out {
    HostileServer::event_frame(m.event_name(), m.args())
}

fn relay(s: &State, sid: &str, m: &ServerMessage) {
    let room = s
        .clients
        .iter()
        .find(|c| c.sid == sid)
        .and_then(|c| c.room.clone());
    if room.is_none() {
        return;
    }
    for c in s.clients.iter().filter(|c| c.sid != sid && c.room == room) {
        let _ = c.tx.send(frame(m));
    }
}

/// Takes `sid` out of its room (telling the others), and out of the server when `gone`.
fn leave(state: &Shared, sid: &str, gone: bool) {
    let mut s = lock(state);
    let room = s
        .clients
        .iter_mut()
        .find(|c| c.sid == sid)
        .and_then(|c| c.room.take());
    if let Some(room) = room {
        let exit = frame(&ServerMessage::UserExit(UserExit { id: sid.to_owned() }));
        for c in s.clients.iter().filter(|c| c.room.as_ref() == Some(&room)) {
            let _ = c.tx.send(exit.clone());
        }
    }
    if gone {
        s.clients.retain(|c| c.sid != sid);
    }
}
