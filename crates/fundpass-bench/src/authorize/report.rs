//! The authorize benchmark's printed report: its header (clients, members, pool size,
//! Argon2 costs), then the lines every HTTP benchmark prints.

use super::Args;
use crate::argon2_rate;
use crate::harness::report::{self, Labels, Prepared};

/// How the authorize report names its numbers. The server runs inside the benchmark,
/// so the peak is the process's: the server's and the clients' together.
const LABELS: Labels = Labels {
    requests: "verifications",
    probe: "holds",
    probe_target_ms: 5.0,
    peak: "process peak RSS (VmHWM, server + clients, from server start)",
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
    /// Raw Argon2 after the window: the rate verifications are compared with.
    pub raw: &'a argon2_rate::Report,
    /// The shorter raw run before the server started.
    pub raw_before: &'a argon2_rate::Report,
    /// The process's `VmHWM` since the server started, in KiB.
    pub peak_kib: Option<u64>,
    /// 1-minute load average at the window's start, the raw run's start and its end.
    pub load: [Option<f64>; 3],
}

/// Prints the report on stdout (progress went to stderr).
#[allow(clippy::print_stdout)]
pub fn print(o: &Outcome<'_>) {
    let args = o.args;
    println!(
        "fundpass authorize benchmark: POST /internal/v1/transaction-password/verify, {} clients for {} s, {} members, {} cores, server hash pool {} workers + {} queued, argon2id m={} t={} p={}",
        args.concurrency,
        args.seconds,
        args.members,
        o.cores,
        o.workers,
        o.queue,
        args.hash.m_kib,
        args.hash.t,
        args.hash.p
    );
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
