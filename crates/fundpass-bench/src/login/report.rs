//! The login benchmark's printed report: its header (clients, pool size, Argon2
//! costs), then the lines every HTTP benchmark prints.

use super::Args;
use super::api::DEMO_MEMBERS;
use crate::argon2_rate;
use crate::harness::report::{self, Labels, Prepared};

/// How the login report names its numbers.
const LABELS: Labels = Labels {
    requests: "logins",
    probe: "/readyz",
    probe_target_ms: 20.0,
    peak: "server peak RSS (VmHWM)",
};

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

/// Prints the report on stdout (progress went to stderr).
#[allow(clippy::print_stdout)]
pub fn print(o: &Outcome<'_>) {
    let (args, m) = (o.args, &o.prepared.measured);
    println!(
        "fundpass login benchmark: {} clients for {} s, {} members, {} cores, server hash pool {} workers + {} queued, argon2id m={} t={} p={}",
        args.concurrency,
        args.seconds,
        DEMO_MEMBERS.len(),
        o.cores,
        o.workers,
        o.queue,
        args.hash.m_kib,
        args.hash.t,
        args.hash.p
    );
    if m.ran_out {
        println!(
            "warning: the captchas ran out after {:.1} s; rerun with --captchas larger",
            m.elapsed.as_secs_f64()
        );
    }
    report::print(&report::Outcome {
        labels: LABELS,
        cores: o.cores,
        prepared: o.prepared,
        raw: o.raw,
        raw_before: o.raw_before,
        peak_kib: o.peak_kib,
        load: o.load,
    });
}
