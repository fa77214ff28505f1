//! Counters and latency histograms for Prometheus' text format at `GET /metrics`.
//! Hand-written (a handful of atomics, one labelled map, two fixed-bucket histograms): the
//! server exports a dozen series, and the relay path records with three relaxed atomic adds
//! instead of a registry lookup.

mod histogram;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use histogram::Histogram;

/// The server's counters. Gauges that live elsewhere (rooms, connections) are passed to
/// [`render`](Self::render).
#[derive(Debug, Default)]
pub struct Metrics {
    connections_total: AtomicU64,
    joins_total: AtomicU64,
    room_full_total: AtomicU64,
    leaves_total: AtomicU64,
    relays: Mutex<BTreeMap<&'static str, u64>>,
    rejections: Mutex<BTreeMap<&'static str, u64>>,
    /// Relay event received → forwarded to every peer's socket.
    relay_seconds: Histogram,
    /// `join_room` received → `all_users` sent.
    join_seconds: Histogram,
}

/// Point-in-time values owned by other parts of the server.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges<'a> {
    /// Live Socket.IO connections.
    pub connections: usize,
    /// Rooms with at least one member.
    pub rooms: usize,
    /// Sockets in a room.
    pub members: usize,
    /// With `--redis-url`: this node's share, labelled with its id.
    pub node: Option<NodeGauges<'a>>,
}

/// One node's counts in a cluster: a Prometheus query can sum them across nodes.
#[derive(Debug, Clone, Copy)]
pub struct NodeGauges<'a> {
    /// The node id.
    pub id: &'a str,
    /// Whether the last Redis operation succeeded.
    pub redis_up: bool,
}

impl Metrics {
    /// A socket connected.
    pub fn connection(&self) {
        self.connections_total.fetch_add(1, Ordering::Relaxed);
    }

    /// A join succeeded; `took` from receiving it to sending `all_users`.
    pub fn join(&self, took: Duration) {
        self.joins_total.fetch_add(1, Ordering::Relaxed);
        self.join_seconds.record(took);
    }

    /// A join found the room full.
    pub fn room_full(&self) {
        self.room_full_total.fetch_add(1, Ordering::Relaxed);
    }

    /// A socket left a room (leave, move or disconnect).
    pub fn leave(&self) {
        self.leaves_total.fetch_add(1, Ordering::Relaxed);
    }

    /// An `offer`/`answer`/`candidate` was relayed; `took` from receiving it to handing it to
    /// every peer's socket (this node's send queue, or the adapter for another node).
    pub fn relay(&self, event: &'static str, took: Duration) {
        bump(&self.relays, event);
        self.relay_seconds.record(took);
    }

    /// The relay latency histogram.
    pub fn relay_seconds(&self) -> &Histogram {
        &self.relay_seconds
    }

    /// The join latency histogram.
    pub fn join_seconds(&self) -> &Histogram {
        &self.join_seconds
    }

    /// Input was rejected for `reason` (an error code).
    pub fn rejection(&self, reason: &'static str) {
        bump(&self.rejections, reason);
    }

    /// How many rejections had `reason` so far.
    pub fn rejections(&self, reason: &str) -> u64 {
        lock(&self.rejections).get(reason).copied().unwrap_or(0)
    }

    /// The Prometheus text exposition of all series.
    pub fn render(&self, gauges: Gauges<'_>) -> String {
        let mut out = String::new();
        let mut scalar = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        scalar(
            "duet_connections",
            "gauge",
            "Live Socket.IO connections.",
            gauges.connections as u64,
        );
        scalar(
            "duet_rooms",
            "gauge",
            "Rooms with at least one member.",
            gauges.rooms as u64,
        );
        scalar(
            "duet_room_members",
            "gauge",
            "Sockets currently in a room.",
            gauges.members as u64,
        );
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        scalar(
            "duet_connections_total",
            "counter",
            "Socket.IO connections accepted.",
            load(&self.connections_total),
        );
        scalar(
            "duet_joins_total",
            "counter",
            "Successful join_room events.",
            load(&self.joins_total),
        );
        scalar(
            "duet_room_full_total",
            "counter",
            "join_room events refused because the room was full.",
            load(&self.room_full_total),
        );
        scalar(
            "duet_leaves_total",
            "counter",
            "Sockets that left a room.",
            load(&self.leaves_total),
        );
        if let Some(node) = gauges.node {
            let id = escape(node.id);
            for (name, help, value) in [
                (
                    "duet_node_connections",
                    "Socket.IO connections on this node.",
                    gauges.connections,
                ),
                (
                    "duet_node_rooms",
                    "Rooms with a member on this node.",
                    gauges.rooms,
                ),
                (
                    "duet_node_room_members",
                    "Sockets of this node in a room.",
                    gauges.members,
                ),
                (
                    "duet_node_redis_up",
                    "1 when this node's last Redis operation succeeded.",
                    usize::from(node.redis_up),
                ),
            ] {
                let _ = writeln!(
                    out,
                    "# HELP {name} {help}\n# TYPE {name} gauge\n{name}{{node=\"{id}\"}} {value}"
                );
            }
        }
        labelled(
            &mut out,
            "duet_relays_total",
            "Relayed signaling events by event name.",
            "event",
            &lock(&self.relays),
        );
        labelled(
            &mut out,
            "duet_rejections_total",
            "Rejected client input by reason.",
            "reason",
            &lock(&self.rejections),
        );
        self.relay_seconds.render(
            &mut out,
            "duet_relay_duration_seconds",
            "Relayed offer/answer/candidate events, from receipt to hand-off to the peers' sockets.",
        );
        self.join_seconds.render(
            &mut out,
            "duet_join_duration_seconds",
            "Successful join_room events, from receipt to all_users sent.",
        );
        out
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A label value as Prometheus' text format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn bump(map: &Mutex<BTreeMap<&'static str, u64>>, key: &'static str) {
    *lock(map).entry(key).or_default() += 1;
}

fn labelled(out: &mut String, name: &str, help: &str, label: &str, values: &BTreeMap<&str, u64>) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    for (k, v) in values {
        let _ = writeln!(out, "{name}{{{label}=\"{k}\"}} {v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.relay("offer", Duration::from_micros(30));
        m.relay("offer", Duration::from_micros(70));
        m.join(Duration::from_millis(2));
        m.rejection("bad_room");
        let text = m.render(Gauges {
            connections: 3,
            rooms: 1,
            members: 2,
            node: Some(NodeGauges {
                id: "n\"1",
                redis_up: true,
            }),
        });
        assert!(text.contains("duet_connections 3\n"));
        assert!(text.contains("duet_node_connections{node=\"n\\\"1\"} 3\n"));
        assert!(text.contains("duet_node_redis_up{node=\"n\\\"1\"} 1\n"));
        assert!(text.contains("duet_relays_total{event=\"offer\"} 2\n"));
        assert!(text.contains("duet_rejections_total{reason=\"bad_room\"} 1\n"));
        assert!(text.contains("# TYPE duet_relay_duration_seconds histogram\n"));
        assert!(text.contains("duet_relay_duration_seconds_bucket{le=\"0.00005\"} 1\n"));
        assert!(text.contains("duet_relay_duration_seconds_count 2\n"));
        assert!(text.contains("duet_join_duration_seconds_bucket{le=\"0.001\"} 0\n"));
        assert!(text.contains("duet_join_duration_seconds_bucket{le=\"0.0025\"} 1\n"));
        assert_eq!(m.rejections("bad_room"), 1);
    }
}
