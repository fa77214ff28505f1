//! The quality indicator's rule: good / fair / poor from packet loss, round-trip time and the
//! bitrate sent against what the picture needs, rising slowly and falling fast.
//!
//! Anchored on Jitsi's `ConnectionQuality` (lib-jitsi-meet), adapted to a 1:1 call:
//! - a score from 0 to 100 is the lowest of three parts:
//!   - **loss** (the worse direction, over the last reading): ≤ 2 % → 100, ≤ 4 % → 70,
//!     ≤ 6 % → 50, ≤ 8 % → 30, ≤ 12 % → 10, more → 0 (Jitsi's steps);
//!   - **round trip** (Jitsi ignores it for peer-to-peer; a 1:1 call feels it): ≤ 300 ms → 100
//!     (ITU-T G.114's 150 ms one way), ≤ 500 ms → 60, ≤ 800 ms → 30, more → 10;
//!   - **bitrate sent against expected**, only while video is sent and after a 10 s warm-up (as
//!     Jitsi: the encoder ramps up first): 100 × sent / expected, where expected is set by the
//!     sent picture's height, after Jitsi's VP8 targets (≥ 1080 → 2,500 kbit/s, ≥ 720 → 1,000,
//!     ≥ 540 → 600, ≥ 360 → 300, ≥ 180 → 100, less → 50). Jitsi also caps the expected figure by a ramp from 800 kbit/s growing 8 % a
//!     second (GCC's fastest); after the warm-up that ramp is above every figure here, so it is
//!     left out. While the camera is off nothing is expected (Chromium then sends a trickle of
//!     black frames), and the warm-up starts again when it comes back (Jitsi's unmute time);
//! - the score **falls at once** but **rises at most 2 points a second** (Jitsi's
//!   `maxIncreasePerSecond`), so a brief recovery does not flicker the label;
//! - a link that is interrupted scores 0 at once (Jitsi's `CONNECTION_INTERRUPTED`);
//! - levels: ≥ 66 good, ≥ 33 fair, below poor. The indicator starts at good, as Jitsi's does.
//!
//! A part whose inputs the browser did not report does not count. The meter is a small machine:
//! [`QualityMeter::update`] takes a reading and the time, and says when the level changed, so
//! the page announces changes, not readings.

use super::stats::Stats;

/// What the indicator shows (`#quality[data-level]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Noticeably broken: frozen picture or choppy sound.
    Poor,
    /// Degraded.
    Fair,
    /// Fine.
    Good,
}

impl Level {
    /// The `data-level` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Poor => "poor",
            Self::Fair => "fair",
            Self::Good => "good",
        }
    }

    /// The indicator's text label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Poor => "Connection: poor",
            Self::Fair => "Connection: fair",
            Self::Good => "Connection: good",
        }
    }

    fn of(score: f64) -> Self {
        if score >= 66.0 {
            Self::Good
        } else if score >= 33.0 {
            Self::Fair
        } else {
            Self::Poor
        }
    }
}

/// Jitsi's loss steps.
fn loss_score(loss_pct: f64) -> f64 {
    match loss_pct {
        l if l <= 2.0 => 100.0,
        l if l <= 4.0 => 70.0,
        l if l <= 6.0 => 50.0,
        l if l <= 8.0 => 30.0,
        l if l <= 12.0 => 10.0,
        _ => 0.0,
    }
}

fn rtt_score(rtt_ms: f64) -> f64 {
    match rtt_ms {
        r if r <= 300.0 => 100.0,
        r if r <= 500.0 => 60.0,
        r if r <= 800.0 => 30.0,
        _ => 10.0,
    }
}

/// The bitrate (kbit/s) a picture of this height needs to look right.
fn expected_kbps(height: f64) -> f64 {
    match height {
        h if h >= 1080.0 => 2500.0,
        h if h >= 720.0 => 1000.0,
        h if h >= 540.0 => 600.0,
        h if h >= 360.0 => 300.0,
        h if h >= 180.0 => 100.0,
        _ => 50.0,
    }
}

/// Seconds of sending before the bitrate counts.
const WARM_UP_S: f64 = 10.0;
/// Most points the score may rise per second.
const RISE_PER_S: f64 = 2.0;

