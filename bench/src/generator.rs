//! The signaling load generator: pairs of clients in rooms of two doing what a call does
//! (join → offer → answer → candidates), then relaying timestamped candidates at a fixed rate.
//!
//! Every relay carries its room, sender, sequence number and send time, so the receiver can tell
//! its partner's relays from strays (the seed's server broadcasts to every room) and measure
//! latency on the same monotonic clock. Every relay is accounted: sent = received + lost.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use duet_protocol::signaling::{ClientMessage, IceCandidate, JoinRoom, SdpType, ServerMessage};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Serializer as _;
use serde::{Deserialize, Serialize};

use crate::conn::{self, Conn, Driver, Incoming};
use crate::payloads;

/// What one generator process does.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The server's address.
    pub server: SocketAddr,
    /// The Socket.IO WebSocket path and query.
    pub path: String,
    /// Loopback source addresses, used round-robin.
    pub sources: Vec<IpAddr>,
    /// Pairs (rooms) in this process.
    pub pairs: usize,
    /// Distinguishes this process's rooms from other processes'.
    pub room_prefix: String,
    /// Candidates each side trickles during set-up.
    pub setup_candidates: usize,
    /// Relays per second, all clients of this process together.
    pub rate: f64,
    /// How long to relay.
    pub duration: Duration,
    /// Connections opened at once.
    pub connect_concurrency: usize,
}

/// One process's results, mergeable with others'.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Report {
    /// Clients connected.
    pub connected: u64,
    /// Clients that failed to connect.
    pub connect_failures: u64,
    /// Pairs whose join/offer/answer/candidate set-up completed.
    pub setup_ok: u64,
    /// Pairs whose set-up failed or timed out.
    pub setup_failures: u64,
    /// Relays sent in the steady phase.
    pub sent: u64,
    /// Relays received by the sender's partner.
    pub received: u64,
    /// Relays delivered to a client of another room (must be 0 for a correct server).
    pub cross_room: u64,
    /// Connections that closed during the run.
    pub closed: u64,
    /// Seconds the steady phase lasted.
    pub seconds: f64,
    /// CPU seconds the generator used during the steady phase.
    #[serde(default)]
    pub cpu_seconds: f64,
    /// Relays slower than 10 ms by 100 ms window of send time since the relay phase began
    /// (this process only; not merged).
    #[serde(default)]
    pub slow_timeline: Vec<u64>,
    /// Latency histogram in microseconds, serialized (V2, base64-free hex).
    pub latency_us_hex: String,
}

impl Report {
    /// The latency histogram.
    pub fn histogram(&self) -> Histogram<u64> {
        if self.latency_us_hex.is_empty() {
            return new_histogram();
        }
        let bytes: Vec<u8> = (0..self.latency_us_hex.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&self.latency_us_hex[i..i + 2], 16).ok())
            .collect();
        hdrhistogram::serialization::Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .unwrap_or_else(|_| new_histogram())
    }

    fn set_histogram(&mut self, h: &Histogram<u64>) {
        let mut buf = Vec::new();
        if hdrhistogram::serialization::V2Serializer::new()
            .serialize(h, &mut buf)
            .is_ok()
        {
            self.latency_us_hex = buf.iter().map(|b| format!("{b:02x}")).collect();
        }
    }

    /// Adds another process's report into this one.
    pub fn merge(&mut self, other: &Report) {
        let mut h = self.histogram();
        let _ = h.add(other.histogram());
        self.connected += other.connected;
        self.connect_failures += other.connect_failures;
        self.setup_ok += other.setup_ok;
        self.setup_failures += other.setup_failures;
        self.sent += other.sent;
        self.received += other.received;
        self.cross_room += other.cross_room;
        self.closed += other.closed;
        self.seconds = self.seconds.max(other.seconds);
        self.cpu_seconds += other.cpu_seconds;
        self.set_histogram(&h);
    }
}

/// Latency histograms per generator process (shards against lock contention).
const HIST_SHARDS: usize = 8;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// Process-wide monotonic clock shared by senders and receivers.
fn now_ns(epoch: Instant) -> u64 {
    epoch.elapsed().as_nanos() as u64
}

