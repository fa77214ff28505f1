//! The handlers with several nodes (`--redis-url`): the same events as the one-process path,
//! but membership lives in Redis, so each step awaits a round trip. One task per connection
//! takes its events from a queue in arrival order, which keeps the ordering guarantee of the
//! synchronous path (a `candidate` never overtakes its `offer`), and the node's lease task
//! announces the departures of dead nodes.

use std::sync::Arc;
use std::time::Duration;

use duet_protocol::signaling::{ClientMessage, ServerMessage, UserExit};
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::operators::BroadcastOperators;
use socketioxide::socket::{DisconnectReason, Sid};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::{Connection, Signaling, lock, send};
use crate::cluster::{Cluster, StoreError};
use crate::rooms::{Departure, JoinError};

/// Events one connection may have waiting. The rate limit (burst 100 by default) keeps a
/// well-behaved client far below; beyond it events are refused as `rate_limited`.
pub(super) const QUEUE: usize = 256;

/// Work for a connection's task.
#[derive(Debug)]
pub(super) enum Job {
    Event(String, Option<Value>),
    Disconnect(DisconnectReason),
}

pub(super) fn enqueue_event<A: Adapter>(
    sig: &Signaling,
    queue: &mpsc::Sender<Job>,
    socket: &SocketRef<A>,
    conn: &Connection,
    name: &str,
    data: Option<Value>,
) {
    if queue.try_send(Job::Event(name.to_owned(), data)).is_err() {
        sig.reject(
            socket,
            conn,
            name,
            "rate_limited",
            "too many events waiting, slow down",
        );
    }
}

pub(super) fn enqueue_disconnect<A: Adapter>(
    queue: &mpsc::Sender<Job>,
    socket: &SocketRef<A>,
    reason: DisconnectReason,
) {
    if let Err(mpsc::error::TrySendError::Full(job)) = queue.try_send(Job::Disconnect(reason)) {
        // The leave must not be lost: wait for room behind the queued events.
        let (queue, sid) = (queue.clone(), socket.id);
        tokio::spawn(async move {
            if queue.send(job).await.is_err() {
                tracing::warn!(%sid, "connection task gone before its disconnect");
            }
        });
    }
}

pub(super) fn spawn_worker<A: Adapter>(
    sig: Arc<Signaling>,
    cluster: Arc<Cluster>,
    io: SocketIo<A>,
    socket: SocketRef<A>,
    conn: Arc<Connection>,
    mut rx: mpsc::Receiver<Job>,
) {
    // The root namespace's operators, held: `io.to()` panics once shutdown closed the
    // namespaces, and the disconnects of that shutdown still have user_exits to send.
    let Some(root) = io.of("/") else {
        return;
    };
    let guard = cluster.worker_started();
    let stopping = cluster.stopping();
    tokio::spawn(async move {
        tokio::pin!(stopping);
        loop {
            let job = tokio::select! {
                biased;
                job = rx.recv() => job,
                () = &mut stopping => None,
            };
            let Some(job) = job else {
                break;
            };
            match job {
                Job::Event(name, data) => {
                    sig.shared_event(&cluster, &root, &socket, &conn, &name, data)
                        .await;
                }
                Job::Disconnect(reason) => {
                    sig.shared_disconnect(&cluster, &root, &socket, &conn, reason)
                        .await;
                    break;
                }
            }
        }
        drop(guard);
    });
}

impl Signaling {
    async fn shared_event<A: Adapter>(
        &self,
        cluster: &Cluster,
        root: &BroadcastOperators<A>,
        socket: &SocketRef<A>,
        conn: &Connection,
        name: &str,
        data: Option<Value>,
    ) {
        let Some(message) = self.admit(socket, conn, name, data) else {
            return;
        };
        let sid = socket.id.to_string();
        let (event, outgoing) = match message {
            ClientMessage::JoinRoom(join) => {
                match cluster.join(&sid, &join.room, &join.email).await {
                    Ok(Ok(admission)) => {
                        if let Some(departure) = &admission.left {
                            tracing::info!(%sid, room = %departure.room, "left (joined another room)");
                            self.announce_exit_anywhere(root, &sid, departure).await;
                        }
                        let joined = super::user_joined(&sid, &join);
                        for peer in &admission.peers {
                            deliver_anywhere(root, &peer.id, &joined).await;
                        }
                        self.admitted(socket, &sid, &join.room, admission.peers);
                    }
                    Ok(Err(JoinError::Full { capacity })) => {
                        self.refused(socket, &sid, &join.room, capacity);
                    }
                    Err(e) => self.unavailable(socket, conn, "join_room", &e),
                }
                return;
            }
            ClientMessage::LeaveRoom => {
                self.leave_anywhere(cluster, root, &sid, "left").await;
                return;
            }
            ClientMessage::Offer(d) => ("offer", ServerMessage::Offer(d)),
            ClientMessage::Answer(d) => ("answer", ServerMessage::Answer(d)),
            ClientMessage::Candidate(c) => ("candidate", ServerMessage::Candidate(c)),
        };
        let peers = match cluster.peers(&sid).await {
            Ok(Some((_, peers))) => peers,
            Ok(None) => {
                self.reject(socket, conn, event, "not_in_room", "join a room first");
                return;
            }
            Err(e) => {
                // Redis is down: peers on this node are still known (the mirror), others not.
                let local = self.rooms.peers(&sid);
                if local.is_empty() {
                    self.unavailable(socket, conn, event, &e);
                    return;
                }
                tracing::debug!(%sid, event, "redis unreachable: relayed to this node's peers only");
                local
            }
        };
        for peer in &peers {
            deliver_anywhere(root, &peer.id, &outgoing).await;
        }
        self.metrics.relay(event);
        tracing::debug!(%sid, event, peers = peers.len(), "relayed");
    }

