//! A sans-IO Socket.IO 2.x client over one WebSocket, behaving like socket.io-client 2.3.0.
//!
//! The caller owns the WebSocket and the clock. It feeds in what happened (transport opened,
//! frame received, transport closed, time passed) with the current time as a [`Duration`] since
//! any fixed origin, and drains what to do ([`Command`]: open, send, close) and what happened
//! ([`ClientEvent`]: connected, event, disconnected, …). Nothing here blocks, sleeps or spawns, so
//! the same logic runs under a browser WebSocket, tokio-tungstenite, or a test with fake time.
//!
//! Behaviour copied from socket.io-client / engine.io-client 2.x/3.x:
//! - after the Engine.IO handshake the client pings every `pingInterval`; any packet from the
//!   server pushes the dead-connection deadline to `pingInterval + pingTimeout`, a sent ping
//!   shortens it to `pingTimeout`, a pong schedules the next ping;
//! - the root namespace is connected when the server sends `40`; other namespaces are asked for
//!   with `40/nsp[?query],`;
//! - emits while not connected are buffered and flushed on connect (bounded here);
//! - a lost connection is retried after [`Backoff`] delays (1 s, ×2, max 5 s, jitter 0.5),
//!   reset on success; a server-side disconnect (`41`) or a refused namespace is not retried.

use std::collections::VecDeque;
use std::time::Duration;

use crate::backoff::Backoff;
use crate::engineio::{self, Frame, PacketData, PacketType};
use crate::json::{DefaultJson, Json};
use crate::signaling::ClientMessage;
use crate::socketio::{self, Decoder, PacketKind};

/// How the client behaves; the defaults are socket.io-client 2.3.0's.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The namespace to connect to.
    pub namespace: String,
    /// A query string sent with a non-root namespace's CONNECT.
    pub query: Option<String>,
    /// Whether to reconnect after losing the connection.
    pub reconnection: bool,
    /// First reconnection delay.
    pub reconnection_delay: Duration,
    /// Longest reconnection delay.
    pub reconnection_delay_max: Duration,
    /// Jitter, 0 to 1.
    pub randomization_factor: f64,
    /// Give up on one connection attempt after this long.
    pub connect_timeout: Duration,
    /// Most emits held while disconnected; more are refused rather than grow without bound.
    pub max_buffered: usize,
    /// Seed for the jitter.
    pub seed: u64,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            namespace: "/".to_owned(),
            query: None,
            reconnection: true,
            reconnection_delay: Duration::from_millis(1000),
            reconnection_delay_max: Duration::from_millis(5000),
            randomization_factor: 0.5,
            connect_timeout: Duration::from_millis(20_000),
            max_buffered: 1024,
            seed: 0x5EED,
        }
    }
}

/// What the caller must do to the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Open a new WebSocket to the endpoint (closing any old one).
    Open,
    /// Send this frame on the open WebSocket.
    Send(Frame),
    /// Close the WebSocket.
    Close,
}

/// Why the connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectReason {
    /// No packet from the server within the heartbeat deadline.
    PingTimeout,
    /// The transport closed (network, server gone, or an Engine.IO close packet).
    TransportClose,
    /// The server disconnected this socket (`41`); not retried.
    ServerDisconnect,
    /// [`SocketClient::disconnect`] was called.
    ClientDisconnect,
}

/// Why a connection attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError<J = DefaultJson> {
    /// The transport closed before the namespace was connected.
    TransportClose,
    /// The attempt took longer than `connect_timeout`.
    Timeout,
    /// The server's handshake was not understood.
    Handshake(String),
    /// The server refused the namespace (an ERROR packet); not retried.
    Refused(J),
}

