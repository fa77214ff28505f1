//! Room membership in Redis: one Lua script per operation, so a seat check and the seat taking
//! run as one atomic step on the Redis server whichever node asks (two nodes racing for the last
//! seat: exactly one wins).
//!
//! Keys (prefix `duet:`): `room:{room}` hash sid → `seq|node|name` (seq orders members by
//! joining; [`WARM_OFFER`] after the node marks the member's `warmOffer` capability, where a
//! node of an earlier version, which ignores that field, still reads the entry during a rolling
//! upgrade); `sock:{sid}` → the socket's room; `node:{node}` set of the node's member sids;
//! `lease:{node}` expiring key a live node refreshes; `nodes` set of nodes that hold members.
//! The scripts compute key names, so this needs a standalone Redis (or a Sentinel-managed
//! primary), not Redis Cluster.

use redis::aio::ConnectionManager;
use redis::{Script, Value};

use crate::rooms::{Admission, Departure, Member};

/// Key prefix of everything Duet stores.
const PREFIX: &str = "duet:";
/// After the node in a member entry: the member has the `warmOffer` capability.
const WARM_OFFER: &str = ";w";

const JOIN: &str = r#"
local p, sid, room, name, node, cap, warm = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7]
local sk, rk = p..'sock:'..sid, p..'room:'..room
local cur = redis.call('GET', sk)
if cur == room then return {1, redis.call('HGETALL', rk), false, {}} end
if redis.call('HLEN', rk) >= cap then return {0} end
local left, rest = false, {}
if cur then
  redis.call('HDEL', p..'room:'..cur, sid)
  rest = redis.call('HGETALL', p..'room:'..cur)
  left = cur
end
local peers = redis.call('HGETALL', rk)
local seq = redis.call('INCR', p..'seq')
redis.call('HSET', rk, sid, seq..'|'..node..warm..'|'..name)
redis.call('SET', sk, room)
redis.call('SADD', p..'node:'..node, sid)
redis.call('SADD', p..'nodes', node)
return {1, peers, left, rest}
"#;

const LEAVE: &str = r#"
local p, sid, node = ARGV[1], ARGV[2], ARGV[3]
local sk = p..'sock:'..sid
local room = redis.call('GET', sk)
if not room then return false end
redis.call('DEL', sk)
redis.call('HDEL', p..'room:'..room, sid)
redis.call('SREM', p..'node:'..node, sid)
return {room, redis.call('HGETALL', p..'room:'..room)}
"#;

const PEERS: &str = r#"
local p, sid = ARGV[1], ARGV[2]
local room = redis.call('GET', p..'sock:'..sid)
if not room then return false end
return {room, redis.call('HGETALL', p..'room:'..room)}
"#;

const REFRESH: &str = r#"
local p, node, ttl = ARGV[1], ARGV[2], ARGV[3]
local had = redis.call('EXISTS', p..'lease:'..node)
redis.call('SET', p..'lease:'..node, '1', 'PX', ttl)
return had
"#;

/// Removes the members of every node whose lease expired (and of ARGV[2], a node retiring).
const SWEEP: &str = r#"
local p, retiring = ARGV[1], ARGV[2]
if retiring ~= '' then redis.call('DEL', p..'lease:'..retiring) end
local out = {}
for _, node in ipairs(redis.call('SMEMBERS', p..'nodes')) do
  if redis.call('EXISTS', p..'lease:'..node) == 0 then
    for _, sid in ipairs(redis.call('SMEMBERS', p..'node:'..node)) do
      local sk = p..'sock:'..sid
      local room = redis.call('GET', sk)
      if room then
        redis.call('DEL', sk)
        redis.call('HDEL', p..'room:'..room, sid)
        table.insert(out, {sid, room, redis.call('HGETALL', p..'room:'..room)})
      end
    end
    redis.call('DEL', p..'node:'..node)
    redis.call('SREM', p..'nodes', node)
  end
