//! fundpass benchmarks, run in release mode:
//! `cargo run --release -p fundpass-bench -- argon2 --threads 2 --seconds 10` and
//! `cargo run --release -p fundpass-bench -- login --concurrency 16 --seconds 20`
//! (after `cargo build --release -p fundpass`) and
//! `cargo run --release -p fundpass-bench -- authorize --concurrency 16 --seconds 20` and
//! `cargo run --release -p fundpass-bench -- record --database-url postgres://…` and
//! `cargo run --release -p fundpass-bench -- identify`, and the fault harnesses
//! `cargo run --release -p fundpass-bench -- crash --kills 50 --database-url postgres://…`
//! and `cargo run --release -p fundpass-bench -- outage --sms-down-seconds 600`
//! (docs/faults.md), and `cargo run --release -p fundpass-bench -- cluster` (as root:
//! deploy/cluster).

mod argon2_rate;
mod authorize;
mod cluster;
mod crash;
mod harness;
mod identify;
mod login;
mod lookup;
mod outage;
mod record;
mod writes;

use clap::{Parser, Subcommand};

/// The `fundpass` binary's allocator. The authorize benchmark's server runs in this
/// process, and every benchmark holds the server against raw Argon2 measured here:
/// both should allocate (and give back) Argon2's 19 MiB blocks as the real server
/// does, or the memory and the rates compare unlike things.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Benchmarks whose numbers go into the project's notes.
#[derive(Debug, Parser)]
#[command(name = "fundpass-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Raw Argon2id verifications per second with fundpass's hasher (pepper included).
    Argon2(argon2_rate::Args),
    /// Logins/s of a real server over HTTP against the raw Argon2 rate, `/readyz`
    /// latency during the flood, and the server's peak memory.
    Login(login::Args),
    /// Direct transaction-password verifications/s of the business systems' API
    /// (`POST /internal/v1/transaction-password/verify`) against the raw Argon2 rate,
    /// and the latency of a member's holds read during the flood.
    Authorize(authorize::Args),
    /// Latency of a member's security record page read, newest page to the oldest, for
    /// a member with a long audit history, on SQLite (and PostgreSQL when given).
    Record(record::Args),
    /// Crash safety: SIGKILLs the real server at random moments under resets,
    /// registrations and counter tickets; checks every change complete or absent, every
    /// confirmed change kept, every notice delivered once, the audit chain intact.
    Crash(crash::Args),
    /// The cluster of deploy/cluster (three instances, HAProxy, a Patroni pair, Redis):
    /// global limits, the outbox with an instance killed, the PostgreSQL leader killed
    /// under load.
    Cluster(cluster::Args),
    /// Outages: the SMS gateway down while notices queue, and the database stopped and
    /// started under load.
    Outage(outage::Args),
    /// Whether the anonymous identify steps (registration, forgotten login password,
    /// face login start) take as long for nobody's details as for a member's.
    Identify(identify::Args),
    /// Database rows written per login on PostgreSQL, with captchas and rate limits in
    /// the database and in Redis.
    Writes(writes::Args),
    /// Member lookups (by document, account, phone) on a database filled by
    /// `fundpass import`: p50, p99, p99.9.
    Lookup(lookup::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Argon2(args) => {
            let report = argon2_rate::run(&args)?;
            #[allow(clippy::print_stdout)]
            {
                println!("{report}");
            }
        }
        Command::Login(args) => login::run(&args)?,
        Command::Authorize(args) => authorize::run(&args)?,
        Command::Record(args) => record::run(&args)?,
        Command::Crash(args) => crash::run(&args)?,
        Command::Outage(args) => outage::run(&args)?,
        Command::Cluster(args) => cluster::run(&args)?,
        Command::Identify(args) => identify::run(&args)?,
        Command::Writes(args) => writes::run(&args)?,
        Command::Lookup(args) => lookup::run(&args)?,
    }
    Ok(())
}
