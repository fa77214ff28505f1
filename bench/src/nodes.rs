//! duet-server nodes and the Redis they share, started as child processes on ephemeral loopback
//! ports for the Redis benchmark and the soak, plus what the soak reads from them: `/metrics`
//! and the process's descriptors, threads and memory from /proc.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

pub use duet_testkit::process::Guard as Proc;
use duet_testkit::process::{Redis, spawn_announcing_port};

/// How long a node or Redis may take to start.
const START_WITHIN: Duration = Duration::from_secs(30);

/// Starts Debian's redis-server on a free loopback port, without persistence; returns it and
/// its URL once it answers.
pub fn redis() -> (Redis, String) {
    let redis = Redis::start(START_WITHIN).expect("redis-server (Debian's) installed");
    let url = redis.url();
    (redis, url)
}

/// Starts a duet-server from `binary` with limits out of the way (relay rate, connections) and
/// room for 20,000 descriptors, on Redis at `redis` when given; returns it and its address once
/// it listens.
pub fn node(binary: &Path, redis: Option<&str>) -> (Proc, SocketAddr) {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("ulimit -n 20000 2>/dev/null; exec \"$@\"")
        .arg("sh")
        .arg(binary)
        .args(["--port", "0", "--static-dir", "/nonexistent"])
        .args(["--relay-rate", "100000", "--relay-burst", "100000"])
        .args(["--max-connections", "40000"])
        .env("RUST_LOG", "warn");
    if let Some(url) = redis {
        c.args(["--redis-url", url]);
    }
    let (p, port) =
        spawn_announcing_port(c, START_WITHIN).expect("duet-server built (cargo build --release)");
    (p, SocketAddr::from(([127, 0, 0, 1], port)))
}

/// `GET /metrics` of the server at `addr`, as text (blocking, for the soak's between-phase
/// readings).
pub fn metrics(addr: SocketAddr) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out
        .split_once("\r\n\r\n")
        .map_or(out.clone(), |(_, b)| b.to_owned()))
}

/// The value of the unlabelled series `name` in a Prometheus text exposition.
pub fn series(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Open file descriptors of process `pid`.
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// Threads of process `pid`.
pub fn threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count())
}

/// The load average (1, 5, 15 min), for reports: other work on the machine shares the cores.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_unlabelled_series_only() {
        let text = "# TYPE duet_rooms gauge\nduet_rooms 3\nduet_rooms_total 9\nduet_room_members{node=\"a\"} 4\nduet_room_members 2\n";
        assert_eq!(series(text, "duet_rooms"), Some(3.0));
        assert_eq!(series(text, "duet_room_members"), Some(2.0));
        assert_eq!(series(text, "duet_connections"), None);
    }

    #[test]
    fn counts_this_process() {
        let me = std::process::id();
        assert!(open_fds(me) > 0 && threads(me) > 0);
    }
}
