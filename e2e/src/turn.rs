//! A TURN relay for the relay-only scenarios: Debian's coturn on a free 127.0.0.1 port, with
//! its own realm and shared secret (`use-auth-secret`, the scheme `duet-server --turn-secret`
//! mints credentials for), stopped by process group when dropped.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::process::Command;

use crate::processes::{Process, free_port, wait_listening};

/// Debian's coturn binary (scripts/setup.sh --test installs it).
pub const TURNSERVER: &str = "/usr/bin/turnserver";

/// A running coturn.
#[derive(Debug)]
pub struct Coturn {
    port: u16,
    secret: String,
    _process: Process,
}

impl Coturn {
    /// Starts coturn on a free 127.0.0.1 port with realm `duet.test` and a fresh secret,
    /// logging to `log`. Relaying to loopback peers is allowed (everything here is on one
    /// machine); TLS, DTLS and the admin CLI are off.
    pub async fn start(log: &std::path::Path) -> Result<Self> {
        if !std::path::Path::new(TURNSERVER).is_file() {
            anyhow::bail!("{TURNSERVER} is needed: apt-get install coturn (setup.sh --test does)");
        }
        let dir = log.parent().unwrap_or(std::path::Path::new("."));
        let port = free_port()?;
        let secret = format!("e2e-{:016x}", rand_u64());
        let mut c = Command::new(TURNSERVER);
        c.args(["-n", "--no-cli", "--no-tls", "--no-dtls", "--simple-log"])
            .args(["--log-file", "stdout", "--listening-ip", "127.0.0.1"])
            .args(["--relay-ip", "127.0.0.1", "--allow-loopback-peers"])
            .args(["--listening-port", &port.to_string()])
            .args(["--realm", "duet.test", "--use-auth-secret"])
            .args(["--static-auth-secret", &secret])
            // Its own relay range, away from the ephemeral ports the browsers bind.
            .args(["--min-port", "40000", "--max-port", "40999"])
            // Its files beside its log, not in /var: runs never share state.
            .arg("--userdb")
            .arg(dir.join("turndb"))
            .arg("--pidfile")
            .arg(dir.join("turnserver.pid"));
        let (process, _) = Process::spawn("coturn", c, log, None, Duration::ZERO).await?;
        wait_listening(
            SocketAddr::from(([127, 0, 0, 1], port)),
            Duration::from_secs(15),
        )
        .await
        .with_context(|| format!("coturn did not listen; see {}", log.display()))?;
        Ok(Self {
            port,
            secret,
            _process: process,
        })
    }

    /// The URL for `--ice-server`: `turn:127.0.0.1:PORT?transport=udp`.
    pub fn url(&self) -> String {
        format!("turn:127.0.0.1:{}?transport=udp", self.port)
    }

    /// The shared secret (for duet-server's `--turn-secret`).
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

/// 64 bits from the std's per-process random hasher keys (no extra dependency).
fn rand_u64() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::process::id())
}
