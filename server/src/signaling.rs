//! The Socket.IO event handlers: the seed's events done room-safely.
//!
//! Every client event goes through one path: rate limit, parse and validate with
//! [`ClientMessage::from_event`], then act on the [`RoomRegistry`]. Relays go to the sender's
//! room peers by socket id, never broadcast. Rejected input gets an `error {code,message}` back
//! and a throttled warning in the log; nothing a client sends can panic the server or reach
//! another room.
//!
//! socketioxide spawns the future a handler returns, so handlers do all their work
//! synchronously and return a ready future: that keeps one connection's events in the order it
//! sent them (a `candidate` must not overtake its `offer`, nor an `offer` its `join_room`).

use std::future::{Ready, ready};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use duet_protocol::signaling::{ClientMessage, ErrorNotice, ServerMessage, User, UserExit};
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::extract::{Event, SocketRef, TryData};
use socketioxide::socket::{DisconnectReason, Sid};

use crate::limits::{ConnectionGate, ConnectionSlot, TokenBucket, WarnThrottle};
use crate::metrics::Metrics;
use crate::rooms::{Departure, JoinError, RoomRegistry};

/// The events a client may send; anything else goes to the fallback handler.
const CLIENT_EVENTS: [&str; 5] = ["join_room", "leave_room", "offer", "answer", "candidate"];

/// How often one connection's rejected input may be logged at warn level.
const WARN_PERIOD: Duration = Duration::from_secs(10);

/// Shared state of the signaling handlers.
#[derive(Debug)]
pub struct Signaling {
    /// Room membership.
    pub rooms: Arc<RoomRegistry>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Live connection count and limit.
    pub gate: ConnectionGate,
    /// Relayed events per second per connection.
    pub relay_rate: f64,
    /// Burst of relayed events per connection.
    pub relay_burst: u32,
}

