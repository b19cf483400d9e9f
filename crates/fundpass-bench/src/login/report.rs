//! The login benchmark's printed report: its header (clients, pool size, Argon2
//! costs), then the lines every HTTP benchmark prints.

use super::Args;
use super::api::DEMO_MEMBERS;
use crate::harness::report::{self, Labels};

/// How the login report names its numbers.
pub const LABELS: Labels = Labels {
    requests: "logins",
    probe: "/readyz",
    probe_target_ms: 5.0,
    peak: "server peak RSS (VmHWM)",
};

/// Prints the report on stdout (progress went to stderr): the header of a run with
/// `args` against a server hash pool of `workers` + `queue`, then the shared lines.
#[allow(clippy::print_stdout)]
pub fn print(args: &Args, workers: usize, queue: usize, o: &report::Outcome<'_>) {
    let m = &o.prepared.measured;
    println!(
        "fundpass login benchmark: {} clients for {} s, {} members, {} cores, server hash pool {} workers + {} queued, argon2id m={} t={} p={}",
        args.concurrency,
        args.seconds,
        DEMO_MEMBERS.len(),
        o.cores,
        workers,
        queue,
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
    report::print(o);
}