/// The instantaneous score of one reading, `sending_for_s` seconds after video started flowing
/// (`None`: no video is being sent).
pub fn score(stats: &Stats, sending_for_s: Option<f64>) -> f64 {
    let mut score: f64 = 100.0;
    let worst_loss = match (stats.loss_in_pct, stats.loss_out_pct) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    if let Some(loss) = worst_loss {
        score = score.min(loss_score(loss));
    }
    if let Some(rtt) = stats.rtt_ms {
        score = score.min(rtt_score(rtt));
    }
    if let (Some(kbps), Some(height), Some(sending)) =
        (stats.kbps_out, stats.video_out.height, sending_for_s)
        && sending > WARM_UP_S
    {
        score = score.min(100.0 * kbps / expected_kbps(height));
    }
    score.clamp(0.0, 100.0)
}

/// The indicator's state across readings. See the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityMeter {
    score: f64,
    /// When the score last changed (ms), for the rise limit.
    updated_ms: Option<f64>,
    /// Since when video has been sent (ms), for the warm-up.
    since_ms: Option<f64>,
}

impl Default for QualityMeter {
    fn default() -> Self {
        Self {
            score: 100.0,
            updated_ms: None,
            since_ms: None,
        }
    }
}

impl QualityMeter {
    /// The level shown now.
    pub fn level(&self) -> Level {
        Level::of(self.score)
    }

    /// The score now (0..100).
    pub fn score(&self) -> f64 {
        self.score
    }

    /// Takes a reading at `now_ms`, with the camera on or off; returns the new level when it
    /// changed.
    pub fn update(&mut self, stats: &Stats, camera_on: bool, now_ms: f64) -> Option<Level> {
        if !camera_on {
            self.since_ms = None;
        }
        let sending_for_s =
            camera_on.then(|| (now_ms - *self.since_ms.get_or_insert(now_ms)) / 1000.0);
        let target = score(stats, sending_for_s);
        self.set(target, now_ms)
    }

    /// The link dropped: poor at once; the warm-up starts again when media is back.
    pub fn interrupted(&mut self, now_ms: f64) -> Option<Level> {
        self.since_ms = None;
        self.set(0.0, now_ms)
    }

