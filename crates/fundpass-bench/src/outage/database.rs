//! The database stopped and started under load: a PostgreSQL server of the run's own
//! is stopped (`pg_ctl stop -m fast`) while clients register, reset passwords and
//! redeem counter tickets, and started again after a while. Every request is written
//! down with when it was sent, how long it took and what came back, and `/readyz` is
//! asked every 50 ms; afterwards the database must hold every change a client saw
//! confirmed, each complete.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use super::Args;
use super::postgres::OwnPostgres;
use crate::crash::client::{Answer, Fail, Recorder, Sent};
use crate::crash::database::Database;
use crate::crash::rig::Rig;
use crate::crash::workload::{Kind, Tally};
use crate::harness::flood::{self, Plan, Reply};

/// The moments of the outage.
#[derive(Debug, Clone, Copy)]
pub struct Moments {
    /// `pg_ctl stop` was called, and returned (the server is down).
    pub stopping: Instant,
    pub stopped: Instant,
    /// `pg_ctl start` was called, and returned (the server accepts connections).
    pub starting: Instant,
    pub started: Instant,
}

/// One `/readyz` probe.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub at: Instant,
    pub status: Option<u16>,
    pub latency: Duration,
}

/// What the outage came to.
#[derive(Debug)]
pub struct DatabaseOutage {
    pub clients: usize,
    pub moments: Moments,
    pub start: Instant,
    pub requests: Vec<Sent>,
    pub probes: Vec<Probe>,
    pub broken: Vec<String>,
    pub differences: Vec<String>,
    pub tally: Tally,
    pub audit: Result<String, String>,
}

/// Stops and starts a server of the run's own under load.
pub async fn run(bin: &std::path::Path, args: &Args) -> anyhow::Result<DatabaseOutage> {
    let postgres = Arc::new(tokio::task::spawn_blocking(OwnPostgres::start).await??);
    let database = Database::postgres(&postgres.url("postgres"), "fundpass_outage").await?;
    let members = usize::from(args.clients) * 25 + 40;
    let mut rig = Rig::start(bin, database, members).await?;
    let outcome = under_load(&mut rig, postgres.clone(), args).await;
    let log = rig.instance.log_tail();
    let finished = rig.finish().await;
    drop(postgres);
    let outcome = outcome.map_err(|e| e.context(format!("the server's log ends:\n{log}")))?;
    finished?;
    Ok(outcome)
}

async fn under_load(
    rig: &mut Rig,
    postgres: Arc<OwnPostgres>,
    args: &Args,
) -> anyhow::Result<DatabaseOutage> {
    let recorder = Arc::new(Recorder::default());
    // A client honours Retry-After for as long as the server keeps sending it.
    let http = rig.http(u32::MAX, Some(recorder.clone()))?;
    let workload = Arc::new(rig.workload(&http, 0, &[Kind::Register])?);
    let clients = usize::from(args.clients);
    eprintln!(
        "PostgreSQL (own server): registering {} members…",
        clients * 2
    );
    super::sms::register(&workload, clients * 2).await?;
    // One counter ticket first, so that the clerks' console has a session to read.
    workload.set_kinds(&[Kind::Ticket]);
    if let Some(Err(fail)) = workload.next().await {
        anyhow::bail!("the first counter ticket failed: {fail}");
    }
    workload.set_kinds(&Kind::ALL);
    let (before, down, after) = (
        Duration::from_secs(args.db_before_seconds),
        Duration::from_secs(args.db_down_seconds),
        Duration::from_secs(args.db_after_seconds),
    );
    // One more client reads the console's home page again and again (a page, not the
    // API), as a clerk waiting at the counter would.
    let plan = Plan {
        concurrency: clients + 1,
        duration: before + down + after,
        success: StatusCode::OK,
        server_pid: rig.instance.pid().unwrap_or(0),
    };
    let attempt = {
        let workload = workload.clone();
        move |i: usize| {
            let workload = workload.clone();
            async move {
                if i == clients {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    return Some(page(workload.console_page().await));
                }
                Some(reply(workload.next().await?))
            }
        }
    };
    let probes = Arc::new(Mutex::new(Vec::new()));
    let probe = {
        let (client, probes) = (rig.plain.clone(), probes.clone());
        let url = format!("{}/readyz", rig.instance.base_url);
        move || {
            let (client, probes, url) = (client.clone(), probes.clone(), url.clone());
            async move {
                let at = Instant::now();
                let status = client
                    .get(&url)
                    .send()
                    .await
                    .ok()
                    .map(|r| r.status().as_u16());
                if let Ok(mut all) = probes.lock() {
                    all.push(Probe {
                        at,
                        status,
                        latency: at.elapsed(),
                    });
                }
                status == Some(200)
            }
        }
    };
    eprintln!(
        "PostgreSQL (own server): {} clients; the database stops after {} s for {} s…",
        args.clients,
        before.as_secs(),
        down.as_secs()
    );
    let start = Instant::now();
    let (_measured, moments) = tokio::join!(
        flood::run(&plan, attempt, probe),
        outage(postgres, before, down)
    );
    let moments = moments?;
    let snapshot = rig.snapshot().await?;
    let (known, tally) = workload.snapshot();
    let probes = probes.lock().map(|p| p.clone()).unwrap_or_default();
    Ok(DatabaseOutage {
        clients,
        moments,
        start,
        requests: recorder.all(),
        probes,
        broken: snapshot.broken(),
        differences: snapshot.against(&known, true),
        tally,
        audit: rig.instance.audit_verify()?,
    })
}