/// A malformed frame from the server. The connection carries on; the frame is dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Not a valid Engine.IO packet.
    #[error(transparent)]
    EngineIo(#[from] engineio::DecodeError),
    /// Not a valid Socket.IO packet.
    #[error(transparent)]
    SocketIo(#[from] socketio::DecodeError),
    /// A Socket.IO ERROR packet after the namespace was connected: reported, not acted on.
    #[error("the server sent an error packet: {0}")]
    ErrorPacket(String),
}

/// What happened, in order. `J` is the JSON implementation (see [`crate::json`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent<J = DefaultJson> {
    /// The namespace is connected; buffered emits have been sent.
    Connected {
        /// The Engine.IO session id.
        sid: String,
    },
    /// The server sent an event.
    Event {
        /// Its name.
        name: String,
        /// Its arguments (placeholders in place of binary parts).
        args: Vec<J>,
        /// Binary attachments, for binary events.
        attachments: Vec<Vec<u8>>,
        /// Set when the server asked for an acknowledgement: answer with [`SocketClient::ack`].
        ack: Option<u64>,
    },
    /// The server acknowledged an emit sent with [`SocketClient::emit_with_ack`].
    Ack {
        /// The id `emit_with_ack` returned.
        id: u64,
        /// The server's answer.
        args: Vec<J>,
    },
    /// A connection attempt failed.
    ConnectError(ConnectError<J>),
    /// An established connection ended.
    Disconnected(DisconnectReason),
    /// The next attempt starts after `delay`.
    Reconnecting {
        /// 1 for the first retry.
        attempt: u32,
        /// How long until it starts.
        delay: Duration,
    },
    /// A frame from the server was dropped.
    ProtocolError(ProtocolError),
}

/// Whether an emit went out now or waits for the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmitStatus {
    /// Sent on the open connection.
    Sent,
    /// Held until the next connect.
    Buffered,
}

/// An emit was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// The buffer of emits waiting for a connection is full.
    #[error("{0} emits are already waiting for the connection")]
    BufferFull(usize),
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    /// Not connected and not trying.
    Idle,
    /// Waiting to retry.
    Backoff { retry_at: Duration },
    /// Transport requested or open, waiting for the handshake and the namespace.
    Connecting {
        deadline: Duration,
        sid: Option<String>,
    },
    /// Connected to the namespace.
    Connected { sid: String },
}

#[derive(Debug, Clone, Copy, Default)]
struct Heartbeat {
    interval: Duration,
    timeout: Duration,
    next_ping: Option<Duration>,
    deadline: Option<Duration>,
}

/// The client state machine. See the module documentation. `J` is the JSON implementation the
/// events are carried in (see [`crate::json`]).
#[derive(Debug)]
pub struct SocketClient<J = DefaultJson> {
    config: ClientConfig,
    state: State,
    heartbeat: Heartbeat,
    backoff: Backoff,
    decoder: Decoder<J>,
    buffer: VecDeque<socketio::Packet<J>>,
    next_ack_id: u64,
    commands: VecDeque<Command>,
    events: VecDeque<ClientEvent<J>>,
}

#[cfg(feature = "serde_json")]
impl SocketClient {
    /// A client over `serde_json` that does nothing until [`connect`](Self::connect).
    pub fn new(config: ClientConfig) -> Self {
        Self::with_config(config)
    }
}

