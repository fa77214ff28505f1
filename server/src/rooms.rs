//! Who is in which room: the only shared state of the signaling server.
//!
//! Everything goes through [`RoomRegistry`]'s few methods, each one atomic, so that the seat
//! check and the seat taking cannot interleave (the seed's check-then-push raced) and so a
//! shared store can stand in for the in-memory map: with `--redis-url`,
//! [`cluster::store`](crate::cluster::store) does the same with a Lua script per method, and
//! this registry mirrors the node's own members.

use std::collections::HashMap;
use std::sync::Mutex;

/// One member of a room, as `all_users` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member's socket id.
    pub id: String,
    /// The name (the seed's `email`) they joined with.
    pub name: String,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    /// Every seat is taken.
    #[error("room is full ({capacity} of {capacity})")]
    Full {
        /// The room's capacity.
        capacity: usize,
    },
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
    pub fn join(&self, socket: &str, room: &str, name: &str) -> Result<Admission, JoinError> {
        let mut state = self.lock();
        if state.room_of.get(socket).is_some_and(|r| r == room) {
            let peers = others(state.rooms.get(room), socket);
            return Ok(Admission { peers, left: None });
        }
        let taken = state.rooms.get(room).map_or(0, Vec::len);
        if taken >= self.capacity {
            return Err(JoinError::Full {
                capacity: self.capacity,
            });
        }
        let left = remove(&mut state, socket);
        let members = state.rooms.entry(room.to_owned()).or_default();
        let peers = members.clone();
        members.push(Member {
            id: socket.to_owned(),
            name: name.to_owned(),
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
        assert!(r.join("a", "x", "A").unwrap().peers.is_empty());
        assert_eq!(ids(&r.join("b", "x", "B").unwrap().peers), ["a"]);
        assert_eq!(r.join("c", "x", "C"), Err(JoinError::Full { capacity: 2 }));
        assert_eq!(ids(&r.peers("a")), ["b"]);
        assert_eq!(r.room_count(), 1);
    }

    #[test]
    fn leave_frees_the_seat_and_forgets_empty_rooms() {
        let r = RoomRegistry::new(2);
        r.join("a", "x", "").unwrap();
        r.join("b", "x", "").unwrap();
        let d = r.leave("a").unwrap();
        assert_eq!((d.room.as_str(), ids(&d.remaining)), ("x", vec!["b"]));
        assert!(r.join("c", "x", "").is_ok());
        r.leave("b");
        assert!(r.leave("c").unwrap().remaining.is_empty());
        assert_eq!(r.room_count(), 0);
        assert_eq!(r.leave("c"), None);
    }

    #[test]
    fn joining_elsewhere_moves_but_a_refused_join_keeps_the_old_room() {
        let r = RoomRegistry::new(2);
        r.join("a", "x", "").unwrap();
        r.join("b", "x", "").unwrap();
        r.join("c", "y", "").unwrap();
        r.join("d", "y", "").unwrap();
        assert!(r.join("a", "y", "").is_err());
        assert_eq!(r.room_of("a").as_deref(), Some("x"));
        let moved = r.join("a", "z", "").unwrap();
        assert_eq!(moved.left.unwrap().room, "x");
        assert_eq!(r.room_of("a").as_deref(), Some("z"));
        assert!(r.peers("b").is_empty());
        // Rejoining the same room is idempotent.
        assert!(r.join("a", "z", "").unwrap().left.is_none());
        assert_eq!(r.member_count(), 4);
    }

    #[test]
    fn concurrent_joins_admit_exactly_capacity() {
        for _ in 0..50 {
            let r = Arc::new(RoomRegistry::new(2));
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let r = r.clone();
                    std::thread::spawn(move || r.join(&i.to_string(), "x", "").is_ok())
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