/// After `before`, stops the database for `down`, then starts it again.
async fn outage(
    postgres: Arc<OwnPostgres>,
    before: Duration,
    down: Duration,
) -> anyhow::Result<Moments> {
    tokio::time::sleep(before).await;
    let stopping = Instant::now();
    let pg = postgres.clone();
    tokio::task::spawn_blocking(move || pg.pg_ctl_stop_fast()).await??;
    let stopped = Instant::now();
    tokio::time::sleep(down).await;
    let starting = Instant::now();
    tokio::task::spawn_blocking(move || postgres.pg_ctl_start()).await??;
    Ok(Moments {
        stopping,
        stopped,
        starting,
        started: Instant::now(),
    })
}

/// An operation's outcome as the flood counts it: 200 when it completed, the status
/// of the answer that stopped it, or a transport error.
fn reply(outcome: Result<Kind, Fail>) -> anyhow::Result<Reply> {
    let (status, body) = match outcome {
        Ok(_) => (StatusCode::OK, None),
        Err(Fail::Refused {
            status,
            body,
            label,
        }) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            Some(format!("{label}: {body}")),
        ),
        Err(Fail::Down(why)) => anyhow::bail!(why),
    };
    Ok(Reply {
        status,
        retry_after: None,
        unexpected_body: body,
    })
}

/// A page read as the flood counts it: its status, or a transport error.
fn page(answer: Result<Answer, Fail>) -> anyhow::Result<Reply> {
    match answer {
        Ok(a) => Ok(Reply {
            status: a.status,
            retry_after: a.retry_after,
            unexpected_body: None,
        }),
        Err(fail) => anyhow::bail!("{fail}"),
    }
}

impl DatabaseOutage {
    /// Requests sent while the database was stopped or starting (from the stop
    /// command until the server accepted connections again).
    pub fn during(&self) -> Vec<&Sent> {
        let m = self.moments;
        self.requests
            .iter()
            .filter(|r| r.at >= m.stopping && r.at < m.started)
            .collect()
    }

    /// Requests by their answer: a status, or `no answer`.
    pub fn by_status<'a>(requests: impl Iterator<Item = &'a Sent>) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for r in requests {
            let key = r
                .status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "no answer".into());
            *counts.entry(key).or_default() += 1;
        }
        counts
    }

    /// Requests sent during the outage by what they asked for and their answer
    /// (`captcha 503`), so that the API's and the pages' answers show apart: how many,
    /// and the slowest.
    pub fn during_by_request(&self) -> BTreeMap<String, (u64, Duration)> {
        let mut counts: BTreeMap<String, (u64, Duration)> = BTreeMap::new();
        for r in self.during() {
            let status = r
                .status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "no answer".into());
            let entry = counts.entry(format!("{} {status}", r.label)).or_default();
            entry.0 += 1;
            entry.1 = entry.1.max(r.latency);
        }
        counts
    }

    /// The first `/readyz` 200 once the database accepted connections again.
    pub fn ready_again(&self) -> Option<Duration> {
        let started = self.moments.started;
        self.probes
            .iter()
            .find(|p| p.at >= started && p.status == Some(200))
            .map(|p| (p.at + p.latency).saturating_duration_since(started))
    }

    /// The first answer of a member's request (not a 503) once the database accepted
    /// connections again, counted from then: when service was back.
    pub fn served_again(&self) -> Option<Duration> {
        let started = self.moments.started;
        self.requests
            .iter()
            .filter(|r| r.at >= started)
            .filter(|r| r.status.is_some_and(|s| s < 500))
            .map(|r| (r.at + r.latency).saturating_duration_since(started))
            .min()
    }

    /// Probes during the outage (database stopped) that said ready.
    pub fn ready_while_down(&self) -> usize {
        let m = self.moments;
        self.probes
            .iter()
            .filter(|p| p.at >= m.stopped && p.at + p.latency < m.starting)
            .filter(|p| p.status == Some(200))
            .count()
    }

    /// 500s over the whole run, and answers slower than the server's request timeout.
    pub fn failures(&self) -> (usize, usize) {
        let errors = self
            .requests
            .iter()
            .filter(|r| r.status == Some(500))
            .count();
        let slow = self
            .requests
            .iter()
            .filter(|r| r.latency >= Duration::from_secs(30))
            .count();
        (errors, slow)
    }
}
