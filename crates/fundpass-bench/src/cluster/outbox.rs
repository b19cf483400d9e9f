//! The SMS outbox shared by three workers: registration codes written through the
//! three instances in turn, counted at the gateway. First with every instance up
//! (each message must arrive exactly once), then with instance 2 killed by SIGKILL
//! halfway (each message must arrive; one the killed worker had sent without
//! recording it is sent again after its lease and arrives twice under the same
//! idempotency key, which the gateway drops).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::control::Cluster;
use super::{Report, doubles_since};
use crate::crash::api;
use crate::crash::client::{Fail, Http};
use crate::crash::delivery;
use crate::crash::members::Person;
use crate::crash::receiver::Inbox;

/// Requests in flight at once.
const CONCURRENCY: usize = 12;
/// Longest wait for the outbox to empty (a message claimed by a killed worker is
/// claimed again when its 60 s lease ends).
const DRAIN_WITHIN: Duration = Duration::from_secs(120);

/// Where the requests go: instances 1, 2, 3 in turn, skipping one that is down.
struct Spread {
    clients: Vec<Http>,
    down: Mutex<Option<usize>>,
    next: AtomicUsize,
    per_instance: [AtomicUsize; 3],
}

impl Spread {
    async fn pick(&self) -> usize {
        let down = *self.down.lock().await;
        loop {
            let n = self.next.fetch_add(1, Ordering::Relaxed) % 3;
            if Some(n) != down {
                return n;
            }
        }
    }
}

/// Writes one registration code for each of `people` through the instances (with
/// instance 2 killed once `kill_after` were written, when given). Returns how many
/// each instance wrote.
async fn write(
    cluster: &Cluster,
    people: &[Arc<Person>],
    kill_after: Option<usize>,
) -> anyhow::Result<[usize; 3]> {
    let spread = Arc::new(Spread {
        clients: (1..=3)
            .map(|n| cluster.instance(n, 5))
            .collect::<anyhow::Result<_>>()?,
        down: Mutex::new(None),
        next: AtomicUsize::new(0),
        per_instance: Default::default(),
    });
    let queue = Arc::new(Mutex::new(people.to_vec()));
    let written = Arc::new(AtomicUsize::new(0));
    let killer = async {
        let Some(after) = kill_after else {
            return Ok(());
        };
        while written.load(Ordering::Relaxed) < after {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        *spread.down.lock().await = Some(1);
        cluster.kill_instance(2)
    };
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (spread, queue, written) = (spread.clone(), queue.clone(), written.clone());
        workers.spawn(async move {
            loop {
                let Some(who) = queue.lock().await.pop() else {
                    return Ok::<(), anyhow::Error>(());
                };
                // An instance killed under the request: the code may or may not have
                // been written; it is asked for again on another instance (the gateway
                // count is checked against the outbox, not against this loop).
                for attempt in 0.. {
                    let n = spread.pick().await;
                    match api::registration_start(&spread.clients[n], &who).await {
                        Ok(_) => {
                            spread.per_instance[n].fetch_add(1, Ordering::Relaxed);
                            written.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                        Err(Fail::Down(_)) if attempt < 5 => {}
                        Err(fail) => return Err(anyhow::Error::from(fail)),
                    }
                }
            }
        });
    }
    let killed = killer.await;
    while let Some(result) = workers.join_next().await {
        result??;
    }
    killed?;
    Ok([0, 1, 2].map(|n| spread.per_instance[n].load(Ordering::Relaxed)))
}

/// Both rounds; `people` is split between them.
pub async fn exactly_once(
    cluster: &Cluster,
    inbox: &Inbox,
    people: &[Arc<Person>],
    report: &mut Report,
) -> anyhow::Result<()> {
    let (calm, killed) = people.split_at(people.len() / 2);

    let mark = inbox.mark();
    let started = Instant::now();
    let per_instance = write(cluster, calm, None).await?;
    let wrote = started.elapsed();
    let (snapshot, drained) = cluster.drain(DRAIN_WITHIN).await?;
    let found = delivery::compare(&snapshot.outbox, &inbox.deliveries());
    let doubles = doubles_since(inbox, mark);
    report.line(format!(
        "outbox, all instances up: {} codes written in {:.1} s (instances 1/2/3: {per_instance:?}), drained {:.1} s later; gateway: {} of {} outbox messages received, {} missing, {doubles} received twice",
        calm.len(),
        wrote.as_secs_f64(),
        drained.as_secs_f64(),
        found.received,
        found.messages,
        found.missing.len()
    ));
    report.check(
        found.missing.is_empty(),
        "every message of the outbox reached the gateway",
    );
    report.check(doubles == 0, "three workers never send one message twice");
    report.check(
        found.unknown == 0,
        "the gateway received nothing the outbox does not hold",
    );

    let mark = inbox.mark();
    let started = Instant::now();
    let per_instance = write(cluster, killed, Some(killed.len() / 2)).await?;
    let wrote = started.elapsed();
    cluster.start_instance(2)?;
    let (snapshot, drained) = cluster.drain(DRAIN_WITHIN).await?;
    let found = delivery::compare(&snapshot.outbox, &inbox.deliveries());
    let doubles = doubles_since(inbox, mark);
    let waiting = snapshot.waiting();
    report.line(format!(
        "outbox, instance 2 killed (SIGKILL) halfway: {} codes written in {:.1} s (instances 1/2/3: {per_instance:?}), drained {:.1} s later; gateway: {} of {} received, {} missing, {waiting} still waiting, {doubles} received twice (same idempotency key, dropped by the gateway), {} given up",
        killed.len(),
        wrote.as_secs_f64(),
        drained.as_secs_f64(),
        found.received,
        found.messages,
        found.missing.len(),
        found.given_up
    ));
    report.check(
        found.missing.is_empty() && waiting == 0,
        "every message reached the gateway although a worker was killed",
    );
    report.check(found.given_up == 0, "no message was given up");
    report.check(
        found.unknown == 0,
        "the gateway received nothing the outbox does not hold",
    );
    Ok(())
}
