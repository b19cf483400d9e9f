//! Latency summaries: the few numbers the notes quote for each kind of request.

use std::time::Duration;

/// Count, median, 99th percentile and maximum of one set of latencies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// How many latencies were recorded.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 99th percentile (nearest rank).
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
}

impl Summary {
    /// Summarises `latencies` (in any order); all zero when there are none.
    pub fn of(mut latencies: Vec<Duration>) -> Self {
        latencies.sort_unstable();
        Self {
            count: latencies.len(),
            p50: percentile(&latencies, 50.0).unwrap_or_default(),
            p99: percentile(&latencies, 99.0).unwrap_or_default(),
            max: latencies.last().copied().unwrap_or_default(),
        }
    }
}

/// The nearest-rank percentile `q` (0–100) of `sorted` (ascending), the smallest
/// value that at least `q` % of the values do not exceed. `None` when empty.
pub fn percentile(sorted: &[Duration], q: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q.clamp(0.0, 100.0) / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// Milliseconds with a fraction, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Kibibytes as mebibytes, for printing.
pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|v| Duration::from_millis(*v)).collect()
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted = millis(&(1..=100).collect::<Vec<_>>());
        assert_eq!(percentile(&sorted, 50.0), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&sorted, 99.0), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&sorted, 100.0), Some(Duration::from_millis(100)));
        assert_eq!(percentile(&sorted, 0.0), Some(Duration::from_millis(1)));
    }

    #[test]
    fn a_single_slow_request_in_a_small_sample_is_the_p99() {
        let sorted = millis(&[1, 1, 1, 1, 1, 1, 1, 1, 1, 500]);
        assert_eq!(percentile(&sorted, 99.0), Some(Duration::from_millis(500)));
        assert_eq!(percentile(&sorted, 50.0), Some(Duration::from_millis(1)));
    }

    #[test]
    fn no_latencies_give_no_percentile_and_a_zero_summary() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(Summary::of(Vec::new()), Summary::default());
    }

    #[test]
    fn a_summary_sorts_its_input_first() {
        let summary = Summary::of(millis(&[30, 10, 20]));
        assert_eq!(summary.count, 3);
        assert_eq!(summary.p50, Duration::from_millis(20));
        assert_eq!(summary.p99, Duration::from_millis(30));
        assert_eq!(summary.max, Duration::from_millis(30));
    }
}
