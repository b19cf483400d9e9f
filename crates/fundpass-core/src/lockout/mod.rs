//! Locking a secret after consecutive failures.
//!
//! Login passwords lock for a growing time (15 minutes, doubling per further lock, at
//! most 24 hours). Transaction passwords follow fund practice: locked until midnight
//! (China time) after 5 consecutive failures, disabled after 10 until recovered.
//! Attempts made while locked are refused without being counted, so they neither
//! extend the lock nor bring the next one closer; a success clears everything.

use time::{Duration, OffsetDateTime, Time, UtcOffset};

use crate::member::LockState;

/// Whether a secret may be tried now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Refused without checking, until this instant.
    Locked {
        until: OffsetDateTime,
    },
    /// Refused until the member recovers the secret (transaction passwords only).
    Disabled,
}

/// Login-password locking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLockPolicy {
    /// Consecutive failures that trigger a lock.
    pub threshold: i32,
    /// Length of the first lock; each further lock doubles it.
    pub first_lock: Duration,
    /// Longest lock.
    pub max_lock: Duration,
}

impl Default for LoginLockPolicy {
    fn default() -> Self {
        Self {
            threshold: 5,
            first_lock: Duration::minutes(15),
            max_lock: Duration::hours(24),
        }
    }
}

impl LoginLockPolicy {
    /// Whether the secret may be tried at `now`.
    pub fn gate(&self, state: &LockState, now: OffsetDateTime) -> Gate {
        match state.locked_until {
            Some(until) if until > now => Gate::Locked { until },
            _ => Gate::Open,
        }
    }

    /// The state after a failed attempt made while the gate was open.
    pub fn after_failure(&self, state: &LockState, now: OffsetDateTime) -> LockState {
        let failures = state.failures + 1;
        if failures < self.threshold {
            return LockState {
                failures,
                lock_count: state.lock_count,
                locked_until: None,
            };
        }
        let lock_count = state.lock_count.saturating_add(1);
        LockState {
            failures: 0,
            lock_count,
            locked_until: Some(now + self.lock_length(lock_count)),
        }
    }

    /// How long the `nth` consecutive lock (1-based) lasts.
    pub fn lock_length(&self, nth: i32) -> Duration {
        let doublings = u32::try_from(nth.saturating_sub(1)).unwrap_or(0).min(30);
        let length = self.first_lock.saturating_mul(1i32 << doublings.min(30));
        length.min(self.max_lock)
    }
}

/// Transaction-password locking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionLockPolicy {
    /// Consecutive failures that lock until the next midnight.
    pub lock_after: i32,
    /// Consecutive failures that disable the secret until it is recovered.
    pub disable_after: i32,
    /// The time zone whose midnight ends a lock.
    pub offset: UtcOffset,
}

impl Default for TransactionLockPolicy {
    fn default() -> Self {
        let china = UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC);
        Self {
            lock_after: 5,
            disable_after: 10,
            offset: china,
        }
    }
}

impl TransactionLockPolicy {
    /// Whether the secret may be tried at `now`.
    pub fn gate(&self, state: &LockState, disabled: bool, now: OffsetDateTime) -> Gate {
        if disabled {
            return Gate::Disabled;
        }
        match state.locked_until {
            Some(until) if until > now => Gate::Locked { until },
            _ => Gate::Open,
        }
    }

    /// The state after a failed attempt made while the gate was open, and whether
    /// the secret is now disabled. Failures keep counting across locks, so the
    /// tenth consecutive one disables it.
    pub fn after_failure(&self, state: &LockState, now: OffsetDateTime) -> (LockState, bool) {
        let failures = state.failures + 1;
        if failures >= self.disable_after {
            return (
                LockState {
                    failures,
                    lock_count: state.lock_count,
                    locked_until: None,
                },
                true,
            );
        }
        if failures % self.lock_after == 0 {
            let lock_count = state.lock_count.saturating_add(1);
            let until = self.next_midnight(now);
            return (
                LockState {
                    failures,
                    lock_count,
                    locked_until: Some(until),
                },
                false,
            );
        }
        (
            LockState {
                failures,
                lock_count: state.lock_count,
                locked_until: None,
            },
            false,
        )
    }

    /// Wrong tries left, after `failures` consecutive ones, before the secret next
    /// locks or is disabled (failures keep counting across locks).
    pub fn tries_left(&self, failures: i32) -> i32 {
        let to_lock = self.lock_after - failures.rem_euclid(self.lock_after.max(1));
        to_lock.min(self.disable_after - failures).max(0)
    }

