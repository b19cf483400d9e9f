//! `authorize`: floods the business systems' direct verification
//! (`POST /internal/v1/transaction-password/verify`, one Argon2 verification each)
//! and compares the rate with raw Argon2 verification measured in the same run, with
//! the same costs and the same number of threads as the server's hash pool, while a
//! probe reads members' holds (`GET /internal/v1/members/{account_no}/holds`, no
//! Argon2) to show that cheap calls stay fast when verification saturates the CPU.
//!
//! Order: a short raw Argon2 run → set up the server (members registered with their
//! own transaction passwords, the business system registered with its key) → an
//! access token for a signed assertion → one verification and one holds read to check
//! the path → timed window (verifications spread round-robin over the members, holds
//! probe, memory sampling) → stop the server → raw Argon2 for as long as the window,
//! so the two never compete.

mod api;
mod report;
mod server;
pub mod setup;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use fundpass_core::credentials::HashParams;
use reqwest::StatusCode;

use crate::argon2_rate;
use crate::harness::flood::{self, Measured, Plan};
use crate::harness::memory::{proc_status_kib, reset_own_peak};
use crate::harness::report::{Prepared, load_average};
use api::BusinessApi;
use server::{Server, Settings};

/// Options of `authorize`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Business-system clients verifying at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub concurrency: u16,
    /// Length of the timed window (the access token lives five minutes, so at most 240).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=240))]
    pub seconds: u64,
    /// Registered members the verifications are spread over (each is hashed twice
    /// before the window, as registration does).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=5000))]
    pub members: u64,
    /// Argon2 pool size and costs.
    #[command(flatten)]
    pub hash: crate::harness::pool::HashArgs,
}

/// Longest raw Argon2 run before the server starts.
const PROBE_SECONDS: u64 = 5;

/// Runs the whole benchmark and prints its report.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let (workers, queue) = (args.hash.workers(), args.hash.queue());
    let raw_args = |seconds| args.hash.raw(seconds);
    // Before the server starts: a second raw figure that shows how much the
    // machine's load moved during the run.
    let raw_before = argon2_rate::run(&raw_args(args.seconds.min(PROBE_SECONDS)))?;
    eprintln!("raw before: {raw_before}");
    // The server runs in this process: its peak starts here, not with the raw run.
    let peak_reset = reset_own_peak();
    let settings = Settings {
        hash_workers: workers,
        hash_queue: queue,
        params: HashParams {
            m_kib: args.hash.m_kib,
            t: args.hash.t,
            p: args.hash.p,
        },
        members: usize::try_from(args.members)?,
    };
    // The server's runtime has a worker per core, as `fundpass serve`'s; the clients
    // get two threads of their own, as in the login benchmark.
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("fundpass-server")
        .enable_all()
        .build()?;
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-client")
        .enable_all()
        .build()?;
    let pid = std::process::id();
    let mut rss = vec![("start", proc_status_kib(pid, "VmRSS"))];
    eprintln!(
        "setting up the server: {} members, two Argon2 hashes each…",
        settings.members
    );
    let server = server_runtime.block_on(Server::start(&settings))?;
    rss.push(("members registered", proc_status_kib(pid, "VmRSS")));
    let prepared = client_runtime.block_on(prepare_and_flood(&server, args, rss));
    let peak_kib = peak_reset.then(|| proc_status_kib(pid, "VmHWM")).flatten();
    let stopped = server_runtime.block_on(server.stop());
    drop(client_runtime);
    drop(server_runtime);
    let prepared = prepared?;
    if let Err(err) = stopped {
        eprintln!("warning: {err:#}");
    }
    eprintln!("raw Argon2 for {} s on {workers} threads…", args.seconds);
    let load_before_raw = load_average();
    let raw = argon2_rate::run(&raw_args(args.seconds))?;
    report::print(
        args,
        workers,
        queue,
        &crate::harness::report::Outcome {
            labels: report::LABELS,
            cores,
            prepared: &prepared,
            raw: &raw,
            raw_before: &raw_before,
            peak_kib,
            load: [prepared.load_at_flood, load_before_raw, load_average()],
        },
    );
    Ok(())
}

/// Gets an access token, checks that one verification and one holds read go through,
/// and runs the timed window.
async fn prepare_and_flood(
    server: &Server,
    args: &Args,
    mut rss: Vec<(&'static str, Option<u64>)>,
) -> anyhow::Result<Prepared> {
    let concurrency = usize::from(args.concurrency);
    let pid = std::process::id();
    let connect = |connections| {
        BusinessApi::connect(
            &server.base_url,
            connections,
            &server.signer,
            &server.token_endpoint,
        )
    };
    let api = connect(concurrency).await.context("getting a token")?;
    let probe_api = connect(2).await.context("getting the probe's token")?;
    let first = server.members.first().context("no members")?;
    let reply = api.verify(first, "bench-check").await?;
    if reply.status != StatusCode::CREATED {
        bail!(
            "a verification with the right password was answered {}: {}",
            reply.status,
            reply.unexpected_body.unwrap_or_default()
        );
    }
    let holds = probe_api.holds(&first.account_no).await?;
    if holds != StatusCode::OK {
        bail!("reading a member's holds was answered {holds}");
    }
    rss.push(("token issued", proc_status_kib(pid, "VmRSS")));
    eprintln!(
        "server at {}; {concurrency} clients verify for {} s over {} members…",
        server.base_url,
        args.seconds,
        server.members.len()
    );
    let plan = Plan {
        concurrency,
        duration: Duration::from_secs(args.seconds),
        success: StatusCode::CREATED,
        server_pid: pid,
    };
    let load_at_flood = load_average();
    let measured = window(&api, &probe_api, server, &plan).await;
    server.check_alive()?;
    Ok(Prepared {
        rss,
        load_at_flood,
        measured,
    })
}

/// The window: each verification goes to the next member in turn (so no member sees
/// two at once unless there are more clients than members), with a new business
/// reference; the probe reads the next member's holds.
async fn window(
    api: &BusinessApi,
    probe_api: &BusinessApi,
    server: &Server,
    plan: &Plan,
) -> Measured {
    let sent = Arc::new(AtomicU64::new(0));
    let (api, members) = (api.clone(), server.members.clone());
    let attempt = move |_client: usize| {
        let (api, members) = (api.clone(), members.clone());
        let n = sent.fetch_add(1, Ordering::Relaxed);
        async move {
            let member = nth(&members, n)?;
            Some(api.verify(member, &format!("bench-{n}")).await)
        }
    };
    let probed = Arc::new(AtomicU64::new(0));
    let (probe_api, members) = (probe_api.clone(), server.members.clone());
    let probe = move || {
        let (api, members) = (probe_api.clone(), members.clone());
        let n = probed.fetch_add(1, Ordering::Relaxed);
        async move {
            let Some(member) = nth(&members, n) else {
                return false;
            };
            matches!(api.holds(&member.account_no).await, Ok(StatusCode::OK))
        }
    };
    flood::run(plan, attempt, probe).await
}

/// Member `n mod len`: round-robin over all of them.
fn nth<T>(items: &[T], n: u64) -> Option<&T> {
    let len = u64::try_from(items.len()).ok().filter(|l| *l > 0)?;
    items.get(usize::try_from(n % len).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifications_go_round_robin_over_the_members() {
        let members = [1, 2, 3];
        let picked: Vec<_> = (0..7).filter_map(|n| nth(&members, n).copied()).collect();
        assert_eq!(picked, [1, 2, 3, 1, 2, 3, 1]);
        assert_eq!(nth::<u8>(&[], 5), None);
    }
}