/// A relay's tag, carried in the candidate line.
fn tag(room: u64, side: u8, seq: u64, t_ns: u64) -> String {
    format!("candidate:bench {room} {side} {seq} {t_ns} 1 udp 2122260223 127.0.0.1 9 typ host")
}

fn parse_tag(c: &IceCandidate) -> Option<(u64, u8, u64)> {
    let mut it = c.candidate.split_whitespace();
    if it.next()? != "candidate:bench" {
        return None;
    }
    let room = it.next()?.parse().ok()?;
    let side = it.next()?.parse().ok()?;
    let _seq: u64 = it.next()?.parse().ok()?;
    let t_ns = it.next()?.parse().ok()?;
    Some((room, side, t_ns))
}

struct Counters {
    sent: AtomicU64,
    received: AtomicU64,
    cross: AtomicU64,
    closed: AtomicU64,
    /// Relays slower than 10 ms, by 100 ms window of their send time (for `--timeline`).
    slow: Vec<AtomicU64>,
}

/// Width of a [`Report::slow_timeline`] window.
pub const TIMELINE_WINDOW: Duration = Duration::from_millis(100);
/// What counts as slow in [`Report::slow_timeline`].
const SLOW: Duration = Duration::from_millis(10);

/// Connects every client and runs the set-up of every pair. Returns the pairs ready to relay.
pub async fn setup(plan: &Plan, report: &mut Report) -> Vec<(u64, Conn, Conn)> {
    let sem = Arc::new(tokio::sync::Semaphore::new(plan.connect_concurrency.max(1)));
    let mut tasks = Vec::new();
    for i in 0..plan.pairs {
        let plan = plan.clone();
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let source = |k: usize| plan.sources.get(k % plan.sources.len().max(1)).copied();
            let a = {
                let _permit = sem.acquire().await;
                conn::connect(plan.server, source(2 * i), &plan.path).await
            };
            let b = {
                let _permit = sem.acquire().await;
                conn::connect(plan.server, source(2 * i + 1), &plan.path).await
            };
            (i as u64, a, b, plan)
        }));
    }
    let mut ready = Vec::new();
    let mut setups = Vec::new();
    for t in tasks {
        let Ok((i, a, b, plan)) = t.await else {
            continue;
        };
        report.connected += u64::from(a.is_ok()) + u64::from(b.is_ok());
        report.connect_failures += u64::from(a.is_err()) + u64::from(b.is_err());
        if let (Ok(a), Ok(b)) = (a, b) {
            setups.push(tokio::spawn(async move {
                let room = format!("{}-{i}", plan.room_prefix);
                let r = tokio::time::timeout(
                    Duration::from_secs(30),
                    pair_setup(i, &room, a, b, plan.setup_candidates),
                )
                .await;
                match r {
                    Ok(Ok((a, b))) => Some((i, a, b)),
                    _ => None,
                }
            }));
        }
    }
    for s in setups {
        match s.await {
            Ok(Some(p)) => {
                report.setup_ok += 1;
                ready.push(p);
            }
            _ => report.setup_failures += 1,
        }
    }
    ready
}

async fn next_message(
    conn: &mut Conn,
    want: impl Fn(&ServerMessage) -> bool,
) -> Result<ServerMessage, String> {
    loop {
        match conn.rx.recv().await {
            Some(Incoming::Message(m)) if want(&m) => return Ok(m),
            Some(Incoming::Message(_)) => {}
            Some(Incoming::Closed(r)) => return Err(r),
            None => return Err("gone".into()),
        }
    }
}

