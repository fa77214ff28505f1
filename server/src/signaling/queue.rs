//! Ordered work for stores that wait ([`Rooms::SHARED`]): each connection gets a queue and
//! one task that takes its events in arrival order, which keeps the ordering guarantee of the
//! synchronous path (a `candidate` never overtakes its `offer`) while each step awaits a
//! round trip. Shutdown stops the tasks and waits for them ([`Tasks`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::socket::DisconnectReason;
use tokio::sync::{Notify, mpsc, watch};

use super::{Connection, Signaling};
use crate::rooms::Rooms;
use duet_protocol::signaling::ErrorCode;

/// Events one connection may have waiting. The rate limit (burst 100 by default) keeps a
/// well-behaved client far below; beyond it events are refused as `rate_limited`.
pub(super) const QUEUE: usize = 256;

/// Work for a connection's task.
#[derive(Debug)]
pub(super) enum Job {
    Event(String, Option<Value>),
    Disconnect(DisconnectReason),
}

/// The live connection tasks, so shutdown can stop them and wait for their leaves.
#[derive(Debug)]
pub(crate) struct Tasks {
    live: Arc<Live>,
    /// Set at shutdown: connection tasks stop after their current event.
    stop: watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct Live {
    count: AtomicUsize,
    idle: Notify,
}

/// Held by a connection task while it runs.
struct Running(Arc<Live>);

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Default for Tasks {
    fn default() -> Self {
        Self {
            live: Arc::default(),
            stop: watch::Sender::new(false),
        }
    }
}

impl Tasks {
    fn started(&self) -> Running {
        self.live.count.fetch_add(1, Ordering::AcqRel);
        Running(self.live.clone())
    }

    fn stopping(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.stop.subscribe();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    }

    /// Tells the tasks to end (at shutdown socketioxide closes the transports without running
    /// the disconnect handlers, so they would wait forever) and resolves when none runs.
    pub(crate) async fn stop(&self) {
        self.stop.send_replace(true);
        loop {
            let idle = self.live.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.live.count.load(Ordering::Acquire) == 0 {
                return;
            }
            idle.await;
        }
    }

    /// How many connection tasks run.
    pub(crate) fn live(&self) -> usize {
        self.live.count.load(Ordering::Acquire)
    }
}

pub(super) fn enqueue_event<R: Rooms, A: Adapter>(
    sig: &Signaling<R>,
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
            ErrorCode::RateLimited,
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

pub(super) fn spawn_worker<R: Rooms, A: Adapter>(
    sig: Arc<Signaling<R>>,
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
    let running = sig.tasks.started();
    let stopping = sig.tasks.stopping();
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
                Job::Event(name, data) => sig.on_event(&root, &socket, &conn, &name, data).await,
                Job::Disconnect(reason) => {
                    sig.on_disconnect(&root, &socket, &conn, reason).await;
                    break;
                }
            }
        }
        drop(running);
    });
}
