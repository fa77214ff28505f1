//! Several duet-server nodes over one Redis (`--redis-url`).
//!
//! - Relays cross nodes through socketioxide's Redis adapter ([`ClusterAdapter`]): every socket
//!   joins a room named after its own id, so `io.to(sid)` reaches it on whichever node it is.
//!   Peers on this node are served directly, without the Redis round trip.
//! - Room membership and capacity live in Redis ([`store`]): one Lua script per join/leave.
//! - Each node refreshes a lease; any node sweeps the members of nodes whose lease expired and
//!   tells their peers `user_exit`. A node keeps a mirror of its own members, to re-register them
//!   after Redis lost them (a restart without persistence) and to serve relays between two of its
//!   own sockets while Redis is down.

pub mod driver;
pub mod lease;
pub mod store;

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo, ProtocolVersion};
use socketioxide_redis::{CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr};

use crate::rooms::{Admission, Departure, JoinFailure, Member, RoomRegistry, Rooms, Unavailable};
pub use driver::ManagedDriver;
pub use lease::{LeaseTask, retire, spawn_lease};
use store::Store;
pub use store::{StoreError, Swept};

/// socketioxide's Redis adapter on [`ManagedDriver`].
pub type ClusterAdapter = CustomRedisAdapter<socketioxide::adapter::Emitter, ManagedDriver>;

/// Channel prefix of the adapter's pub/sub (kept apart from other socket.io apps on the Redis).
const ADAPTER_PREFIX: &str = "duet-sio";

/// Pub/sub messages a node may have waiting for its adapter. Every relay to another node is one
/// message; socketioxide-redis' default of 1,024 dropped relays at a few thousand per second
/// (bench/RESULTS-redis.md). A message is a few hundred bytes: 16,384 is a few MB at worst.
const ADAPTER_BUFFER: usize = 16_384;

/// Why the node could not join the cluster at start.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The URL does not parse.
    #[error("bad --redis-url: {0}")]
    Url(redis::RedisError),
    /// Redis did not answer.
    #[error("cannot reach redis at {url}: {source}")]
    Connect {
        /// The URL without credentials.
        url: String,
        /// Redis' error.
        source: redis::RedisError,
    },
}

/// How a node takes part in the cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// `redis://…`
    pub url: String,
    /// This node's id (random when `None`).
    pub node: Option<String>,
    /// People per room.
    pub capacity: usize,
    /// Lease time: a node silent this long is taken for dead.
    pub lease: Duration,
}

/// This node's handle on the cluster. See the module documentation.
pub struct Cluster {
    node: String,
    store: Store,
    driver: ManagedDriver,
    local: Arc<RoomRegistry>,
    capacity: usize,
    lease: Duration,
    /// Sockets that left while Redis was unreachable: removed from Redis once it is back.
    pending_leaves: Mutex<Vec<String>>,
    redis_up: AtomicBool,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node", &self.node)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Connects both Redis connections (commands; the adapter's pub/sub). Fails when Redis is
    /// unreachable at start: a node that cannot see the others should not take calls.
    pub async fn connect(config: &ClusterConfig) -> Result<Arc<Self>, ClusterError> {
        let info = config
            .url
            .as_str()
            .into_connection_info()
            .map_err(ClusterError::Url)?;
        let redis_settings = info.redis_settings().clone();
        // RESP3: pub/sub pushes on a connection that also sends commands.
        let info = info.set_redis_settings(redis_settings.set_protocol(ProtocolVersion::RESP3));
        let shown = format!("{}", info.addr());
        let client = redis::Client::open(info).map_err(ClusterError::Url)?;
        let failed = |source| ClusterError::Connect {
            url: shown.clone(),
            source,
        };
        let conn = ConnectionManager::new_with_config(
            client.clone(),
            // Fail a command within half a second while Redis is gone, and keep retrying the
            // connection every second at most.
            ConnectionManagerConfig::new()
                .set_number_of_retries(2)
                .set_max_delay(Duration::from_secs(1)),
        )
        .await
        .map_err(failed)?;
        let driver = ManagedDriver::connect(client).await.map_err(failed)?;
        let node = config.node.clone().unwrap_or_else(random_node_id);
        let store = Store::new(conn, &node);
        // The lease exists before the first member can join: a sweeping node must never see
        // this node's members without it.
        store
            .refresh(config.lease.as_millis() as u64)
            .await
            .map_err(|e| match e {
                StoreError::Redis(source) => failed(source),
                other => failed(redis::RedisError::from(std::io::Error::other(
                    other.to_string(),
                ))),
            })?;
        Ok(Arc::new(Self {
            store,
            node,
            driver,
            local: Arc::new(RoomRegistry::new(usize::MAX)),
            capacity: config.capacity.max(1),
            lease: config.lease,
            pending_leaves: Mutex::new(Vec::new()),
            redis_up: AtomicBool::new(true),
        }))
    }

    /// The adapter's constructor state for `SocketIo::builder().with_adapter`.
    pub fn adapter(&self) -> RedisAdapterCtr<ManagedDriver> {
        RedisAdapterCtr::new_with_driver(
            self.driver.clone(),
            RedisAdapterConfig::new()
                .with_prefix(ADAPTER_PREFIX)
                .with_stream_buffer(ADAPTER_BUFFER),
        )
    }

    /// This node's id (the `node` label in /metrics).
    pub fn node_id(&self) -> &str {
        &self.node
    }

    /// This node's own members (a mirror of its part of the shared state).
    pub fn local(&self) -> &Arc<RoomRegistry> {
        &self.local
    }

    /// How often the lease is refreshed and expired nodes swept: a fifth of the lease, so a
    /// few missed refreshes (a slow Redis) do not expire a live node.
    pub fn refresh_every(&self) -> Duration {
        (self.lease / 5).max(Duration::from_millis(20))
    }