    fn set(&mut self, target: f64, now_ms: f64) -> Option<Level> {
        let before = self.level();
        let cap = match self.updated_ms {
            Some(t) => self.score + RISE_PER_S * ((now_ms - t).max(0.0) / 1000.0),
            None => 100.0,
        };
        self.score = target.min(cap);
        self.updated_ms = Some(now_ms);
        let after = self.level();
        (after != before).then_some(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insight::sample::Picture;

    /// A reading with this loss (both ways), round trip and bitrate sent at 480p.
    fn reading(loss_pct: f64, rtt_ms: f64, kbps_out: f64) -> Stats {
        Stats {
            loss_in_pct: Some(loss_pct),
            loss_out_pct: Some(loss_pct),
            rtt_ms: Some(rtt_ms),
            kbps_out: Some(kbps_out),
            video_out: Picture {
                width: Some(640.0),
                height: Some(480.0),
                fps: Some(30.0),
            },
            ..Stats::default()
        }
    }

    /// Feeds one reading a second; returns the level after each.
    fn run(meter: &mut QualityMeter, start_s: u32, readings: &[Stats]) -> Vec<Level> {
        readings
            .iter()
            .zip(start_s..)
            .map(|(r, t)| {
                meter.update(r, true, f64::from(t) * 1000.0);
                meter.level()
            })
            .collect()
    }

    #[test]
    fn a_clean_call_stays_good() {
        let mut m = QualityMeter::default();
        let levels = run(&mut m, 0, &vec![reading(0.0, 20.0, 900.0); 30]);
        assert!(levels.iter().all(|l| *l == Level::Good), "{levels:?}");
    }

    #[test]
    fn loss_drops_the_level_at_once_and_it_climbs_back_slowly() {
        let mut m = QualityMeter::default();
        run(&mut m, 0, &vec![reading(0.0, 20.0, 900.0); 12]);
        // 15 % loss: poor at the first reading.
        assert_eq!(
            m.update(&reading(15.0, 20.0, 900.0), true, 12_000.0),
            Some(Level::Poor)
        );
        // Clean again: still poor for a while (2 points a second from 0: fair after 17 s).
        let levels = run(&mut m, 13, &vec![reading(0.0, 20.0, 900.0); 40]);
        let first_fair = levels
            .iter()
            .position(|l| *l == Level::Fair)
            .expect("recovers");
        let first_good = levels
            .iter()
            .position(|l| *l == Level::Good)
            .expect("recovers");
        assert_eq!(first_fair, 16, "{levels:?}");
        assert_eq!(first_good, 32, "{levels:?}");
        assert!(levels[..first_fair].iter().all(|l| *l == Level::Poor));
    }

    #[test]
    fn loss_steps_follow_jitsi() {
        for (loss, level) in [
            (1.0, Level::Good),
            (3.0, Level::Good),
            (5.0, Level::Fair),
            (7.0, Level::Poor),
            (20.0, Level::Poor),
        ] {
            let mut m = QualityMeter::default();
            m.update(&reading(loss, 20.0, 900.0), true, 0.0);
            assert_eq!(m.level(), level, "loss {loss} %");
        }
    }

    #[test]
    fn a_long_round_trip_is_fair_then_poor() {
        let mut m = QualityMeter::default();
        assert_eq!(
            m.update(&reading(0.0, 450.0, 900.0), true, 0.0),
            Some(Level::Fair)
        );
        assert_eq!(
            m.update(&reading(0.0, 1200.0, 900.0), true, 1000.0),
            Some(Level::Poor)
        );
    }

    #[test]
    fn low_bitrate_counts_only_after_the_warm_up() {
        let mut m = QualityMeter::default();
        // 480p needs 300 kbit/s; 60 kbit/s is 20 points, but the first 10 s do not count.
        let levels = run(&mut m, 0, &vec![reading(0.0, 20.0, 60.0); 14]);
        assert!(levels[..11].iter().all(|l| *l == Level::Good), "{levels:?}");
        assert_eq!(levels[11], Level::Poor, "{levels:?}");
        // 150 of 300: fair.
        let mut m = QualityMeter::default();
        let levels = run(&mut m, 0, &vec![reading(0.0, 20.0, 150.0); 14]);
        assert_eq!(levels[13], Level::Fair);
    }

    #[test]
    fn camera_off_expects_no_bitrate_and_restarts_the_warm_up() {
        let mut m = QualityMeter::default();
        let trickle = reading(0.0, 20.0, 5.0);
        for t in 0..30 {
            assert_eq!(m.update(&trickle, false, f64::from(t) * 1000.0), None);
        }
        assert_eq!(m.level(), Level::Good);
        // Camera back on: 10 s of grace before a low bitrate counts.
        for t in 30..41 {
            m.update(&trickle, true, f64::from(t) * 1000.0);
            assert_eq!(m.level(), Level::Good, "t={t}");
        }
        m.update(&trickle, true, 41_000.0);
        assert_eq!(m.level(), Level::Poor);
    }

    #[test]
    fn an_interrupted_link_is_poor_and_unreported_values_do_not_count() {
        let mut m = QualityMeter::default();
        assert_eq!(m.interrupted(0.0), Some(Level::Poor));
        assert_eq!(
            m.update(&reading(0.0, 20.0, 900.0), true, 500.0),
            None,
            "no jump back"
        );
        // Nothing reported at all: nothing pulls the score down.
        let mut m = QualityMeter::default();
        assert_eq!(m.update(&Stats::default(), true, 60_000.0), None);
        assert_eq!(m.level(), Level::Good);
        assert_eq!(score(&Stats::default(), Some(60.0)), 100.0);
    }

    #[test]
    fn a_level_change_is_reported_once() {
        let mut m = QualityMeter::default();
        let changes: Vec<_> = (0..10)
            .filter_map(|t| m.update(&reading(5.0, 20.0, 900.0), true, f64::from(t) * 1000.0))
            .collect();
        assert_eq!(changes, vec![Level::Fair]);
    }
}
