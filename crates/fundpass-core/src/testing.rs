//! Deterministic stand-ins for the clock and the random source, for tests and
//! benchmarks only (enabled by the `testing` feature). Never wire them into a server.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

use time::{Duration, OffsetDateTime};

use crate::ports::{Clock, SecretGenerator};

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct FixedClock(Mutex<OffsetDateTime>);

impl FixedClock {
    /// A clock showing `at`.
    pub fn at(at: OffsetDateTime) -> Self {
        Self(Mutex::new(at))
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        if let Ok(mut now) = self.0.lock() {
            *now += by;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        match self.0.lock() {
            Ok(now) => *now,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}

/// Bytes 0, 1, 2, … (wrapping): predictable, so never a source of real secrets.
#[derive(Debug, Default)]
pub struct CountingRng(AtomicU8);

impl SecretGenerator for CountingRng {
    fn fill(&self, buf: &mut [u8]) {
        for b in buf {
            *b = self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}
