//! What a test can ask a page: its call state and what its remote `<video>` shows and plays,
//! read from the instrumentation in instrument.js. Waits poll these readings until a condition
//! holds or a deadline passes; a timeout reports the last reading, so a failure says what the
//! page showed instead.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use tokio::time::Instant;

use crate::browser::Browser;

/// The script installed into every document (see instrument.js).
pub const INSTRUMENT: &str = include_str!("instrument.js");

/// How often waits poll the page.
const POLL: Duration = Duration::from_millis(150);

/// Brightness below which a picture counts as black (0–255; the fake camera's is ~100).
pub const BLACK_LUMA: f64 = 12.0;
/// Audio peak below which the remote sound counts as silent (full scale is 1.0; the fake
/// microphone's beeps reach ~0.3 after Opus).
pub const SILENT_PEAK: f64 = 0.01;

/// A `<video>` element's state.
#[derive(Debug, Clone, Deserialize)]
pub struct Video {
    /// `videoWidth`: 0 until a frame has been decoded.
    pub width: u32,
    /// `videoHeight`.
    pub height: u32,
    /// `paused`.
    pub paused: bool,
    /// `readyState` (4 = enough data).
    #[serde(rename = "readyState")]
    pub ready_state: u8,
    /// `currentTime` in seconds.
    #[serde(rename = "currentTime")]
    pub current_time: f64,
    /// The tracks of its `srcObject`.
    pub tracks: Vec<Track>,
}

/// A MediaStreamTrack's state.
#[derive(Debug, Clone, Deserialize)]
pub struct Track {
    /// "audio" or "video".
    pub kind: String,
    /// `enabled` (false when the sender turned it off, on the local side).
    pub enabled: bool,
    /// `muted`: no media arriving.
    pub muted: bool,
    /// "live" or "ended".
    #[serde(rename = "readyState")]
    pub ready_state: String,
    /// The device label (local tracks).
    pub label: String,
}

/// One reading of a page.
#[derive(Debug, Clone, Deserialize)]
pub struct Snapshot {
    /// `#callstatus[data-state]` (None on the seed client, which has no status).
    pub state: Option<String>,
    /// The status in words.
    pub status_text: Option<String>,
    /// `#callproblem`: the error or notice the page shows, if any.
    pub problem: Option<String>,
    /// Every state the page has shown, in order.
    pub states: Vec<String>,
    /// `#remotevideo`.
    pub remote: Option<Video>,
    /// `#localvideo`.
    pub local: Option<Video>,
    /// How much time the samples below span, in ms.
    pub window_ms: f64,
    /// How far the remote video's currentTime advanced over the window, in s.
    pub advanced_s: f64,
    /// How many remote frames were decoded over the window.
    pub new_frames: i64,
    /// Mean brightness of the remote picture over the window.
    pub luma: Option<f64>,
    /// Brightest remote picture over the window.
    pub max_luma: Option<f64>,
    /// Mean colourfulness of the remote picture over the window (0 for grey).
    pub chroma: Option<f64>,
    /// Peak level of the remote sound over the window (0–1).
    pub audio_peak: Option<f64>,
    /// Socket.IO events sent on the page's WebSockets, by name.
    pub sent: BTreeMap<String, u64>,
    /// Socket.IO events received on the page's WebSockets, by name.
    pub received: BTreeMap<String, u64>,
    /// ICE username fragments in relayed messages the page sent.
    pub ufrags_sent: Vec<String>,
    /// ICE username fragments in relayed messages the page received.
    pub ufrags_received: Vec<String>,
}

impl Snapshot {
    /// The remote video shows a moving picture: decoded, size known, playing, time advancing
    /// and new frames over the last second, and not black.
    pub fn remote_playing(&self) -> bool {
        let Some(v) = &self.remote else { return false };
        v.width > 0
            && v.height > 0
            && !v.paused
            && self.window_ms >= 800.0
            && self.advanced_s > 0.3
            && self.new_frames > 0
            && self.luma.is_some_and(|l| l > BLACK_LUMA)
    }

