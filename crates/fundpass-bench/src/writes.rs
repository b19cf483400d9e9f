//! `writes`: database rows a login writes on PostgreSQL, with captchas and rate-limit
//! windows kept in the database and with them in Redis (`[redis] url`).
//!
//! For each setting: a database of the run's own, the real `fundpass serve`, one
//! member registered; then PostgreSQL's own counters (`pg_stat_user_tables`: rows
//! inserted, updated and deleted per table; `pg_stat_database`: transactions
//! committed) read before and after an idle window and a window of logins (each a
//! captcha drawn, its answer read through the dev helper, the login). The idle
//! window's counts (the outbox worker, the purges) are reported beside the logins'.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use sqlx::{AnyConnection, Row as _};

use crate::crash::api;
use crate::crash::database::{Database, reader};
use crate::crash::rig::Rig;

/// Options of `writes`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// A PostgreSQL server URL allowed to create databases (e.g.
    /// postgres://postgres@127.0.0.1:5432/postgres); the run creates a database of its
    /// own per setting and drops it at the end.
    #[arg(long)]
    pub database_url: String,
    /// The Redis of the second setting.
    #[arg(long, default_value = "redis://127.0.0.1:6379/0")]
    pub redis_url: String,
    /// Logins counted per setting.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub logins: u32,
    /// The fundpass binary (default: next to this benchmark, or under
    /// $CARGO_TARGET_DIR/release).
    #[arg(long)]
    pub bin: Option<PathBuf>,
}

/// Seconds of the idle window.
const IDLE: Duration = Duration::from_secs(5);

/// PostgreSQL's counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Counters {
    /// Per table: rows inserted, updated, deleted.
    tables: BTreeMap<String, [i64; 3]>,
    commits: i64,
}

impl Counters {
    fn rows(&self) -> i64 {
        self.tables.values().map(|t| t.iter().sum::<i64>()).sum()
    }

    fn minus(&self, earlier: &Self) -> Self {
        let tables = self
            .tables
            .iter()
            .map(|(name, now)| {
                let then = earlier.tables.get(name).copied().unwrap_or_default();
                (name.clone(), [0, 1, 2].map(|i| now[i] - then[i]))
            })
            .filter(|(_, d)| d.iter().any(|n| *n != 0))
            .collect();
        Self {
            tables,
            commits: self.commits - earlier.commits,
        }
    }
}

/// The counters once they stop moving (a backend reports its counts within about a
/// second of going idle).
async fn settled(conn: &mut AnyConnection, database: &str) -> anyhow::Result<Counters> {
    let mut last = read(conn, database).await?;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let now = read(conn, database).await?;
        if now.tables == last.tables {
            return Ok(now);
        }
        last = now;
    }
    Ok(last)
}

async fn read(conn: &mut AnyConnection, database: &str) -> anyhow::Result<Counters> {
    let rows = sqlx::query(
        "SELECT relname::text, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut tables = BTreeMap::new();
    for row in rows {
        let name: String = row.try_get(0)?;
        tables.insert(name, [row.try_get(1)?, row.try_get(2)?, row.try_get(3)?]);
    }
    let commits: i64 =
        sqlx::query("SELECT xact_commit FROM pg_stat_database WHERE datname::text = $1")
            .bind(database)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
    Ok(Counters { tables, commits })
}

/// One setting's numbers.
#[derive(Debug)]
struct Measured {
    label: &'static str,
    logins: u32,
    idle: Counters,
    window: Counters,
}

/// Runs both settings and prints the report.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let bin = crate::login::locate(args.bin.clone())?;
    let runtime = crate::harness::process::runtime()?;
    runtime.block_on(async {
        let mut all = Vec::new();
        for (label, redis) in [
            ("captchas and limits in PostgreSQL", None),
            ("captchas and limits in Redis", Some(args.redis_url.clone())),
        ] {
            eprintln!("{label}…");
            all.push(measure(&bin, args, label, redis).await?);
        }
        print(&all);
        Ok(())
    })
}

