//! The SMS gateway down: a few members register while it is up, then it answers
//! every delivery 503 for the first half of the outage and stops listening for the
//! second, while those members reset their login passwords again and again (each
//! reset queues a notice to the member's phone). Then the gateway comes back and the
//! harness waits for the outbox to drain: every notice must arrive once, none lost,
//! each phone's in the order they were written.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::Args;
use crate::crash::checks::Snapshot;
use crate::crash::database::Database;
use crate::crash::delivery::{Deliveries, compare};
use crate::crash::ops::Workload;
use crate::crash::rig::Rig;
use crate::crash::workload::{Kind, Tally};

/// What one gateway outage came to.
#[derive(Debug)]
pub struct GatewayOutage {
    pub backend: &'static str,
    pub down: Duration,
    pub phones: usize,
    /// Notices written while the gateway was down.
    pub queued: usize,
    /// Deliveries the gateway refused with 503 while down.
    pub refused_503: u64,
    /// Tries that found nobody listening (from the server's log).
    pub not_listening: usize,
    /// From the gateway's return to the last message's arrival.
    pub drained_after: Option<Duration>,
    pub deliveries: Deliveries,
    pub broken: Vec<String>,
    pub differences: Vec<String>,
    pub extra_notices: i64,
    pub bad_signatures: u64,
    pub tally: Tally,
    pub audit: Result<String, String>,
}

impl GatewayOutage {
    /// Whether every check held.
    pub fn passed(&self) -> bool {
        let d = &self.deliveries;
        d.missing.is_empty()
            && d.given_up == 0
            && d.unknown == 0
            && d.out_of_order.is_empty()
            && self.extra_notices == 0
            && self.broken.is_empty()
            && self.differences.is_empty()
            && self.bad_signatures == 0
            && self.tally.refused == 0
            && self.tally.violations.is_empty()
            && self.audit.is_ok()
            && self.drained_after.is_some()
    }
}

/// Runs registrations of `count` members at once on `workload`.
pub async fn register(workload: &Arc<Workload>, count: usize) -> anyhow::Result<()> {
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let workload = workload.clone();
            tokio::spawn(async move { workload.next().await })
        })
        .collect();
    for task in tasks {
        match task.await? {
            Some(Ok(_)) => {}
            Some(Err(fail)) => anyhow::bail!("a registration failed: {fail}"),
            None => anyhow::bail!("no member left to register"),
        }
    }
    Ok(())
}

/// One outage of `args.sms_down_seconds` on `database`.
pub async fn run(
    bin: &std::path::Path,
    database: Database,
    args: &Args,
) -> anyhow::Result<GatewayOutage> {
    let backend = database.label();
    let mut rig = match Rig::start(bin, database.clone(), usize::from(args.phones)).await {
        Ok(rig) => rig,
        Err(err) => {
            let _ = database.remove().await;
            return Err(err);
        }
    };
    let outcome = outage(&mut rig, args, backend).await;
    let log = rig.instance.log_tail();
    let finished = rig.finish().await;
    let outcome = outcome.map_err(|e| e.context(format!("the server's log ends:\n{log}")))?;
    finished?;
    Ok(outcome)
}

async fn outage(
    rig: &mut Rig,
    args: &Args,
    backend: &'static str,
) -> anyhow::Result<GatewayOutage> {
    let http = rig.http(30, None)?;
    let workload = Arc::new(rig.workload(&http, 0, &[Kind::Register])?);
    let phones = usize::from(args.phones);
    eprintln!("{backend}: registering {phones} members…");
    register(&workload, phones).await?;
    let before = rig.drain(Duration::from_secs(30)).await?;
    workload.set_kinds(&[Kind::Reset]);
    let down = Duration::from_secs(args.sms_down_seconds);
    eprintln!(
        "{backend}: the gateway is down for {} s (503, then not listening) while {} members reset their passwords…",
        down.as_secs(),
        phones
    );
    let not_listening_before = rig.instance.log_lines_with("could not connect");
    rig.receiver.refuse(true);
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..args.clients.min(args.phones))
        .map(|_| {
            let (workload, stop) = (workload.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if workload.next().await.is_none() {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(down / 2).await;
    rig.receiver.close().await;
    rig.receiver.refuse(false);
    tokio::time::sleep(down - down / 2).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await?;
    }
    let up = Instant::now();
    rig.receiver.listen().await?;
    eprintln!("{backend}: the gateway is back; waiting for the outbox to drain…");
    let drained = rig.drain(down + Duration::from_secs(120)).await?;
    let arrivals = rig.receiver.inbox.deliveries();
    let drained_after = (drained.outbox.iter().all(|m| m.delivered))
        .then(|| arrivals.iter().map(|a| a.at).max())
        .flatten()
        .map(|last| last.saturating_duration_since(up));
    let (known, tally) = workload.snapshot();
    Ok(GatewayOutage {
        backend,
        down,
        phones,
        queued: queued(&before, &drained),
        refused_503: rig.receiver.inbox.refused(),
        not_listening: rig.instance.log_lines_with("could not connect") - not_listening_before,
        drained_after,
        deliveries: compare(&drained.outbox, &arrivals),
        broken: drained.broken(),
        differences: drained.against(&known, true),
        extra_notices: drained.extra_notices(),
        bad_signatures: rig.receiver.inbox.bad(),
        tally,
        audit: rig.instance.audit_verify()?,
    })
}

/// Messages written after `before` was read.
fn queued(before: &Snapshot, after: &Snapshot) -> usize {
    after.outbox.len().saturating_sub(before.outbox.len())
}