    /// The remote sound carries the fake microphone's beeps.
    pub fn remote_audible(&self) -> bool {
        self.audio_peak.is_some_and(|p| p > SILENT_PEAK)
    }

    /// The remote picture is black or stopped (no frames, or every sampled frame dark).
    pub fn remote_dark_or_stopped(&self) -> bool {
        let Some(v) = &self.remote else { return true };
        v.width == 0 || self.new_frames == 0 || self.max_luma.is_none_or(|l| l <= BLACK_LUMA)
    }

    /// No remote picture: no stream, or a stream whose video no longer advances.
    pub fn remote_gone(&self) -> bool {
        match &self.remote {
            None => true,
            Some(v) => {
                v.tracks.is_empty()
                    || v.tracks.iter().all(|t| t.ready_state == "ended")
                    || (self.window_ms >= 800.0 && self.new_frames == 0)
            }
        }
    }

    /// Relayed signaling messages sent (offer, answer, candidate).
    pub fn relays_sent(&self) -> u64 {
        ["offer", "answer", "candidate"]
            .iter()
            .map(|e| self.sent.get(*e).copied().unwrap_or(0))
            .sum()
    }

    /// Relayed signaling messages received (getOffer, getAnswer, getCandidate).
    pub fn relays_received(&self) -> u64 {
        ["getOffer", "getAnswer", "getCandidate"]
            .iter()
            .map(|e| self.received.get(*e).copied().unwrap_or(0))
            .sum()
    }
}

/// A page under test: a label for reports and the browser showing it.
#[derive(Debug)]
pub struct Page {
    /// Who this page is in the scenario ("alice", "bob", ...).
    pub label: String,
    /// The browser.
    pub browser: Browser,
}