end
return out
"#;

/// Why a Redis operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis is unreachable or refused the command.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// A script answered something it never returns (another program writing Duet's keys?).
    #[error("unexpected reply from redis: {0}")]
    Reply(&'static str),
}

/// A member removed because its node's lease expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Swept {
    /// The removed socket.
    pub sid: String,
    /// What it left behind.
    pub departure: Departure,
}

/// The scripts and the connection they run on.
#[derive(Clone)]
pub struct Store {
    conn: ConnectionManager,
    node: String,
    join: Script,
    leave: Script,
    peers: Script,
    refresh: Script,
    sweep: Script,
}

impl Store {
    /// Scripts for `node` on `conn`. `Script` sends EVALSHA and reloads the body after a
    /// NOSCRIPT (a restarted Redis has an empty script cache).
    pub fn new(conn: ConnectionManager, node: &str) -> Self {
        Self {
            conn,
            node: node.to_owned(),
            join: Script::new(JOIN),
            leave: Script::new(LEAVE),
            peers: Script::new(PEERS),
            refresh: Script::new(REFRESH),
            sweep: Script::new(SWEEP),
        }
    }

    /// As [`RoomRegistry::join`](crate::rooms::RoomRegistry::join), across nodes; `None` when
    /// the room is full.
    pub async fn join(
        &self,
        sid: &str,
        room: &str,
        name: &str,
        warm_offer: bool,
        capacity: usize,
    ) -> Result<Option<Admission>, StoreError> {
        let reply: Value = self
            .join
            .arg(PREFIX)
            .arg(sid)
            .arg(room)
            .arg(name)
            .arg(&self.node)
            .arg(capacity)
            .arg(if warm_offer { WARM_OFFER } else { "" })
            .invoke_async(&mut self.conn.clone())
            .await?;
        let mut parts = array(reply)?.into_iter();
        match parts.next().map(int) {
            Some(Ok(0)) => return Ok(None),
            Some(Ok(1)) => {}
            _ => return Err(StoreError::Reply("join status")),
        }
        let (Some(peers), Some(left), Some(rest)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(StoreError::Reply("join fields"));
        };
        let mut peers = members(peers)?;
        peers.retain(|m| m.id != sid);
        let left = match text(left) {
            Some(room) => Some(Departure {
                room,
                remaining: members(rest)?,
            }),
            None => None,
        };
        Ok(Some(Admission { peers, left }))
    }

    /// Takes `sid` out of its room.
    pub async fn leave(&self, sid: &str) -> Result<Option<Departure>, StoreError> {
        let reply: Value = self
            .leave
            .arg(PREFIX)
            .arg(sid)
            .arg(&self.node)
            .invoke_async(&mut self.conn.clone())
            .await?;
        room_and_members(reply)
    }

    /// `sid`'s room and its members (`sid` included).
    pub async fn room_members(&self, sid: &str) -> Result<Option<Departure>, StoreError> {
        let reply: Value = self
            .peers
            .arg(PREFIX)
            .arg(sid)
            .invoke_async(&mut self.conn.clone())
            .await?;
        room_and_members(reply)
    }

    /// Renews this node's lease for `ttl_ms`; returns whether it was still there (false at
    /// the first refresh, and after an outage long enough for it to expire or a Redis restart).
    pub async fn refresh(&self, ttl_ms: u64) -> Result<bool, StoreError> {
        let had: i64 = self
            .refresh
            .arg(PREFIX)
            .arg(&self.node)
            .arg(ttl_ms)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(had == 1)
    }

