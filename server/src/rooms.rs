//! Who is in which room: the only shared state of the signaling server.
//!
//! The handlers see it through the [`Rooms`] trait's few methods, each one atomic, so that the
//! seat check and the seat taking cannot interleave (the seed's check-then-push raced) and so
//! one set of handlers serves one process and many: [`RoomRegistry`] keeps rooms in memory,
//! and with `--redis-url` [`Cluster`](crate::cluster::Cluster) does the same with a Lua script
//! per method, with a registry mirroring the node's own members.

use std::collections::HashMap;
use std::future::{Future, ready};
use std::sync::Mutex;

/// One member of a room, as `all_users` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member's socket id.
    pub id: String,
    /// The name (the seed's `email`) they joined with.
    pub name: String,
    /// Duet's `warmOffer` capability from their `join_room`: `all_users` tells a joiner, which
    /// then waits for this member's offer instead of making its own.
    pub warm_offer: bool,
}

/// A socket left a room (by leaving, joining another, or disconnecting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departure {
    /// The room it left.
    pub room: String,
    /// Who is still there (to be told `user_exit`); empty when the room was forgotten.
    pub remaining: Vec<Member>,
}

/// The result of a successful join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// The others already in the room, in joining order: the `all_users` payload.
    pub peers: Vec<Member>,
    /// The room this socket was in before, if the join moved it.
    pub left: Option<Departure>,
}

/// Why a join was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinFailure {
    /// Every seat is taken.
    #[error("room is full ({capacity} of {capacity})")]
    Full {
        /// The room's capacity.
        capacity: usize,
    },
    /// The shared room state could not be reached.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// The shared room state (Redis) could not be reached: the client may retry shortly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shared room state unavailable: {0}")]
pub struct Unavailable(pub String);

/// Where the signaling handlers keep room membership: one process's memory
/// ([`RoomRegistry`]) or a store shared by several nodes
/// ([`Cluster`](crate::cluster::Cluster)). The handlers are written once over this trait.
pub trait Rooms: Send + Sync + 'static {
    /// Whether membership is shared with other nodes. Then the methods wait for a store (so
    /// each connection's events are handled in order by a task of its own, instead of inside
    /// socketioxide's handler call) and a peer may be on another node (reached through the
    /// adapter). When false, every future below must be ready when first polled.
    const SHARED: bool;

    /// Puts `sid` in `room` under `name` (with its `warmOffer` capability) if a seat is free,
    /// atomically; see [`RoomRegistry::join`].
    fn join(
        &self,
        sid: &str,
        room: &str,
        name: &str,
        warm_offer: bool,
    ) -> impl Future<Output = Result<Admission, JoinFailure>> + Send;

    /// Takes `sid` out of its room. Never fails: a store that cannot reach its shared state
    /// answers with what this node knows and finishes the leave once it can.
    fn leave(&self, sid: &str) -> impl Future<Output = Option<Departure>> + Send;

    /// The other members of `sid`'s room, or `None` when `sid` is in no room.
    fn peers(
        &self,
        sid: &str,
    ) -> impl Future<Output = Result<Option<Vec<Member>>, Unavailable>> + Send;

    /// The members this process holds (all of them, or a node's own): for gauges and logs.
    fn here(&self) -> &RoomRegistry;
}

impl Rooms for RoomRegistry {
    const SHARED: bool = false;

    fn join(
        &self,
        sid: &str,
        room: &str,
        name: &str,
        warm_offer: bool,
    ) -> impl Future<Output = Result<Admission, JoinFailure>> + Send {
        ready(RoomRegistry::join(self, sid, room, name, warm_offer))
    }

    fn leave(&self, sid: &str) -> impl Future<Output = Option<Departure>> + Send {
        ready(RoomRegistry::leave(self, sid))
    }

    fn peers(
        &self,
        sid: &str,
    ) -> impl Future<Output = Result<Option<Vec<Member>>, Unavailable>> + Send {
        ready(Ok(self.members_with(sid)))
    }

    fn here(&self) -> &RoomRegistry {
        self
    }
}

#[derive(Debug, Default)]
struct State {
    /// Room name → members in joining order.
    rooms: HashMap<String, Vec<Member>>,
    /// Socket id → its room (a socket is in at most one room).
    room_of: HashMap<String, String>,
}

/// Rooms and their members, with a fixed capacity per room. See the module documentation.
#[derive(Debug)]
pub struct RoomRegistry {
    capacity: usize,
    state: Mutex<State>,
}