impl Page {
    /// Loads `url` and waits for its load event.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.browser
            .client()
            .goto(url)
            .await
            .with_context(|| format!("{}: cannot load {url}", self.label))?;
        if self.browser.engine() == crate::browser::Engine::Firefox {
            // geckodriver has no pre-load scripts over plain WebDriver: install once loaded
            // (pictures and sound are sampled from then on; see crate::firefox).
            self.eval(INSTRUMENT, vec![]).await?;
        }
        Ok(())
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub async fn eval(
        &self,
        script: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<serde_json::Value> {
        self.browser
            .client()
            .execute(script, args)
            .await
            .with_context(|| format!("{}: script failed", self.label))
    }

    /// Reads the page, summarising the last `window` of samples.
    pub async fn snapshot(&self, window: Duration) -> Result<Snapshot> {
        let v = self
            .browser
            .client()
            .execute(
                "return window.__e2e ? window.__e2e.snapshot(arguments[0]) : null;",
                vec![serde_json::json!(window.as_millis() as u64)],
            )
            .await
            .with_context(|| format!("{}: cannot read the page", self.label))?;
        if v.is_null() {
            bail!("{}: the instrumentation is not installed", self.label);
        }
        serde_json::from_value(v).with_context(|| format!("{}: unexpected reading", self.label))
    }

    /// Polls the page (1 s windows) until `check` holds, for at most `within`.
    pub async fn wait_for(
        &self,
        what: &str,
        within: Duration,
        check: impl Fn(&Snapshot) -> bool,
    ) -> Result<Snapshot> {
        self.wait_for_window(what, within, Duration::from_secs(1), check)
            .await
    }

    /// Polls the page, summarising `window` of samples, until `check` holds.
    pub async fn wait_for_window(
        &self,
        what: &str,
        within: Duration,
        window: Duration,
        check: impl Fn(&Snapshot) -> bool,
    ) -> Result<Snapshot> {
        let deadline = Instant::now() + within;
        loop {
            let snap = self.snapshot(window).await?;
            if check(&snap) {
                return Ok(snap);
            }
            if Instant::now() >= deadline {
                bail!(
                    "{}: not {what} after {within:?}; last reading: {}",
                    self.label,
                    describe(&snap)
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The page's clock (`performance.now()`, ms), to mark a moment such as a link's return.
    pub async fn clock(&self) -> Result<f64> {
        self.eval("return performance.now();", vec![])
            .await?
            .as_f64()
            .with_context(|| format!("{}: performance.now() is not a number", self.label))
    }

    /// A reading of the `window` that starts now: waits for the page's clock to pass it, then
    /// summarises those samples only (a plain `snapshot` would also cover what came before).
    /// Watching for a stated time is the measurement, not a wait for something to happen.
    pub async fn watch(&self, window: Duration) -> Result<Snapshot> {
        let start = self.clock().await?;
        let span = window.as_secs_f64() * 1000.0;
        let deadline = Instant::now() + window * 3;
        while self.clock().await? - start < span {
            if Instant::now() >= deadline {
                bail!("{}: the page's clock stalled", self.label);
            }
            tokio::time::sleep(POLL).await;
        }
        self.snapshot(window).await
    }

    /// Waits until `app`'s page is in its room and waiting for someone: Duet says `waiting`; the
    /// seed client has no status and emits join_room as soon as its camera is on.
    pub async fn wait_in_room(&self, app: crate::App, within: Duration) -> Result<Snapshot> {
        match app {
            crate::App::Duet => self.wait_state(&["waiting"], within).await,
            crate::App::Seed => {
                self.wait_for("showing its own camera", within, |s| {
                    s.local.as_ref().is_some_and(|v| !v.tracks.is_empty())
                })
                .await
            }
        }
    }

    /// Waits for `#callstatus[data-state]` to be one of `states`.
    pub async fn wait_state(&self, states: &[&str], within: Duration) -> Result<Snapshot> {
        let what = format!("in state {}", states.join("|"));
        self.wait_for(&what, within, |s| {
            s.state.as_deref().is_some_and(|st| states.contains(&st))
        })
        .await
    }

    /// Waits until the remote video plays the other page's camera and microphone.
    pub async fn wait_playing(&self, within: Duration) -> Result<Snapshot> {
        let video = self
            .wait_for(
                "playing the remote camera",
                within,
                Snapshot::remote_playing,
            )
            .await?;
        // The fake microphone beeps about once a second; a 2 s window always holds one.
        let audio = self
            .wait_for_window(
                "hearing the remote microphone",
                within,
                Duration::from_secs(2),
                Snapshot::remote_audible,
            )
            .await?;
        println!("  {} plays: {}", self.label, describe(&video));
        println!(
            "  {} hears: audio peak {:.3}",
            self.label,
            audio.audio_peak.unwrap_or_default()
        );
        Ok(audio)
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.browser
            .client()
            .find(fantoccini::Locator::Css(css))
            .await
            .with_context(|| format!("{}: no {css}", self.label))?
            .click()
            .await
            .with_context(|| format!("{}: cannot click {css}", self.label))?;
        Ok(())
    }
}

/// A one-line summary of a reading for error messages.
pub fn describe(s: &Snapshot) -> String {
    let remote = s.remote.as_ref().map_or("no #remotevideo".to_owned(), |v| {
        format!(
            "remote {}x{} paused={} readyState={} t={:.1}s tracks=[{}]",
            v.width,
            v.height,
            v.paused,
            v.ready_state,
            v.current_time,
            v.tracks
                .iter()
                .map(|t| format!(
                    "{} {}{}",
                    t.kind,
                    t.ready_state,
                    if t.muted { " muted" } else { "" }
                ))
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    format!(
        "state={:?} (history {:?}) problem={:?}; {remote}; over {:.0} ms: +{:.2}s, {} frames, luma {:?}, \
         audio peak {:?}; sent {:?}; received {:?}",
        s.state,
        s.states,
        s.problem,
        s.window_ms,
        s.advanced_s,
        s.new_frames,
        s.luma.map(|l| l.round()),
        s.audio_peak.map(|p| (p * 1000.0).round() / 1000.0),
        s.sent,
        s.received
    )
}
