//! Duet's end-to-end harness: real calls between headless Chromium pages (fake camera and
//! microphone) through duet-server or the seed's socket.io 2.3.0 server, asserting on what the
//! other side sees and hears.
//!
//! A scenario is an async function taking a [`Test`]; [`run`] gives it a chromedriver and a
//! results folder, runs it under a deadline, and on failure saves screenshots, console logs,
//! page state and server logs under e2e/results/<test>/ and prints their paths. Scenarios run
//! one at a time (four browsers at once would starve a 2-core machine of the CPU that video
//! encoding needs), whatever `--test-threads` says.

pub mod artifacts;
pub mod browser;
pub mod firefox;
pub mod hostile;
pub mod ice;
pub mod insight;
pub mod netns;
pub mod paths;
pub mod probes;
pub mod processes;
pub mod servers;
pub mod site;
pub mod turn;

use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use futures::FutureExt;
use futures::future::LocalBoxFuture;

pub use browser::Permission;
pub use probes::{Page, Snapshot};
pub use servers::{Server, ServerKind};

/// The longest any scenario may take before it fails.
const SCENARIO_LIMIT: Duration = Duration::from_secs(150);

/// Serialises scenarios across the test threads of one test binary.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Stops every child when Ctrl-C ends the test process (which skips destructors); the
/// children's own process groups keep the terminal's SIGINT from reaching them directly.
struct InterruptWatch(tokio::task::JoinHandle<()>);

impl InterruptWatch {
    fn start(name: &str) -> Self {
        let name = name.to_owned();
        Self(tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                processes::kill_all();
                // Straight to the stream: libtest would swallow eprintln! from a test thread.
                let _ = writeln!(
                    std::io::stderr(),
                    "e2e {name}: interrupted; stopped every server, driver and browser"
                );
                std::process::exit(130);
            }
        }))
    }
}

impl Drop for InterruptWatch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serialises scenarios across processes too: two people running the suite at once on one
/// machine would otherwise run eight browsers and fail each other's media timings.
async fn machine_turn() -> Result<std::fs::File> {
    let path = std::env::temp_dir().join("duet-e2e.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    tokio::task::spawn_blocking(move || {
        use std::os::fd::AsRawFd;
        // SAFETY: flock(2) on a descriptor this closure owns; released when the file closes.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if rc == 0 {
            Ok(file)
        } else {
            Err(anyhow!("flock: {}", std::io::Error::last_os_error()))
        }
    })
    .await?
}

/// Which page to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    /// The Duet frontend (dist/), served at `/`.
    Duet,
    /// The seed's client ported to plain JS, served at `/seed/`.
    Seed,
}

/// The URL of `app` on `server` joining `room` as `name`, with no ICE servers (host candidates
/// only: nothing leaves the machine).
pub fn page_url(app: App, server: &Server, room: &str, name: &str) -> String {
    let path = match app {
        App::Duet => "/",
        App::Seed => "/seed/",
    };
    format!("{}{path}?room={room}&name={name}&ice=none", server.origin())
}

/// One scenario's world: its results folder, site, chromedriver and pages.
pub struct Test {
    name: String,
    dir: PathBuf,
    site: site::Site,
    driver: browser::Driver,
    pages: Vec<Rc<Page>>,
    servers: u32,
}

