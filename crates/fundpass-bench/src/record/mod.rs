//! `record`: how fast a member's security record page reads when the member has a
//! long history (100,000 audit events by default) in a trail shared with many other
//! members. The page is read by key (`seq < before` on the `(member_id, seq)` index),
//! not by OFFSET, so the deepest page should cost what the newest does; the report
//! puts the p99 of the first and of the deepest tenth of pages side by side.
//!
//! For each backend (SQLite always, in a temporary file as `fundpass serve` opens
//! it; PostgreSQL when `--database-url` is given, in a database of its own): import
//! the members → write the trail through the store's normal path → sign the member
//! in → time the newest page (repeated), a walk from the newest page to the oldest
//! (every page timed), and the newest page and a walk of a rare kind (password
//! changes), of a common one (failed logins) and of one the member has none of
//! (phone changes).

/// The fault harnesses make their PostgreSQL databases the same way.
pub(crate) mod database;
mod measure;
mod members;
mod report;
mod trail;

use fundpass_core::record::{MAX_PAGE, RecordKind};

use database::Database;
use report::Table;
use trail::{Act, Shape};

/// Options of `record`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Audit events of the member whose record is read.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub events: u64,
    /// Other members with events in the same trail.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub other_members: u64,
    /// Events of each other member, interleaved at random with the member's.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=1000))]
    pub other_events: u64,
    /// Audit events per change set while the trail is written.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch: u64,
    /// Entries per page (the record page shows 20).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_PAGE)))]
    pub page: u32,
    /// Reads of each newest page.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub repeats: u32,
    /// Also run on PostgreSQL: a server URL allowed to create databases
    /// (e.g. postgres://postgres@127.0.0.1:5432/test); the benchmark creates a
    /// database of its own next to the one named and drops it at the end.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Keep the databases (and say where) to look at query plans afterwards.
    #[arg(long)]
    pub keep: bool,
}

/// The kinds read filtered: a rare one, a common one, and one the member has none of
/// (the worst case: the read goes through all the member's events to find nothing).
const KINDS: [(RecordKind, Option<Act>); 3] = [
    (RecordKind::PasswordChange, Some(Act::PasswordChange)),
    (RecordKind::LoginFailed, Some(Act::LoginFailed)),
    (RecordKind::PhoneChange, None),
];

/// Runs the benchmark on each backend and prints a table for each.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("bench-record")
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let sqlite = Database::sqlite().await?;
        on(sqlite, args).await?;
        if let Some(url) = &args.database_url {
            let postgres = Database::postgres(url).await?;
            on(postgres, args).await?;
        }
        Ok(())
    })
}

/// Measures on `db` and removes it, whether the measurement succeeded or not.
async fn on(db: Database, args: &Args) -> anyhow::Result<()> {
    let measured = measure_on(&db, args).await;
    let removed = db.remove(args.keep).await;
    report::print(&measured?);
    removed
}

async fn measure_on(db: &Database, args: &Args) -> anyhow::Result<Table> {
    let store = &db.store;
    let portal = members::portal(store)?;
    let now = portal.clock.now();
    eprintln!(
        "{}: importing {} members…",
        db.label,
        args.other_members + 1
    );
    let ids = members::import(&portal, store, args.other_members).await?;
    let shape = Shape {
        events: args.events,
        others: args.other_members,
        other_events: args.other_events,
        batch: usize::try_from(args.batch)?,
    };
    eprintln!(
        "{}: writing {} events of the member and {} of others, {} per change set…",
        db.label,
        shape.events,
        shape.others * shape.other_events,
        shape.batch
    );
    let written = trail::write(store, &ids, shape, now).await?;
    db.analyze().await?;
    let reader = *ids.first().ok_or_else(|| anyhow::anyhow!("no members"))?;
    let auth = members::sign_in(&portal, store, reader).await?;
    let mut table = Table {
        backend: db.label,
        notes: vec![
            format!(
                "trail: {} events, {} of them the member's, {} other members × {}; pages of {}",
                written.total, args.events, args.other_members, args.other_events, args.page
            ),
            format!(
                "setup: {} events in {} change sets in {:.1} s = {:.0} events/s (chained one by one in each change set)",
                written.total,
                written.change_sets,
                written.elapsed.as_secs_f64(),
                written.total as f64 / written.elapsed.as_secs_f64().max(f64::EPSILON)
            ),
        ],
        rows: Vec::new(),
        footer: Vec::new(),
    };
    eprintln!("{}: reading…", db.label);
    let first = measure::first_page(&portal, &auth, None, args.page, args.repeats, false).await?;
    table.row(format!("newest page, ×{}", args.repeats), &first);
    let walk = measure::walk(&portal, &auth, None, args.page).await?;
    check(walk.entries, args.events, "the whole record")?;
    let (p99_first, p99_deepest) =
        table.walk("walk: every page, newest to oldest", &walk.latencies);
    table.footer.push(format!(
        "depth: p99 of the deepest 10% of pages {p99_deepest:.3} ms, of the first 10% {p99_first:.3} ms ({} reads each)",
        (walk.latencies.len() / 10).max(1)
    ));
    for (kind, act) in KINDS {
        let expected = act.map(|a| written.of(a)).unwrap_or(0);
        let code = kind.code();
        let (repeats, page) = (args.repeats, args.page);
        let first =
            measure::first_page(&portal, &auth, Some(kind), page, repeats, expected == 0).await?;
        table.row(
            format!("kind={code} ({expected}): newest page, ×{repeats}"),
            &first,
        );
        if expected > 0 {
            let walk = measure::walk(&portal, &auth, Some(kind), page).await?;
            check(walk.entries, expected, code)?;
            table.walk(&format!("kind={code}: walk, every page"), &walk.latencies);
        }
    }
    Ok(table)
}

/// Fails when a walk did not read exactly the member's events it should have.
fn check(read: u64, expected: u64, what: &str) -> anyhow::Result<()> {
    if read != expected {
        anyhow::bail!("walking {what} read {read} entries, expected {expected}");
    }
    Ok(())
}
