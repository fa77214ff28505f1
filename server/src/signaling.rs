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
//! With `--redis-url` the work needs Redis round trips, so each connection gets a queue and one
//! task that handles its events in order ([`shared`]).

pub(crate) mod shared;

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use duet_protocol::signaling::{ClientMessage, ErrorNotice, ServerMessage, User, UserExit};
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{Event, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::socket::{DisconnectReason, Sid};
use socketioxide::{SendError, SocketError};
use socketioxide_core::adapter::DefinedAdapter;
use tokio::sync::mpsc;

use crate::cluster::Cluster;
use crate::limits::{ConnectionGate, ConnectionSlot, TokenBucket, WarnThrottle};
use crate::metrics::Metrics;
use crate::rooms::{Departure, JoinError, Member, RoomRegistry};

/// The events a client may send; anything else goes to the fallback handler.
const CLIENT_EVENTS: [&str; 5] = ["join_room", "leave_room", "offer", "answer", "candidate"];

/// How often one connection's rejected input may be logged at warn level.
const WARN_PERIOD: Duration = Duration::from_secs(10);

/// Shared state of the signaling handlers.
#[derive(Debug)]
pub struct Signaling {
    /// Room membership; with a cluster, this node's members only (the mirror).
    pub rooms: Arc<RoomRegistry>,
    /// Several nodes over Redis (`--redis-url`), or `None` for one process.
    pub cluster: Option<Arc<Cluster>>,
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
    /// False when the server was full: its events are ignored and it is closed on connect.
    admitted: bool,
    /// With a cluster: this connection's ordered work queue.
    queue: Option<mpsc::Sender<shared::Job>>,
}

/// What the connect middleware prepared for the connect handler, by socket id.
type Pending = HashMap<Sid, Prepared>;

#[derive(Debug)]
struct Prepared {
    /// Weak: the socket's handlers own the connection, so a socket that never got connected
    /// leaves a dead entry behind instead of a live slot.
    conn: Weak<Connection>,
    /// With a cluster: the receiving end of the queue, for the connection's task.
    rx: Option<mpsc::Receiver<shared::Job>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Signaling {
    /// Registers the `/` namespace on `io`. Must run before serving: socketioxide closes
    /// protocol-v4 clients when the root namespace is missing.
    /// Returns the adapter's initialisation (nothing for one process; subscribing to Redis
    /// with a cluster), which the caller awaits.
    ///
    /// The event handlers are registered by a connect *middleware*: socketioxide runs it
    /// before it puts the socket in the namespace and sends the connect packet (`40`), and
    /// calls the connect handler only after both. A handler registered in the connect handler
    /// leaves a window where a client that emits as soon as it reads `40` has its event
    /// dispatched to a socket without handlers, which drops it silently.
    pub fn register<A: Adapter + DefinedAdapter>(self: Arc<Self>, io: &SocketIo<A>) -> A::InitRes {
        let pending: Arc<Mutex<Pending>> = Arc::default();
        let (sig, prepared) = (self.clone(), pending.clone());
        let middleware = move |socket: SocketRef<A>| -> Ready<Result<(), Infallible>> {
            sig.prepare(&socket, &prepared);
            ready(Ok(()))
        };
        let handler = move |socket: SocketRef<A>, io: SocketIo<A>| -> Ready<()> {
            let prepared = lock(&pending).remove(&socket.id);
            self.clone().on_connect(socket, io, prepared);
            ready(())
        };
        io.ns("/", handler.with(middleware))
    }

    /// Runs in the connect middleware, before the client can know it is connected: takes a
    /// connection slot and registers every handler, so no event can find the socket bare.
    fn prepare<A: Adapter>(self: &Arc<Self>, socket: &SocketRef<A>, pending: &Mutex<Pending>) {
        let slot = self.gate.try_acquire();
        let admitted = slot.is_some();
        let (queue, rx) = match (&self.cluster, admitted) {
            (Some(_), true) => {
                let (tx, rx) = mpsc::channel(shared::QUEUE);
                (Some(tx), Some(rx))
            }
            _ => (None, None),
        };
        let conn = Arc::new(Connection {
            bucket: Mutex::new(TokenBucket::new(
                self.relay_rate,
                self.relay_burst,
                Instant::now(),
            )),
            warn: Mutex::new(WarnThrottle::new(WARN_PERIOD)),
            slot: Mutex::new(slot),
            admitted,
            queue,
        });
        for name in CLIENT_EVENTS {
            let (sig, conn) = (self.clone(), conn.clone());
            socket.on(
                name,
                move |s: SocketRef<A>,
                      io: SocketIo<A>,
                      TryData(data): TryData<Value>|
                      -> Ready<()> {
                    sig.dispatch(&io, &s, &conn, name, data.ok());
                    ready(())
                },
            );
        }
        let (sig, fallback_conn) = (self.clone(), conn.clone());
        socket.on_fallback(
            move |s: SocketRef<A>, io: SocketIo<A>, Event(name): Event| -> Ready<()> {
                sig.dispatch(&io, &s, &fallback_conn, &name, None);
                ready(())
            },
        );
        let (sig, disconnect_conn) = (self.clone(), conn.clone());
        socket.on_disconnect(
            move |s: SocketRef<A>, io: SocketIo<A>, reason: DisconnectReason| -> Ready<()> {
                match &disconnect_conn.queue {
                    Some(queue) => shared::enqueue_disconnect(queue, &s, reason),
                    None => sig.on_disconnect(&io, &s, &disconnect_conn, reason),
                }
                ready(())
            },
        );
        if admitted && self.cluster.is_some() {
            // socket.io's convention, which socketioxide leaves to us: a room named after the
            // socket, so `io.to(sid)` reaches it from any node. Joined here so a relay to this
            // socket can reach it as soon as it is connected.
            socket.join(socket.id.to_string());
        }
        let mut pending = lock(pending);
        // An entry whose socket never got connected (its connect packet could not be sent)
        // has no handlers left holding its connection: drop it.
        pending.retain(|_, p| p.conn.strong_count() > 0);
        pending.insert(
            socket.id,
            Prepared {
                conn: Arc::downgrade(&conn),
                rx,
            },
        );
    }

    /// Runs once the client was told it is connected: refuses it when the server is full,
    /// otherwise starts the connection's task (with a cluster) and counts it.
    fn on_connect<A: Adapter>(
        self: Arc<Self>,
        socket: SocketRef<A>,
        io: SocketIo<A>,
        prepared: Option<Prepared>,
    ) {
        let Some(Prepared { conn, rx }) = prepared else {
            tracing::error!(sid = %socket.id, "connected without its middleware, closing");
            let _ = socket.disconnect();
            return;
        };
        let conn = conn.upgrade();
        let Some(conn) = conn.filter(|c| c.admitted) else {
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
        if let (Some(cluster), Some(rx)) = (self.cluster.clone(), rx) {
            shared::spawn_worker(self, cluster, io, socket, conn, rx);
        }
    }

    /// Handles an event now (one process) or queues it for the connection's task (cluster).
    fn dispatch<A: Adapter>(
        &self,
        io: &SocketIo<A>,
        socket: &SocketRef<A>,
        conn: &Connection,
        name: &str,
        data: Option<Value>,
    ) {
        if !conn.admitted {
            return;
        }
        match &conn.queue {
            Some(queue) => shared::enqueue_event(self, queue, socket, conn, name, data),
            None => self.on_event(io, socket, conn, name, data),
        }
    }

    /// Rate limit, parse and validate: the message to act on, or `None` when rejected.
    fn admit<A: Adapter>(
        &self,
        socket: &SocketRef<A>,
        conn: &Connection,
        name: &str,
        data: Option<Value>,
    ) -> Option<ClientMessage> {
        if !lock(&conn.bucket).try_take(Instant::now()) {
            self.reject(
                socket,
                conn,
                name,
                "rate_limited",
                "too many events, slow down",
            );
            return None;
        }
        let args: Vec<Value> = data.into_iter().collect();
        match ClientMessage::from_event(name, &args) {
            Ok(m) => Some(m),
            Err(e) => {
                self.reject(socket, conn, name, e.code(), &e.to_string());
                None
            }
        }
    }

    fn on_event<A: Adapter>(
        &self,
        io: &SocketIo<A>,
        socket: &SocketRef<A>,
        conn: &Connection,
        name: &str,
        data: Option<Value>,
    ) {
        let Some(message) = self.admit(socket, conn, name, data) else {
            return;
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

    fn join<A: Adapter>(
        &self,
        io: &SocketIo<A>,
        socket: &SocketRef<A>,
        sid: &str,
        room: &str,
        name: &str,
    ) {
        match self.rooms.join(sid, room, name) {
            Ok(admission) => {
                if let Some(departure) = &admission.left {
                    tracing::info!(%sid, room = %departure.room, "left (joined another room)");
                    self.announce_exit(io, sid, departure);
                }
                let joined = user_joined(sid, name);
                for peer in &admission.peers {
                    deliver(io, &peer.id, &joined);
                }
                self.admitted(socket, sid, room, admission.peers);
            }
            Err(JoinError::Full { capacity }) => self.refused(socket, sid, room, capacity),
        }
    }

    fn admitted<A: Adapter>(
        &self,
        socket: &SocketRef<A>,
        sid: &str,
        room: &str,
        peers: Vec<Member>,
    ) {
        self.metrics.join();
        tracing::info!(%sid, %room, peers = peers.len(), "joined");
        let users = peers
            .into_iter()
            .map(|m| User {
                id: m.id,
                email: m.name,
            })
            .collect();
        send(socket, &ServerMessage::AllUsers(users));
    }

    fn refused<A: Adapter>(&self, socket: &SocketRef<A>, sid: &str, room: &str, capacity: usize) {
        self.metrics.room_full();
        tracing::info!(%sid, %room, capacity, "room full");
        send(socket, &ServerMessage::RoomFull);
    }

    /// Sends `outgoing` (the `get*` form of the client's `event`) to the sender's room peers.
    fn relay<A: Adapter>(
        &self,
        io: &SocketIo<A>,
        socket: &SocketRef<A>,
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
            if deliver(io, &peer.id, &outgoing) == Delivery::Full {
                self.drop_slow(io, &peer.id);
            }
        }
        self.metrics.relay(event);
        // Ids and counts only: SDP and candidates carry addresses and must stay out of logs.
        tracing::debug!(%sid, %room, event, peers = peers.len(), "relayed");
    }

    /// A peer whose send buffer is full has stopped reading: its buffer holds socketioxide's
    /// `max_buffer_size` packets (up to 128 relays, SDPs included) and everything after them is
    /// dropped. It leaves the room now, so its partner hears `user_exit` and stops pushing into a
    /// buffer nobody drains (a polling client that never polls kept its partner relaying into
    /// nothing for as long as its heartbeat lasted). Its transport closes at once if the close
    /// still fits, otherwise at its next heartbeat, whose pong no longer fits either.
    fn drop_slow<A: Adapter>(&self, io: &SocketIo<A>, sid: &str) {
        self.metrics.rejection("slow_consumer");
        if let Some(departure) = self.rooms.leave(sid) {
            tracing::warn!(%sid, room = %departure.room, "not reading its relays, dropped from its room");
            self.announce_exit(io, sid, &departure);
        }
        if let Some(socket) = find(io, sid) {
            let _ = socket.disconnect();
        }
    }

    fn announce_exit<A: Adapter>(&self, io: &SocketIo<A>, sid: &str, departure: &Departure) {
        self.metrics.leave();
        let exit = ServerMessage::UserExit(UserExit { id: sid.to_owned() });
        for peer in &departure.remaining {
            deliver(io, &peer.id, &exit);
        }
    }

    fn on_disconnect<A: Adapter>(
        &self,
        io: &SocketIo<A>,
        socket: &SocketRef<A>,
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

    fn reject<A: Adapter>(
        &self,
        socket: &SocketRef<A>,
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

/// Duet's `user_joined`, for the members already in the room: the seed never told the first
/// person the second one's name. Seed clients ignore it (no listener).
fn user_joined(sid: &str, name: &str) -> ServerMessage {
    ServerMessage::UserJoined(User {
        id: sid.to_owned(),
        email: name.to_owned(),
    })
}

fn error_message(code: &str, message: &str) -> ServerMessage {
    ServerMessage::Error(ErrorNotice {
        code: code.to_owned(),
        message: message.to_owned(),
    })
}

/// What became of a message for one socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// Queued for the client (or the socket is gone, or closing).
    Done,
    /// Dropped: the socket's send buffer is full, the client stopped reading.
    Full,
}

/// Emits a typed message on one socket. A full send buffer means the client stopped reading;
/// the message is dropped rather than queued without bound.
fn send<A: Adapter>(socket: &SocketRef<A>, message: &ServerMessage) -> Delivery {
    let args = message.args();
    let result = match args.as_slice() {
        // An empty array serializes as an empty tuple: an event with no arguments, as the seed.
        [] => socket.emit(message.event_name(), &[(); 0]),
        [one] => socket.emit(message.event_name(), one),
        many => socket.emit(message.event_name(), many),
    };
    match result {
        Ok(()) => Delivery::Done,
        Err(SendError::Socket(SocketError::InternalChannelFull)) => Delivery::Full,
        Err(e) => {
            tracing::debug!(sid = %socket.id, event = message.event_name(), "not sent: {e}");
            Delivery::Done
        }
    }
}

fn find<A: Adapter>(io: &SocketIo<A>, sid: &str) -> Option<SocketRef<A>> {
    // `io.get_socket` panics once shutdown closed the namespaces; `of` says `None` instead.
    sid.parse::<Sid>()
        .ok()
        .and_then(|sid| io.of("/")?.get_socket(sid))
}

fn deliver<A: Adapter>(io: &SocketIo<A>, sid: &str, message: &ServerMessage) -> Delivery {
    match find(io, sid) {
        Some(socket) => send(&socket, message),
        None => {
            tracing::debug!(%sid, "peer socket gone, not delivered");
            Delivery::Done
        }
    }
}
