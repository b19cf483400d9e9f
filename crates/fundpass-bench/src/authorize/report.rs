//! The authorize benchmark's printed report: its header (clients, members, pool size,
//! Argon2 costs), then the lines every HTTP benchmark prints.

use super::Args;
use crate::harness::report::{self, Labels};

/// How the authorize report names its numbers. The server runs inside the benchmark,
/// so the peak is the process's: the server's and the clients' together.
pub const LABELS: Labels = Labels {
    requests: "verifications",
    probe: "holds",
    probe_target_ms: 5.0,
    peak: "process peak RSS (VmHWM, server + clients, from server start)",
};

/// Prints the report on stdout (progress went to stderr): the header of a run with
/// `args` against a server hash pool of `workers` + `queue`, then the shared lines.
#[allow(clippy::print_stdout)]
pub fn print(args: &Args, workers: usize, queue: usize, o: &report::Outcome<'_>) {
    println!(
        "fundpass authorize benchmark: POST /internal/v1/transaction-password/verify, {} clients for {} s, {} members, {} cores, server hash pool {} workers + {} queued, argon2id m={} t={} p={}",
        args.concurrency,
        args.seconds,
        args.members,
        o.cores,
        workers,
        queue,
        args.hash.m_kib,
        args.hash.t,
        args.hash.p
    );
    report::print(o);
}
