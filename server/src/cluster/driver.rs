//! The pub/sub driver under socketioxide's Redis adapter, on redis' `ConnectionManager`.
//!
//! socketioxide-redis ships a driver on a `MultiplexedConnection`, which stays broken after
//! Redis restarts: publishes fail and subscriptions are gone for good. This one reconnects
//! (the manager's backoff) and resubscribes to the adapter's channels after every reconnect,
//! so a node is back in the cluster as soon as Redis is.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, FromRedisValue, PushInfo, PushKind};
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use tokio::sync::mpsc;

type Handlers = Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>;

/// A [`Driver`] that survives Redis restarts. Clones share the connection and the handlers.
#[derive(Clone)]
pub struct ManagedDriver {
    conn: ConnectionManager,
    handlers: Handlers,
}

impl ManagedDriver {
    /// Connects (RESP3, which pub/sub on a shared connection needs).
    pub async fn connect(client: redis::Client) -> redis::RedisResult<Self> {
        let handlers: Handlers = Arc::default();
        let routes = handlers.clone();
        let config = ConnectionManagerConfig::new()
            .set_push_sender(move |push: PushInfo| {
                route(push, &routes);
                Ok::<(), std::convert::Infallible>(())
            })
            .set_automatic_resubscription();
        let conn = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self { conn, handlers })
    }

    /// Sends a PING: makes the manager notice a lost connection and reconnect (and resubscribe)
    /// even when this node has nothing to publish.
    pub async fn ping(&self) -> redis::RedisResult<()> {
        redis::cmd("PING")
            .query_async::<()>(&mut self.conn.clone())
            .await
    }
}

/// Hands a pub/sub message to the adapter stream subscribed to its channel.
fn route(push: PushInfo, handlers: &Handlers) {
    match push.kind {
        PushKind::Message => {}
        PushKind::Disconnection => {
            tracing::warn!("redis pub/sub connection lost; reconnecting");
            return;
        }
        _ => return,
    }
    let mut data = push.data.into_iter();
    let (Some(chan), Some(payload)) = (data.next(), data.next()) else {
        return;
    };
    let (Ok(chan), Ok(payload)) = (
        String::from_redis_value(chan),
        Vec::<u8>::from_redis_value(payload),
    ) else {
        tracing::warn!("malformed redis pub/sub message dropped");
        return;
    };
    let handlers = handlers.read().unwrap_or_else(|e| e.into_inner());
    if let Some(tx) = handlers.get(&chan)
        && let Err(e) = tx.try_send((chan, payload))
    {
        // The adapter's stream is full: it is far behind; dropping beats blocking Redis' reader.
        tracing::warn!("redis pub/sub message dropped: {e}");
    }
}

/// The driver's error: Redis' own.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct DriverError(#[from] redis::RedisError);

impl Driver for ManagedDriver {
    type Error = DriverError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        self.conn
            .clone()
            .publish::<_, _, redis::Value>(chan, val)
            .await?;
        Ok(())
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        let (tx, rx) = mpsc::channel(size);
        self.handlers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(chan.clone(), tx);
        self.conn.clone().subscribe(chan).await?;
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        self.handlers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&chan);
        self.conn.clone().unsubscribe(chan).await?;
        Ok(())
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        let (_, count): (String, u16) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(chan)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(count)
    }
}
