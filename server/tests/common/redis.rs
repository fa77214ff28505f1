//! A real `redis-server` for the multi-node tests, on an ephemeral loopback port, and
//! duet-server nodes as separate processes (for the tests that kill one).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::WAIT;

/// A `redis-server` child process, killed (by PID) on drop.
pub struct Redis {
    port: u16,
    child: Option<Child>,
}

impl Redis {
    /// Starts redis-server without persistence on a free 127.0.0.1 port and waits until it
    /// answers PING. Fails the test when redis-server is not installed.
    pub fn start() -> Redis {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
            l.local_addr().unwrap().port()
        };
        let mut redis = Redis { port, child: None };
        redis.restart();
        redis
    }

    /// `redis://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills redis-server (SIGKILL: an outage, not a shutdown).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts redis-server again on the same port (empty: nothing was persisted).
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run redis-server ({e}): the multi-node tests need Debian's \
                     redis-server (bash scripts/setup.sh --test installs it)"
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("redis-server exited at start: {status}");
            }
            if self.ping() {
                return;
            }
            assert!(Instant::now() < deadline, "redis-server not ready in time");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        let mut buf = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    }

    /// Runs one Redis command (for checks on the shared state).
    pub fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> T {
        let client = redis::Client::open(self.url()).unwrap();
        let mut conn = client.get_connection().expect("redis reachable");
        cmd.query(&mut conn).expect("redis command")
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A duet-server node in its own process, killed (by PID) on drop.
pub struct NodeProcess {
    child: Child,
    base: String,
}

impl NodeProcess {
    /// Starts the duet-server binary on 127.0.0.1:0 with these flags and reads its URL.
    pub fn start(flags: &[&str]) -> NodeProcess {
        let static_dir = std::env::temp_dir().join("duet-no-static");
        let mut child = Command::new(env!("CARGO_BIN_EXE_duet-server"))
            .args(["--host", "127.0.0.1", "--port", "0", "--static-dir"])
            .arg(&static_dir)
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run duet-server");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("duet-server printed its URL")
                .expect("read stdout");
            if let Some(url) = line.trim().strip_prefix("http://localhost:") {
                break format!("http://127.0.0.1:{}", url.trim_end_matches('/'));
            }
        };
        // Keep reading: the node prints more URLs, and a closed pipe would kill it.
        std::thread::spawn(move || lines.for_each(drop));
        NodeProcess { child, base }
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// SIGKILL: the node dies without leaving anything tidy.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
