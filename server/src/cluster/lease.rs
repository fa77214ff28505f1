//! A node's lease lifecycle: the task that refreshes the lease and announces the departures of
//! dead nodes, and the node's retirement at shutdown.

use std::sync::Arc;
use std::time::Duration;

use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::operators::BroadcastOperators;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::Cluster;
use crate::signaling::Signaling;

/// The node's lease task, and what its shutdown needs.
pub struct LeaseTask<A: Adapter> {
    handle: JoinHandle<()>,
    /// The root namespace's operators, held: `io.to()` panics once shutdown closed the
    /// namespaces, and retiring still has `user_exit`s to send.
    root: Option<BroadcastOperators<A>>,
}

/// Starts the node's lease task: refresh, sweep, announce departures of dead nodes.
pub fn spawn_lease<A: Adapter>(sig: Arc<Signaling<Cluster>>, io: &SocketIo<A>) -> LeaseTask<A> {
    let root = io.of("/");
    let Some(io) = root.clone() else {
        tracing::error!("no root namespace: lease task not started");
        return LeaseTask {
            handle: tokio::spawn(async {}),
            root,
        };
    };
    let handle = tokio::spawn(async move {
        let mut tick = tokio::time::interval(sig.rooms.refresh_every());
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sig.rooms.tick().await {
                Ok(departures) => {
                    for s in departures {
                        sig.announce_exit(&io, &s.sid, &s.departure).await;
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
pub async fn retire<A: Adapter>(sig: &Signaling<Cluster>, lease: LeaseTask<A>, grace: Duration) {
    let LeaseTask {
        handle: lease,
        root,
    } = lease;
    if tokio::time::timeout(grace, sig.stop_tasks()).await.is_err() {
        tracing::warn!("connection tasks did not finish in time");
    }
    lease.abort();
    match tokio::time::timeout(grace, sig.rooms.retire()).await {
        Ok(Ok(departures)) => {
            if let Some(root) = &root {
                for s in departures {
                    sig.announce_exit(root, &s.sid, &s.departure).await;
                }
            }
        }
        Ok(Err(e)) => tracing::warn!("could not retire from redis: {e}; the lease will expire"),
        Err(_) => tracing::warn!("redis too slow to retire; the lease will expire"),
    }
}
