//! A real `redis-server` for the multi-node tests and duet-server nodes as separate processes
//! (for the tests that kill one), on duet-testkit's launchers; every wait bounded by [`WAIT`].

use std::process::{Command, Stdio};

use duet_testkit::process::{self, Guard};

use super::WAIT;

/// A `redis-server` child process, killed (by PID) on drop.
pub struct Redis(process::Redis);

impl Redis {
    /// Starts redis-server without persistence on a free 127.0.0.1 port. Fails the test when
    /// redis-server is not installed.
    pub fn start() -> Redis {
        Redis(process::Redis::start(WAIT).unwrap_or_else(|e| panic!("{e}")))
    }

    /// `redis://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        self.0.url()
    }

    /// Kills redis-server (SIGKILL: an outage, not a shutdown).
    pub fn kill(&mut self) {
        self.0.kill();
    }

    /// Starts redis-server again on the same port (empty: nothing was persisted).
    pub fn restart(&mut self) {
        self.0.restart(WAIT).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Runs one Redis command (for checks on the shared state).
    pub fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> T {
        let client = redis::Client::open(self.url()).unwrap();
        let mut conn = client.get_connection().expect("redis reachable");
        cmd.query(&mut conn).expect("redis command")
    }
}

/// A duet-server node in its own process, killed (by PID) on drop.
pub struct NodeProcess {
    child: Guard,
    base: String,
}

impl NodeProcess {
    /// Starts the duet-server binary on 127.0.0.1:0 with these flags and reads its URL.
    pub fn start(flags: &[&str]) -> NodeProcess {
        let static_dir = std::env::temp_dir().join("duet-no-static");
        let mut command = Command::new(env!("CARGO_BIN_EXE_duet-server"));
        command
            .args(["--host", "127.0.0.1", "--port", "0", "--static-dir"])
            .arg(&static_dir)
            .args(flags)
            .stderr(Stdio::inherit());
        let (child, port) =
            process::spawn_announcing_port(command, WAIT).expect("duet-server printed its URL");
        NodeProcess {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// SIGKILL: the node dies without leaving anything tidy.
    pub fn kill(&mut self) {
        self.child.kill();
    }
}
