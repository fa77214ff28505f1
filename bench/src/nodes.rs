//! duet-server nodes and the Redis they share, started as child processes on ephemeral loopback
//! ports for the Redis benchmark and the soak, plus what the soak reads from them: `/metrics`
//! and the process's descriptors, threads and memory from /proc.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A child process killed on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

/// A port that was free a moment ago (Redis takes no port 0).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Starts Debian's redis-server on a free loopback port, without persistence; returns it and
/// its URL once it accepts connections.
pub fn redis() -> (Proc, String) {
    let port = free_port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("redis-server (Debian's) installed");
    let mut p = Proc(child);
    let out = p.0.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(out).lines();
    for line in lines.by_ref() {
        if line
            .expect("redis output")
            .contains("Ready to accept connections")
        {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    (p, format!("redis://127.0.0.1:{port}"))
}

/// Starts a duet-server from `binary` with limits out of the way (relay rate, connections),
/// on Redis at `redis` when given; returns it and its address once it listens.
pub fn node(binary: &Path, redis: Option<&str>) -> (Proc, SocketAddr) {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("ulimit -n 20000 2>/dev/null; exec \"$@\"")
        .arg("sh")
        .arg(binary)
        .args(["--port", "0", "--static-dir", "/nonexistent"])
        .args(["--relay-rate", "100000", "--relay-burst", "100000"])
        .args(["--max-connections", "40000"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped());
    if let Some(url) = redis {
        c.args(["--redis-url", url]);
    }
    let mut p = Proc(
        c.spawn()
            .expect("duet-server built (cargo build --release)"),
    );
    let mut lines = BufReader::new(p.0.stdout.take().expect("piped stdout")).lines();
    let port = loop {
        let line = lines.next().expect("duet-server URL").expect("stdout");
        if let Some(rest) = line.trim().strip_prefix("http://localhost:") {
            break rest.trim_end_matches('/').parse::<u16>().expect("port");
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
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
