//! `crash`: kills the real `fundpass serve` with SIGKILL at random moments while
//! clients register members, reset forgotten login passwords through the app and
//! have counter clerks issue reset tickets that members redeem on the PIN pad, and
//! checks after every restart that no change was left half made, that every change a
//! client saw confirmed is stored, and that the audit chain verifies; at the end, that
//! the database holds exactly the changes the clients know of and that the gateway
//! received every notice once.
//!
//! For each backend (SQLite always; PostgreSQL too when `--database-url` is given,
//! in a database created for the run and dropped after it): a new installation with
//! its members imported and counter clerks created, a local SMS gateway the server
//! delivers to through its signed webhook, then the kills.
//!
//! The parts the outage harness uses too live here: the installation and the server
//! process (`rig`, `server`, `database`), the gateway (`receiver`), the clients and
//! the workload (`client`, `api`, `console`, `ops`, `workload`) and the checks
//! (`checks`, `delivery`).

pub mod api;
pub mod checks;
pub mod client;
pub mod console;
pub mod database;
pub mod delivery;
pub mod members;
pub mod ops;
pub mod receiver;
mod report;
pub mod rig;
pub mod rng;
pub mod server;
pub mod workload;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use database::Database;
use ops::Workload;
use report::Run;
use rig::Rig;
use rng::Rng;
use workload::Kind;

/// Options of `crash`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// SIGKILLs per backend.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub kills: u32,
    /// Clients running operations at once.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub clients: u16,
    /// Shortest time the server runs before a kill, in milliseconds after it is ready.
    #[arg(long, default_value_t = 200)]
    pub min_up_ms: u64,
    /// Longest time the server runs before a kill, in milliseconds after it is ready.
    #[arg(long, default_value_t = 2500)]
    pub max_up_ms: u64,
    /// Seed of the kill moments (default: random, printed with the report).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Also run on PostgreSQL: a server URL allowed to create databases (e.g.
    /// postgres://postgres@127.0.0.1:5432/postgres); the run creates a database of
    /// its own next to the one named and drops it at the end.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Skip the SQLite run (with --database-url: PostgreSQL only).
    #[arg(long)]
    pub skip_sqlite: bool,
    /// The fundpass binary (default: next to this benchmark, or under
    /// $CARGO_TARGET_DIR/release).
    #[arg(long)]
    pub bin: Option<PathBuf>,
}

/// Longest wait for the outbox to drain at the end (a message claimed by a killed
/// server is claimed again when its 60 s lease ends).
const DRAIN_WITHIN: Duration = Duration::from_secs(100);

/// Runs on each backend and prints a report for each; fails if any check failed.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let bin = crate::login::locate(args.bin.clone())?;
    let runtime = crate::harness::process::runtime()?;
    runtime.block_on(async {
        let mut failed = Vec::new();
        let mut backends = Vec::new();
        if !args.skip_sqlite {
            backends.push(Database::Sqlite);
        }
        if let Some(url) = &args.database_url {
            backends.push(Database::postgres(url, "fundpass_crash").await?);
        }
        for database in backends {
            let label = database.label();
            let run = on(&bin, database, args).await?;
            report::print(&run);
            if !run.passed() {
                failed.push(label);
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            anyhow::bail!("crash safety checks failed on {}", failed.join(", "))
        }
    })
}

/// One backend: set up, kill, check, clean up (the database is dropped whatever
/// happened).
async fn on(bin: &std::path::Path, database: Database, args: &Args) -> anyhow::Result<Run> {
    let members = usize::try_from(args.kills)? * 12 + 60;
    eprintln!("{}: importing {members} members…", database.label());
    let mut rig = match Rig::start(bin, database.clone(), members).await {
        Ok(rig) => rig,
        Err(err) => {
            let _ = database.remove().await;
            return Err(err);
        }
    };
    let run = kill_and_check(&mut rig, args).await;
    let log = rig.instance.log_tail();
    let finished = rig.finish().await;
    let run = run.map_err(|e| e.context(format!("the server's log ends:\n{log}")))?;
    finished?;
    Ok(run)
}

async fn kill_and_check(rig: &mut Rig, args: &Args) -> anyhow::Result<Run> {
    let mut rng = Rng::seeded(args.seed);
    let mut run = Run::new(rig.database.label(), args, rng.seed());
    let http = rig.http(30, None)?;
    let workload = Arc::new(rig.workload(&http, 0, &Kind::ALL)?);
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..args.clients)
        .map(|_| tokio::spawn(keep_running(workload.clone(), stop.clone())))
        .collect();
    let (low, high) = (args.min_up_ms, args.max_up_ms.max(args.min_up_ms));
    for kill in 1..=args.kills {
        tokio::time::sleep(Duration::from_millis(rng.between(low, high))).await;
        rig.instance.kill()?;
        // Everything a client saw confirmed by now came from the server just killed.
        let (confirmed, _) = workload.snapshot();
        rig.instance.start()?;
        run.ready.push(rig.instance.wait_ready(&rig.plain).await?);
        let snapshot = rig.snapshot().await?;
        run.after_kill(kill, snapshot.broken(), snapshot.against(&confirmed, false));
        run.audit(kill, rig.instance.audit_verify()?);
        if kill % 10 == 0 {
            let (_, tally) = workload.snapshot();
            eprintln!(
                "{}: {kill} kills, {} operations",
                run.backend,
                tally.total()
            );
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await?;
    }
    eprintln!("{}: waiting for the outbox to drain…", run.backend);
    let snapshot = rig.drain(DRAIN_WITHIN).await?;
    let (known, tally) = workload.snapshot();
    run.finish(&snapshot, &known, tally, &rig.receiver.inbox);
    run.audit(0, rig.instance.audit_verify()?);
    Ok(run)
}

/// Runs operations until told to stop (idling while every pool is empty).
pub async fn keep_running(workload: Arc<Workload>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        if workload.next().await.is_none() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
