//! Headless Chromium through chromedriver (fantoccini): one chromedriver per test, one browser
//! (fresh profile, own fake camera and microphone) per page, so pages share nothing but the
//! network.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::process::Command;

use crate::probes;
use crate::processes::{Process, free_port, wait_listening};

/// The browser binary (Debian's chromium; scripts/setup.sh --test installs it).
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The matching chromedriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Flags for every browser. Fake devices stand in for a camera and microphone; the rest keeps
/// Chromium from reaching outside hosts or doing background work on a 2-core machine.
const FLAGS: [&str; 12] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--allow-loopback-in-peer-connection",
    "--window-size=800,600",
    // Two fake cameras, so a device switch has somewhere to go.
    "--use-fake-device-for-media-stream=device-count=2",
];

/// How a browser answers the page's camera and microphone request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Granted without a prompt (`--use-fake-ui-for-media-stream`).
    Grant,
    /// Refused, as when the person clicks "Block".
    Deny,
}

/// Which browser a page runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Debian's chromium through chromedriver (every scenario's default).
    Chromium,
    /// Debian's firefox-esr through geckodriver (see [`crate::firefox`]).
    Firefox,
}

/// A running chromedriver.
#[derive(Debug)]
pub struct Driver {
    url: String,
    _process: Process,
}

impl Driver {
    /// Starts chromedriver on a free port, logging to `log`.
    pub async fn start(log: &Path) -> Result<Self> {
        if !Path::new(CHROMIUM).is_file() || !Path::new(CHROMEDRIVER).is_file() {
            anyhow::bail!(
                "{CHROMIUM} and {CHROMEDRIVER} are needed: apt-get install chromium \
                 chromium-driver (scripts/setup.sh --test does)"
            );
        }
        let port = free_port()?;
        let mut command = Command::new(CHROMEDRIVER);
        command.arg(format!("--port={port}"));
        let (process, _) =
            Process::spawn("chromedriver", command, log, None, Duration::ZERO).await?;
        wait_listening(
            SocketAddr::from(([127, 0, 0, 1], port)),
            Duration::from_secs(10),
        )
        .await
        .context("chromedriver did not start")?;
        Ok(Self {
            url: format!("http://127.0.0.1:{port}"),
            _process: process,
        })
    }

    /// Opens a new browser with its own profile.
    pub async fn browser(&self, permission: Permission) -> Result<Browser> {
        let profile = tempfile::Builder::new()
            .prefix("duet-e2e-profile-")
            .tempdir()?;
        crate::processes::scratch(profile.path());
        let mut args: Vec<String> = FLAGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        if permission == Permission::Grant {
            args.push("--use-fake-ui-for-media-stream".to_owned());
        } else {
            args.push("--deny-permission-prompts".to_owned());
        }
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!("a JSON object literal")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .context("chromedriver could not start a browser")?;
        let browser = Browser::new(client, Engine::Chromium, Some(profile), None);
        // Installed before any page script runs, on every document this browser loads.
        browser
            .cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": probes::INSTRUMENT }),
            )
            .await?;
        if permission == Permission::Deny {
            for name in ["camera", "microphone"] {
                browser
                    .cdp(
                        "Browser.setPermission",
                        json!({ "permission": { "name": name }, "setting": "denied" }),
                    )
                    .await?;
            }
        }
        Ok(browser)
    }
}

/// One headless browser with one tab.
#[derive(Debug)]
pub struct Browser {
    client: Client,
    engine: Engine,
    _profile: Option<TempDir>,
    /// A driver of its own (geckodriver serves one session at a time), stopped with it.
    _driver: Option<Process>,
}

impl Browser {
    /// Wraps a WebDriver session; `profile` and `driver` live as long as it.
    pub(crate) fn new(
        client: Client,
        engine: Engine,
        profile: Option<TempDir>,
        driver: Option<Process>,
    ) -> Self {
        Self {
            client,
            engine,
            _profile: profile,
            _driver: driver,
        }
    }

    /// Which browser this is.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The WebDriver client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sends a Chrome DevTools Protocol command through chromedriver.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Result<Value> {
        self.client
            .issue_cmd(Cdp {
                cmd: cmd.to_owned(),
                params,
            })
            .await
            .with_context(|| format!("CDP {cmd} failed"))
    }

    /// The browser's console log (console calls, uncaught errors, CSP and network errors), as
    /// chromedriver collected it since the last call.
    pub async fn console_log(&self) -> Result<Vec<String>> {
        let v = self.client.issue_cmd(BrowserLog).await?;
        Ok(v.as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {} {}",
                            e["timestamp"],
                            e["level"].as_str().unwrap_or("?"),
                            e["message"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Ends the session; chromedriver stops the browser.
    pub async fn close(self) -> Result<()> {
        self.client.close().await?;
        Ok(())
    }
}

/// chromedriver's `POST /session/{id}/goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: String,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or("")
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// chromedriver's legacy `POST /session/{id}/se/log` for the `browser` log.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or("")))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}