impl<J: Json> SocketClient<J> {
    /// A client over any JSON implementation that does nothing until
    /// [`connect`](Self::connect).
    pub fn with_config(config: ClientConfig) -> Self {
        let backoff = Backoff::new(
            config.reconnection_delay,
            config.reconnection_delay_max,
            2.0,
            config.randomization_factor,
            config.seed,
        );
        Self {
            config,
            state: State::Idle,
            heartbeat: Heartbeat::default(),
            backoff,
            decoder: Decoder::default(),
            buffer: VecDeque::new(),
            next_ack_id: 0,
            commands: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Whether the namespace is connected.
    pub fn is_connected(&self) -> bool {
        matches!(self.state, State::Connected { .. })
    }

    /// The Engine.IO session id while connected.
    pub fn sid(&self) -> Option<&str> {
        match &self.state {
            State::Connected { sid } => Some(sid),
            _ => None,
        }
    }

    /// How many emits wait for the connection.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Starts connecting (no-op while connecting or connected).
    pub fn connect(&mut self, now: Duration) {
        match self.state {
            State::Idle | State::Backoff { .. } => self.start_attempt(now),
            State::Connecting { .. } | State::Connected { .. } => {}
        }
    }

    /// Leaves for good: sends a disconnect if connected, closes the transport, forgets buffered
    /// emits and stops retrying.
    pub fn disconnect(&mut self) {
        let was_connected = self.is_connected();
        if was_connected {
            let packet = socketio::Packet::blank(PacketKind::Disconnect)
                .with_nsp(self.config.namespace.clone());
            self.send_packet(&packet);
        }
        if !matches!(self.state, State::Idle) {
            self.commands.push_back(Command::Close);
        }
        self.buffer.clear();
        self.enter_idle();
        if was_connected {
            self.events.push_back(ClientEvent::Disconnected(
                DisconnectReason::ClientDisconnect,
            ));
        }
    }

    /// The transport reports that it is open. Nothing to send yet: the server speaks first.
    pub fn handle_open(&mut self, _now: Duration) {}

    /// The transport closed, or failed to open.
    pub fn handle_close(&mut self, now: Duration) {
        match self.state {
            State::Connected { .. } => {
                self.events
                    .push_back(ClientEvent::Disconnected(DisconnectReason::TransportClose));
                self.retry_or_idle(now);
            }
            State::Connecting { .. } => {
                self.events
                    .push_back(ClientEvent::ConnectError(ConnectError::TransportClose));
                self.retry_or_idle(now);
            }
            State::Idle | State::Backoff { .. } => {}
        }
    }

    /// A frame arrived.
    pub fn handle_frame(&mut self, frame: &Frame, now: Duration) {
        if matches!(self.state, State::Idle | State::Backoff { .. }) {
            return; // Late frame from a transport we already gave up on.
        }
        let packet = match engineio::Packet::decode_frame(frame) {
            Ok(p) => p,
            Err(e) => {
                self.events.push_back(ClientEvent::ProtocolError(e.into()));
                return;
            }
        };
        // Any packet proves the server alive (engine.io-client's `heartbeat` event).
        if self.heartbeat.interval > Duration::ZERO {
            self.heartbeat.deadline = Some(now + self.heartbeat.interval + self.heartbeat.timeout);
        }
        match packet.kind {
            PacketType::Open => self.on_handshake(&packet, now),
            PacketType::Pong => {
                if self.heartbeat.interval > Duration::ZERO {
                    self.heartbeat.next_ping = Some(now + self.heartbeat.interval);
                }
            }
            PacketType::Close => {
                self.commands.push_back(Command::Close);
                self.handle_close(now);
            }
            PacketType::Message => match &packet.data {
                PacketData::Binary(b) => match self.decoder.decode_binary(b) {
                    Ok(Some(p)) => self.on_packet(p),
                    Ok(None) => {}
                    Err(e) => self.events.push_back(ClientEvent::ProtocolError(e.into())),
                },
                _ => match self.decoder.decode_text(packet.as_text().unwrap_or("")) {
                    Ok(Some(p)) => self.on_packet(p),
                    Ok(None) => {}
                    Err(e) => self.events.push_back(ClientEvent::ProtocolError(e.into())),
                },
            },
            PacketType::Ping | PacketType::Upgrade | PacketType::Noop => {}
        }
    }

    /// Time passed: fires whatever deadline is due. Call at [`poll_timeout`](Self::poll_timeout).
    pub fn handle_timeout(&mut self, now: Duration) {
        match self.state {
            State::Backoff { retry_at } if now >= retry_at => self.start_attempt(now),
            State::Connecting { deadline, .. } if now >= deadline => {
                self.commands.push_back(Command::Close);
                self.events
                    .push_back(ClientEvent::ConnectError(ConnectError::Timeout));
                self.retry_or_idle(now);
            }
            _ => {}
        }
        if matches!(
            self.state,
            State::Connecting { .. } | State::Connected { .. }
        ) {
            if self.heartbeat.deadline.is_some_and(|d| now >= d) {
                self.commands.push_back(Command::Close);
                self.handle_close_with(now, DisconnectReason::PingTimeout);
            } else if self.heartbeat.next_ping.is_some_and(|t| now >= t) {
                self.heartbeat.next_ping = None;
                self.heartbeat.deadline = Some(now + self.heartbeat.timeout);
                self.commands.push_back(Command::Send(
                    engineio::Packet::new(PacketType::Ping).encode_frame(),
                ));
            }
        }
    }

    /// The earliest time [`handle_timeout`](Self::handle_timeout) has something to do.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let state_deadline = match self.state {
            State::Backoff { retry_at } => Some(retry_at),
            State::Connecting { deadline, .. } => Some(deadline),
            _ => None,
        };
        let heart = match self.state {
            State::Connecting { .. } | State::Connected { .. } => {
                [self.heartbeat.next_ping, self.heartbeat.deadline]
                    .into_iter()
                    .flatten()
                    .min()
            }
            _ => None,
        };
        [state_deadline, heart].into_iter().flatten().min()
    }

