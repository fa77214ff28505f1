//! The soak's pairs: two clients that join a room, make a call's signaling (offer, answer,
//! candidates both ways), leave, and do it again until a deadline, each relay checked.
//!
//! Every relay carries its pair, round and sequence number, so the receiver can tell a relay
//! that never came (lost) from one meant for another pair or out of order (crossed). A pair
//! leaves by `leave_room` on even rounds (sockets kept for the next join) and by closing both
//! sockets on odd rounds, so both ways out of a room are exercised; a failed round drops both
//! sockets and the next starts afresh.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use duet_protocol::signaling::{
    ClientMessage, IceCandidate, JoinRoom, SdpType, ServerMessage, SessionDescription,
};
use tokio::time::Instant;

use crate::conn::{self, Conn, Incoming};

/// The Socket.IO WebSocket path and query.
const PATH: &str = "/socket.io/?EIO=3&transport=websocket";
/// How long a client waits for what it expects before the soak counts it lost.
const EXPECT_WITHIN: Duration = Duration::from_secs(10);

/// Counts of all pairs together.
#[derive(Debug, Default)]
pub struct Tally {
    /// Rounds completed (join, call, leave).
    pub rounds: AtomicU64,
    /// Connections opened.
    pub connections: AtomicU64,
    /// Connections that could not be opened.
    pub connect_failures: AtomicU64,
    /// Relays (offer, answer, candidates) sent.
    pub relays_sent: AtomicU64,
    /// Relays received by the sender's partner, intact and in order.
    pub relays_received: AtomicU64,
    /// Expected messages (relays, `all_users`, `user_joined`, `user_exit`) that never came.
    pub lost: AtomicU64,
    /// Messages that came in place of the expected one: another pair's relay, wrong order,
    /// an `error`, or a socket closed by the server.
    pub crossed: AtomicU64,
}

/// A plain snapshot of a [`Tally`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// See [`Tally::rounds`].
    pub rounds: u64,
    /// See [`Tally::connections`].
    pub connections: u64,
    /// See [`Tally::connect_failures`].
    pub connect_failures: u64,
    /// See [`Tally::relays_sent`].
    pub relays_sent: u64,
    /// See [`Tally::relays_received`].
    pub relays_received: u64,
    /// See [`Tally::lost`].
    pub lost: u64,
    /// See [`Tally::crossed`].
    pub crossed: u64,
}

impl Tally {
    /// The counts now.
    pub fn counts(&self) -> Counts {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Counts {
            rounds: get(&self.rounds),
            connections: get(&self.connections),
            connect_failures: get(&self.connect_failures),
            relays_sent: get(&self.relays_sent),
            relays_received: get(&self.relays_received),
            lost: get(&self.lost),
            crossed: get(&self.crossed),
        }
    }
}

fn bump(a: &AtomicU64, n: u64) {
    a.fetch_add(n, Ordering::Relaxed);
}

/// One pair's work.
#[derive(Debug, Clone)]
pub struct Pair {
    /// Its number; its rooms are `{prefix}-{index}-{round}`.
    pub index: usize,
    /// Room name prefix (one per phase).
    pub prefix: String,
    /// Where the first client connects.
    pub first: SocketAddr,
    /// Where the second client connects (another node over Redis, or the same).
    pub second: SocketAddr,
    /// Candidates each side sends per round.
    pub candidates: usize,
    /// Pause between rounds (keeps a few hundred pairs from saturating a small machine).
    pub pause: Duration,
}

/// Why a round failed; counted in the tally where it happened.
struct Failed;

