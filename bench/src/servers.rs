//! The signaling servers under test, started as child processes on ephemeral loopback ports and
//! measured from /proc (RSS, CPU time).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use duet_testkit::process::{Guard, spawn_announcing_port};

/// A server implementation the benchmark compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// duet-server (release build).
    Duet,
    /// The seed's server with room-scoped relays: the fair baseline.
    NodeRoomScoped,
    /// The seed's server as it is (broadcasts every relay to every client).
    NodeSeed,
}

impl Target {
    /// The label used in the results.
    pub fn label(self) -> &'static str {
        match self {
            Self::Duet => "duet-server",
            Self::NodeRoomScoped => "seed, room-scoped (Node)",
            Self::NodeSeed => "seed as it is (Node)",
        }
    }
}

/// A running server, killed on drop.
pub struct Server {
    child: Guard,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

/// Why a server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Spawning failed, or it never said its port.
    #[error("cannot start {0}: {1}")]
    Spawn(String, std::io::Error),
}

impl Server {
    /// Starts `target` from the repository at `root`, with the open-file limit raised.
    pub fn start(target: Target, root: &Path) -> Result<Self, StartError> {
        let node_path = root.join("e2e/peers/node_modules");
        let (program, args): (PathBuf, Vec<String>) = match target {
            Target::Duet => (
                root.join("target/release/duet-server"),
                [
                    "--port",
                    "0",
                    "--max-connections",
                    "40000",
                    "--relay-rate",
                    "100000",
                    "--relay-burst",
                    "100000",
                    "--static-dir",
                    "/nonexistent",
                ]
                .map(String::from)
                .to_vec(),
            ),
            Target::NodeRoomScoped => (
                "node".into(),
                vec![
                    root.join("bench/node/room-scoped-server.js")
                        .display()
                        .to_string(),
                    "0".into(),
                ],
            ),
            Target::NodeSeed => (
                "node".into(),
                vec![
                    root.join("e2e/peers/seed-server.js").display().to_string(),
                    "--port".into(),
                    "0".into(),
                ],
            ),
        };
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg("ulimit -n 20000 2>/dev/null; exec \"$@\"")
            .arg("sh")
            .arg(&program)
            .args(&args)
            .env("NODE_PATH", &node_path)
            .env("PORT", "0")
            .env("RUST_LOG", "warn")
            .stderr(Stdio::inherit());
        let (child, port) = spawn_announcing_port(command, Duration::from_secs(30))
            .map_err(|e| StartError::Spawn(target.label().into(), e))?;
        Ok(Self { child, port })
    }

    /// Resident memory in bytes.
    pub fn rss(&self) -> u64 {
        proc_rss(self.child.pid())
    }

    /// User + system CPU time used so far.
    pub fn cpu(&self) -> Duration {
        proc_cpu(self.child.pid())
    }
}

/// Resident memory of a process in bytes, from /proc.
pub fn proc_rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// CPU time (user + system) of a process, from /proc.
pub fn proc_cpu(pid: u32) -> Duration {
    let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the parenthesised command name; utime and stime are 14th and 15th.
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_from_proc() {
        assert!(proc_rss(std::process::id()) > 0);
    }
}