    /// The next thing to do to the transport.
    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// The next thing that happened.
    pub fn poll_event(&mut self) -> Option<ClientEvent<J>> {
        self.events.pop_front()
    }

    /// Emits an event now, or buffers it until connected.
    pub fn emit(&mut self, name: &str, args: Vec<J>) -> Result<EmitStatus, EmitError> {
        let packet =
            socketio::Packet::json_event(name, args).with_nsp(self.config.namespace.clone());
        self.send_or_buffer(packet)
    }

    /// Emits a typed signaling message.
    pub fn emit_message(&mut self, message: &ClientMessage) -> Result<EmitStatus, EmitError> {
        self.emit(message.event_name(), message.to_json())
    }

    /// Emits an event that asks for an acknowledgement; returns the id its
    /// [`ClientEvent::Ack`] will carry.
    pub fn emit_with_ack(&mut self, name: &str, args: Vec<J>) -> Result<u64, EmitError> {
        let id = self.next_ack_id;
        let packet = socketio::Packet::json_event(name, args)
            .with_nsp(self.config.namespace.clone())
            .with_id(id);
        self.send_or_buffer(packet)?;
        self.next_ack_id += 1;
        Ok(id)
    }

    /// Answers an event that asked for an acknowledgement.
    pub fn ack(&mut self, id: u64, args: Vec<J>) {
        if self.is_connected() {
            let packet = socketio::Packet {
                data: Some(J::array(args)),
                ..socketio::Packet::blank(PacketKind::Ack)
            }
            .with_nsp(self.config.namespace.clone())
            .with_id(id);
            self.send_packet(&packet);
        }
    }

    fn send_or_buffer(&mut self, packet: socketio::Packet<J>) -> Result<EmitStatus, EmitError> {
        if self.is_connected() {
            self.send_packet(&packet);
            return Ok(EmitStatus::Sent);
        }
        if self.buffer.len() >= self.config.max_buffered {
            return Err(EmitError::BufferFull(self.buffer.len()));
        }
        self.buffer.push_back(packet);
        Ok(EmitStatus::Buffered)
    }

    fn send_packet(&mut self, packet: &socketio::Packet<J>) {
        let text = packet.encode();
        self.commands.push_back(Command::Send(
            engineio::Packet::message(text).encode_frame(),
        ));
        for attachment in &packet.attachments {
            self.commands.push_back(Command::Send(
                engineio::Packet::binary_message(attachment.clone()).encode_frame(),
            ));
        }
    }

    fn start_attempt(&mut self, now: Duration) {
        self.decoder.reset();
        self.heartbeat = Heartbeat::default();
        self.state = State::Connecting {
            deadline: now + self.config.connect_timeout,
            sid: None,
        };
        self.commands.push_back(Command::Open);
    }

