//! The timed window: concurrent clients logging in with pre-drawn captchas, while one
//! probe checks that `/readyz` stays fast and a sampler watches the server's memory.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::time::MissedTickBehavior;

use super::api::{Api, Captcha, Member};
use super::server::proc_status_kib;

/// Longest a client honours a `Retry-After` (the server says 1 s today).
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How often the readiness probe asks.
const PROBE_EVERY: Duration = Duration::from_millis(50);
/// How often the server's resident memory is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(200);

/// What the window is run with.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Clients logging in at once.
    pub concurrency: usize,
    /// Length of the window.
    pub duration: Duration,
    /// Members to log in as: client `i` always logs in as member `i mod len`, so no
    /// two clients log in as the same member at once unless there are more clients.
    pub members: Arc<[Member]>,
    /// The server's process id, for its memory use.
    pub server_pid: u32,
}

/// Everything measured in the window.
#[derive(Debug, Default)]
pub struct Measured {
    /// Latencies of successful logins (200) that finished inside the window.
    pub logins: Vec<Duration>,
    /// Logins refused because the Argon2 pool was full (503).
    pub busy: u64,
    /// Logins refused by a rate limit (429).
    pub limited: u64,
    /// Any other answers, by status.
    pub other: BTreeMap<u16, u64>,
    /// The body of the first other answer, to show.
    pub first_other: Option<String>,
    /// Requests that got no answer at all.
    pub transport_errors: u64,
    /// The first transport error, to show.
    pub first_error: Option<String>,
    /// From the start of the window to the last counted answer (shorter than planned
    /// only if the captchas ran out).
    pub elapsed: Duration,
    /// Whether some client stopped early for want of captchas.
    pub ran_out: bool,
    /// Latencies of successful `/readyz` probes.
    pub readyz: Vec<Duration>,
    /// Probes that failed or did not answer 200.
    pub readyz_failures: u64,
    /// Largest `VmRSS` sampled during the window, in KiB.
    pub max_rss_kib: Option<u64>,
}

/// Pre-drawn captchas shared by the clients; each is handed out once.
#[derive(Debug)]
struct Captchas {
    items: Vec<Captcha>,
    next: AtomicUsize,
}

impl Captchas {
    fn take(&self) -> Option<&Captcha> {
        self.items.get(self.next.fetch_add(1, Ordering::Relaxed))
    }
}

/// Runs the window and gathers what the clients, the probe and the sampler saw.
pub async fn run(api: &Api, probe_api: &Api, captchas: Vec<Captcha>, plan: &Plan) -> Measured {
    let captchas = Arc::new(Captchas {
        items: captchas,
        next: AtomicUsize::new(0),
    });
    let start = Instant::now();
    let deadline = start + plan.duration;
    let clients: Vec<_> = (0..plan.concurrency)
        .map(|i| {
            tokio::spawn(client(
                api.clone(),
                captchas.clone(),
                plan.members.clone(),
                i,
                deadline,
            ))
        })
        .collect();
    let probe = tokio::spawn(probe(probe_api.clone(), deadline));
    let sampler = tokio::spawn(sample_rss(plan.server_pid, deadline));
    let mut measured = Measured::default();
    let mut last = start;
    for handle in clients {
        let Ok(seen) = handle.await else {
            measured.transport_errors += 1;
            continue;
        };
        measured.logins.extend(seen.logins);
        measured.busy += seen.busy;
        measured.limited += seen.limited;
        for (status, n) in seen.other {
            *measured.other.entry(status).or_default() += n;
        }
        measured.transport_errors += seen.transport_errors;
        measured.first_error = measured.first_error.or(seen.first_error);
        measured.first_other = measured.first_other.or(seen.first_other);
        measured.ran_out |= seen.ran_out;
        last = last.max(seen.last_answer);
    }
    measured.elapsed = if measured.ran_out {
        last - start
    } else {
        plan.duration
    };
    if let Ok((latencies, failures)) = probe.await {
        measured.readyz = latencies;
        measured.readyz_failures = failures;
    }
    measured.max_rss_kib = sampler.await.ok().flatten();
    measured
}

/// What one client saw.
#[derive(Debug)]
struct ClientSeen {
    logins: Vec<Duration>,
    busy: u64,
    limited: u64,
    other: BTreeMap<u16, u64>,
    first_other: Option<String>,
    transport_errors: u64,
    first_error: Option<String>,
    ran_out: bool,
    last_answer: Instant,
}

/// Logs in as member `index mod len` again and again until the deadline, a new
/// captcha each time. Answers arriving after the deadline are not counted. A 503 or 429 is
/// answered by waiting as `Retry-After` says, as a well-behaved app would.
async fn client(
    api: Api,
    captchas: Arc<Captchas>,
    members: Arc<[Member]>,
    index: usize,
    deadline: Instant,
) -> ClientSeen {
    let mut seen = ClientSeen {
        logins: Vec::new(),
        busy: 0,
        limited: 0,
        other: BTreeMap::new(),
        first_other: None,
        transport_errors: 0,
        first_error: None,
        ran_out: false,
        last_answer: Instant::now(),
    };
    let Some(member) = members.get(index % members.len().max(1)) else {
        return seen;
    };
    while Instant::now() < deadline {
        let Some(captcha) = captchas.take() else {
            seen.ran_out = true;
            break;
        };
        let sent = Instant::now();
        let reply = api.login(member, captcha).await;
        let answered = Instant::now();
        if answered > deadline {
            break;
        }
        seen.last_answer = answered;
        let reply = match reply {
            Ok(reply) => reply,
            Err(err) => {
                seen.transport_errors += 1;
                seen.first_error.get_or_insert_with(|| format!("{err:#}"));
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        match reply.status {
            StatusCode::OK => seen.logins.push(answered - sent),
            StatusCode::SERVICE_UNAVAILABLE => seen.busy += 1,
            StatusCode::TOO_MANY_REQUESTS => seen.limited += 1,
            other => {
                *seen.other.entry(other.as_u16()).or_default() += 1;
                seen.first_other = seen.first_other.take().or(reply.unexpected_body);
            }
        }
        if let Some(wait) = reply.retry_after.filter(|_| reply.status != StatusCode::OK) {
            let until = (Instant::now() + wait.min(MAX_BACKOFF)).min(deadline);
            tokio::time::sleep_until(until.into()).await;
        }
    }
    seen
}

/// `GET /readyz` every 50 ms until the deadline: latencies of the 200s, and how many
/// probes failed.
async fn probe(api: Api, deadline: Instant) -> (Vec<Duration>, u64) {
    let mut latencies = Vec::new();
    let mut failures = 0;
    let mut tick = tokio::time::interval(PROBE_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if Instant::now() >= deadline {
            break;
        }
        let sent = Instant::now();
        match api.ready().await {
            Ok(StatusCode::OK) => latencies.push(sent.elapsed()),
            _ => failures += 1,
        }
    }
    (latencies, failures)
}

/// The largest `VmRSS` of the server seen until the deadline, in KiB.
async fn sample_rss(pid: u32, deadline: Instant) -> Option<u64> {
    let mut max = None;
    while Instant::now() < deadline {
        max = max.max(proc_status_kib(pid, "VmRSS"));
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
    max
}
