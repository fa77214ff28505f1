//! Headless Firefox (Debian's firefox-esr) through geckodriver, for the Firefox ↔ Chromium
//! scenarios. geckodriver serves one session at a time, so each Firefox page gets its own
//! driver, stopped with it.
//!
//! Differences from Chromium that the scenarios live with:
//! - fake media comes from prefs (`media.navigator.streams.fake`: a coloured moving picture and
//!   a continuous tone), granted without a prompt (`media.navigator.permission.disabled`);
//! - plain WebDriver has no "before any page script" hook (that is CDP or WebDriver BiDi), so
//!   instrument.js is installed once the page has loaded ([`crate::Page::goto`]): the picture,
//!   sound and status are read as on Chromium, but the page's own WebSocket was opened before
//!   and its events are not counted (the Chromium partner's counts say who offered);
//! - in a network namespace Firefox gathers no ICE candidates on loopback alone: the scenarios
//!   run in [`crate::netns::Netns`], whose veth pair gives it addresses to gather.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use anyhow::{Context, Result};
use fantoccini::ClientBuilder;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::process::Command;

use crate::browser::{Browser, Engine};
use crate::probes::Page;
use crate::processes::{Process, free_port, wait_listening};

/// Debian's Firefox ESR (scripts/setup.sh --test installs it).
pub const FIREFOX: &str = "/usr/bin/firefox-esr";

/// Prefs for every Firefox: fake devices without a prompt, media allowed to play without a
/// click (the remote video and the instrumentation's audio analyser), real host addresses in
/// candidates (no mDNS names: nothing resolves them here), no background traffic. With no sound
/// device (none here) an AudioContext stays "suspended" forever and the instrumentation's
/// analyser reads silence: `force_mock_context` gives Firefox a mock audio backend that runs.
const PREFS: [(&str, bool); 11] = [
    ("media.navigator.streams.fake", true),
    ("media.cubeb.force_mock_context", true),
    ("media.navigator.permission.disabled", true),
    ("media.autoplay.block-webaudio", false),
    ("media.peerconnection.ice.obfuscate_host_addresses", false),
    ("media.peerconnection.ice.loopback", true),
    ("app.update.enabled", false),
    ("toolkit.telemetry.enabled", false),
    ("datareporting.policy.dataSubmissionEnabled", false),
    ("network.captive-portal-service.enabled", false),
    ("network.connectivity-service.enabled", false),
];

/// geckodriver: on PATH, or where `cargo install geckodriver` puts it.
fn geckodriver() -> Result<PathBuf> {
    let candidates = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain(std::env::var_os("CARGO_HOME").map(|h| PathBuf::from(h).join("bin")))
        .chain(std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin")));
    for dir in candidates {
        let bin = dir.join("geckodriver");
        if bin.is_file() {
            return Ok(bin);
        }
    }
    anyhow::bail!(
        "geckodriver is needed: cargo install geckodriver --version 0.37.1 (setup.sh --test does)"
    )
}

/// Starts a geckodriver and a headless Firefox session on it, logging into `log`.
pub async fn browser(log: &std::path::Path) -> Result<Browser> {
    if !std::path::Path::new(FIREFOX).is_file() {
        anyhow::bail!("{FIREFOX} is needed: apt-get install firefox-esr (setup.sh --test does)");
    }
    let port = free_port()?;
    let mut command = Command::new(geckodriver()?);
    command
        .args(["--port", &port.to_string(), "--host", "127.0.0.1"])
        .args(["--log", "info"]);
    let (process, _) = Process::spawn("geckodriver", command, log, None, Duration::ZERO).await?;
    wait_listening(
        SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(10),
    )
    .await
    .context("geckodriver did not start")?;
    let mut prefs: serde_json::Map<String, serde_json::Value> = PREFS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    // 0 = allow audible autoplay.
    prefs.insert("media.autoplay.default".to_owned(), json!(0));
    let caps = json!({
        "browserName": "firefox",
        "moz:firefoxOptions": {
            "binary": FIREFOX,
            "args": ["-headless", "--width=800", "--height=600"],
            "prefs": prefs,
        },
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!("a JSON object literal")
    };
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .context("geckodriver could not start Firefox")?;
    Ok(Browser::new(client, Engine::Firefox, None, Some(process)))
}

impl crate::Test {
    /// Starts a Firefox page (nothing loaded yet) labelled `label`.
    pub async fn launch_firefox(&mut self, label: &str) -> Result<Rc<Page>> {
        let log = self.dir.join(format!("geckodriver-{label}.log"));
        let browser = browser(&log)
            .await
            .with_context(|| format!("{label}: cannot start Firefox"))?;
        let page = Rc::new(Page {
            label: label.to_owned(),
            browser,
        });
        self.pages.push(page.clone());
        Ok(page)
    }
}
