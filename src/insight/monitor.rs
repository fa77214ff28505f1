//! The insight machine: when to read stats, what the indicator, the route hook and the panel
//! show, when to work out the safety code, and the set-up time. Sans-IO in the style of the call
//! machine (`handle(input, now)`, `poll_action()`, `poll_timeout()`), so the call machine holds it
//! as a part and forwards its inputs and actions; the web-sys driver only performs
//! [`Action::ReadStats`] (`getStats`) and [`Action::WorkOutSafetyCode`] (descriptions and
//! `crypto.subtle`) and feeds the results back.
//!
//! Reading cadence: every second while the panel is open; otherwise the light reading the
//! quality indicator and `#stats[data-route]` need, every [`LIGHT_EVERY`]. Nothing is read
//! while the link is not connected.

use std::collections::VecDeque;
use std::time::Duration;

use super::quality::{Level, QualityMeter};
use super::sample::{CandidateType, Sample};
use super::stats::Stats;

/// Between readings while the panel is open.
pub const PANEL_EVERY: Duration = Duration::from_secs(1);
/// Between the indicator's readings while the panel is closed.
pub const LIGHT_EVERY: Duration = Duration::from_secs(2);

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The user asked to join: the set-up clock starts.
    Joined,
    /// The first remote frame is shown: the set-up clock stops (once per join).
    FirstRemoteFrame,
    /// The peer link reached `connected`.
    LinkConnected,
    /// The peer link dropped (disconnected or failed).
    LinkInterrupted,
    /// The peer link was closed or replaced: everything about it is forgotten.
    LinkClosed,
    /// The camera is sending or not (the bitrate part of the quality rule needs it).
    Camera(bool),
    /// Open or close the panel.
    Panel(bool),
    /// A reading the driver took for [`Action::ReadStats`] (`None`: getStats failed).
    Reading(Option<Reading>),
    /// The code the driver worked out for [`Action::WorkOutSafetyCode`].
    SafetyCode(Option<String>),
}

/// A stats reading, with the code that takes it in. In the split bundle both come from the
/// module loaded after the first frame (the only place readings are taken, `crate::extras`),
/// so the main module holds neither the stats' arithmetic nor the quality rule.
#[derive(Debug, Clone)]
pub struct Reading {
    sample: Box<Sample>,
    take: fn(&mut Monitor, Sample, f64),
}

impl Reading {
    /// `sample`, to be taken in by [`Monitor::take`].
    pub fn new(sample: Sample) -> Self {
        Self {
            sample: Box::new(sample),
            take: Monitor::take,
        }
    }
}

/// Readings are equal when their figures are (the code that takes them in is the same).
impl PartialEq for Reading {
    fn eq(&self, other: &Self) -> bool {
        self.sample == other.sample
    }
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Call `getStats` on the link and feed back [`Input::Reading`].
    ReadStats,
    /// Read the applied descriptions, hash them and feed back [`Input::SafetyCode`].
    WorkOutSafetyCode,
}

/// What the page shows of the monitor ([`Monitor::view`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seen {
    /// The quality indicator, once the link has been connected.
    pub level: Option<Level>,
    /// The local candidate type of the selected pair, while connected.
    pub route: Option<CandidateType>,
    /// The panel is open.
    pub panel: bool,
    /// The panel's figures, while it is open (so closed, a reading changes nothing shown but
    /// the indicator and the route).
    pub stats: Option<Stats>,
    /// The safety code.
    pub code: Option<String>,
    /// Join → first remote frame.
    pub setup: Option<Duration>,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Monitor {
    connected: bool,
    /// The link has been connected (it may be interrupted now); cleared when it closes.
    linked: bool,
    panel: bool,
    camera: bool,
    /// When the next reading is due, while connected and none is in flight.
    due: Option<Duration>,
    reading: bool,
    prev: Option<Sample>,
    stats: Stats,
    meter: QualityMeter,
    code: Option<String>,
    joined: Option<Duration>,
    setup: Option<Duration>,
    actions: VecDeque<Action>,
}

impl Monitor {
    /// A monitor for a page with its camera on.
    pub fn new() -> Self {
        Self {
            camera: true,
            ..Self::default()
        }
    }

