//! The timed window: concurrent clients sending the benchmark's request again and
//! again, while one probe checks that a cheap request stays fast and a sampler
//! watches the server's memory. What a request is, and what the probe asks, is the
//! benchmark's: the window only counts answers and times them.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use tokio::time::MissedTickBehavior;

use super::memory::proc_status_kib;

/// Longest a client honours a `Retry-After` (the server says 1 s today).
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How often the probe asks.
const PROBE_EVERY: Duration = Duration::from_millis(50);
/// How often the server's resident memory is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(200);
/// Characters kept of an unexpected answer's body.
const BODY_SHOWN: usize = 300;

/// What one request got back.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// `Retry-After` in seconds, when the server sent one.
    pub retry_after: Option<Duration>,
    /// The start of the body of an unexpected answer, to show.
    pub unexpected_body: Option<String>,
}

impl Reply {
    /// Reads `response` whole, so that the connection goes back to the pool, keeping
    /// the start of the body only when the status is none of `expected`.
    pub async fn read(response: reqwest::Response, expected: &[StatusCode]) -> Self {
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
            .map(Duration::from_secs);
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        let unexpected_body = (!expected.contains(&status)).then(|| {
            String::from_utf8_lossy(&body)
                .chars()
                .take(BODY_SHOWN)
                .collect()
        });
        Self {
            status,
            retry_after,
            unexpected_body,
        }
    }
}

/// What the window is run with.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Clients sending at once.
    pub concurrency: usize,
    /// Length of the window.
    pub duration: Duration,
    /// The answer that counts as done (200 for a login, 201 for a verification).
    pub success: StatusCode,
    /// The process whose memory is sampled.
    pub server_pid: u32,
}

/// Everything measured in the window.
#[derive(Debug, Default)]
pub struct Measured {
    /// Latencies of successful requests that finished inside the window.
    pub ok: Vec<Duration>,
    /// Requests refused because the Argon2 pool was full (503).
    pub busy: u64,
    /// Requests refused by a rate limit (429).
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
    /// only if some client ran out of things to send).
    pub elapsed: Duration,
    /// Whether some client stopped early for want of something to send (captchas).
    pub ran_out: bool,
    /// Latencies of the probes answered as expected.
    pub probe: Vec<Duration>,
    /// Probes that failed or were not answered as expected.
    pub probe_failures: u64,
    /// Largest `VmRSS` sampled during the window, in KiB.
    pub max_rss_kib: Option<u64>,
}

/// Runs the window: `plan.concurrency` clients each call `attempt(client index)` in a
/// loop (`None`: nothing left to send), `probe()` runs every 50 ms (`true`: answered
/// as expected), and the server's memory is sampled. Gathers what they all saw.
pub async fn run<A, AF, P, PF>(plan: &Plan, attempt: A, probe: P) -> Measured
where
    A: Fn(usize) -> AF + Send + Sync + 'static,
    AF: Future<Output = Option<anyhow::Result<Reply>>> + Send + 'static,
    P: Fn() -> PF + Send + 'static,
    PF: Future<Output = bool> + Send + 'static,
{
    let attempt = Arc::new(attempt);
    let start = Instant::now();
    let deadline = start + plan.duration;
    let clients: Vec<_> = (0..plan.concurrency)
        .map(|i| tokio::spawn(client(attempt.clone(), i, plan.success, deadline)))
        .collect();
    let prober = tokio::spawn(run_probe(probe, deadline));
    let sampler = tokio::spawn(sample_rss(plan.server_pid, deadline));
    let mut measured = Measured::default();
    let mut last = start;
    for handle in clients {
        let Ok(seen) = handle.await else {
            measured.transport_errors += 1;
            continue;
        };
        measured.ok.extend(seen.ok);
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
    if let Ok((latencies, failures)) = prober.await {
        measured.probe = latencies;
        measured.probe_failures = failures;
    }
    measured.max_rss_kib = sampler.await.ok().flatten();
    measured
}

/// What one client saw.
#[derive(Debug)]
struct ClientSeen {
    ok: Vec<Duration>,
    busy: u64,
    limited: u64,
    other: BTreeMap<u16, u64>,
    first_other: Option<String>,
    transport_errors: u64,
    first_error: Option<String>,
    ran_out: bool,
    last_answer: Instant,
}

/// Sends `attempt(index)` again and again until the deadline. Answers arriving after
/// the deadline are not counted. A 503 or 429 is answered by waiting as `Retry-After`
/// says, as a well-behaved client would.
async fn client<A, AF>(
    attempt: Arc<A>,
    index: usize,
    success: StatusCode,
    deadline: Instant,
) -> ClientSeen
where
    A: Fn(usize) -> AF + Send + Sync,
    AF: Future<Output = Option<anyhow::Result<Reply>>> + Send,
{
    let mut seen = ClientSeen {
        ok: Vec::new(),
        busy: 0,
        limited: 0,
        other: BTreeMap::new(),
        first_other: None,
        transport_errors: 0,
        first_error: None,
        ran_out: false,
        last_answer: Instant::now(),
    };
    while Instant::now() < deadline {
        let sent = Instant::now();
        let Some(reply) = (*attempt)(index).await else {
            seen.ran_out = true;
            break;
        };
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
            status if status == success => seen.ok.push(answered - sent),
            StatusCode::SERVICE_UNAVAILABLE => seen.busy += 1,
            StatusCode::TOO_MANY_REQUESTS => seen.limited += 1,
            other => {
                *seen.other.entry(other.as_u16()).or_default() += 1;
                seen.first_other = seen.first_other.take().or(reply.unexpected_body);
            }
        }
        if let Some(wait) = reply.retry_after.filter(|_| reply.status != success) {
            let until = (Instant::now() + wait.min(MAX_BACKOFF)).min(deadline);
            tokio::time::sleep_until(until.into()).await;
        }
    }
    seen
}

/// `probe()` every 50 ms until the deadline: latencies of the answers as expected,
/// and how many were not.
async fn run_probe<P, PF>(probe: P, deadline: Instant) -> (Vec<Duration>, u64)
where
    P: Fn() -> PF,
    PF: Future<Output = bool>,
{
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
        if probe().await {
            latencies.push(sent.elapsed());
        } else {
            failures += 1;
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