async fn measure(
    bin: &std::path::Path,
    args: &Args,
    label: &'static str,
    redis: Option<String>,
) -> anyhow::Result<Measured> {
    let database = Database::postgres(&args.database_url, "fundpass_writes").await?;
    let name = match &database {
        Database::Postgres { name, .. } => name.clone(),
        Database::Sqlite => bail!("the writes benchmark runs on PostgreSQL"),
    };
    let rig = match Rig::start_with(bin, database.clone(), 1, redis).await {
        Ok(rig) => rig,
        Err(err) => {
            let _ = database.remove().await;
            return Err(err);
        }
    };
    let measured = logins(&rig, &name, args.logins, label).await;
    let log = rig.instance.log_tail();
    let finished = rig.finish().await;
    let measured = measured.map_err(|e| e.context(format!("the server's log ends:\n{log}")))?;
    finished?;
    Ok(measured)
}

async fn logins(
    rig: &Rig,
    name: &str,
    count: u32,
    label: &'static str,
) -> anyhow::Result<Measured> {
    let http = rig.http(5, None)?;
    let who = &rig.people[0];
    let password = "Qvwrites7m3k";
    let mark = rig.receiver.inbox.mark();
    let flow = api::registration_start(&http, who).await?;
    let (_, code) = rig
        .receiver
        .inbox
        .code_after(&who.phone, mark, "验证码", Duration::from_secs(20))
        .await
        .context("no registration code")?;
    api::registration_code(&http, &flow, &code).await?;
    api::registration_complete(&http, &flow, password).await?;
    let url = rig.database.server_url().context("no database URL")?;
    let mut conn = reader(None, Some(&url)).await?;
    // The registration's notice delivered and every count reported.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let start = settled(&mut conn, name).await?;
    tokio::time::sleep(IDLE).await;
    let idle_end = settled(&mut conn, name).await?;
    for _ in 0..count {
        if api::login(&http, who, password).await?.is_none() {
            bail!("the member's password was refused");
        }
    }
    let end = settled(&mut conn, name).await?;
    let _ = sqlx::Connection::close(conn).await;
    Ok(Measured {
        label,
        logins: count,
        idle: idle_end.minus(&start),
        window: end.minus(&idle_end),
    })
}

#[allow(clippy::print_stdout)]
fn print(all: &[Measured]) {
    println!("Database writes per login on PostgreSQL (pg_stat_user_tables, pg_stat_database)");
    for m in all {
        let per = |n: i64| n as f64 / f64::from(m.logins);
        println!(
            "\n{}: {} logins: {:.2} rows written per login, {:.2} transactions committed per login",
            m.label,
            m.logins,
            per(m.window.rows()),
            per(m.window.commits)
        );
        println!("  per table (inserted / updated / deleted per login):");
        for (table, [ins, upd, del]) in &m.window.tables {
            println!(
                "    {table:<24} {:.2} / {:.2} / {:.2}",
                per(*ins),
                per(*upd),
                per(*del)
            );
        }
        println!(
            "  idle {} s before the logins: {} rows written, {} transactions committed",
            IDLE.as_secs(),
            m.idle.rows(),
            m.idle.commits
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_keep_only_tables_that_moved() {
        let before = Counters {
            tables: [("a".into(), [1, 0, 0]), ("b".into(), [5, 5, 5])].into(),
            commits: 10,
        };
        let after = Counters {
            tables: [("a".into(), [3, 1, 0]), ("b".into(), [5, 5, 5])].into(),
            commits: 14,
        };
        let d = after.minus(&before);
        assert_eq!(d.tables.len(), 1);
        assert_eq!(d.tables["a"], [2, 1, 0]);
        assert_eq!(d.rows(), 3);
        assert_eq!(d.commits, 4);
    }
}
