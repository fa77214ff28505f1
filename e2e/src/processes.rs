//! Child processes the tests own: the servers under test and chromedriver.
//!
//! Every child runs in its own process group and is killed by that group's id (its PID) when
//! its handle drops, also when a test panics: chromedriver's Chromium processes and the server's
//! workers go with it, so no test leaves anything running. Output goes to a log file in the
//! test's results folder as it is produced, so a crash or a kill still leaves the log behind.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

/// Process groups of the children alive now, for [`kill_all`].
static GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// Kills every child process group this test process started. For Ctrl-C: the children run in
/// their own groups (so a kill takes their descendants too), which also keeps the terminal's
/// SIGINT from reaching them, and destructors do not run when SIGINT ends the test process.
pub fn kill_all() {
    let groups = GROUPS.lock().unwrap_or_else(|e| e.into_inner());
    for pgid in groups.iter() {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
    for dir in SCRATCH.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Temporary folders (profiles, sites) to remove in [`kill_all`]: an interrupted test process
/// skips the destructors that normally remove them.
static SCRATCH: Mutex<Vec<std::path::PathBuf>> = Mutex::new(Vec::new());

/// Registers a temporary folder for removal by [`kill_all`].
pub fn scratch(path: &Path) {
    SCRATCH
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(path.to_owned());
}

/// A running child process, killed with its whole process group on drop.
#[derive(Debug)]
pub struct Process {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Process {
    /// Starts `command` in a new process group with stdout and stderr appended to `log`.
    /// When `ready_marker` is given, waits (up to `ready_within`) for a stdout line containing
    /// it and returns that line too: servers print their bound address that way.
    pub async fn spawn(
        name: &str,
        mut command: Command,
        log: &Path,
        ready_marker: Option<&str>,
        ready_within: Duration,
    ) -> Result<(Self, Option<String>)> {
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .await
            .with_context(|| format!("cannot open {}", log.display()))?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {name}: {command:?}"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (ready_tx, ready_rx) = oneshot::channel();
        let marker = ready_marker.map(str::to_owned);
        tokio::spawn(copy_lines(
            stdout,
            file.try_clone().await?,
            marker,
            Some(ready_tx),
        ));
        tokio::spawn(copy_lines(stderr, file, None, None));
        if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
            GROUPS.lock().unwrap_or_else(|e| e.into_inner()).insert(pid);
        }
        let process = Self {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
        };
        let Some(marker) = ready_marker else {
            return Ok((process, None));
        };
        match tokio::time::timeout(ready_within, ready_rx).await {
            Ok(Ok(line)) => Ok((process, Some(line))),
            Ok(Err(_)) => bail!(
                "{name} exited before printing {marker:?}; see {}",
                log.display()
            ),
            Err(_) => bail!(
                "{name} did not print {marker:?} within {ready_within:?}; see {}",
                log.display()
            ),
        }
    }

    /// The process id (also its process group id).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The log file its output goes to.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Kills the process group at once (SIGKILL: what a crash looks like to its clients) and
    /// waits for the leader to be reaped, so its port is free when this returns.
    pub async fn kill(mut self) -> Result<()> {
        self.signal_group();
        tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .map_err(|_| anyhow!("{} did not exit after SIGKILL", self.name))??;
        Ok(())
    }

    fn signal_group(&self) {
        if let Some(pid) = self.child.id().and_then(|p| i32::try_from(p).ok()) {
            GROUPS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&pid);
            // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.signal_group();
        // Reap without blocking; kill_on_drop covers the leader if the group signal failed.
        let _ = self.child.try_wait();
    }
}

/// Copies lines from a child's pipe to its log file; sends the first line containing `marker`.
async fn copy_lines<R: tokio::io::AsyncRead + Unpin>(
    pipe: R,
    mut file: tokio::fs::File,
    marker: Option<String>,
    mut ready: Option<oneshot::Sender<String>>,
) {
    let mut lines = BufReader::new(pipe).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let _ = file.write_all(line.as_bytes()).await;
        let _ = file.write_all(b"\n").await;
        let _ = file.flush().await;
        if let Some(m) = &marker
            && line.contains(m.as_str())
            && let Some(tx) = ready.take()
        {
            let _ = tx.send(line);
        }
    }
}

/// A free TCP port on 127.0.0.1 (see [`duet_testkit::process::free_port`]).
pub fn free_port() -> Result<u16> {
    duet_testkit::process::free_port().context("cannot bind 127.0.0.1:0")
}

/// The port a server announces on `line` (see [`duet_testkit::process::port_in`]).
pub fn port_in(line: &str) -> Result<u16> {
    duet_testkit::process::port_in(line).ok_or_else(|| anyhow!("no port in {line:?}"))
}

/// Waits until something accepts TCP connections on `addr`.
pub async fn wait_listening(addr: SocketAddr, within: Duration) -> Result<()> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("nothing listens on {addr} after {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
