//! The record benchmark's table: count, p50, p95, p99 and max per kind of read, with
//! each walk also split into its first and its deepest tenth of pages, which is the
//! comparison that shows whether a page costs the same at any depth.

use std::time::Duration;

use crate::harness::report::load_average;
use crate::harness::stats::{ms, percentile};

/// The numbers of one row.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Row {
    pub count: usize,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Row {
    /// Summarises `latencies` in milliseconds (nearest-rank percentiles).
    pub fn of(latencies: &[Duration]) -> Self {
        let mut sorted = latencies.to_vec();
        sorted.sort_unstable();
        let at = |q| percentile(&sorted, q).map(ms).unwrap_or_default();
        Self {
            count: sorted.len(),
            p50: at(50.0),
            p95: at(95.0),
            p99: at(99.0),
            max: at(100.0),
        }
    }
}

/// The first and the deepest tenth of a walk's reads (at least one each).
pub fn tenths(walk: &[Duration]) -> (Row, Row) {
    let tenth = (walk.len() / 10).max(1).min(walk.len());
    (
        Row::of(&walk[..tenth]),
        Row::of(&walk[walk.len() - tenth..]),
    )
}

/// One backend's results, ready to print.
#[derive(Debug, Default)]
pub struct Table {
    /// `SQLite`, `PostgreSQL`.
    pub backend: &'static str,
    /// The lines above the table (trail, setup rate).
    pub notes: Vec<String>,
    pub rows: Vec<(String, Row)>,
    /// The lines below it (the depth comparison).
    pub footer: Vec<String>,
}

impl Table {
    /// Adds one row.
    pub fn row(&mut self, label: impl Into<String>, latencies: &[Duration]) {
        self.rows.push((label.into(), Row::of(latencies)));
    }

    /// Adds a walk's row and, when it has ten reads or more, its first and deepest
    /// tenths; returns the two tenths' p99.
    pub fn walk(&mut self, label: &str, latencies: &[Duration]) -> (f64, f64) {
        self.row(label, latencies);
        let (first, deepest) = tenths(latencies);
        if latencies.len() >= 10 {
            self.rows.push(("  first 10% of pages".to_owned(), first));
            self.rows
                .push(("  deepest 10% of pages".to_owned(), deepest));
        }
        (first.p99, deepest.p99)
    }
}

/// Prints one backend's table on stdout (progress went to stderr).
#[allow(clippy::print_stdout)]
pub fn print(table: &Table) {
    println!("record: {}", table.backend);
    for note in &table.notes {
        println!("  {note}");
    }
    println!(
        "  {:<44} {:>6} {:>8} {:>8} {:>8} {:>8}",
        "read (Portal::security_record)", "count", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    for (label, r) in &table.rows {
        println!(
            "  {label:<44} {:>6} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
            r.count, r.p50, r.p95, r.p99, r.max
        );
    }
    for line in &table.footer {
        println!("  {line}");
    }
    if let Some(load) = load_average() {
        println!("  1-min load average at the end: {load:.2}");
    }
    println!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(values: impl IntoIterator<Item = u64>) -> Vec<Duration> {
        values.into_iter().map(Duration::from_millis).collect()
    }

    #[test]
    fn a_row_has_the_nearest_rank_percentiles_in_milliseconds() {
        let row = Row::of(&millis((1..=100).rev()));
        assert_eq!(row.count, 100);
        assert_eq!(
            (row.p50, row.p95, row.p99, row.max),
            (50.0, 95.0, 99.0, 100.0)
        );
        assert_eq!(Row::of(&[]), Row::default());
    }

    #[test]
    fn tenths_are_the_first_and_the_last_reads_in_walk_order() {
        // A walk that slows with depth: the deepest tenth must show it.
        let (first, deepest) = tenths(&millis(1..=50));
        assert_eq!((first.count, first.max), (5, 5.0));
        assert_eq!((deepest.count, deepest.p50), (5, 48.0));
        let (one, same) = tenths(&millis([7]));
        assert_eq!((one.count, same.count), (1, 1));
        assert_eq!(tenths(&[]), (Row::default(), Row::default()));
    }
}
