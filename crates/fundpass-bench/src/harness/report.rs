//! The lines every HTTP benchmark's report shares: the rate and latencies of its
//! requests, the refusals, the raw Argon2 rate they are held against, the probe,
//! memory along the way and the machine's load. Each benchmark prints its own header
//! first.

use super::flood::Measured;
use super::stats::{Summary, mib, ms};
use crate::argon2_rate;

/// The timed window and what was seen on the way to it.
#[derive(Debug)]
pub struct Prepared {
    /// The server's `VmRSS` at each step before the window, in KiB.
    pub rss: Vec<(&'static str, Option<u64>)>,
    /// Load average when the window started.
    pub load_at_flood: Option<f64>,
    /// The window itself.
    pub measured: Measured,
}

/// How a benchmark names what it measured.
#[derive(Debug, Clone, Copy)]
pub struct Labels {
    /// The requests of the window (`logins`), also their rate (`logins/s`).
    pub requests: &'static str,
    /// What the probe asks (`/readyz`).
    pub probe: &'static str,
    /// The probe's target 99th percentile, in milliseconds.
    pub probe_target_ms: f64,
    /// Whose peak memory is shown (`server peak RSS (VmHWM)`).
    pub peak: &'static str,
}

/// Everything one run produced, besides what only its header says.
#[derive(Debug)]
pub struct Outcome<'a> {
    /// How the numbers are named.
    pub labels: Labels,
    /// Cores of the machine.
    pub cores: usize,
    /// Preparation and the window.
    pub prepared: &'a Prepared,
    /// Raw Argon2 after the window: the rate the requests are compared with.
    pub raw: &'a argon2_rate::Report,
    /// The shorter raw run before the server started.
    pub raw_before: &'a argon2_rate::Report,
    /// The server's `VmHWM` at the end, in KiB.
    pub peak_kib: Option<u64>,
    /// 1-minute load average at the window's start, the raw run's start and its end.
    pub load: [Option<f64>; 3],
}

impl Outcome<'_> {
    /// Successful requests per second in the window.
    pub fn rate(&self) -> f64 {
        let m = &self.prepared.measured;
        m.ok.len() as f64 / m.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

/// The 1-minute load average (`/proc/loadavg`): other work on the machine skews the
/// comparison between the window and the raw run, and this shows how much there was.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn shown_mib(kib: Option<u64>) -> String {
    kib.map(|k| format!("{:.1} MiB", mib(k)))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn shown_load(load: Option<f64>) -> String {
    load.map(|l| format!("{l:.2}"))
        .unwrap_or_else(|| "?".to_owned())
}

/// `label:` padded to the report's column, and at least one space after it.
fn column(label: &str) -> String {
    format!("{:<8} ", format!("{label}:"))
}

/// Prints the shared lines on stdout (progress went to stderr), after the header.
#[allow(clippy::print_stdout)]
pub fn print(o: &Outcome<'_>) {
    let (labels, m) = (o.labels, &o.prepared.measured);
    let done = Summary::of(m.ok.clone());
    let rate = o.rate();
    let probe = Summary::of(m.probe.clone());
    let others: Vec<String> = m
        .other
        .iter()
        .map(|(status, n)| format!("{n}×{status}"))
        .collect();
    println!(
        "{}{} ok in {:.1} s = {rate:.1}/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        column(labels.requests),
        done.count,
        m.elapsed.as_secs_f64(),
        ms(done.p50),
        ms(done.p99),
        ms(done.max)
    );
    println!(
        "refused: {} × 503 busy, {} × 429 rate-limited, other: [{}], {} transport errors{}",
        m.busy,
        m.limited,
        others.join(", "),
        m.transport_errors,
        m.first_error
            .as_deref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
    if let Some(body) = &m.first_other {
        println!("         first other answer: {body}");
    }
    println!("raw:     {} (after the flood)", o.raw);
    println!("         {} (before the server started)", o.raw_before);
    let faster = o.raw.rate().max(o.raw_before.rate()).max(f64::EPSILON);
    println!(
        "ratio:   {}/s ÷ raw verifies/s = {:.3} (target ≥ 0.9); {:.3} against the faster raw run",
        labels.requests,
        rate / o.raw.rate().max(f64::EPSILON),
        rate / faster
    );
    println!(
        "{}{} probes during the flood, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {} failed (target p99 < {} ms)",
        column(labels.probe),
        probe.count,
        ms(probe.p50),
        ms(probe.p99),
        ms(probe.max),
        m.probe_failures,
        labels.probe_target_ms
    );
    let steps: Vec<String> = o
        .prepared
        .rss
        .iter()
        .map(|(step, kib)| format!("{step} {}", shown_mib(*kib)))
        .collect();
    println!(
        "memory:  {} {}; VmRSS: {}, largest in the flood {}",
        labels.peak,
        shown_mib(o.peak_kib),
        steps.join(", "),
        shown_mib(m.max_rss_kib)
    );
    println!(
        "load:    1-min load average {} at the flood's start, {} at the raw run's start, {} at its end ({} cores)",
        shown_load(o.load[0]),
        shown_load(o.load[1]),
        shown_load(o.load[2]),
        o.cores
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_labels_line_up_and_long_ones_keep_a_space() {
        assert_eq!(column("logins"), "logins:  ");
        assert_eq!(column("/readyz"), "/readyz: ");
        assert_eq!(column("verifications"), "verifications: ");
    }
}