impl Pair {
    /// Runs rounds until `deadline`, then closes its sockets.
    pub async fn run(self, deadline: Instant, tally: &Tally) {
        let mut sockets: Option<(Conn, Conn)> = None;
        let mut round = 0u64;
        while Instant::now() < deadline {
            round += 1;
            let (mut a, mut b) = match sockets.take() {
                Some(s) => s,
                None => match self.connect(tally).await {
                    Some(s) => s,
                    None => {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                },
            };
            if self.round(&mut a, &mut b, round, tally).await.is_err() {
                continue; // Both dropped: the next round reconnects.
            }
            bump(&tally.rounds, 1);
            if round.is_multiple_of(2) {
                sockets = Some((a, b));
            }
            tokio::time::sleep(self.pause).await;
        }
    }

    async fn connect(&self, tally: &Tally) -> Option<(Conn, Conn)> {
        let a = conn::connect(self.first, None, PATH).await;
        let b = conn::connect(self.second, None, PATH).await;
        match (a, b) {
            (Ok(a), Ok(b)) => {
                bump(&tally.connections, 2);
                Some((a, b))
            }
            (a, b) => {
                let failed = u64::from(a.is_err()) + u64::from(b.is_err());
                bump(&tally.connections, 2 - failed);
                bump(&tally.connect_failures, failed);
                None
            }
        }
    }

    /// One round on connected sockets; even rounds leave by `leave_room`, odd ones by closing.
    /// On failure the sockets are dropped (closed).
    async fn round(
        &self,
        a: &mut Conn,
        b: &mut Conn,
        round: u64,
        tally: &Tally,
    ) -> Result<(), Failed> {
        // A room of its own each round: after an odd round the server may not have seen the
        // closed sockets go yet when the next round's fresh ones join.
        let room = format!("{}-{}-{round}", self.prefix, self.index);
        let tag = format!("{}:{}:{round}", self.prefix, self.index);
        let join = |email: &str| {
            ClientMessage::JoinRoom(JoinRoom {
                room: room.clone(),
                email: email.into(),
                warm_offer: false,
            })
        };
        emit(a, join("a"), tally)?;
        expect(
            a,
            tally,
            |m| matches!(m, ServerMessage::AllUsers(u) if u.is_empty()),
        )
        .await?;
        emit(b, join("b"), tally)?;
        expect(
            b,
            tally,
            |m| matches!(m, ServerMessage::AllUsers(u) if u.len() == 1 && u[0].email == "a"),
        )
        .await?;
        expect(
            a,
            tally,
            |m| matches!(m, ServerMessage::UserJoined(u) if u.email == "b"),
        )
        .await?;

        let sdp = |kind, who: &str| SessionDescription {
            kind,
            sdp: format!("v=0\r\no=- {tag} {who}\r\n"),
        };
        relay(
            b,
            a,
            ClientMessage::Offer(sdp(SdpType::Offer, "b")),
            tally,
            {
                let want = sdp(SdpType::Offer, "b");
                move |m| matches!(m, ServerMessage::Offer(d) if *d == want)
            },
        )
        .await?;
        relay(
            a,
            b,
            ClientMessage::Answer(sdp(SdpType::Answer, "a")),
            tally,
            {
                let want = sdp(SdpType::Answer, "a");
                move |m| matches!(m, ServerMessage::Answer(d) if *d == want)
            },
        )
        .await?;
        let candidate = |who: &str, k: usize| IceCandidate {
            candidate: format!(
                "candidate:{k} 1 udp 2122260223 127.0.0.1 {} typ host {tag} {who}",
                10000 + k
            ),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
            username_fragment: Some(who.into()),
        };
        // Trickled both ways at once, as a call does; each side then reads its partner's in order.
        for k in 0..self.candidates {
            emit(a, ClientMessage::Candidate(candidate("a", k)), tally)?;
            emit(b, ClientMessage::Candidate(candidate("b", k)), tally)?;
        }
        bump(&tally.relays_sent, 2 * self.candidates as u64);
        for (to, from) in [(&mut *a, "b"), (&mut *b, "a")] {
            for k in 0..self.candidates {
                let want = candidate(from, k);
                expect(
                    to,
                    tally,
                    |m| matches!(m, ServerMessage::Candidate(c) if *c == want),
                )
                .await?;
                bump(&tally.relays_received, 1);
            }
        }

        if round.is_multiple_of(2) {
            emit(b, ClientMessage::LeaveRoom, tally)?;
            expect(a, tally, |m| matches!(m, ServerMessage::UserExit(_))).await?;
            emit(a, ClientMessage::LeaveRoom, tally)?;
        }
        // Odd rounds: the caller drops both sockets; the server sees b's close as a's partner
        // leaving, and a's close next. Nobody is left to hear either `user_exit`.
        Ok(())
    }
}

fn emit(c: &Conn, m: ClientMessage, tally: &Tally) -> Result<(), Failed> {
    c.emit(m).map_err(|_| {
        bump(&tally.crossed, 1);
        Failed
    })
}

/// Emits `m` on `from` and expects `to` to receive what `want` accepts.
async fn relay(
    from: &Conn,
    to: &mut Conn,
    m: ClientMessage,
    tally: &Tally,
    want: impl Fn(&ServerMessage) -> bool,
) -> Result<(), Failed> {
    emit(from, m, tally)?;
    bump(&tally.relays_sent, 1);
    expect(to, tally, want).await?;
    bump(&tally.relays_received, 1);
    Ok(())
}

/// The next message on `c` must be the one `want` accepts.
async fn expect(
    c: &mut Conn,
    tally: &Tally,
    want: impl Fn(&ServerMessage) -> bool,
) -> Result<(), Failed> {
    match tokio::time::timeout(EXPECT_WITHIN, c.rx.recv()).await {
        Ok(Some(Incoming::Message(m))) if want(&m) => Ok(()),
        Ok(Some(Incoming::Message(m))) => {
            eprintln!("soak: unexpected {m:?}");
            bump(&tally.crossed, 1);
            Err(Failed)
        }
        Ok(Some(Incoming::Closed(reason))) => {
            eprintln!("soak: closed: {reason}");
            bump(&tally.crossed, 1);
            Err(Failed)
        }
        Ok(None) | Err(_) => {
            bump(&tally.lost, 1);
            Err(Failed)
        }
    }
}
