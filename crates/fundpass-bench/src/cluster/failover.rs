//! The PostgreSQL leader killed under load: clients register members and reset
//! their passwords through HAProxy while the leader node (its Patroni and its
//! PostgreSQL) is killed with SIGKILL; Patroni promotes the synchronous standby and
//! HAProxy sends fundpass there. Every request is written down; afterwards the
//! database must hold every change a client saw confirmed, the audit chain must
//! verify, and every notice must reach the gateway once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::control::Cluster;
use super::{Report, doubles_since};
use crate::crash::api;
use crate::crash::client::{Http, Recorder};
use crate::crash::console::Console;
use crate::crash::delivery;
use crate::crash::keep_running;
use crate::crash::members::Person;
use crate::crash::ops::Workload;
use crate::crash::receiver::Inbox;
use crate::crash::rig::REQUEST_TIMEOUT;
use crate::crash::workload::{Kind, Member, State};

/// Clients running operations at once.
const CLIENTS: usize = 6;
/// Load before the kill.
const BEFORE: Duration = Duration::from_secs(5);
/// Load after the new leader is named.
const AFTER: Duration = Duration::from_secs(6);
/// Longest wait for writes to work again.
const RECOVER_WITHIN: Duration = Duration::from_secs(60);

/// Runs the load, kills the leader, checks.
pub async fn leader_killed(
    cluster: &Cluster,
    inbox: Arc<Inbox>,
    people: &[Arc<Person>],
    stranger: &Arc<Person>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mark = inbox.mark();
    let recorder = Arc::new(Recorder::default());
    let proxy = cluster.proxy_url()?;
    let http = Http::new(&proxy, REQUEST_TIMEOUT, 30, Some(recorder.clone()))?;
    let console = Console::new(http.fresh(None)?, Vec::new());
    let state = State::new(
        people.iter().rev().cloned().collect(),
        Vec::<Member>::new(),
        &[Kind::Register, Kind::Reset],
    );
    let workload = Arc::new(Workload::new(http, inbox.clone(), console, state, &proxy)?);
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| tokio::spawn(keep_running(workload.clone(), stop.clone())))
        .collect();

    let probe = tokio::spawn(probe_writes(
        Http::new(&proxy, REQUEST_TIMEOUT, 1, None)?,
        stranger.clone(),
        stop.clone(),
    ));

    let start = Instant::now();
    tokio::time::sleep(BEFORE).await;
    let before = cluster.ctl(&["leader"])?;
    let standby = cluster.ctl(&["sync-standby"])?;
    let killed_at = Instant::now();
    let killed = cluster.ctl(&["kill-leader"])?;
    // Until Patroni names another leader (no leader at all for a while first), then
    // more load.
    let mut after = String::new();
    while (after.is_empty() || after == before) && killed_at.elapsed() < RECOVER_WITHIN {
        tokio::time::sleep(Duration::from_millis(200)).await;
        after = cluster.ctl(&["leader"]).unwrap_or_default();
    }
    let promoted = killed_at.elapsed();
    tokio::time::sleep(AFTER).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await?;
    }
    let probes = probe.await?;
    let requests = recorder.all();
    let outage = Outage::of(&probes, killed_at);

    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let mut slowest = Duration::ZERO;
    for sent in &requests {
        let key = sent
            .status
            .map_or_else(|| "no answer".to_owned(), |s| s.to_string());
        *statuses.entry(key).or_default() += 1;
        slowest = slowest.max(sent.latency);
    }
    let unanswered = statuses.get("no answer").copied().unwrap_or(0);
    let server_errors: usize = requests
        .iter()
        .filter(|s| s.status.is_some_and(|c| c >= 500 && c != 503))
        .count();
    let busy_without_wait = requests
        .iter()
        .filter(|s| s.status == Some(503) && !s.retry_after)
        .count();

    let (confirmed, tally) = workload.snapshot();
    let (snapshot, drained) = cluster.drain(Duration::from_secs(90)).await?;
    let broken = snapshot.broken();
    let lost = snapshot.against(&confirmed, false);
    let found = delivery::compare(&snapshot.outbox, &inbox.deliveries());
    let doubles = doubles_since(&inbox, mark);
    let audit = cluster.audit_verify()?;

    report.line(format!(
        "failover: leader {before} (synchronous standby {standby}) killed (SIGKILL: Patroni, the postmaster and its processes) {:.1} s into the load; Patroni named {after} leader {:.1} s later",
        (killed_at - start).as_secs_f64(),
        promoted.as_secs_f64()
    ));
    report.line(format!(
        "failover: a write probe every {} ms through HAProxy ({} probes): {}",
        PROBE_EVERY.as_millis(),
        probes.len(),
        outage.describe()
    ));
    report.line(format!(
        "failover: {} requests, statuses {statuses:?}, slowest {:.1} s; {} registrations and {} resets confirmed ({} answers lost and settled by asking)",
        requests.len(),
        slowest.as_secs_f64(),
        tally.of(Kind::Register),
        tally.of(Kind::Reset),
        tally.found_done + tally.found_not_done
    ));
    report.line(format!(
        "failover: confirmed changes missing from the database: {}; changes found in part: {}; outbox drained {:.1} s later, {} of {} messages received, {} missing, {} received twice; audit chain: {}",
        lost.len(),
        broken.len(),
        drained.as_secs_f64(),
        found.received,
        found.messages,
        found.missing.len(),
        doubles,
        audit.as_ref().map_or_else(|e| format!("BROKEN: {e}"), Clone::clone)
    ));
    for problem in lost.iter().chain(&broken).chain(&tally.violations).take(10) {
        report.line(format!("  {problem}"));
    }
    report.check(killed == before, "the killed node was the leader");
    report.check(
        !standby.is_empty() && standby != before,
        "the standby was synchronous (streaming) when the leader was killed",
    );
    report.check(after == standby, "Patroni promoted the synchronous standby");
    report.check(
        outage.recovered.is_some(),
        "writes work again after the leader is lost",
    );
    report.check(lost.is_empty(), "no acknowledged change was lost");
    report.check(broken.is_empty(), "no change was left half made");
    report.check(
        tally.violations.is_empty(),
        "no member saw a broken promise",
    );
    report.check(
        unanswered == 0,
        "every request was answered within its timeout",
    );
    report.check(
        server_errors == 0,
        "no request was answered with a server error (503 only)",
    );
    report.check(busy_without_wait == 0, "every 503 carried Retry-After");
    report.check(audit.is_ok(), "the audit chain verifies");
    report.check(
        found.missing.is_empty() && doubles == 0,
        "every notice reached the gateway once",
    );
    Ok(())
}

