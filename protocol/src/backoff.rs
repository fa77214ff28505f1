//! Reconnection delays as socket.io-client 2.x computes them (its `backo2` dependency):
//! `base × factor^attempt`, moved up or down by up to `jitter × delay`, capped at `max`.
//!
//! Randomness comes from a small seeded generator so that the sans-IO client stays deterministic
//! under test; the browser seeds it from `Math.random`.

use std::time::Duration;

/// Exponential backoff with jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    factor: f64,
    jitter: f64,
    attempts: u32,
    rng: XorShift,
}

impl Backoff {
    /// socket.io-client 2.x's defaults are base 1 s, max 5 s, factor 2, jitter 0.5.
    pub fn new(base: Duration, max: Duration, factor: f64, jitter: f64, seed: u64) -> Self {
        Self {
            base,
            max,
            factor,
            jitter: jitter.clamp(0.0, 1.0),
            attempts: 0,
            rng: XorShift::new(seed),
        }
    }

    /// How many delays were handed out since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The next delay; each call counts one attempt.
    pub fn next_delay(&mut self) -> Duration {
        // Past 2^30 the cap has long taken over; keep the arithmetic finite.
        let exp = self.attempts.min(30) as i32;
        self.attempts = self.attempts.saturating_add(1);
        let mut ms = self.base.as_millis() as f64 * self.factor.powi(exp);
        if self.jitter > 0.0 {
            let rand = self.rng.next_f64();
            let deviation = (rand * self.jitter * ms).floor();
            ms = if ((rand * 10.0).floor() as u64) & 1 == 0 {
                ms - deviation
            } else {
                ms + deviation
            };
        }
        let ms = ms.clamp(0.0, self.max.as_millis() as f64);
        Duration::from_millis(ms as u64)
    }

    /// Back to the first delay (after a successful connection).
    pub fn reset(&mut self) {
        self.attempts = 0;
    }
}

/// xorshift64*: tiny, deterministic, good enough for jitter.
#[derive(Debug, Clone)]
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    fn next_f64(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (r >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_jitter_doubles_up_to_the_cap() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(5), 2.0, 0.0, 1);
        let delays: Vec<_> = (0..5).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(delays, vec![1000, 2000, 4000, 5000, 5000]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_secs(1));
    }

    #[test]
    fn jitter_stays_within_half() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(5), 2.0, 0.5, 42);
        for _ in 0..1000 {
            b.reset();
            let d = b.next_delay().as_millis();
            assert!((500..=1500).contains(&d), "{d}");
            let d = b.next_delay().as_millis();
            assert!((1000..=3000).contains(&d), "{d}");
        }
        // Many attempts never overflow and respect the cap.
        for _ in 0..100 {
            assert!(b.next_delay() <= Duration::from_secs(5));
        }
    }
}