impl RoomRegistry {
    /// An empty registry whose rooms hold at most `capacity` members.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            state: Mutex::new(State::default()),
        }
    }

    /// The room capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than refusing all service, so keep going with the data.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts `socket` in `room` under `name` if a seat is free, atomically. A socket already in
    /// that room stays (its peers are returned again); a socket in another room leaves it, but
    /// only once the new seat is certain, so a refused join keeps the old room.
    pub fn join(
        &self,
        socket: &str,
        room: &str,
        name: &str,
        warm_offer: bool,
    ) -> Result<Admission, JoinFailure> {
        let mut state = self.lock();
        if state.room_of.get(socket).is_some_and(|r| r == room) {
            let peers = others(state.rooms.get(room), socket);
            return Ok(Admission { peers, left: None });
        }
        let taken = state.rooms.get(room).map_or(0, Vec::len);
        if taken >= self.capacity {
            return Err(JoinFailure::Full {
                capacity: self.capacity,
            });
        }
        let left = remove(&mut state, socket);
        let members = state.rooms.entry(room.to_owned()).or_default();
        let peers = members.clone();
        members.push(Member {
            id: socket.to_owned(),
            name: name.to_owned(),
            warm_offer,
        });
        state.room_of.insert(socket.to_owned(), room.to_owned());
        Ok(Admission { peers, left })
    }

    /// Takes `socket` out of its room, forgetting the room when it empties.
    pub fn leave(&self, socket: &str) -> Option<Departure> {
        remove(&mut self.lock(), socket)
    }

    /// The room `socket` is in.
    pub fn room_of(&self, socket: &str) -> Option<String> {
        self.lock().room_of.get(socket).cloned()
    }

    /// The other members of `socket`'s room.
    pub fn peers(&self, socket: &str) -> Vec<Member> {
        let state = self.lock();
        let room = state.room_of.get(socket);
        others(room.and_then(|r| state.rooms.get(r)), socket)
    }

    /// The other members of `socket`'s room, or `None` when it is in no room (one lock).
    pub fn members_with(&self, socket: &str) -> Option<Vec<Member>> {
        let state = self.lock();
        let room = state.room_of.get(socket)?;
        Some(others(state.rooms.get(room), socket))
    }

    /// Every member with its room (for re-registering a node's members in a shared store).
    pub fn snapshot(&self) -> Vec<(String, Member)> {
        let state = self.lock();
        state
            .rooms
            .iter()
            .flat_map(|(room, members)| members.iter().map(|m| (room.clone(), m.clone())))
            .collect()
    }

    /// How many rooms have at least one member.
    pub fn room_count(&self) -> usize {
        self.lock().rooms.len()
    }

    /// How many sockets are in a room.
    pub fn member_count(&self) -> usize {
        self.lock().room_of.len()
    }
}

fn others(members: Option<&Vec<Member>>, socket: &str) -> Vec<Member> {
    members
        .map(|m| m.iter().filter(|m| m.id != socket).cloned().collect())
        .unwrap_or_default()
}

fn remove(state: &mut State, socket: &str) -> Option<Departure> {
    let room = state.room_of.remove(socket)?;
    let members = state.rooms.get_mut(&room)?;
    members.retain(|m| m.id != socket);
    let remaining = members.clone();
    if remaining.is_empty() {
        state.rooms.remove(&room);
    }
    Some(Departure { room, remaining })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn ids(m: &[Member]) -> Vec<&str> {
        m.iter().map(|m| m.id.as_str()).collect()
    }

    #[test]
    fn join_lists_earlier_members_and_fills_up() {
        let r = RoomRegistry::new(2);
        assert!(r.join("a", "x", "A", false).unwrap().peers.is_empty());
        assert_eq!(ids(&r.join("b", "x", "B", false).unwrap().peers), ["a"]);
        assert_eq!(
            r.join("c", "x", "C", false),
            Err(JoinFailure::Full { capacity: 2 })
        );
        assert_eq!(ids(&r.peers("a")), ["b"]);
        assert_eq!(ids(&r.members_with("a").unwrap()), ["b"]);
        assert_eq!(r.members_with("c"), None);
        assert_eq!(r.room_count(), 1);
    }

    #[test]
    fn leave_frees_the_seat_and_forgets_empty_rooms() {
        let r = RoomRegistry::new(2);
        r.join("a", "x", "", false).unwrap();
        r.join("b", "x", "", false).unwrap();
        let d = r.leave("a").unwrap();
        assert_eq!((d.room.as_str(), ids(&d.remaining)), ("x", vec!["b"]));
        assert!(r.join("c", "x", "", false).is_ok());
        r.leave("b");
        assert!(r.leave("c").unwrap().remaining.is_empty());
        assert_eq!(r.room_count(), 0);
        assert_eq!(r.leave("c"), None);
    }

    #[test]
    fn joining_elsewhere_moves_but_a_refused_join_keeps_the_old_room() {
        let r = RoomRegistry::new(2);
        r.join("a", "x", "", false).unwrap();
        r.join("b", "x", "", false).unwrap();
        r.join("c", "y", "", false).unwrap();
        r.join("d", "y", "", false).unwrap();
        assert!(r.join("a", "y", "", false).is_err());
        assert_eq!(r.room_of("a").as_deref(), Some("x"));
        let moved = r.join("a", "z", "", false).unwrap();
        assert_eq!(moved.left.unwrap().room, "x");
        assert_eq!(r.room_of("a").as_deref(), Some("z"));
        assert!(r.peers("b").is_empty());
        // Rejoining the same room is idempotent.
        assert!(r.join("a", "z", "", false).unwrap().left.is_none());
        assert_eq!(r.member_count(), 4);
    }

    #[test]
    fn concurrent_joins_admit_exactly_capacity() {
        for _ in 0..50 {
            let r = Arc::new(RoomRegistry::new(2));
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let r = r.clone();
                    std::thread::spawn(move || r.join(&i.to_string(), "x", "", false).is_ok())
                })
                .collect();
            let admitted = handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|ok| *ok)
                .count();
            assert_eq!(admitted, 2);
        }
    }
}