    /// Takes one input at `now` (the call machine's clock).
    pub fn handle(&mut self, input: Input, now: Duration) {
        let now_ms = now.as_secs_f64() * 1000.0;
        match input {
            Input::Joined => {
                self.joined = Some(now);
                self.setup = None;
            }
            Input::FirstRemoteFrame => {
                if let (Some(joined), None) = (self.joined, self.setup) {
                    self.setup = Some(now.saturating_sub(joined));
                }
            }
            Input::LinkConnected => {
                if !self.connected {
                    self.connected = true;
                    self.linked = true;
                    self.due = Some(now);
                    if self.code.is_none() {
                        self.actions.push_back(Action::WorkOutSafetyCode);
                    }
                }
            }
            Input::LinkInterrupted => {
                self.connected = false;
                self.due = None;
                // Counters may restart with the new transport: no rates across the gap.
                self.prev = None;
                self.meter.interrupted(now_ms);
            }
            Input::LinkClosed => self.link_closed(),
            Input::Camera(on) => self.camera = on,
            Input::Panel(open) => {
                self.panel = open;
                if open && self.connected && !self.reading {
                    self.due = Some(now);
                }
            }
            Input::Reading(sample) => {
                if !self.reading {
                    return; // For a link already closed.
                }
                self.reading = false;
                if let Some(Reading { sample, take }) = sample {
                    take(self, *sample, now_ms);
                }
                if self.connected {
                    let every = if self.panel { PANEL_EVERY } else { LIGHT_EVERY };
                    self.due = Some(now + every);
                }
            }
            Input::SafetyCode(code) => {
                if self.connected {
                    self.code = code;
                }
            }
        }
    }

    /// Takes in a reading: the figures since the last one, and the quality rule's new input.
    fn take(&mut self, sample: Sample, now_ms: f64) {
        self.stats = Stats::between(self.prev.as_ref(), &sample);
        self.prev = Some(sample);
        if self.connected {
            self.meter.update(&self.stats, self.camera, now_ms);
        }
    }

    /// Due readings become actions.
    /// The peer link was closed or replaced: everything about it is forgotten; the panel, the
    /// camera and the set-up clock stay.
    pub fn link_closed(&mut self) {
        *self = Self {
            panel: self.panel,
            camera: self.camera,
            joined: self.joined,
            setup: self.setup,
            ..Self::default()
        };
    }

    /// What the page shows, as one value (compared before the view's signal is written).
    pub fn view(&self) -> Seen {
        Seen {
            level: self.level(),
            route: self.route(),
            panel: self.panel,
            stats: if self.panel {
                Some(self.stats.clone())
            } else {
                None
            },
            code: self.code.clone(),
            setup: self.setup,
        }
    }

    pub fn handle_timeout(&mut self, now: Duration) {
        if self.due.is_some_and(|t| t <= now) {
            self.due = None;
            self.reading = true;
            self.actions.push_back(Action::ReadStats);
        }
    }