/// Per-connection state, owned by that connection's handlers.
#[derive(Debug)]
struct Connection {
    bucket: Mutex<TokenBucket>,
    warn: Mutex<WarnThrottle>,
    slot: Mutex<Option<ConnectionSlot>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Signaling {
    /// Registers the `/` namespace on `io`. Must run before serving: socketioxide closes
    /// protocol-v4 clients when the root namespace is missing.
    pub fn register(self: Arc<Self>, io: &SocketIo) {
        io.ns("/", move |socket: SocketRef| -> Ready<()> {
            self.clone().on_connect(socket);
            ready(())
        });
    }

    fn on_connect(self: Arc<Self>, socket: SocketRef) {
        let Some(slot) = self.gate.try_acquire() else {
            // The HTTP layer refuses handshakes when full; this catches the ones that raced.
            self.metrics.rejection("server_full");
            tracing::warn!(sid = %socket.id, "too many connections, closing");
            send(
                &socket,
                &error_message("server_full", "too many connections"),
            );
            let _ = socket.disconnect();
            return;
        };
        self.metrics.connection();
        tracing::info!(sid = %socket.id, transport = ?socket.transport_type(), "connected");
        let conn = Arc::new(Connection {
            bucket: Mutex::new(TokenBucket::new(
                self.relay_rate,
                self.relay_burst,
                Instant::now(),
            )),
            warn: Mutex::new(WarnThrottle::new(WARN_PERIOD)),
            slot: Mutex::new(Some(slot)),
        });
        for name in CLIENT_EVENTS {
            let (sig, conn) = (self.clone(), conn.clone());
            socket.on(
                name,
                move |s: SocketRef, io: SocketIo, TryData(data): TryData<Value>| -> Ready<()> {
                    sig.on_event(&io, &s, &conn, name, data.ok());
                    ready(())
                },
            );
        }
        let (sig, fallback_conn) = (self.clone(), conn.clone());
        socket.on_fallback(
            move |s: SocketRef, io: SocketIo, Event(name): Event| -> Ready<()> {
                sig.on_event(&io, &s, &fallback_conn, &name, None);
                ready(())
            },
        );
        socket.on_disconnect(
            move |s: SocketRef, io: SocketIo, reason: DisconnectReason| -> Ready<()> {
                self.on_disconnect(&io, &s, &conn, reason);
                ready(())
            },
        );
    }

    fn on_event(
        &self,
        io: &SocketIo,
        socket: &SocketRef,
        conn: &Connection,
        name: &str,
        data: Option<Value>,
    ) {
        if !lock(&conn.bucket).try_take(Instant::now()) {
            self.reject(
                socket,
                conn,
                name,
                "rate_limited",
                "too many events, slow down",
            );
            return;
        }
        let args: Vec<Value> = data.into_iter().collect();
        let message = match ClientMessage::from_event(name, &args) {
            Ok(m) => m,
            Err(e) => {
                self.reject(socket, conn, name, e.code(), &e.to_string());
                return;
            }
        };
        let sid = socket.id.to_string();
        match message {
            ClientMessage::JoinRoom(join) => self.join(io, socket, &sid, &join.room, &join.email),
            ClientMessage::LeaveRoom => {
                if let Some(departure) = self.rooms.leave(&sid) {
                    tracing::info!(%sid, room = %departure.room, "left");
                    self.announce_exit(io, &sid, &departure);
                }
            }
            ClientMessage::Offer(d) => {
                self.relay(io, socket, conn, &sid, "offer", ServerMessage::Offer(d));
            }
            ClientMessage::Answer(d) => {
                self.relay(io, socket, conn, &sid, "answer", ServerMessage::Answer(d));
            }
            ClientMessage::Candidate(c) => {
                self.relay(
                    io,
                    socket,
                    conn,
                    &sid,
                    "candidate",
                    ServerMessage::Candidate(c),
                );
            }
        }
    }

    fn join(&self, io: &SocketIo, socket: &SocketRef, sid: &str, room: &str, name: &str) {
        match self.rooms.join(sid, room, name) {
            Ok(admission) => {
                if let Some(departure) = &admission.left {
                    tracing::info!(%sid, room = %departure.room, "left (joined another room)");
                    self.announce_exit(io, sid, departure);
                }
                self.metrics.join();
                tracing::info!(%sid, %room, peers = admission.peers.len(), "joined");
                let users = admission
                    .peers
                    .into_iter()
                    .map(|m| User {
                        id: m.id,
                        email: m.name,
                    })
                    .collect();
                send(socket, &ServerMessage::AllUsers(users));
            }
            Err(JoinError::Full { capacity }) => {
                self.metrics.room_full();
                tracing::info!(%sid, %room, capacity, "room full");
                send(socket, &ServerMessage::RoomFull);
            }
        }
    }

    /// Sends `outgoing` (the `get*` form of the client's `event`) to the sender's room peers.
    fn relay(
        &self,
        io: &SocketIo,
        socket: &SocketRef,
        conn: &Connection,
        sid: &str,
        event: &'static str,
        outgoing: ServerMessage,
    ) {
        let Some(room) = self.rooms.room_of(sid) else {
            self.reject(socket, conn, event, "not_in_room", "join a room first");
            return;
        };
        let peers = self.rooms.peers(sid);
        for peer in &peers {
            deliver(io, &peer.id, &outgoing);
        }
        self.metrics.relay(event);
        // Ids and counts only: SDP and candidates carry addresses and must stay out of logs.
        tracing::debug!(%sid, %room, event, peers = peers.len(), "relayed");
    }

    fn announce_exit(&self, io: &SocketIo, sid: &str, departure: &Departure) {
        self.metrics.leave();
        let exit = ServerMessage::UserExit(UserExit { id: sid.to_owned() });
        for peer in &departure.remaining {
            deliver(io, &peer.id, &exit);
        }
    }

    fn on_disconnect(
        &self,
        io: &SocketIo,
        socket: &SocketRef,
        conn: &Connection,
        reason: DisconnectReason,
    ) {
        // Free the connection slot first: once a peer hears user_exit, the slot is available.
        lock(&conn.slot).take();
        let sid = socket.id.to_string();
        if let Some(departure) = self.rooms.leave(&sid) {
            tracing::info!(%sid, room = %departure.room, "left (disconnected)");
            self.announce_exit(io, &sid, &departure);
        }
        tracing::info!(%sid, ?reason, "disconnected");
    }

    fn reject(
        &self,
        socket: &SocketRef,
        conn: &Connection,
        event: &str,
        code: &'static str,
        message: &str,
    ) {
        self.metrics.rejection(code);
        if let Some(suppressed) = lock(&conn.warn).allow(Instant::now()) {
            let sid = socket.id.to_string();
            let room = self.rooms.room_of(&sid).unwrap_or_default();
            tracing::warn!(%sid, %room, event, code, suppressed, "rejected: {message}");
        }
        send(socket, &error_message(code, message));
    }
}

fn error_message(code: &str, message: &str) -> ServerMessage {
    ServerMessage::Error(ErrorNotice {
        code: code.to_owned(),
        message: message.to_owned(),
    })
}

/// Emits a typed message on one socket. A full send buffer means the client stopped reading;
/// the message is dropped rather than queued without bound.
fn send(socket: &SocketRef, message: &ServerMessage) {
    let args = message.args();
    let result = match args.as_slice() {
        // An empty array serializes as an empty tuple: an event with no arguments, as the seed.
        [] => socket.emit(message.event_name(), &[(); 0]),
        [one] => socket.emit(message.event_name(), one),
        many => socket.emit(message.event_name(), many),
    };
    if let Err(e) = result {
        tracing::debug!(sid = %socket.id, event = message.event_name(), "not sent: {e}");
    }
}

fn deliver(io: &SocketIo, sid: &str, message: &ServerMessage) {
    let socket = sid.parse::<Sid>().ok().and_then(|sid| io.get_socket(sid));
    match socket {
        Some(socket) => send(&socket, message),
        None => tracing::debug!(%sid, "peer socket gone, not delivered"),
    }
}
