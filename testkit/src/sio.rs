//! duet-protocol's sans-IO [`SocketClient`] over a tokio-tungstenite WebSocket: the Socket.IO
//! connect, and the plumbing between the client's commands and events and WebSocket frames.
//! The server tests wrap it in an asserting peer; the load generator in its connection task.

use std::time::Duration;

use duet_protocol::Frame;
use duet_protocol::client::{ClientConfig, ClientEvent, Command, SocketClient};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self, Message};

/// Why the Socket.IO connect did not complete.
#[derive(Debug)]
pub enum ConnectError {
    /// The WebSocket failed.
    Ws(Box<tungstenite::Error>),
    /// The server refused the namespace connect.
    Refused(String),
    /// The connection closed before the connect completed.
    Closed,
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ws(e) => write!(f, "websocket: {e}"),
            Self::Refused(e) => write!(f, "socket.io connect refused: {e}"),
            Self::Closed => f.write_str("closed during the socket.io connect"),
        }
    }
}

impl std::error::Error for ConnectError {}

impl From<tungstenite::Error> for ConnectError {
    fn from(e: tungstenite::Error) -> Self {
        Self::Ws(Box::new(e))
    }
}

/// A client for a WebSocket that is already open: no reconnection (the tests and the load
/// generator want to see a lost connection, not hide it), told the transport is open at `now`.
pub fn open_client(now: Duration) -> SocketClient {
    let mut client = SocketClient::new(ClientConfig {
        reconnection: false,
        ..ClientConfig::default()
    });
    client.connect(now);
    // The connect asks to open the transport: it already is.
    while client.poll_command().is_some() {}
    client.handle_open(now);
    client
}

/// The WebSocket message for a frame the client wants sent.
pub fn message(frame: Frame) -> Message {
    match frame {
        Frame::Text(t) => Message::text(t),
        Frame::Binary(b) => Message::binary(b),
    }
}

/// The frame for the client in a WebSocket message (`None` for control messages).
pub fn frame(message: &Message) -> Option<Frame> {
    match message {
        Message::Text(t) => Some(Frame::Text(t.to_string())),
        Message::Binary(b) => Some(Frame::Binary(b.to_vec())),
        _ => None,
    }
}

/// Sends what the client has queued. Returns `Ok(true)` when the client asked to close (the
/// WebSocket is then closed too).
pub async fn flush<S>(
    ws: &mut WebSocketStream<S>,
    client: &mut SocketClient,
) -> Result<bool, tungstenite::Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut closed = false;
    while let Some(cmd) = client.poll_command() {
        match cmd {
            Command::Send(f) => ws.send(message(f)).await?,
            Command::Close => {
                closed = true;
                let _ = ws.close(None).await;
            }
            Command::Open => {}
        }
    }
    Ok(closed)
}

/// Completes the Socket.IO connect on an open WebSocket: reads frames until the client is
/// connected to the root namespace; `now` is the client's clock. Returns the events that came
/// with the connect, after `Connected` (usually none).
pub async fn handshake<S>(
    ws: &mut WebSocketStream<S>,
    client: &mut SocketClient,
    now: impl Fn() -> Duration,
) -> Result<Vec<ClientEvent>, ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut early = Vec::new();
    let mut connected = false;
    loop {
        flush(ws, client).await?;
        while let Some(ev) = client.poll_event() {
            match ev {
                ClientEvent::Connected { .. } => connected = true,
                ClientEvent::ConnectError(e) => {
                    return Err(ConnectError::Refused(format!("{e:?}")));
                }
                ClientEvent::Disconnected(_) if !connected => return Err(ConnectError::Closed),
                other if connected => early.push(other),
                _ => {}
            }
        }
        if connected {
            return Ok(early);
        }
        let Some(msg) = ws.next().await else {
            return Err(ConnectError::Closed);
        };
        let msg = msg?;
        if let Message::Close(_) = msg {
            return Err(ConnectError::Closed);
        }
        if let Some(f) = frame(&msg) {
            client.handle_frame(&f, now());
        }
    }
}
