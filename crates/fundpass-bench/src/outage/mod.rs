//! `outage`: the real `fundpass serve` through two outages of what it depends on.
//!
//! - The SMS gateway down (`sms`): on SQLite, and on PostgreSQL too when
//!   `--database-url` is given, the gateway refuses every delivery and then stops
//!   listening while notices queue; once it is back every notice must arrive once, in
//!   order per phone, none lost.
//! - The database down (`database`): a PostgreSQL server of the run's own (never the
//!   machine's shared one) is stopped and started under load; requests must be
//!   refused fast with 503 and `Retry-After`, never 500 and never left hanging,
//!   `/readyz` must say not ready, service must return within seconds of the
//!   database, and no confirmed change may be lost.
//!
//! The installation, clients, workload and checks are the crash harness's.

mod database;
mod postgres;
mod report;
mod sms;

use std::path::PathBuf;

use crate::crash::database::Database;

/// Options of `outage`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// How long the SMS gateway is down (the first half answering 503, the second
    /// not listening).
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(2..=3600))]
    pub sms_down_seconds: u64,
    /// Members (each with a phone of their own) resetting their passwords while the
    /// gateway is down.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub phones: u16,
    /// How long the database is stopped.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub db_down_seconds: u64,
    /// Load before the database stops, in seconds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub db_before_seconds: u64,
    /// Load after the database is back, in seconds.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub db_after_seconds: u64,
    /// Clients running operations at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub clients: u16,
    /// Also run the gateway outage on PostgreSQL: a server URL allowed to create
    /// databases (e.g. postgres://postgres@127.0.0.1:5432/postgres).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Skip the gateway outage on SQLite.
    #[arg(long)]
    pub skip_sqlite: bool,
    /// Skip the gateway outage altogether.
    #[arg(long)]
    pub skip_sms: bool,
    /// Skip the database outage.
    #[arg(long)]
    pub skip_database: bool,
    /// The fundpass binary (default: next to this benchmark, or under
    /// $CARGO_TARGET_DIR/release).
    #[arg(long)]
    pub bin: Option<PathBuf>,
}

/// Runs the outages asked for and prints a report of each; fails if any check failed.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let bin = crate::login::locate(args.bin.clone())?;
    let runtime = crate::harness::process::runtime()?;
    runtime.block_on(async {
        let mut failed = Vec::new();
        if !args.skip_sms {
            let mut backends = Vec::new();
            if !args.skip_sqlite {
                backends.push(Database::Sqlite);
            }
            if let Some(url) = &args.database_url {
                backends.push(Database::postgres(url, "fundpass_sms_outage").await?);
            }
            for database in backends {
                let outage = sms::run(&bin, database, args).await?;
                report::gateway(&outage);
                if !outage.passed() {
                    failed.push(format!("SMS gateway outage on {}", outage.backend));
                }
            }
        }
        if !args.skip_database {
            let outage = database::run(&bin, args).await?;
            if !report::database(&outage) {
                failed.push("database outage on PostgreSQL".to_owned());
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            anyhow::bail!("outage checks failed: {}", failed.join(", "))
        }
    })
}