impl Test {
    /// A fresh world named `name` (its results folder under e2e/results). Scenarios get theirs
    /// from [`run`]; the call set-up benchmark makes its own.
    pub async fn new(name: &str) -> Result<Self> {
        let dir = paths::results(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let site = site::Site::assemble()?;
        let driver = browser::Driver::start(&dir.join("chromedriver.log")).await?;
        Ok(Self {
            name: name.to_owned(),
            dir,
            site,
            driver,
            pages: Vec::new(),
            servers: 0,
        })
    }

    /// Starts a signaling server (serving the site) on an ephemeral port; it stops when dropped.
    pub async fn server(&mut self, kind: ServerKind) -> Result<Server> {
        self.servers += 1;
        let log = self
            .dir
            .join(format!("{}-{}.log", kind.as_str(), self.servers));
        Server::start(kind, self.site.path(), log).await
    }

    /// Opens `app` from `server` in a new browser, joining `room` as `label`.
    pub async fn open(
        &mut self,
        label: &str,
        app: App,
        server: &Server,
        room: &str,
        permission: Permission,
    ) -> Result<Rc<Page>> {
        let page = self.launch(label, permission).await?;
        page.goto(&page_url(app, server, room, label)).await?;
        Ok(page)
    }

    /// Two Duet pages in `room` through `server`: alice joins and waits alone, then bob joins;
    /// returns once both are connected and playing the other's camera, each within `within`.
    pub async fn duet_pair(
        &mut self,
        server: &Server,
        room: &str,
        within: std::time::Duration,
    ) -> Result<(Rc<Page>, Rc<Page>)> {
        let a = self
            .open("alice", App::Duet, server, room, Permission::Grant)
            .await?;
        a.wait_state(&["waiting"], within).await?;
        let b = self
            .open("bob", App::Duet, server, room, Permission::Grant)
            .await?;
        for p in [&a, &b] {
            p.wait_state(&["connected"], within).await?;
            p.wait_playing(within).await?;
        }
        Ok((a, b))
    }

    /// Starts a browser for a page without loading anything yet, so several pages can then
    /// load at the same moment.
    pub async fn launch(&mut self, label: &str, permission: Permission) -> Result<Rc<Page>> {
        let browser = self
            .driver
            .browser(permission)
            .await
            .with_context(|| format!("{label}: cannot start a browser"))?;
        let page = Rc::new(Page {
            label: label.to_owned(),
            browser,
        });
        self.pages.push(page.clone());
        Ok(page)
    }

    /// Closes a page's browser, as a person closing the tab (the page gets no chance to say
    /// goodbye beyond what the browser does on unload).
    pub async fn close(&mut self, page: &Rc<Page>) -> Result<()> {
        self.pages.retain(|p| !Rc::ptr_eq(p, page));
        page.browser
            .client()
            .clone()
            .close()
            .await
            .with_context(|| format!("{}: cannot close", page.label))?;
        Ok(())
    }

    /// The folder every server of this test serves (dist/ and the seed client).
    pub fn site(&self) -> &std::path::Path {
        self.site.path()
    }

    /// The test's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    async fn save_artifacts(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for page in &self.pages {
            files.extend(artifacts::save_page(page, &self.dir).await);
        }
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            let logs: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "log") && !files.contains(p))
                .collect();
            files.extend(logs);
        }
        files.sort();
        files
    }

    async fn shut_down(self) {
        for page in self.pages {
            if let Ok(page) = Rc::try_unwrap(page) {
                let _ = page.browser.close().await;
            }
        }
        // The driver (and any browser left) is killed by process group when `self.driver` drops.
    }
}

/// Runs `scenario` as test `name`: on success removes its results folder; on failure (error,
/// panic or timeout) saves artifacts, prints their paths and panics with the reason.
pub async fn run<F>(name: &str, scenario: F)
where
    F: for<'a> FnOnce(&'a mut Test) -> LocalBoxFuture<'a, Result<()>>,
{
    let _turn = ONE_AT_A_TIME.lock().await;
    let _interrupt = InterruptWatch::start(name);
    let _machine_turn = match machine_turn().await {
        Ok(f) => f,
        Err(e) => panic!("{name}: cannot take the machine-wide e2e lock: {e:#}"),
    };
    if let Err(e) = servers::prepare().await {
        panic!("{name}: cannot build duet-server: {e:#}");
    }
    let started = Instant::now();
    let mut test = match Test::new(name).await {
        Ok(t) => t,
        Err(e) => panic!("{name}: cannot set up: {e:#}"),
    };
    let outcome = AssertUnwindSafe(tokio::time::timeout(SCENARIO_LIMIT, scenario(&mut test)))
        .catch_unwind()
        .await;
    let failure = match outcome {
        Ok(Ok(Ok(()))) => None,
        Ok(Ok(Err(e))) => Some(format!("{e:#}")),
        Ok(Err(_)) => Some(format!("timed out after {SCENARIO_LIMIT:?}")),
        Err(panic) => Some(
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "panicked".to_owned()),
        ),
    };
    let elapsed = started.elapsed();
    match failure {
        None => {
            let dir = test.dir.clone();
            test.shut_down().await;
            let _ = std::fs::remove_dir_all(&dir);
            println!("e2e {name}: passed in {:.1} s", elapsed.as_secs_f64());
        }
        Some(reason) => {
            let files = test.save_artifacts().await;
            test.shut_down().await;
            eprintln!(
                "e2e {name}: FAILED after {:.1} s: {reason}",
                elapsed.as_secs_f64()
            );
            eprintln!("e2e {name}: artifacts:");
            for f in &files {
                eprintln!("  {}", f.display());
            }
            panic!("{name}: {reason}");
        }
    }
}

/// Fails with `message` unless `condition` holds; for assertions inside scenarios that should
/// produce artifacts rather than abort the harness.
pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> Result<()> {
    if condition {
        Ok(())
    } else {
        Err(anyhow!(message()))
    }
}
