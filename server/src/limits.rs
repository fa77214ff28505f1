//! Bounds on what one client can cost: relayed events per second, simultaneous connections,
//! and how often its rejected input may be logged.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A token bucket: `burst` tokens, refilled at `rate` per second. Kept per connection so one
/// noisy client is slowed without touching anyone else.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate: f64, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            rate: rate.max(0.0),
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes a token if there is one.
    pub fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Lets a warning through at most once per `period`, counting the ones it held back, so a
/// client sending garbage in a loop cannot flood the logs.
#[derive(Debug, Clone)]
pub struct WarnThrottle {
    period: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl WarnThrottle {
    /// A throttle that has not warned yet.
    pub fn new(period: Duration) -> Self {
        Self {
            period,
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(n)` when a warning may be logged now, `n` being how many were held back since the
    /// last one; `None` when this one should be dropped.
    pub fn allow(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(t) if now.saturating_duration_since(t) < self.period => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}

/// Counts live Socket.IO connections against a maximum. The HTTP layer refuses new Engine.IO
/// handshakes once [`is_full`](Self::is_full); the namespace handler holds a [`ConnectionSlot`]
/// for each connected socket.
#[derive(Debug, Clone)]
pub struct ConnectionGate {
    max: usize,
    live: Arc<AtomicUsize>,
}

/// One counted connection; dropping it frees the count.
#[derive(Debug)]
pub struct ConnectionSlot {
    live: Arc<AtomicUsize>,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

impl ConnectionGate {
    /// A gate for at most `max` connections.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            live: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Takes a slot if one is free. Atomic, so concurrent handshakes cannot overshoot.
    pub fn try_acquire(&self) -> Option<ConnectionSlot> {
        self.live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| ConnectionSlot {
                live: self.live.clone(),
            })
    }

    /// Whether every slot is taken.
    pub fn is_full(&self) -> bool {
        self.live.load(Ordering::SeqCst) >= self.max
    }

    /// Live connections.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_a_burst_then_the_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10.0, 5, t0);
        assert_eq!((0..10).filter(|_| b.try_take(t0)).count(), 5);
        assert!(!b.try_take(t0));
        assert!(b.try_take(t0 + Duration::from_millis(100)));
        assert!(!b.try_take(t0 + Duration::from_millis(100)));
        // Never more than the burst, however long the pause.
        let later = t0 + Duration::from_secs(3600);
        assert_eq!((0..10).filter(|_| b.try_take(later)).count(), 5);
    }

    #[test]
    fn throttle_counts_what_it_held_back() {
        let t0 = Instant::now();
        let mut w = WarnThrottle::new(Duration::from_secs(10));
        assert_eq!(w.allow(t0), Some(0));
        assert_eq!(w.allow(t0 + Duration::from_secs(1)), None);
        assert_eq!(w.allow(t0 + Duration::from_secs(2)), None);
        assert_eq!(w.allow(t0 + Duration::from_secs(11)), Some(2));
    }

    #[test]
    fn gate_counts_slots() {
        let g = ConnectionGate::new(2);
        let a = g.try_acquire().unwrap();
        let _b = g.try_acquire().unwrap();
        assert!(g.is_full() && g.try_acquire().is_none());
        drop(a);
        assert_eq!(g.live(), 1);
        assert!(g.try_acquire().is_some());
    }
}
