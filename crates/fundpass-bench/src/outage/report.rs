//! The outage harness's printed reports.

use std::time::Duration;

use super::database::DatabaseOutage;
use super::sms::GatewayOutage;
use crate::crash::workload::{Kind, Tally};
use crate::harness::stats::{Summary, ms};

/// Problems shown of each kind.
const SHOWN: usize = 5;
/// The slowest answer allowed while the database is down: "refused fast" (the server
/// waits two seconds for a connection, twice at most in one request) and far from
/// the 30 s request timeout.
const FAST: Duration = Duration::from_secs(8);

#[allow(clippy::print_stdout)]
fn show(title: &str, problems: &[String]) {
    for p in problems.iter().take(SHOWN) {
        println!("  {title}: {p}");
    }
}

fn verdict(passed: bool) -> &'static str {
    if passed { "PASSED" } else { "FAILED" }
}

#[allow(clippy::print_stdout)]
fn operations(t: &Tally) {
    println!(
        "  operations: {} completed ({} {}, {} {}, {} {}), {} confirmed by their answer, \
         {} found done after a lost answer; {} unexpected answers, {} broken promises",
        t.total(),
        t.of(Kind::Register),
        Kind::Register.name(),
        t.of(Kind::Reset),
        Kind::Reset.name(),
        t.of(Kind::Ticket),
        Kind::Ticket.name(),
        t.acknowledged,
        t.found_done,
        t.refused,
        t.violations.len()
    );
    show("unexpected", &t.first_refused);
    show("broken promise", &t.violations);
}

fn seconds(d: Option<Duration>) -> String {
    d.map(|d| format!("{:.1} s", d.as_secs_f64()))
        .unwrap_or_else(|| "never".to_owned())
}

/// Prints the report of a gateway outage.
#[allow(clippy::print_stdout)]
pub fn gateway(o: &GatewayOutage) {
    let d = &o.deliveries;
    println!(
        "outage: SMS gateway down {} s on {} ({} phones) — {}",
        o.down.as_secs(),
        o.backend,
        o.phones,
        verdict(o.passed())
    );
    operations(&o.tally);
    println!(
        "  while down: {} messages queued; the gateway refused {} deliveries with 503, {} \
         tries found it not listening",
        o.queued, o.refused_503, o.not_listening
    );
    println!(
        "  after:      drained {} after the gateway came back; {} notices of completed \
         changes, {} delivered once; {} messages in all, {} received; missing {}, given up \
         {}, duplicates {} ({} re-sent with the same key, dropped by the gateway by key); \
         {} bad signatures",
        seconds(o.drained_after),
        d.notices,
        d.notices_received,
        d.messages,
        d.received,
        d.missing.len(),
        d.given_up,
        o.extra_notices + i64::try_from(d.unknown).unwrap_or(i64::MAX),
        d.resent,
        o.bad_signatures
    );
    show("missing", &d.missing);
    println!(
        "  order:      {} phones received several messages; {} of them out of the order \
         the messages were written in",
        d.phones,
        d.out_of_order.len()
    );
    show("out of order", &d.out_of_order);
    println!(
        "  database:   {} changes found in part, {} differences from the changes the \
         clients know of; audit verify {}",
        o.broken.len(),
        o.differences.len(),
        match &o.audit {
            Ok(summary) => format!("passed ({summary})"),
            Err(broken) => format!("FAILED: {broken}"),
        }
    );
    show("in part", &o.broken);
    show("difference", &o.differences);
    println!();
}

/// Prints the report of a database outage; whether every check held.
#[allow(clippy::print_stdout)]
pub fn database(o: &DatabaseOutage) -> bool {
    let m = o.moments;
    let during = o.during();
    let latency = Summary::of(during.iter().map(|r| r.latency).collect());
    let refused = during.iter().filter(|r| r.status == Some(503)).count();
    let with_retry = during
        .iter()
        .filter(|r| r.status == Some(503) && r.retry_after)
        .count();
    let (errors, slow) = o.failures();
    let ready_while_down = o.ready_while_down();
    let down_probes = o
        .probes
        .iter()
        .filter(|p| p.at >= m.stopped && p.at + p.latency < m.starting)
        .count();
    let (ready_again, served_again) = (o.ready_again(), o.served_again());
    let passed = errors == 0
        && slow == 0
        && latency.max < FAST
        && refused == with_retry
        && ready_while_down == 0
        && down_probes > 0
        && ready_again.is_some_and(|d| d < Duration::from_secs(10))
        && served_again.is_some_and(|d| d < Duration::from_secs(10))
        && o.broken.is_empty()
        && o.differences.is_empty()
        && o.tally.refused == 0
        && o.tally.violations.is_empty()
        && o.audit.is_ok();
    let at = |i: std::time::Instant| i.saturating_duration_since(o.start).as_secs_f64();
    println!(
        "outage: PostgreSQL (a server of the run's own) stopped at {:.1} s (down {:.1} s \
         later), started at {:.1} s (accepting {:.1} s later), {} clients — {}",
        at(m.stopping),
        (m.stopped - m.stopping).as_secs_f64(),
        at(m.starting),
        (m.started - m.starting).as_secs_f64(),
        o.clients,
        verdict(passed)
    );
    operations(&o.tally);
    let statuses: Vec<String> = DatabaseOutage::by_status(during.iter().copied())
        .iter()
        .map(|(status, n)| format!("{n}×{status}"))
        .collect();
    println!(
        "  during:     {} requests sent from the stop until the database accepted again: \
         [{}]; {refused} × 503, {with_retry} of them with Retry-After; latency p50 {:.1} \
         ms, max {:.1} ms (limit {} s)",
        during.len(),
        statuses.join(", "),
        ms(latency.p50),
        ms(latency.max),
        FAST.as_secs()
    );
    let requests: Vec<String> = o
        .during_by_request()
        .iter()
        .map(|(request, (n, slowest))| format!("{n}×{request} (max {:.0} ms)", ms(*slowest)))
        .collect();
    println!("  by request: [{}]", requests.join(", "));
    println!(
        "  /readyz:    {down_probes} probes while the database was down, {ready_while_down} \
         of them ready; ready again {} after the database accepted connections",
        seconds(ready_again)
    );
    let overall: Vec<String> = DatabaseOutage::by_status(o.requests.iter())
        .iter()
        .map(|(status, n)| format!("{n}×{status}"))
        .collect();
    println!(
        "  recovery:   a member's request answered (not 503) {} after the database \
         accepted connections; whole run [{}]: {errors} × 500, {slow} answers slower than \
         the 30 s request timeout",
        seconds(served_again),
        overall.join(", ")
    );
    println!(
        "  database:   {} changes found in part, {} differences from the changes the \
         clients know of (every confirmed change kept); audit verify {}",
        o.broken.len(),
        o.differences.len(),
        match &o.audit {
            Ok(summary) => format!("passed ({summary})"),
            Err(broken) => format!("FAILED: {broken}"),
        }
    );
    show("in part", &o.broken);
    show("difference", &o.differences);
    println!();
    passed
}
