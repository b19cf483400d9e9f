//! The benchmark's printed report: the numbers the notes quote, with what is needed
//! to judge them (pool size, refusals, memory along the way, machine load).

use super::Args;
use super::api::DEMO_MEMBERS;
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

/// Everything one run produced.
#[derive(Debug)]
pub struct Outcome<'a> {
    /// The options of the run.
    pub args: &'a Args,
    /// Cores of the machine.
    pub cores: usize,
    /// Server hash workers (and raw Argon2 threads).
    pub workers: usize,
    /// Server hash queue.
    pub queue: usize,
    /// Preparation and the window.
    pub prepared: &'a Prepared,
    /// Raw Argon2 after the window: the rate logins are compared with.
    pub raw: &'a argon2_rate::Report,
    /// The shorter raw run before the server started.
    pub raw_before: &'a argon2_rate::Report,
    /// The server's `VmHWM` at the end, in KiB.
    pub peak_kib: Option<u64>,
    /// 1-minute load average at the window's start, the raw run's start and its end.
    pub load: [Option<f64>; 3],
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

/// Prints the report on stdout (progress went to stderr).
#[allow(clippy::print_stdout)]
pub fn print(o: &Outcome<'_>) {
    let (args, m) = (o.args, &o.prepared.measured);
    let logins = Summary::of(m.logins.clone());
    let rate = logins.count as f64 / m.elapsed.as_secs_f64().max(f64::EPSILON);
    let readyz = Summary::of(m.readyz.clone());
    let others: Vec<String> = m
        .other
        .iter()
        .map(|(status, n)| format!("{n}×{status}"))
        .collect();
    println!(
        "fundpass login benchmark: {} clients for {} s, {} members, {} cores, server hash pool {} workers + {} queued, argon2id m={} t={} p={}",
        args.concurrency,
        args.seconds,
        DEMO_MEMBERS.len(),
        o.cores,
        o.workers,
        o.queue,
        args.m_kib,
        args.t,
        args.p
    );
    if m.ran_out {
        println!(
            "warning: the captchas ran out after {:.1} s; rerun with --captchas larger",
            m.elapsed.as_secs_f64()
        );
    }
    println!(
        "logins:  {} ok in {:.1} s = {rate:.1}/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        logins.count,
        m.elapsed.as_secs_f64(),
        ms(logins.p50),
        ms(logins.p99),
        ms(logins.max)
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
        "ratio:   logins/s ÷ raw verifies/s = {:.3} (target ≥ 0.9); {:.3} against the faster raw run",
        rate / o.raw.rate().max(f64::EPSILON),
        rate / faster
    );
    println!(
        "/readyz: {} probes during the flood, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {} failed (target p99 < 20 ms)",
        readyz.count,
        ms(readyz.p50),
        ms(readyz.p99),
        ms(readyz.max),
        m.readyz_failures
    );
    let steps: Vec<String> = o
        .prepared
        .rss
        .iter()
        .map(|(step, kib)| format!("{step} {}", shown_mib(*kib)))
        .collect();
    println!(
        "memory:  server peak RSS (VmHWM) {}; VmRSS: {}, largest in the flood {}",
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