    /// Removes the members of expired nodes (and of this node when `retiring`).
    pub async fn sweep(&self, retiring: bool) -> Result<Vec<Swept>, StoreError> {
        let reply: Value = self
            .sweep
            .arg(PREFIX)
            .arg(if retiring { self.node.as_str() } else { "" })
            .invoke_async(&mut self.conn.clone())
            .await?;
        array(reply)?
            .into_iter()
            .map(|entry| {
                let mut f = array(entry)?.into_iter();
                let (Some(sid), Some(room), Some(rest)) = (f.next(), f.next(), f.next()) else {
                    return Err(StoreError::Reply("sweep entry"));
                };
                Ok(Swept {
                    sid: text(sid).ok_or(StoreError::Reply("sweep sid"))?,
                    departure: Departure {
                        room: text(room).ok_or(StoreError::Reply("sweep room"))?,
                        remaining: members(rest)?,
                    },
                })
            })
            .collect()
    }

    /// A round trip to Redis.
    pub async fn ping(&self) -> Result<(), StoreError> {
        redis::cmd("PING")
            .query_async::<()>(&mut self.conn.clone())
            .await?;
        Ok(())
    }
}

fn room_and_members(reply: Value) -> Result<Option<Departure>, StoreError> {
    if matches!(reply, Value::Nil | Value::Boolean(false)) {
        return Ok(None);
    }
    let mut f = array(reply)?.into_iter();
    let (Some(room), Some(rest)) = (f.next(), f.next()) else {
        return Err(StoreError::Reply("room and members"));
    };
    Ok(Some(Departure {
        room: text(room).ok_or(StoreError::Reply("room name"))?,
        remaining: members(rest)?,
    }))
}

fn array(v: Value) -> Result<Vec<Value>, StoreError> {
    match v {
        Value::Array(a) | Value::Set(a) => Ok(a),
        _ => Err(StoreError::Reply("expected an array")),
    }
}

fn int(v: Value) -> Result<i64, StoreError> {
    match v {
        Value::Int(i) => Ok(i),
        _ => Err(StoreError::Reply("expected an integer")),
    }
}

/// A string reply; `None` for Lua's `false` (nil, or RESP3's boolean).
fn text(v: Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b).ok(),
        Value::SimpleString(s) => Some(s),
        _ => None,
    }
}

/// HGETALL's flat `[sid, "seq|node|name", …]`, as members in joining order.
fn members(v: Value) -> Result<Vec<Member>, StoreError> {
    let flat = array(v)?;
    let mut out = Vec::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(id), Some(entry)) = (it.next(), it.next()) {
        let (Some(id), Some(entry)) = (text(id), text(entry)) else {
            return Err(StoreError::Reply("member entry"));
        };
        let mut f = entry.splitn(3, '|');
        let (Some(seq), Some(node), Some(name)) = (f.next(), f.next(), f.next()) else {
            return Err(StoreError::Reply("member fields"));
        };
        let warm_offer = node.ends_with(WARM_OFFER);
        let seq: u64 = seq.parse().map_err(|_| StoreError::Reply("member seq"))?;
        out.push((
            seq,
            Member {
                id,
                name: name.to_owned(),
                warm_offer,
            },
        ));
    }
    out.sort_by_key(|(seq, _)| *seq);
    Ok(out.into_iter().map(|(_, m)| m).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn members_come_in_joining_order_and_names_may_hold_bars() {
        let flat = Value::Array(vec![
            bulk("b"),
            bulk("12|n1;w|B|x"),
            bulk("a"),
            bulk("3|n2|A"),
        ]);
        let m = members(flat).unwrap();
        assert_eq!(
            m,
            vec![
                Member {
                    id: "a".into(),
                    name: "A".into(),
                    warm_offer: false,
                },
                Member {
                    id: "b".into(),
                    name: "B|x".into(),
                    warm_offer: true,
                }
            ]
        );
    }

    #[test]
    fn odd_replies_are_errors_not_panics() {
        assert!(members(bulk("x")).is_err());
        assert!(members(Value::Array(vec![bulk("a"), bulk("nope")])).is_err());
        assert!(room_and_members(Value::Int(3)).is_err());
        assert_eq!(room_and_members(Value::Nil).unwrap(), None);
    }
}
