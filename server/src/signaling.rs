//! The Socket.IO event handlers: the seed's events done room-safely, written once over the
//! [`Rooms`] store (one process in memory, or several nodes over Redis).
//!
//! Every client event goes through one path: rate limit, parse and validate with
//! [`ClientMessage::from_event`], then act on the rooms. Relays go to the sender's room peers
//! by socket id, never broadcast. Rejected input gets an `error {code,message}` back and a
//! throttled warning in the log; nothing a client sends can panic the server or reach another
//! room.
//!
//! socketioxide spawns the future a handler returns, so with an in-memory store the handlers
//! run to completion inside socketioxide's call (their futures are ready at once) and return
//! a ready future: that keeps one connection's events in the order it sent them (a
//! `candidate` must not overtake its `offer`, nor an `offer` its `join_room`). A shared store
//! needs round trips, so each connection gets a queue and one task that handles its events in
//! order ([`queue`]).

mod events;
pub(crate) mod queue;

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use duet_protocol::signaling::{ErrorCode, event};
use futures_util::FutureExt as _;
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{Event, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::socket::{DisconnectReason, Sid};
use socketioxide_core::adapter::DefinedAdapter;
use tokio::sync::mpsc;

use crate::limits::{ConnectionGate, ConnectionSlot, TokenBucket, WarnThrottle};
use crate::metrics::Metrics;
use crate::rooms::Rooms;
use events::{error_message, send};

/// How often one connection's rejected input may be logged at warn level.
const WARN_PERIOD: Duration = Duration::from_secs(10);

/// Shared state of the signaling handlers over the room store `R`.
#[derive(Debug)]
pub struct Signaling<R> {
    /// Room membership.
    pub rooms: Arc<R>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Live connection count and limit.
    pub gate: ConnectionGate,
    /// Relayed events per second per connection.
    pub relay_rate: f64,
    /// Burst of relayed events per connection.
    pub relay_burst: u32,
    /// The connection tasks of a shared store.
    tasks: queue::Tasks,
}

/// Per-connection state, owned by that connection's handlers.
#[derive(Debug)]
struct Connection {
    bucket: Mutex<TokenBucket>,
    warn: Mutex<WarnThrottle>,
    slot: Mutex<Option<ConnectionSlot>>,
    /// False when the server was full: its events are ignored and it is closed on connect.
    admitted: bool,
    /// With a shared store: this connection's ordered work queue.
    queue: Option<mpsc::Sender<queue::Job>>,
}

/// What the connect middleware prepared for the connect handler, by socket id.
type Pending = HashMap<Sid, Prepared>;

#[derive(Debug)]
struct Prepared {
    /// Weak: the socket's handlers own the connection, so a socket that never got connected
    /// leaves a dead entry behind instead of a live slot.
    conn: Weak<Connection>,
    /// With a shared store: the receiving end of the queue, for the connection's task.
    rx: Option<mpsc::Receiver<queue::Job>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs a handler of a store whose futures are ready at once ([`Rooms::SHARED`] false) to
/// completion, here.
fn run_now(handler: impl Future<Output = ()>) {
    if handler.now_or_never().is_none() {
        // Only a store that waits could get here, and those go through `queue`.
        tracing::error!("an in-memory room operation did not complete at once: event dropped");
    }
}

impl<R: Rooms> Signaling<R> {
    /// The handlers' state over `rooms`.
    pub fn new(
        rooms: Arc<R>,
        metrics: Arc<Metrics>,
        gate: ConnectionGate,
        relay_rate: f64,
        relay_burst: u32,
    ) -> Self {
        Self {
            rooms,
            metrics,
            gate,
            relay_rate,
            relay_burst,
            tasks: queue::Tasks::default(),
        }
    }

    /// Stops the connection tasks (each after its current event) and waits for them.
    pub(crate) async fn stop_tasks(&self) {
        self.tasks.stop().await;
    }

    /// Live connection tasks (a shared store's; always 0 in memory).
    pub fn tasks(&self) -> usize {
        self.tasks.live()
    }

    /// Registers the `/` namespace on `io`. Must run before serving: socketioxide closes
    /// protocol-v4 clients when the root namespace is missing.
    /// Returns the adapter's initialisation (nothing for one process; subscribing to Redis
    /// with a shared store), which the caller awaits.
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
        let (queue, rx) = if R::SHARED && admitted {
            let (tx, rx) = mpsc::channel(queue::QUEUE);
            (Some(tx), Some(rx))
        } else {
            (None, None)
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
        for name in event::CLIENT {
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
                    Some(queue) => queue::enqueue_disconnect(queue, &s, reason),
                    None => match io.of("/") {
                        Some(root) => {
                            run_now(sig.on_disconnect(&root, &s, &disconnect_conn, reason));
                        }
                        // Shutdown closed the namespace: nobody is left to tell.
                        None => drop(lock(&disconnect_conn.slot).take()),
                    },
                }
                ready(())
            },
        );
        if admitted && R::SHARED {
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
    /// otherwise starts the connection's task (with a shared store) and counts it.
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
            self.metrics.rejection(ErrorCode::ServerFull.as_str());
            tracing::warn!(sid = %socket.id, "too many connections, closing");
            send(
                &socket,
                &error_message(ErrorCode::ServerFull, "too many connections"),
            );
            let _ = socket.disconnect();
            return;
        };
        self.metrics.connection();
        tracing::info!(sid = %socket.id, transport = ?socket.transport_type(), "connected");
        if let Some(rx) = rx {
            queue::spawn_worker(self, io, socket, conn, rx);
        }
    }

    /// Handles an event now (in memory) or queues it for the connection's task (shared store).
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
            Some(queue) => queue::enqueue_event(self, queue, socket, conn, name, data),
            None => match io.of("/") {
                Some(root) => run_now(self.on_event(&root, socket, conn, name, data)),
                None => tracing::debug!(sid = %socket.id, name, "shutting down: event dropped"),
            },
        }
    }
}
