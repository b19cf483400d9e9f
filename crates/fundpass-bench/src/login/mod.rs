//! `login`: floods a real `fundpass serve` with logins over HTTP and compares the rate
//! with raw Argon2 verification measured in the same run, with the same costs and
//! the same number of threads as the server's hash pool.
//!
//! Order: start the server → register the demo members → draw every captcha the
//! window will need → timed window (logins, `/readyz` probe, memory sampling) → stop
//! the server → raw Argon2 for as long as the window, so the two never compete. A
//! shorter raw run before the server starts sizes the captcha pool and shows how far
//! other load on the machine moved the raw rate during the run.

mod api;
mod report;
mod scrape;
mod server;
mod window;

/// The fault harnesses start the same binary.
pub(crate) use server::locate;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use reqwest::StatusCode;

use crate::argon2_rate;
use crate::harness::memory::proc_status_kib;
use crate::harness::report::{Prepared, load_average};
use api::{Api, Captcha, DEMO_MEMBERS};
use server::{Server, Settings};

/// Options of `login`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Clients logging in at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub concurrency: u16,
    /// Length of the timed window (captchas live five minutes, so at most 240).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=240))]
    pub seconds: u64,
    /// The fundpass binary (default: next to this benchmark, or target/release).
    #[arg(long)]
    pub bin: Option<PathBuf>,
    /// Captchas to draw before the window (0 = estimate from the raw rate before).
    #[arg(long, default_value_t = 0)]
    pub captchas: usize,
    /// Argon2 pool size and costs.
    #[command(flatten)]
    pub hash: crate::harness::pool::HashArgs,
}

/// Most captchas ever drawn for one run.
const MAX_CAPTCHAS: usize = 200_000;
/// Longest raw Argon2 run before the server starts.
const PROBE_SECONDS: u64 = 5;
/// Clients drawing captchas at once before the window.
const CAPTCHA_DRAWERS: usize = 4;

/// Runs the whole benchmark and prints its report.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let bin = server::locate(args.bin.clone())?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let (workers, queue) = (args.hash.workers(), args.hash.queue());
    let raw_args = |seconds| args.hash.raw(seconds);
    // Before the server starts: a rate to size the captcha pool with, and a second
    // raw figure that shows how much the machine's load moved during the run.
    let raw_before = argon2_rate::run(&raw_args(args.seconds.min(PROBE_SECONDS)))?;
    eprintln!("raw before: {raw_before}");
    let captchas = if args.captchas > 0 {
        args.captchas
    } else {
        captchas_needed(
            raw_before.rate(),
            args.seconds,
            usize::from(args.concurrency),
        )
    };
    let settings = Settings {
        hash_workers: workers,
        hash_queue: queue,
        m_kib: args.hash.m_kib,
        t: args.hash.t,
        p: args.hash.p,
    };
    eprintln!("starting {}", bin.display());
    let mut server = Server::start(&bin, &settings)?;
    let runtime = crate::harness::process::runtime()?;
    let prepared = runtime.block_on(prepare_and_flood(&mut server, args, captchas));
    let peak_kib = server.peak_rss_kib();
    let log_tail = server.log_tail();
    let stopped = server.stop();
    drop(server);
    drop(runtime);
    let prepared = prepared.with_context(|| format!("the server's log ends:\n{log_tail}"))?;
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

/// Captchas for `seconds` at 1.5 × the raw Argon2 rate, plus one a second per client
/// for refusals (a refused login uses its captcha up too).
fn captchas_needed(raw_rate: f64, seconds: u64, concurrency: usize) -> usize {
    let logins = (raw_rate.max(1.0) * seconds as f64 * 1.5).ceil() as usize;
    (logins + concurrency * (seconds as usize + 2)).min(MAX_CAPTCHAS)
}