    /// The next thing to do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`Monitor::handle_timeout`] wants to run next.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.due
    }

    /// The indicator's level, while there is a link to judge. It changes only when the level
    /// does (the rule rises slowly), so a live region showing it is not flooded.
    pub fn level(&self) -> Option<Level> {
        self.linked.then(|| self.meter.level())
    }

    /// `#stats[data-route]`: the local candidate type of the selected pair, while connected.
    pub fn route(&self) -> Option<CandidateType> {
        self.connected
            .then(|| self.stats.route.and_then(|r| r.local))
            .flatten()
    }

    /// The panel's figures.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Whether the panel is open.
    pub fn panel_open(&self) -> bool {
        self.panel
    }

    /// The safety code, once worked out for the connected link.
    pub fn safety_code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// Join → first remote frame.
    pub fn setup_time(&self) -> Option<Duration> {
        self.setup
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insight::sample::{Counters, Route};

    fn ms(v: f64) -> Duration {
        Duration::from_millis(v as u64)
    }

    fn read(s: Sample) -> Input {
        Input::Reading(Some(Reading::new(s)))
    }

    fn drain(m: &mut Monitor) -> Vec<Action> {
        std::iter::from_fn(|| m.poll_action()).collect()
    }

    /// A host-route reading at `t_ms` with `bytes` counted each way and `lost` of 100 packets.
    fn sample(t_ms: f64, bytes: f64, lost: f64) -> Sample {
        Sample {
            at_ms: Some(t_ms),
            route: Some(Route {
                local: Some(CandidateType::Host),
                remote: Some(CandidateType::Host),
                transport: None,
                relay: None,
            }),
            inbound: Counters {
                bytes: Some(bytes),
                packets: Some(t_ms / 10.0),
                lost: Some(lost),
            },
            ..Sample::default()
        }
    }

    #[test]
    fn reads_only_while_connected_at_the_panels_pace() {
        let mut m = Monitor::new();
        m.handle(Input::Joined, ms(0.0));
        assert_eq!(m.poll_timeout(), None, "no link, no reading");
        m.handle(Input::LinkConnected, ms(1000.0));
        assert_eq!(drain(&mut m), vec![Action::WorkOutSafetyCode]);
        assert_eq!(m.poll_timeout(), Some(ms(1000.0)));
        m.handle_timeout(ms(1000.0));
        assert_eq!(drain(&mut m), vec![Action::ReadStats]);
        assert_eq!(m.poll_timeout(), None, "one reading in flight at a time");
        m.handle(read(sample(1000.0, 0.0, 0.0)), ms(1010.0));
        assert_eq!(m.route(), Some(CandidateType::Host));
        assert_eq!(
            m.poll_timeout(),
            Some(ms(1010.0) + LIGHT_EVERY),
            "light pace, panel closed"
        );
        // Opening the panel reads at once, then every second.
        m.handle(Input::Panel(true), ms(1500.0));
        assert_eq!(m.poll_timeout(), Some(ms(1500.0)));
        m.handle_timeout(ms(1500.0));
        assert_eq!(drain(&mut m), vec![Action::ReadStats]);
        m.handle(read(sample(1500.0, 125_000.0, 0.0)), ms(1500.0));
        assert_eq!(m.poll_timeout(), Some(ms(2500.0)));
        assert_eq!(m.stats().kbps_in, Some(2000.0));
        // The link drops: no readings, poor at once, no route.
        m.handle(Input::LinkInterrupted, ms(2000.0));
        assert_eq!(m.level(), Some(Level::Poor), "poor at once");
        assert_eq!(drain(&mut m), vec![]);
        assert_eq!(m.poll_timeout(), None);
        assert_eq!(m.route(), None);
        m.handle_timeout(ms(5000.0));
        assert_eq!(drain(&mut m), vec![]);
    }

    #[test]
    fn quality_follows_the_readings() {
        let mut m = Monitor::new();
        m.handle(Input::LinkConnected, ms(0.0));
        drain(&mut m);
        let mut levels = Vec::new();
        for (i, lost) in [0.0, 0.0, 10.0, 20.0, 30.0, 40.0].into_iter().enumerate() {
            let t = 2000.0 * (i as f64 + 1.0);
            m.handle_timeout(ms(t));
            m.handle(read(sample(t, 0.0, lost)), ms(t));
            assert_eq!(drain(&mut m), vec![Action::ReadStats]);
            levels.push(m.level().unwrap());
        }
        // 200 packets a reading; 10 lost of 210 = 4.8 %: fair; 10 more each reading stays fair.
        use Level::{Fair, Good};
        assert_eq!(levels, vec![Good, Good, Fair, Fair, Fair, Fair]);
    }

    #[test]
    fn the_safety_code_belongs_to_the_connected_link() {
        let mut m = Monitor::new();
        m.handle(Input::SafetyCode(Some("1".into())), ms(0.0));
        assert_eq!(m.safety_code(), None, "no link yet");
        m.handle(Input::LinkConnected, ms(0.0));
        assert_eq!(drain(&mut m), vec![Action::WorkOutSafetyCode]);
        m.handle(Input::SafetyCode(Some("1234 5678 9012".into())), ms(10.0));
        assert_eq!(m.safety_code(), Some("1234 5678 9012"));
        // An ICE restart keeps the DTLS session, so the code stays and is not worked out again.
        m.handle(Input::LinkInterrupted, ms(20.0));
        m.handle(Input::LinkConnected, ms(30.0));
        assert!(!drain(&mut m).contains(&Action::WorkOutSafetyCode));
        assert_eq!(m.safety_code(), Some("1234 5678 9012"));
        // A new link is a new DTLS session.
        m.handle(Input::LinkClosed, ms(40.0));
        assert_eq!(m.safety_code(), None);
        assert_eq!(m.level(), None);
        // A reading for the closed link is dropped.
        m.handle(read(sample(50.0, 0.0, 0.0)), ms(50.0));
        assert_eq!(m.stats(), &Stats::default());
    }

    #[test]
    fn set_up_time_is_join_to_first_frame_once() {
        let mut m = Monitor::new();
        m.handle(Input::FirstRemoteFrame, ms(5.0));
        assert_eq!(m.setup_time(), None, "not joined");
        m.handle(Input::Joined, ms(100.0));
        m.handle(Input::FirstRemoteFrame, ms(740.0));
        m.handle(Input::FirstRemoteFrame, ms(9000.0));
        assert_eq!(m.setup_time(), Some(ms(640.0)));
        m.handle(Input::LinkClosed, ms(9500.0));
        assert_eq!(m.setup_time(), Some(ms(640.0)), "kept for the call");
        m.handle(Input::Joined, ms(10_000.0));
        assert_eq!(m.setup_time(), None, "a new join starts again");
    }
}