    fn on_handshake(&mut self, packet: &engineio::Packet, now: Duration) {
        let State::Connecting { deadline, .. } = self.state else {
            return; // A second open packet on a live session means nothing.
        };
        let handshake = match packet.handshake_json::<J>() {
            Ok(h) => h,
            Err(e) => {
                self.commands.push_back(Command::Close);
                self.events
                    .push_back(ClientEvent::ConnectError(ConnectError::Handshake(
                        e.to_string(),
                    )));
                self.retry_or_idle(now);
                return;
            }
        };
        let interval = Duration::from_millis(handshake.ping_interval);
        let timeout = Duration::from_millis(handshake.ping_timeout);
        self.heartbeat = Heartbeat {
            interval,
            timeout,
            next_ping: Some(now + interval),
            deadline: Some(now + interval + timeout),
        };
        self.state = State::Connecting {
            deadline,
            sid: Some(handshake.sid),
        };
        if self.config.namespace != "/" {
            let mut nsp = self.config.namespace.clone();
            if let Some(q) = &self.config.query {
                nsp.push('?');
                nsp.push_str(q);
            }
            self.send_packet(&socketio::Packet::blank(PacketKind::Connect).with_nsp(nsp));
        }
    }

    fn on_packet(&mut self, packet: socketio::Packet<J>) {
        if packet.namespace() != self.config.namespace {
            return; // Another namespace multiplexed on this connection: not ours.
        }
        match packet.kind {
            PacketKind::Connect => {
                if let State::Connecting { sid: Some(sid), .. } = &self.state {
                    let sid = sid.clone();
                    self.state = State::Connected { sid: sid.clone() };
                    self.backoff.reset();
                    self.events.push_back(ClientEvent::Connected { sid });
                    while let Some(p) = self.buffer.pop_front() {
                        self.send_packet(&p);
                    }
                }
            }
            PacketKind::Disconnect => {
                self.commands.push_back(Command::Close);
                let was_connected = self.is_connected();
                self.enter_idle();
                if was_connected {
                    self.events.push_back(ClientEvent::Disconnected(
                        DisconnectReason::ServerDisconnect,
                    ));
                }
            }
            // socket.io-client 2.x only reports an ERROR packet on a connected socket (an `error`
            // event) and keeps the connection; ending it here let any server that sent one
            // mid-call end the call (found by the hostile-server e2e scenario).
            PacketKind::Error if self.is_connected() => {
                self.events
                    .push_back(ClientEvent::ProtocolError(ProtocolError::ErrorPacket(
                        packet.data.map(|d| d.to_text()).unwrap_or_default(),
                    )));
            }
            PacketKind::Error => {
                self.commands.push_back(Command::Close);
                self.enter_idle();
                self.events
                    .push_back(ClientEvent::ConnectError(ConnectError::Refused(
                        packet.data.unwrap_or_else(J::null),
                    )));
            }
            PacketKind::Event | PacketKind::BinaryEvent => {
                let Some((name, args)) = packet.event_parts() else {
                    self.events.push_back(ClientEvent::ProtocolError(
                        socketio::DecodeError::WrongShape(packet.kind).into(),
                    ));
                    return;
                };
                self.events.push_back(ClientEvent::Event {
                    name,
                    args,
                    attachments: packet.attachments,
                    ack: packet.id,
                });
            }
            PacketKind::Ack | PacketKind::BinaryAck => {
                if let Some(id) = packet.id {
                    let args = packet.ack_args();
                    self.events.push_back(ClientEvent::Ack { id, args });
                }
            }
        }
    }

    fn handle_close_with(&mut self, now: Duration, reason: DisconnectReason) {
        match self.state {
            State::Connected { .. } => {
                self.events.push_back(ClientEvent::Disconnected(reason));
                self.retry_or_idle(now);
            }
            State::Connecting { .. } => {
                self.events
                    .push_back(ClientEvent::ConnectError(ConnectError::Timeout));
                self.retry_or_idle(now);
            }
            _ => {}
        }
    }

    fn retry_or_idle(&mut self, now: Duration) {
        self.decoder.reset();
        self.heartbeat = Heartbeat::default();
        if !self.config.reconnection {
            self.state = State::Idle;
            return;
        }
        let delay = self.backoff.next_delay();
        self.state = State::Backoff {
            retry_at: now + delay,
        };
        self.events.push_back(ClientEvent::Reconnecting {
            attempt: self.backoff.attempts(),
            delay,
        });
    }

    fn enter_idle(&mut self) {
        self.decoder.reset();
        self.heartbeat = Heartbeat::default();
        self.state = State::Idle;
    }
}