    /// The next 00:00 in the policy's time zone, as a UTC instant.
    pub fn next_midnight(&self, now: OffsetDateTime) -> OffsetDateTime {
        let local = now.to_offset(self.offset);
        let tomorrow = local.date().next_day().unwrap_or(local.date());
        tomorrow
            .with_time(Time::MIDNIGHT)
            .assume_offset(self.offset)
            .to_offset(UtcOffset::UTC)
    }
}

#[cfg(test)]
mod tries_left_tests {
    use super::*;

    #[test]
    fn tries_left_count_down_to_each_lock_and_to_the_disable() {
        let p = TransactionLockPolicy::default();
        let left: Vec<i32> = (1..=9).map(|f| p.tries_left(f)).collect();
        assert_eq!(left, [4, 3, 2, 1, 5, 4, 3, 2, 1]);
        let short = TransactionLockPolicy {
            disable_after: 7,
            ..p
        };
        assert_eq!(short.tries_left(6), 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-23 02:00 UTC);

    fn fail_n(p: &LoginLockPolicy, mut s: LockState, n: i32, now: OffsetDateTime) -> LockState {
        for _ in 0..n {
            assert_eq!(p.gate(&s, now), Gate::Open);
            s = p.after_failure(&s, now);
        }
        s
    }

    #[test]
    fn five_login_failures_lock_for_fifteen_minutes() {
        let p = LoginLockPolicy::default();
        let s = fail_n(&p, LockState::default(), 4, T0);
        assert_eq!(p.gate(&s, T0), Gate::Open);
        let s = p.after_failure(&s, T0);
        assert_eq!(
            p.gate(&s, T0),
            Gate::Locked {
                until: T0 + Duration::minutes(15)
            }
        );
        assert_eq!(p.gate(&s, T0 + Duration::minutes(15)), Gate::Open);
    }

    #[test]
    fn each_further_lock_doubles_up_to_a_day() {
        let p = LoginLockPolicy::default();
        let mut s = LockState::default();
        let mut now = T0;
        let mut lengths = Vec::new();
        for _ in 0..9 {
            s = fail_n(&p, s, 5, now);
            let Gate::Locked { until } = p.gate(&s, now) else {
                panic!("not locked")
            };
            lengths.push((until - now).whole_minutes());
            now = until;
        }
        assert_eq!(lengths, vec![15, 30, 60, 120, 240, 480, 960, 1440, 1440]);
    }

    #[test]
    fn success_clears_the_count_and_the_doubling() {
        let p = LoginLockPolicy::default();
        let s = fail_n(&p, LockState::default(), 5, T0);
        assert_eq!(s.lock_count, 1);
        assert_eq!(
            LockState::default(),
            LockState {
                failures: 0,
                lock_count: 0,
                locked_until: None
            }
        );
        let s = fail_n(&p, LockState::default(), 4, T0);
        assert_eq!(s.failures, 4);
    }

    #[test]
    fn transaction_passwords_lock_until_china_midnight_then_disable_at_ten() {
        let p = TransactionLockPolicy::default();
        // 02:00 UTC is 10:00 in China; midnight China is 16:00 UTC the same day.
        let mut s = LockState::default();
        let mut disabled = false;
        for _ in 0..5 {
            assert_eq!(p.gate(&s, disabled, T0), Gate::Open);
            (s, disabled) = p.after_failure(&s, T0);
        }
        let midnight = datetime!(2026-11-23 16:00 UTC);
        assert_eq!(p.gate(&s, disabled, T0), Gate::Locked { until: midnight });
        for _ in 0..5 {
            assert_eq!(p.gate(&s, disabled, midnight), Gate::Open);
            (s, disabled) = p.after_failure(&s, midnight);
        }
        assert!(disabled);
        assert_eq!(
            p.gate(&s, disabled, midnight + Duration::days(3)),
            Gate::Disabled
        );
    }

    #[test]
    fn a_failure_just_after_china_midnight_locks_until_the_following_midnight() {
        let p = TransactionLockPolicy::default();
        let just_after = datetime!(2026-11-23 16:00:01 UTC);
        assert_eq!(p.next_midnight(just_after), datetime!(2026-11-24 16:00 UTC));
    }
}