    async fn shared_disconnect<A: Adapter>(
        &self,
        cluster: &Cluster,
        root: &BroadcastOperators<A>,
        socket: &SocketRef<A>,
        conn: &Connection,
        reason: DisconnectReason,
    ) {
        lock(&conn.slot).take();
        let sid = socket.id.to_string();
        self.leave_anywhere(cluster, root, &sid, "left (disconnected)")
            .await;
        tracing::info!(%sid, ?reason, "disconnected");
    }

    /// Takes `sid` out of its room and tells the others. With Redis unreachable, the peers on
    /// this node are told at once (the mirror knows them) and the rest once Redis is back
    /// ([`Cluster::tick`]).
    async fn leave_anywhere<A: Adapter>(
        &self,
        cluster: &Cluster,
        root: &BroadcastOperators<A>,
        sid: &str,
        how: &'static str,
    ) {
        let here = self.rooms.room_of(sid).map(|room| Departure {
            room,
            remaining: self.rooms.peers(sid),
        });
        match cluster.leave(sid).await {
            Ok(Some(departure)) => {
                tracing::info!(%sid, room = %departure.room, "{how}");
                self.announce_exit_anywhere(root, sid, &departure).await;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(%sid, "{how} while redis is unreachable ({e}): peers on this node are told now, the others once redis is back");
                if let Some(departure) = here {
                    self.announce_exit_anywhere(root, sid, &departure).await;
                }
            }
        }
    }

    /// A join or relay that needs Redis while it is unreachable: the client hears why.
    fn unavailable<A: Adapter>(
        &self,
        socket: &SocketRef<A>,
        conn: &Connection,
        event: &str,
        error: &StoreError,
    ) {
        tracing::error!(sid = %socket.id, event, "refused, shared room state unavailable: {error}");
        self.reject(
            socket,
            conn,
            event,
            "unavailable",
            "the call service is briefly unavailable; try again in a few seconds",
        );
    }

    async fn announce_exit_anywhere<A: Adapter>(
        &self,
        root: &BroadcastOperators<A>,
        sid: &str,
        departure: &Departure,
    ) {
        self.metrics.leave();
        let exit = ServerMessage::UserExit(UserExit { id: sid.to_owned() });
        for peer in &departure.remaining {
            deliver_anywhere(root, &peer.id, &exit).await;
        }
    }
}

/// Sends to a socket on this node directly, else through the adapter to the node that has it.
async fn deliver_anywhere<A: Adapter>(
    root: &BroadcastOperators<A>,
    sid: &str,
    message: &ServerMessage,
) {
    if let Some(socket) = sid.parse::<Sid>().ok().and_then(|s| root.get_socket(s)) {
        send(&socket, message);
        return;
    }
    let name = message.event_name();
    let args = message.args();
    let to = root.clone().to(sid.to_owned());
    let result = match args.as_slice() {
        [] => to.emit(name, &[(); 0]).await,
        [one] => to.emit(name, one).await,
        many => to.emit(name, many).await,
    };
    if let Err(e) = result {
        tracing::warn!(%sid, event = name, "not delivered to another node: {e}");
    }
}

/// The node's lease task, and what its shutdown needs.
pub struct LeaseTask<A: Adapter> {
    handle: JoinHandle<()>,
    root: Option<BroadcastOperators<A>>,
}

/// Starts the node's lease task: refresh, sweep, announce departures of dead nodes.
pub fn spawn_lease<A: Adapter>(
    sig: Arc<Signaling>,
    cluster: Arc<Cluster>,
    io: &SocketIo<A>,
) -> LeaseTask<A> {
    let root = io.of("/");
    let Some(io) = root.clone() else {
        tracing::error!("no root namespace: lease task not started");
        return LeaseTask {
            handle: tokio::spawn(async {}),
            root,
        };
    };
    let handle = tokio::spawn(async move {
        let mut tick = tokio::time::interval(cluster.refresh_every());
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match cluster.tick().await {
                Ok(departures) => {
                    for s in departures {
                        sig.announce_exit_anywhere(&io, &s.sid, &s.departure).await;
                    }
                }
                // Cluster::note logs the transition; each failed tick is only debug noise.
                Err(e) => tracing::debug!("lease tick failed: {e}"),
            }
        }
    });
    LeaseTask { handle, root }
}

/// A node's part of shutdown, after its sockets were closed: stops their connection tasks
/// (each after its current event), then removes this node's remaining members and its lease
/// and tells their peers on other nodes, so those do not wait for the lease to expire.
pub async fn retire<A: Adapter>(
    sig: &Signaling,
    cluster: &Cluster,
    lease: LeaseTask<A>,
    grace: Duration,
) {
    let LeaseTask {
        handle: lease,
        root,
    } = lease;
    cluster.stop();
    if tokio::time::timeout(grace, cluster.workers_idle())
        .await
        .is_err()
    {
        tracing::warn!("connection tasks did not finish in time");
    }
    lease.abort();
    match tokio::time::timeout(grace, cluster.retire()).await {
        Ok(Ok(departures)) => {
            for s in departures.iter().filter(|_| root.is_some()) {
                if let Some(root) = &root {
                    sig.announce_exit_anywhere(root, &s.sid, &s.departure).await;
                }
            }
        }
        Ok(Err(e)) => tracing::warn!("could not retire from redis: {e}; the lease will expire"),
        Err(_) => tracing::warn!("redis too slow to retire; the lease will expire"),
    }
}