/// Waits for the server, registers the demo members, checks each can log in, draws
/// the captchas and runs the timed window.
async fn prepare_and_flood(
    server: &mut Server,
    args: &Args,
    captchas: usize,
) -> anyhow::Result<Prepared> {
    let concurrency = usize::from(args.concurrency);
    let pid = server.pid();
    let mut rss = Vec::new();
    let api = Api::new(&server.base_url, concurrency + CAPTCHA_DRAWERS)?;
    let probe_api = Api::new(&server.base_url, 2)?;
    wait_ready(server, &api).await?;
    rss.push(("ready", proc_status_kib(pid, "VmRSS")));
    eprintln!(
        "server ready at {}; registering {} demo members…",
        server.base_url,
        DEMO_MEMBERS.len()
    );
    for member in &DEMO_MEMBERS {
        api.register(member)
            .await
            .with_context(|| format!("registering {}", member.id_number))?;
        let reply = api.login(member, &api.captcha().await?).await?;
        if reply.status != StatusCode::OK {
            bail!(
                "{} cannot log in after registering: {}",
                member.id_number,
                reply.status
            );
        }
    }
    rss.push(("members registered", proc_status_kib(pid, "VmRSS")));
    eprintln!("drawing {captchas} captchas…");
    let drawn = Instant::now();
    let pool = draw_captchas(&api, captchas).await?;
    let draw_time = drawn.elapsed();
    rss.push(("captchas drawn", proc_status_kib(pid, "VmRSS")));
    if draw_time + Duration::from_secs(args.seconds) > Duration::from_secs(280) {
        eprintln!(
            "warning: drawing took {:.0} s; the last captchas may expire",
            draw_time.as_secs_f64()
        );
    }
    eprintln!(
        "{} captchas in {:.1} s; {} clients log in for {} s…",
        pool.len(),
        draw_time.as_secs_f64(),
        concurrency,
        args.seconds
    );
    let plan = window::plan(concurrency, Duration::from_secs(args.seconds), pid);
    let load_at_flood = load_average();
    let stop = Arc::new(AtomicBool::new(false));
    let scraper = tokio::spawn(scrape::follow(server.metrics_url.clone(), stop.clone()));
    let measured = window::run(&api, &probe_api, pool, &plan).await;
    stop.store(true, Ordering::Relaxed);
    if let Ok(seen) = scraper.await {
        eprint!("{}", seen.summary());
    }
    server.check_alive()?;
    Ok(Prepared {
        rss,
        load_at_flood,
        measured,
    })
}

/// Polls `/readyz` for up to a minute (the server migrates and imports the demo
/// members first), failing early if the server exits.
async fn wait_ready(server: &mut Server, api: &Api) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        server.check_alive()?;
        if matches!(api.ready().await, Ok(StatusCode::OK)) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "the server was not ready within 60 s; its log ends:\n{}",
                server.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `count` solved captchas, drawn by a few clients at once.
async fn draw_captchas(api: &Api, count: usize) -> anyhow::Result<Vec<Captcha>> {
    let tasks: Vec<_> = (0..CAPTCHA_DRAWERS)
        .map(|i| {
            let share = count / CAPTCHA_DRAWERS + usize::from(i < count % CAPTCHA_DRAWERS);
            let api = api.clone();
            tokio::spawn(async move {
                let mut drawn = Vec::with_capacity(share);
                for _ in 0..share {
                    drawn.push(api.captcha().await?);
                }
                anyhow::Ok(drawn)
            })
        })
        .collect();
    let mut all = Vec::with_capacity(count);
    for task in tasks {
        all.extend(task.await.context("a captcha drawer failed")??);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captchas_cover_half_again_the_raw_rate_and_the_refusals() {
        assert_eq!(captchas_needed(100.0, 20, 16), 3000 + 16 * 22);
        assert_eq!(captchas_needed(0.0, 10, 1), 15 + 12);
        assert_eq!(captchas_needed(1e9, 240, 1000), MAX_CAPTCHAS);
    }
}
