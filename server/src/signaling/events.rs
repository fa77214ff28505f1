//! What the handlers do with each event, written once for every [`Rooms`] store: admit
//! (rate limit, parse, validate), join, relay, leave, disconnect, and the replies.

use std::time::Instant;

use duet_protocol::signaling::{
    ClientMessage, ErrorCode, ErrorNotice, JoinRoom, ServerMessage, User, UserExit, event,
};
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::operators::BroadcastOperators;
use socketioxide::socket::{DisconnectReason, Sid};
use socketioxide::{SendError, SocketError};

use super::{Connection, Signaling, lock};
use crate::rooms::{Departure, JoinFailure, Member, Rooms};

impl<R: Rooms> Signaling<R> {
    /// Rate limit, parse and validate: the message to act on, or `None` when rejected.
    fn admit<A: Adapter>(
        &self,
        socket: &SocketRef<A>,
        conn: &Connection,
        name: &str,
        data: Option<Value>,
        received: Instant,
    ) -> Option<ClientMessage> {
        if !lock(&conn.bucket).try_take(received) {
            self.reject(
                socket,
                conn,
                name,
                ErrorCode::RateLimited,
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

    pub(super) async fn on_event<A: Adapter>(
        &self,
        root: &BroadcastOperators<A>,
        socket: &SocketRef<A>,
        conn: &Connection,
        name: &str,
        data: Option<Value>,
        received: Instant,
    ) {
        let Some(message) = self.admit(socket, conn, name, data, received) else {
            return;
        };
        let sid = socket.id.to_string();
        let (event, outgoing) = match message {
            ClientMessage::JoinRoom(join) => {
                return self.join(root, socket, conn, &sid, join, received).await;
            }
            ClientMessage::LeaveRoom => return self.leave(root, &sid, "left").await,
            ClientMessage::Offer(d) => (event::OFFER, ServerMessage::Offer(d)),
            ClientMessage::Answer(d) => (event::ANSWER, ServerMessage::Answer(d)),
            ClientMessage::Candidate(c) => (event::CANDIDATE, ServerMessage::Candidate(c)),
        };
        self.relay(root, socket, conn, &sid, (event, outgoing), received)
            .await;
    }

    async fn join<A: Adapter>(
        &self,
        root: &BroadcastOperators<A>,
        socket: &SocketRef<A>,
        conn: &Connection,
        sid: &str,
        join: JoinRoom,
        received: Instant,
    ) {
        let admission = match self
            .rooms
            .join(sid, &join.room, &join.email, join.warm_offer)
            .await
        {
            Ok(admission) => admission,
            Err(JoinFailure::Full { capacity }) => {
                self.metrics.room_full();
                tracing::info!(%sid, room = %join.room, capacity, "room full");
                send(socket, &ServerMessage::RoomFull);
                return;
            }
            Err(JoinFailure::Unavailable(e)) => {
                return self.unavailable(socket, conn, event::JOIN_ROOM, &e.to_string());
            }
        };
        if let Some(departure) = &admission.left {
            tracing::info!(%sid, room = %departure.room, "left (joined another room)");
            self.announce_exit(root, sid, departure).await;
        }
        let joined = user_joined(sid, &join);
        for peer in &admission.peers {
            deliver::<R, A>(root, &peer.id, &joined).await;
        }
        let peers = admission.peers.len();
        send(socket, &ServerMessage::AllUsers(users(admission.peers)));
        self.metrics.join(received.elapsed());
        tracing::info!(%sid, room = %join.room, peers, "joined");
    }

    /// Sends `outgoing` (the `get*` form of the client's `event`) to the sender's room peers.
    async fn relay<A: Adapter>(
        &self,
        root: &BroadcastOperators<A>,
        socket: &SocketRef<A>,
        conn: &Connection,
        sid: &str,
        (event, outgoing): (&'static str, ServerMessage),
        received: Instant,
    ) {
        let peers = match self.rooms.peers(sid).await {
            Ok(Some(peers)) => peers,
            Ok(None) => {
                return self.reject(
                    socket,
                    conn,
                    event,
                    ErrorCode::NotInRoom,
                    "join a room first",
                );
            }
            Err(e) => return self.unavailable(socket, conn, event, &e.to_string()),
        };
        for peer in &peers {
            if deliver::<R, A>(root, &peer.id, &outgoing).await == Delivery::Full {
                self.drop_slow(root, &peer.id).await;
            }
        }
        self.metrics.relay(event, received.elapsed());
        // Ids and counts only: SDP and candidates carry addresses and must stay out of logs.
        tracing::debug!(%sid, event, peers = peers.len(), "relayed");
    }

    /// A peer whose send buffer is full has stopped reading: its buffer holds socketioxide's
    /// `max_buffer_size` packets (up to 128 relays, SDPs included) and everything after them is
    /// dropped. It leaves the room now, so its partner hears `user_exit` and stops pushing into a
    /// buffer nobody drains (a polling client that never polls kept its partner relaying into
    /// nothing for as long as its heartbeat lasted). Its transport closes at once if the close
    /// still fits, otherwise at its next heartbeat, whose pong no longer fits either.
    async fn drop_slow<A: Adapter>(&self, root: &BroadcastOperators<A>, sid: &str) {
        self.metrics.rejection("slow_consumer");
        self.leave(root, sid, "not reading its relays, dropped from its room")
            .await;
        if let Some(socket) = sid.parse::<Sid>().ok().and_then(|s| root.get_socket(s)) {
            let _ = socket.disconnect();
        }
    }

    /// Takes `sid` out of its room and tells the others.
    async fn leave<A: Adapter>(&self, root: &BroadcastOperators<A>, sid: &str, how: &'static str) {
        if let Some(departure) = self.rooms.leave(sid).await {
            tracing::info!(%sid, room = %departure.room, "{how}");
            self.announce_exit(root, sid, &departure).await;
        }
    }

    /// Tells `departure`'s remaining members that `sid` left.
    pub(crate) async fn announce_exit<A: Adapter>(
        &self,
        root: &BroadcastOperators<A>,
        sid: &str,
        departure: &Departure,
    ) {
        self.metrics.leave();
        let exit = ServerMessage::UserExit(UserExit { id: sid.to_owned() });
        for peer in &departure.remaining {
            deliver::<R, A>(root, &peer.id, &exit).await;
        }
    }

    pub(super) async fn on_disconnect<A: Adapter>(
        &self,
        root: &BroadcastOperators<A>,
        socket: &SocketRef<A>,
        conn: &Connection,
        reason: DisconnectReason,
    ) {
        // Free the connection slot first: once a peer hears user_exit, the slot is available.
        lock(&conn.slot).take();
        let sid = socket.id.to_string();
        self.leave(root, &sid, "left (disconnected)").await;
        tracing::info!(%sid, ?reason, "disconnected");
    }

    /// A join or relay that needs the shared room state while it is unreachable: the client
    /// hears why.
    fn unavailable<A: Adapter>(
        &self,
        socket: &SocketRef<A>,
        conn: &Connection,
        event: &str,
        error: &str,
    ) {
        tracing::error!(sid = %socket.id, event, "refused: {error}");
        self.reject(
            socket,
            conn,
            event,
            ErrorCode::Unavailable,
            "the call service is briefly unavailable; try again in a few seconds",
        );
    }

    pub(super) fn reject<A: Adapter>(
        &self,
        socket: &SocketRef<A>,
        conn: &Connection,
        event: &str,
        code: ErrorCode,
        message: &str,
    ) {
        self.metrics.rejection(code.as_str());
        if let Some(suppressed) = lock(&conn.warn).allow(Instant::now()) {
            let sid = socket.id.to_string();
            let room = self.rooms.here().room_of(&sid).unwrap_or_default();
            tracing::warn!(%sid, %room, event, %code, suppressed, "rejected: {message}");
        }
        send(socket, &error_message(code, message));
    }
}

fn users(members: Vec<Member>) -> Vec<User> {
    members
        .into_iter()
        .map(|m| User {
            id: m.id,
            email: m.name,
            warm_offer: m.warm_offer,
        })
        .collect()
}

/// Duet's `user_joined`, for the members already in the room: the seed never told the first
/// person the second one's name. Seed clients ignore it (no listener). It relays the joiner's
/// `warmOffer` capability, so a member that has it may offer at once.
fn user_joined(sid: &str, join: &JoinRoom) -> ServerMessage {
    ServerMessage::UserJoined(User {
        id: sid.to_owned(),
        email: join.email.clone(),
        warm_offer: join.warm_offer,
    })
}

pub(super) fn error_message(code: ErrorCode, message: &str) -> ServerMessage {
    ServerMessage::Error(ErrorNotice {
        code,
        message: message.to_owned(),
    })
}

/// What became of a message for one socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Delivery {
    /// Queued for the client (or the socket is gone, closing, or on another node).
    Done,
    /// Dropped: the socket's send buffer is full, the client stopped reading.
    Full,
}

/// Emits a typed message on one socket. A full send buffer means the client stopped reading;
/// the message is dropped rather than queued without bound.
pub(super) fn send<A: Adapter>(socket: &SocketRef<A>, message: &ServerMessage) -> Delivery {
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

/// Sends to a socket on this node directly; with a shared store, else through the adapter to
/// the node that has it.
async fn deliver<R: Rooms, A: Adapter>(
    root: &BroadcastOperators<A>,
    sid: &str,
    message: &ServerMessage,
) -> Delivery {
    if let Some(socket) = sid.parse::<Sid>().ok().and_then(|s| root.get_socket(s)) {
        return send(&socket, message);
    }
    if !R::SHARED {
        tracing::debug!(%sid, "peer socket gone, not delivered");
        return Delivery::Done;
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
    Delivery::Done
}