/// join → all_users → join → all_users → offer → answer → candidates both ways.
async fn pair_setup(
    room_id: u64,
    room: &str,
    mut a: Conn,
    mut b: Conn,
    candidates: usize,
) -> Result<(Conn, Conn), String> {
    let join = |email: &str| {
        ClientMessage::JoinRoom(JoinRoom {
            room: room.to_owned(),
            email: email.to_owned(),
            warm_offer: false,
        })
    };
    a.emit(join("a@bench")).map_err(|e| e.to_string())?;
    next_message(&mut a, |m| matches!(m, ServerMessage::AllUsers(_))).await?;
    b.emit(join("b@bench")).map_err(|e| e.to_string())?;
    next_message(
        &mut b,
        |m| matches!(m, ServerMessage::AllUsers(u) if !u.is_empty()),
    )
    .await?;
    let mut offer = payloads::chrome_like_offer();
    offer.sdp.push_str(&format!("a=x-bench-room:{room_id}\r\n"));
    let marker = format!("a=x-bench-room:{room_id}\r\n");
    b.emit(ClientMessage::Offer(offer))
        .map_err(|e| e.to_string())?;
    next_message(
        &mut a,
        |m| matches!(m, ServerMessage::Offer(d) if d.sdp.ends_with(&marker)),
    )
    .await?;
    let answer = duet_protocol::signaling::SessionDescription {
        kind: SdpType::Answer,
        sdp: format!("v=0\r\n{marker}"),
    };
    a.emit(ClientMessage::Answer(answer))
        .map_err(|e| e.to_string())?;
    next_message(
        &mut b,
        |m| matches!(m, ServerMessage::Answer(d) if d.sdp.ends_with(&marker)),
    )
    .await?;
    for side in [&a, &b] {
        for n in 0..candidates {
            let mut c = payloads::host_candidate(n as u32);
            c.candidate = tag(room_id, 9, n as u64, 0);
            side.emit(ClientMessage::Candidate(c))
                .map_err(|e| e.to_string())?;
        }
    }
    for side in [&mut a, &mut b] {
        for _ in 0..candidates {
            next_message(side, |m| matches!(m, ServerMessage::Candidate(c) if parse_tag(c).is_some_and(|(r, ..)| r == room_id))).await?;
        }
    }
    Ok((a, b))
}

/// One client's part of the steady phase, run inside its connection's task.
struct RelayDriver {
    room: u64,
    side: u8,
    seq: u64,
    /// When the next relay is due; `None` without a rate.
    next_send: Option<tokio::time::Instant>,
    period: Duration,
    stop_sending: tokio::time::Instant,
    drain_deadline: tokio::time::Instant,
    epoch: Instant,
    t0_ns: u64,
    counters: Arc<Counters>,
    hist: Arc<Mutex<Histogram<u64>>>,
    done: Option<tokio::sync::oneshot::Sender<()>>,
}

impl RelayDriver {
    fn all_received(&self) -> bool {
        self.counters.received.load(Ordering::Relaxed) >= self.counters.sent.load(Ordering::Relaxed)
    }
}

impl Driver for RelayDriver {
    fn next_tick(&self) -> Option<tokio::time::Instant> {
        match self.next_send {
            Some(t) if t < self.stop_sending => Some(t),
            // No more sends: wake when sending stops, then look at the totals every 20 ms to
            // stop early (waking every 20 ms before that cost thousands of idle clients a
            // wake-up each, 250,000/s per process).
            _ => {
                let now = tokio::time::Instant::now();
                Some(if now < self.stop_sending {
                    self.stop_sending
                } else {
                    (now + Duration::from_millis(20)).min(self.drain_deadline)
                })
            }
        }
    }

    fn tick(&mut self) -> Option<ClientMessage> {
        let now = tokio::time::Instant::now();
        let due = self
            .next_send
            .filter(|&t| t <= now && now < self.stop_sending)?;
        // Skip missed ticks rather than bursting to catch up (as MissedTickBehavior::Skip).
        let behind = (now - due).as_nanos() / self.period.as_nanos().max(1);
        self.next_send = Some(due + self.period * (behind as u32 + 1));
        let c = IceCandidate {
            candidate: tag(self.room, self.side, self.seq, now_ns(self.epoch)),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
            username_fragment: None,
        };
        self.seq += 1;
        self.counters.sent.fetch_add(1, Ordering::Relaxed);
        Some(ClientMessage::Candidate(c))
    }