/// One write probe: sent, answered, and whether it was written.
#[derive(Debug, Clone, Copy)]
struct Probe {
    sent: Instant,
    answered: Instant,
    written: bool,
}

/// How often the probe writes.
const PROBE_EVERY: Duration = Duration::from_millis(200);

/// Starts a forgotten-login-password flow for `who` (someone no member is: the
/// flow row and its audit event are written all the same, and no text is sent)
/// every [`PROBE_EVERY`] until told to stop.
async fn probe_writes(http: Http, who: Arc<Person>, stop: Arc<AtomicBool>) -> Vec<Probe> {
    let mut probes = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let sent = Instant::now();
        let body = serde_json::json!({
            "name": who.name, "id_type": "resident_id", "id_number": who.id_number,
        });
        let answer = api::with_captcha(&http, "reset start", "/api/v1/recovery/login", body).await;
        probes.push(Probe {
            sent,
            answered: Instant::now(),
            written: answer.is_ok_and(|a| a.status.as_u16() == 201),
        });
        tokio::time::sleep(PROBE_EVERY.saturating_sub(sent.elapsed())).await;
    }
    probes
}

/// The writes refused around the kill.
#[derive(Debug)]
struct Outage {
    /// Probes answered after the kill that failed.
    failed: usize,
    /// The last failed probe's answer, and the first success sent after it, from
    /// the kill.
    last_failure: Option<Duration>,
    recovered: Option<Duration>,
}

impl Outage {
    fn of(probes: &[Probe], killed_at: Instant) -> Self {
        let after: Vec<&Probe> = probes.iter().filter(|p| p.answered > killed_at).collect();
        let failed = after.iter().filter(|p| !p.written).count();
        let last_failure = after
            .iter()
            .filter(|p| !p.written)
            .map(|p| p.answered)
            .max();
        let recovered = after
            .iter()
            .filter(|p| p.written && last_failure.is_none_or(|f| p.sent >= f))
            .map(|p| p.answered)
            .min();
        Self {
            failed,
            last_failure: last_failure.map(|at| at - killed_at),
            recovered: recovered.map(|at| at - killed_at),
        }
    }

    fn describe(&self) -> String {
        let secs = |d: Option<Duration>| {
            d.map_or_else(
                || "never".to_owned(),
                |d| format!("{:.1} s", d.as_secs_f64()),
            )
        };
        format!(
            "{} refused after the kill, the last answered {} after it; writes succeed again {} after the kill",
            self.failed,
            secs(self.last_failure),
            secs(self.recovered)
        )
    }
}
