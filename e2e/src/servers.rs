//! The signaling servers under test, each on its own ephemeral 127.0.0.1 port: duet-server (the
//! workspace's binary) and the seed's server (socket.io 2.3.0 on node, e2e/peers/seed-server.js).
//! Both serve the same [`Site`](crate::site::Site), so every page is same-origin with the
//! server it signals through, as in a real deployment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::process::Command;
use tokio::sync::OnceCell;

use crate::paths;
use crate::processes::{Process, port_in};

/// How long a server may take to print its address.
const START_WITHIN: Duration = Duration::from_secs(20);

/// Which signaling server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// The workspace's duet-server.
    Duet,
    /// The seed's handlers on socket.io 2.3.0.
    Seed,
}

impl ServerKind {
    /// A short name for logs and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Duet => "duet-server",
            Self::Seed => "seed-server",
        }
    }
}

/// A running signaling server that also serves the site.
#[derive(Debug)]
pub struct Server {
    kind: ServerKind,
    port: u16,
    site: PathBuf,
    log: PathBuf,
    process: Option<Process>,
    starts: u32,
    /// Extra duet-server flags (a node of several: `--redis-url …`).
    args: Vec<String>,
}

impl Server {
    /// Starts a `kind` server on an ephemeral port, logging to `log`.
    pub async fn start(kind: ServerKind, site: &Path, log: PathBuf) -> Result<Self> {
        let mut server = Self {
            kind,
            port: 0,
            site: site.to_owned(),
            log,
            process: None,
            starts: 0,
            args: Vec::new(),
        };
        server.launch().await?;
        Ok(server)
    }

    /// The server's origin, e.g. `http://127.0.0.1:41234`.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Which server this is.
    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// The server's log file.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Kills the server like a crash would (SIGKILL, no goodbye to its clients).
    pub async fn kill(&mut self) -> Result<()> {
        if let Some(p) = self.process.take() {
            p.kill().await?;
        }
        Ok(())
    }

    /// Starts it again on the same port.
    pub async fn restart(&mut self) -> Result<()> {
        self.kill().await?;
        self.launch().await
    }

    async fn launch(&mut self) -> Result<()> {
        self.starts += 1;
        let command = match self.kind {
            ServerKind::Duet => {
                let mut c = Command::new(duet_server_binary().await?);
                c.arg("--host")
                    .arg("127.0.0.1")
                    .arg("--port")
                    .arg(self.port.to_string())
                    .arg("--static-dir")
                    .arg(&self.site)
                    .env("RUST_LOG", "info,duet_server=debug")
                    .env("NO_COLOR", "1")
                    .args(&self.args)
                    // Only what the tests pass counts: no DUET_*/PORT from the caller's shell.
                    .env_remove("PORT");
                c
            }
            ServerKind::Seed => {
                let mut c = Command::new("node");
                c.arg(paths::peers().join("seed-server.js"))
                    .arg("--port")
                    .arg(self.port.to_string())
                    .arg("--site")
                    .arg(&self.site)
                    .env("NODE_PATH", paths::peers().join("node_modules"));
                c
            }
        };
        let name = format!("{} (start {})", self.kind.as_str(), self.starts);
        let marker = match self.kind {
            ServerKind::Duet => "http://localhost:",
            ServerKind::Seed => "http://127.0.0.1:",
        };
        let (process, line) =
            Process::spawn(&name, command, &self.log, Some(marker), START_WITHIN).await?;
        let port = port_in(&line.unwrap_or_default())?;
        if self.port != 0 && port != self.port {
            bail!("{name} came back on port {port}, not {}", self.port);
        }
        self.port = port;
        self.process = Some(process);
        Ok(())
    }
}

/// Builds (or finds) the duet-server binary, so the build does not count against a scenario's
/// time limit.
pub async fn prepare() -> Result<()> {
    duet_server_binary().await.map(drop)
}

/// The duet-server executable, built once per test run by the cargo that runs this test.
///
/// `cargo test --workspace --no-run` resolves features for the whole workspace exactly as the
/// test command's `cargo test --workspace` does, so in CI it finds the binary already built
/// (a no-op); `cargo build -p duet-server` would resolve fewer tokio features and rebuild the
/// server's dependency tree a second time. `DUET_SERVER_BIN` overrides the search.
async fn duet_server_binary() -> Result<PathBuf> {
    static BINARY: OnceCell<PathBuf> = OnceCell::const_new();
    BINARY
        .get_or_try_init(|| async {
            if let Some(bin) = std::env::var_os("DUET_SERVER_BIN") {
                return Ok(PathBuf::from(bin));
            }
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let output = Command::new(cargo)
                .current_dir(paths::root())
                .args([
                    "test",
                    "--workspace",
                    "--no-run",
                    "--quiet",
                    "--message-format=json",
                ])
                .stderr(std::process::Stdio::inherit())
                .output()
                .await
                .context("cannot run cargo to build duet-server")?;
            if !output.status.success() {
                bail!("cargo test --workspace --no-run failed (building duet-server)");
            }
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find(|v| {
                    v["target"]["name"] == "duet-server"
                        && v["target"]["kind"][0] == "bin"
                        && v["profile"]["test"] == false
                })
                .and_then(|v| v["executable"].as_str().map(PathBuf::from))
                .context("cargo built no duet-server executable")
        })
        .await
        .cloned()
}

/// A redis-server (Debian's) on an ephemeral 127.0.0.1 port, without persistence, for the
/// scenario with duet-server nodes sharing it; it stops when dropped.
#[derive(Debug)]
pub struct Redis {
    _process: Process,
    port: u16,
}

impl Redis {
    /// `redis://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl crate::Test {
    /// Starts a redis-server for [`duet_node`](Self::duet_node)s, logging into the results.
    pub async fn redis(&mut self) -> Result<Redis> {
        // redis-server has no `--port 0`: take a free port from the kernel and hand it over.
        let port = crate::processes::free_port()?;
        let c = Command::from(duet_testkit::process::redis_command(port));
        let (process, _) = Process::spawn(
            "redis-server",
            c,
            &self.dir.join("redis-server.log"),
            Some(duet_testkit::process::REDIS_READY),
            START_WITHIN,
        )
        .await
        .context("redis-server (Debian's; bash scripts/setup.sh --test installs it)")?;
        Ok(Redis {
            _process: process,
            port,
        })
    }

    /// Starts a duet-server node sharing rooms with the other nodes on `redis`.
    pub async fn duet_node(&mut self, redis: &Redis) -> Result<Server> {
        self.duet_server_with("duet-node", vec!["--redis-url".into(), redis.url()])
            .await
    }

    /// Starts a duet-server with extra flags (`--turn-secret …`), logging to `<name>-N.log`.
    pub async fn duet_server_with(&mut self, name: &str, args: Vec<String>) -> Result<Server> {
        self.servers += 1;
        let log = self.dir.join(format!("{name}-{}.log", self.servers));
        let mut server = Server {
            kind: ServerKind::Duet,
            port: 0,
            site: self.site.path().to_owned(),
            log,
            process: None,
            starts: 0,
            args,
        };
        server.launch().await?;
        Ok(server)
    }
}