    fn message(&mut self, message: ServerMessage) {
        let ServerMessage::Candidate(c) = message else {
            return;
        };
        let Some((r, s, t_ns)) = parse_tag(&c) else {
            return;
        };
        if r != self.room {
            self.counters.cross.fetch_add(1, Ordering::Relaxed);
        } else if s != self.side && s != 9 {
            self.counters.received.fetch_add(1, Ordering::Relaxed);
            let us = now_ns(self.epoch).saturating_sub(t_ns) / 1000;
            if us >= SLOW.as_micros() as u64 {
                let w = t_ns.saturating_sub(self.t0_ns) / TIMELINE_WINDOW.as_nanos() as u64;
                if let Some(c) = self.counters.slow.get(w as usize) {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            }
            let _ = lock(&self.hist).record(us.max(1));
        }
    }

    fn closed(&mut self) {
        self.counters.closed.fetch_add(1, Ordering::Relaxed);
    }

    fn finished(&self) -> bool {
        let now = tokio::time::Instant::now();
        now >= self.drain_deadline || (now >= self.stop_sending && self.all_received())
    }
}

impl Drop for RelayDriver {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(());
        }
    }
}

/// The steady phase: every client relays at `rate / clients` per second for `duration`, then
/// waits (bounded) for the last relays to arrive. Each client's relaying runs inside its
/// connection's task ([`RelayDriver`]).
pub async fn relay(plan: &Plan, pairs: Vec<(u64, Conn, Conn)>, report: &mut Report) {
    let epoch = Instant::now();
    let counters = Arc::new(Counters {
        sent: AtomicU64::new(0),
        received: AtomicU64::new(0),
        cross: AtomicU64::new(0),
        closed: AtomicU64::new(0),
        slow: (0..(plan.duration.as_millis() / TIMELINE_WINDOW.as_millis() + 2))
            .map(|_| AtomicU64::new(0))
            .collect(),
    });
    let clients = (pairs.len() * 2).max(1);
    let period = if plan.rate > 0.0 {
        Duration::from_secs_f64(clients as f64 / plan.rate)
    } else {
        Duration::MAX
    };
    let start = tokio::time::Instant::now() + Duration::from_millis(200);
    let t0_ns = now_ns(epoch) + 200_000_000;
    let stop_sending = start + plan.duration;
    // A few shared histograms, not one per client: each is 140 KB (1 µs..60 s at 3 digits),
    // and 5,000 of them per process made the kernel fault in 700 MB while relays were being
    // timed (a 200 ms stall that read as a server latency tail).
    let hists: Vec<Arc<Mutex<Histogram<u64>>>> = (0..HIST_SHARDS)
        .map(|_| Arc::new(Mutex::new(new_histogram())))
        .collect();
    let mut done = Vec::with_capacity(clients);
    let mut conns = Vec::with_capacity(clients);
    let mut k = 0usize;
    for (room, a, b) in pairs {
        for (side, conn) in [(0u8, a), (1u8, b)] {
            // Spread the clients' send times over one period.
            let next_send = (period != Duration::MAX)
                .then(|| start + period.mul_f64((k as f64 * 0.618_033_988_7).fract()));
            let (done_tx, done_rx) = tokio::sync::oneshot::channel();
            let driver = RelayDriver {
                room,
                side,
                seq: 0,
                next_send,
                period,
                stop_sending,
                drain_deadline: stop_sending + Duration::from_secs(5),
                epoch,
                t0_ns,
                counters: counters.clone(),
                hist: hists[k % HIST_SHARDS].clone(),
                done: Some(done_tx),
            };
            k += 1;
            // A connection already gone drops the driver at once, which counts as done.
            let _ = conn.drive.send(Box::new(driver));
            done.push(done_rx);
            conns.push(conn);
        }
    }
    for d in done {
        let _ = d.await;
    }
    drop(conns);
    let mut total = new_histogram();
    for h in &hists {
        let _ = total.add(&*lock(h));
    }
    report.sent += counters.sent.load(Ordering::Relaxed);
    report.received += counters.received.load(Ordering::Relaxed);
    report.cross_room += counters.cross.load(Ordering::Relaxed);
    report.closed += counters.closed.load(Ordering::Relaxed);
    report.seconds = plan.duration.as_secs_f64();
    report.set_histogram(&total);
    report.slow_timeline = counters
        .slow
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .collect();
}