    /// Whether the last Redis operation succeeded.
    pub fn redis_up(&self) -> bool {
        self.redis_up.load(Ordering::Relaxed)
    }

    fn note<T>(&self, r: &Result<T, StoreError>) {
        let up = r.is_ok();
        if self.redis_up.swap(up, Ordering::Relaxed) != up {
            match r {
                Ok(_) => tracing::info!(node = %self.node, "redis reachable again"),
                Err(e) => tracing::error!(node = %self.node, "redis unreachable: {e}"),
            }
        }
    }

    /// One lease period's work: refresh the lease, re-register this node's members if Redis
    /// lost them, finish leaves that failed during an outage, and sweep expired nodes. Returns
    /// the departures to announce (`user_exit` to `remaining`).
    pub async fn tick(&self) -> Result<Vec<Swept>, StoreError> {
        // Keeps the pub/sub connection checked, so it reconnects and resubscribes on its own.
        if let Err(e) = self.driver.ping().await {
            tracing::debug!("redis pub/sub ping failed: {e}");
        }
        let had = self.store.refresh(self.lease.as_millis() as u64).await;
        self.note(&had);
        if !had? {
            self.reregister().await?;
        }
        let mut out = Vec::new();
        let pending = std::mem::take(&mut *lock(&self.pending_leaves));
        for (i, sid) in pending.iter().enumerate() {
            match self.store.leave(sid).await {
                Ok(Some(mut departure)) => {
                    // This node's own sockets were told when the leave happened.
                    departure
                        .remaining
                        .retain(|m| self.local.room_of(&m.id).is_none());
                    out.push(Swept {
                        sid: sid.clone(),
                        departure,
                    });
                }
                Ok(None) => {}
                Err(e) => {
                    lock(&self.pending_leaves).extend(pending[i..].iter().cloned());
                    return Err(e);
                }
            }
        }
        let swept = self.store.sweep(false).await;
        self.note(&swept);
        for s in swept? {
            tracing::info!(sid = %s.sid, room = %s.departure.room, "removed: its node's lease expired");
            out.push(s);
        }
        Ok(out)
    }

    /// Puts this node's members back after Redis forgot them (restart without persistence, or
    /// this node was unreachable longer than its lease and was swept).
    async fn reregister(&self) -> Result<(), StoreError> {
        let members = self.local.snapshot();
        tracing::warn!(
            node = %self.node,
            members = members.len(),
            "lease was gone (redis restarted or this node was cut off): re-registering members"
        );
        for (room, m) in members {
            if self
                .store
                .join(&m.id, &room, &m.name, m.warm_offer, self.capacity)
                .await?
                .is_none()
            {
                tracing::warn!(sid = %m.id, %room, "seat taken meanwhile; member not restored");
            }
        }
        Ok(())
    }

    /// A node shutting down: removes its remaining members and its lease at once (instead of
    /// after the lease time). Returns the departures to announce.
    pub async fn retire(&self) -> Result<Vec<Swept>, StoreError> {
        self.store.sweep(true).await
    }

    /// A Redis round trip, for /healthz.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let r = self.store.ping().await;
        self.note(&r);
        r
    }
}

impl Rooms for Cluster {
    const SHARED: bool = true;

    /// Joins across nodes: Redis decides; the mirror follows.
    async fn join(
        &self,
        sid: &str,
        room: &str,
        name: &str,
        warm_offer: bool,
    ) -> Result<Admission, JoinFailure> {
        let r = self
            .store
            .join(sid, room, name, warm_offer, self.capacity)
            .await;
        self.note(&r);
        match r {
            Ok(Some(admission)) => {
                // The mirror has no capacity of its own: Redis decided.
                let _ = self.local.join(sid, room, name, warm_offer);
                Ok(admission)
            }
            Ok(None) => Err(JoinFailure::Full {
                capacity: self.capacity,
            }),
            Err(e) => Err(Unavailable(e.to_string()).into()),
        }
    }

    /// Leaves across nodes. The mirror forgets `sid` at once; when Redis is unreachable, the
    /// peers the mirror knows (this node's) are the departure to announce now, and Redis is
    /// cleaned (and the other nodes' peers told) once it is back (see [`tick`](Self::tick)).
    async fn leave(&self, sid: &str) -> Option<Departure> {
        let here = self.local.leave(sid);
        let r = self.store.leave(sid).await;
        self.note(&r);
        match r {
            Ok(departure) => departure,
            Err(e) => {
                tracing::warn!(%sid, "left while redis is unreachable ({e}): peers on this node are told now, the others once redis is back");
                lock(&self.pending_leaves).push(sid.to_owned());
                here
            }
        }
    }

    /// `sid`'s other members on every node. With Redis unreachable, the peers on this node
    /// are still known (the mirror), the others not.
    async fn peers(&self, sid: &str) -> Result<Option<Vec<Member>>, Unavailable> {
        let r = self.store.room_members(sid).await;
        self.note(&r);
        match r {
            Ok(d) => Ok(d.map(|d| d.remaining.into_iter().filter(|m| m.id != sid).collect())),
            Err(e) => {
                let local = self.local.peers(sid);
                if local.is_empty() {
                    return Err(Unavailable(e.to_string()));
                }
                tracing::debug!(%sid, "redis unreachable: relayed to this node's peers only");
                Ok(Some(local))
            }
        }
    }

    fn here(&self) -> &RoomRegistry {
        &self.local
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// 16 hex digits from the std's per-process random hasher keys (no extra dependency).
fn random_node_id() -> String {
    let a = RandomState::new().hash_one(std::process::id());
    let b = RandomState::new().hash_one(std::time::SystemTime::now());
    format!("{:016x}", a ^ b.rotate_left(17))
}
