//! Transfer speed over the last few seconds, from (time, bytes done) samples, so the figure
//! follows the link and falls to zero when it stalls.

use std::collections::VecDeque;
use std::time::Duration;

/// How far back the speed looks.
pub const WINDOW: Duration = Duration::from_secs(2);
/// The shortest span a speed is computed over: the first bytes arrive with the offer, so a
/// shorter span would show a burst as the speed.
pub const MIN_SPAN: Duration = Duration::from_millis(500);

/// Bytes per second over [`WINDOW`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rate {
    samples: VecDeque<(Duration, u64)>,
}

impl Rate {
    /// Records that `done` bytes were done at `now`.
    pub fn sample(&mut self, now: Duration, done: u64) {
        let n = self.samples.len();
        if n >= 2 && now.saturating_sub(self.samples[n - 2].0) < Duration::from_millis(100) {
            // Many chunks a millisecond apart: samples stay about 100 ms apart, the newest last.
            self.samples[n - 1] = (now, done);
        } else {
            self.samples.push_back((now, done));
        }
        // Keep one sample at or beyond the window's start as the base.
        while self.samples.len() > 2 && now.saturating_sub(self.samples[1].0) >= WINDOW {
            self.samples.pop_front();
        }
    }

    /// Bytes per second between the oldest kept sample and the newest (0 until they are
    /// [`MIN_SPAN`] apart).
    pub fn bytes_per_s(&self) -> u64 {
        let (Some(first), Some(last)) = (self.samples.front(), self.samples.back()) else {
            return 0;
        };
        let span = last.0.saturating_sub(first.0);
        if span < MIN_SPAN {
            return 0;
        }
        let ms = span.as_millis() as u64;
        last.1.saturating_sub(first.1).saturating_mul(1000) / ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn follows_the_rate_and_decays_when_stalled() {
        let mut r = Rate::default();
        assert_eq!(r.bytes_per_s(), 0);
        r.sample(ms(0), 0);
        assert_eq!(r.bytes_per_s(), 0);
        // 1 MB/s in 16 kB chunks every 16 ms.
        let mut t = 0;
        let mut done = 0;
        while t < 3000 {
            t += 16;
            done += 16_000;
            r.sample(ms(t), done);
        }
        let speed = r.bytes_per_s();
        assert!((950_000..=1_050_000).contains(&speed), "{speed}");
        // Then nothing moves: after a window the speed is zero.
        r.sample(ms(t + 1000), done);
        assert!(r.bytes_per_s() < speed);
        r.sample(ms(t + 2100), done);
        r.sample(ms(t + 2600), done);
        assert_eq!(r.bytes_per_s(), 0);
    }
}
