//! One Socket.IO 2.x client connection for the load generator: duet-protocol's sans-IO
//! [`SocketClient`] driven over tokio-tungstenite, talked to through channels.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use duet_protocol::client::{ClientEvent, Command};
use duet_protocol::signaling::{ClientMessage, ServerMessage};
use duet_testkit::sio::{self, ConnectError as SioConnectError};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpSocket;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Initial WebSocket read buffer per client connection (it grows for larger messages).
const READ_BUFFER: usize = 4096;

/// Why a connection could not be made or ended early.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// TCP connect or bind failed.
    #[error("tcp: {0}")]
    Io(#[from] std::io::Error),
    /// The WebSocket handshake failed.
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    /// The Socket.IO connect did not complete.
    #[error("socket.io connect failed: {0}")]
    Connect(String),
}

/// The connection has ended; nothing more can be emitted.
#[derive(Debug, thiserror::Error)]
#[error("connection ended")]
pub struct Ended;

/// What the connection reports to its owner.
#[derive(Debug)]
pub enum Incoming {
    /// A signaling event from the server.
    Message(ServerMessage),
    /// The connection ended.
    Closed(String),
}

/// Runs inside a connection's own task (the timed relay phase): a relay then costs no task
/// wake-up or channel hop in the generator, which also queued behind other clients' tasks
/// and would have read as server latency.
pub trait Driver: Send {
    /// When [`tick`](Self::tick) is due next; `None` when it never is.
    fn next_tick(&self) -> Option<tokio::time::Instant>;
    /// The tick: a message to emit, if any.
    fn tick(&mut self) -> Option<ClientMessage>;
    /// A message from the server.
    fn message(&mut self, message: ServerMessage);
    /// The connection ended while driven.
    fn closed(&mut self);
    /// Done: the connection drops the driver and forwards messages again.
    fn finished(&self) -> bool;
}

/// A connected client: send messages in, read events out.
pub struct Conn {
    /// Messages to emit.
    pub tx: mpsc::UnboundedSender<ClientMessage>,
    /// Events received.
    pub rx: mpsc::UnboundedReceiver<Incoming>,
    /// A driver to run the connection until it is finished; meanwhile messages go to it, not
    /// to `rx`.
    pub drive: mpsc::UnboundedSender<Box<dyn Driver>>,
}

impl Conn {
    /// Emits `message`; fails once the connection has ended.
    pub fn emit(&self, message: ClientMessage) -> Result<(), Ended> {
        self.tx.send(message).map_err(|_| Ended)
    }
}

/// Connects to `server` (host:port) from `source` (a loopback address, so that many generators
/// can open more than 64k connections between them), completes the Socket.IO connect, and spawns
/// the task that drives the connection.
pub async fn connect(
    server: SocketAddr,
    source: Option<IpAddr>,
    path: &str,
) -> Result<Conn, ConnError> {
    let socket = if server.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(ip) = source {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    let url = format!("ws://{server}{path}");
    // tungstenite zeroes its whole read buffer before every read; its 128 KiB default made
    // memset a third of the generator's CPU. Signaling messages are small (an SDP is ~5 KB).
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let (mut ws, _) =
        tokio_tungstenite::client_async_with_config(url, stream, Some(config)).await?;

    let epoch = Instant::now();
    let now = move || epoch.elapsed();
    let mut client = sio::open_client(now());
    // Handshake and namespace connect, bounded. Nothing else arrives before a join.
    tokio::time::timeout(
        Duration::from_secs(20),
        sio::handshake(&mut ws, &mut client, now),
    )
    .await
    .map_err(|_| ConnError::Connect("timed out".into()))?
    .map_err(|e| match e {
        SioConnectError::Ws(e) => ConnError::Ws(*e),
        other => ConnError::Connect(other.to_string()),
    })?;

    let (tx, mut app_rx) = mpsc::unbounded_channel::<ClientMessage>();
    let (drive, mut drive_rx) = mpsc::unbounded_channel::<Box<dyn Driver>>();
    let (app_tx, rx) = mpsc::unbounded_channel::<Incoming>();
    tokio::spawn(async move {
        let mut driver: Option<Box<dyn Driver>> = None;
        // Two timers made once and reset as needed: the client's heartbeat and the driver's.
        let far = || tokio::time::Instant::now() + Duration::from_secs(86_400);
        let heartbeat = tokio::time::sleep(Duration::ZERO);
        let tick = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(heartbeat, tick);
        let reason = loop {
            let deadline = client
                .poll_timeout()
                .map(|t| tokio::time::Instant::from_std(epoch + t));
            heartbeat.as_mut().reset(deadline.unwrap_or_else(far));
            let next_tick = driver.as_ref().and_then(|d| d.next_tick());
            tick.as_mut().reset(next_tick.unwrap_or_else(far));
            tokio::select! {
                msg = ws.next() => match msg {
                    Some(Ok(Message::Close(_))) | None => break "closed by server".to_owned(),
                    Some(Err(e)) => break format!("websocket error: {e}"),
                    Some(Ok(m)) => {
                        if let Some(f) = sio::frame(&m) {
                            client.handle_frame(&f, now());
                        }
                    }
                },
                out = app_rx.recv() => match out {
                    Some(m) => { let _ = client.emit_message(&m); }
                    None => break "dropped".to_owned(),
                },
                Some(d) = drive_rx.recv() => driver = Some(d),
                _ = &mut heartbeat, if deadline.is_some() => client.handle_timeout(now()),
                _ = &mut tick, if next_tick.is_some() => {
                    if let Some(m) = driver.as_mut().and_then(|d| d.tick()) {
                        let _ = client.emit_message(&m);
                    }
                }
            }
            let mut closed = None;
            while let Some(cmd) = client.poll_command() {
                match cmd {
                    Command::Send(f) => {
                        if let Err(e) = ws.send(sio::message(f)).await {
                            closed = Some(format!("send failed: {e}"));
                        }
                    }
                    Command::Close => closed = Some("client closed".to_owned()),
                    Command::Open => {}
                }
            }
            while let Some(ev) = client.poll_event() {
                match ev {
                    ClientEvent::Event { name, args, .. } => {
                        if let Ok(m) = ServerMessage::from_event(&name, &args) {
                            match driver.as_mut() {
                                Some(d) => d.message(m),
                                None => {
                                    let _ = app_tx.send(Incoming::Message(m));
                                }
                            }
                        }
                    }
                    ClientEvent::Disconnected(r) => closed = Some(format!("{r:?}")),
                    _ => {}
                }
            }
            if let Some(reason) = closed {
                break reason;
            }
            if driver.as_ref().is_some_and(|d| d.finished()) {
                driver = None;
            }
        };
        if let Some(mut d) = driver.take() {
            d.closed();
        }
        let _ = ws.close(None).await;
        let _ = app_tx.send(Incoming::Closed(reason));
    });
    Ok(Conn { tx, rx, drive })
}
