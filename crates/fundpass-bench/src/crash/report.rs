//! The crash harness's findings for one backend and their printed report.

use std::collections::HashMap;
use std::time::Duration;

use super::Args;
use super::checks::Snapshot;
use super::delivery::{Deliveries, compare};
use super::receiver::Inbox;
use super::workload::{Counts, Kind, Tally};
use crate::harness::stats::{Summary, ms};

/// Problems kept to show, of each kind.
const SHOWN: usize = 5;

/// Everything one backend's run found.
#[derive(Debug, Default)]
pub struct Run {
    pub backend: &'static str,
    kills: u32,
    clients: u16,
    window_ms: (u64, u64),
    seed: u64,
    /// How long each restart took to answer `/readyz`.
    pub ready: Vec<Duration>,
    /// Checks after the kills: changes found in part, confirmed changes missing.
    broken_after_kill: Vec<String>,
    lost: Vec<String>,
    audit_passed: u32,
    audit_runs: u32,
    audit_broken: Vec<String>,
    /// At the end.
    broken_at_end: Vec<String>,
    differences: Vec<String>,
    extra_notices: i64,
    tally: Tally,
    deliveries: Deliveries,
    bad_signatures: u64,
    events: usize,
}

impl Run {
    /// A run on `backend` with `args`.
    pub fn new(backend: &'static str, args: &Args, seed: u64) -> Self {
        Self {
            backend,
            kills: args.kills,
            clients: args.clients,
            window_ms: (args.min_up_ms, args.max_up_ms),
            seed,
            ..Self::default()
        }
    }

    /// The checks after kill number `kill`.
    pub fn after_kill(&mut self, kill: u32, broken: Vec<String>, lost: Vec<String>) {
        let tag = |v: Vec<String>| {
            v.into_iter()
                .map(move |p| format!("after kill {kill}: {p}"))
        };
        self.broken_after_kill.extend(tag(broken));
        self.lost.extend(tag(lost));
    }

    /// One `fundpass audit verify` (`kill` 0: at the end).
    pub fn audit(&mut self, kill: u32, verdict: Result<String, String>) {
        self.audit_runs += 1;
        match verdict {
            Ok(summary) => {
                self.audit_passed += 1;
                if kill == 0 {
                    self.events = events_in(&summary);
                }
            }
            Err(broken) => self
                .audit_broken
                .push(format!("after kill {kill}: {broken}")),
        }
    }

    /// The checks at the end, once the clients stopped and the outbox drained.
    pub fn finish(
        &mut self,
        snapshot: &Snapshot,
        known: &HashMap<String, Counts>,
        tally: Tally,
        inbox: &Inbox,
    ) {
        self.broken_at_end = snapshot.broken();
        self.differences = snapshot.against(known, true);
        self.extra_notices = snapshot.extra_notices();
        self.deliveries = compare(&snapshot.outbox, &inbox.deliveries());
        self.bad_signatures = inbox.bad();
        self.tally = tally;
    }

    /// Notices told twice: extra notices of one change, or keys the outbox never
    /// held.
    fn duplicates(&self) -> i64 {
        self.extra_notices + i64::try_from(self.deliveries.unknown).unwrap_or(i64::MAX)
    }

    /// Whether every check held.
    pub fn passed(&self) -> bool {
        self.broken_after_kill.is_empty()
            && self.lost.is_empty()
            && self.audit_broken.is_empty()
            && self.audit_passed == self.audit_runs
            && self.broken_at_end.is_empty()
            && self.differences.is_empty()
            && self.duplicates() == 0
            && self.deliveries.missing.is_empty()
            && self.deliveries.given_up == 0
            && self.bad_signatures == 0
            && self.tally.refused == 0
            && self.tally.violations.is_empty()
    }
}

/// `audit trail intact: N events verified` → N.
fn events_in(summary: &str) -> usize {
    summary
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap_or(0)
}

#[allow(clippy::print_stdout)]
fn show(title: &str, problems: &[String]) {
    for p in problems.iter().take(SHOWN) {
        println!("  {title}: {p}");
    }
}

/// Prints the report on stdout (progress went to stderr).
#[allow(clippy::print_stdout)]
pub fn print(run: &Run) {
    let ready = Summary::of(run.ready.clone());
    let t = &run.tally;
    let d = &run.deliveries;
    println!(
        "crash: {}, {} kills (SIGKILL {}–{} ms after ready, seed {}), {} clients — {}",
        run.backend,
        run.kills,
        run.window_ms.0,
        run.window_ms.1,
        run.seed,
        run.clients,
        if run.passed() { "PASSED" } else { "FAILED" }
    );
    println!(
        "  restarts:   {} survived, ready after p50 {:.0} ms, max {:.0} ms",
        ready.count,
        ms(ready.p50),
        ms(ready.max)
    );
    println!(
        "  operations: {} completed ({} {}, {} {}, {} {}); {} confirmed by their answer, \
         {} found done after a lost answer, {} found not done and done again, {} started \
         again after the server went away; {} unexpected answers",
        t.total(),
        t.of(Kind::Register),
        Kind::Register.name(),
        t.of(Kind::Reset),
        Kind::Reset.name(),
        t.of(Kind::Ticket),
        Kind::Ticket.name(),
        t.acknowledged,
        t.found_done,
        t.found_not_done,
        t.restarted,
        t.refused
    );
    show("unexpected", &t.first_refused);
    println!(
        "  after each restart: {} changes found in part, {} confirmed changes missing; \
         audit verify passed {}/{}",
        run.broken_after_kill.len(),
        run.lost.len(),
        run.audit_passed,
        run.audit_runs
    );
    show("in part", &run.broken_after_kill);
    show("missing", &run.lost);
    show("audit", &run.audit_broken);
    println!(
        "  at the end: {} changes found in part, {} differences between the stored changes \
         and those the clients know of, {} sessions alive after a reset or other broken \
         promises; {} audit events chained",
        run.broken_at_end.len(),
        run.differences.len(),
        t.violations.len(),
        run.events
    );
    show("in part", &run.broken_at_end);
    show("difference", &run.differences);
    show("broken promise", &t.violations);
    println!(
        "  notices:    {} notices of completed changes, {} delivered once; {} messages in all \
         (codes included), {} received; duplicates {}, missing {}, given up {}; {} re-sent \
         with the same key after a lost answer (dropped by the gateway by key); {} bad \
         signatures",
        d.notices,
        d.notices_received,
        d.messages,
        d.received,
        run.duplicates(),
        d.missing.len(),
        d.given_up,
        d.resent,
        run.bad_signatures
    );
    show("missing", &d.missing);
    println!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_count_is_read_from_the_verifier() {
        assert_eq!(events_in("audit trail intact: 1234 events verified"), 1234);
        assert_eq!(events_in("nothing"), 0);
    }

    #[test]
    fn a_run_with_a_broken_chain_or_a_lost_change_fails() {
        let mut run = Run::default();
        assert!(run.passed());
        run.audit(3, Err("row 7 edited".into()));
        assert!(!run.passed());
        let mut run = Run::default();
        run.after_kill(2, Vec::new(), vec!["member a: 0 app resets stored".into()]);
        assert!(!run.passed());
        assert!(run.lost[0].starts_with("after kill 2: "));
    }
}
