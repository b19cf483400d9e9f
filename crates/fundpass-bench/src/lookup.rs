//! `lookup`: how long the member lookups every login and recovery starts with take
//! on a database holding many members: by document (the blind index of the number),
//! by a document nobody holds, by account number and by phone (the phone's blind
//! index), through fundpass's own store on the database `fundpass import` filled.
//!
//! ```sh
//! cargo run --release -p fundpass --example gen_members -- 10000000 > m.csv
//! fundpass --data-dir D --config C import m.csv --quiet     # C: [database] url = …
//! fundpass-bench lookup --database-url postgres://… --key-file D/keys.json --file m.csv
//! ```

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use fundpass_core::crypto::{Field, Keyring};
use fundpass_core::identity::{IdNumber, IdType, Phone};
use fundpass_core::member::AccountNumber;
use fundpass_core::ports::MemberStore as _;
use sqlx::Row as _;

use crate::harness::stats::{Summary, ms, percentile};

/// Options of `lookup`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The fundpass database (PostgreSQL or SQLite URL) the members were imported into.
    #[arg(long)]
    pub database_url: String,
    /// The installation's key file (for the blind indexes).
    #[arg(long)]
    pub key_file: PathBuf,
    /// The file that was imported (CSV: account_no,name,id_type,id_number,phone).
    #[arg(long)]
    pub file: PathBuf,
    /// Members looked up, spread evenly over the file.
    #[arg(long, default_value_t = 20_000)]
    pub samples: usize,
}

/// One sampled row, parsed.
struct Sample {
    account: AccountNumber,
    id_number: IdNumber,
    phone: Phone,
}

/// Rows of the file, every `step`-th, at most `samples`.
fn sample(args: &Args) -> anyhow::Result<(Vec<Sample>, usize)> {
    // The day the generators check their numbers against (a birth date must be past).
    let today = time::macros::date!(2026 - 01 - 01);
    let count = BufReader::new(std::fs::File::open(&args.file)?)
        .lines()
        .count()
        .saturating_sub(1);
    if count == 0 {
        bail!("{} has no rows", args.file.display());
    }
    let step = (count / args.samples.max(1)).max(1);
    let mut out = Vec::new();
    for (i, line) in BufReader::new(std::fs::File::open(&args.file)?)
        .lines()
        .skip(1)
        .enumerate()
    {
        let line = line?;
        if i % step != 0 || out.len() >= args.samples {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        let [account, _, _, id_number, phone] = fields[..] else {
            bail!(
                "row {} is not account_no,name,id_type,id_number,phone",
                i + 2
            );
        };
        out.push(Sample {
            account: AccountNumber::parse(account).context("an account number")?,
            id_number: IdNumber::parse(IdType::ResidentId, id_number, today)
                .context("a document number")?,
            phone: Phone::parse(phone).context("a phone number")?,
        });
    }
    Ok((out, count))
}

/// Times `f` once per sample.
async fn timed<F, Fut>(samples: &[Sample], f: F) -> anyhow::Result<Vec<Duration>>
where
    F: Fn(&Sample) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut out = Vec::with_capacity(samples.len());
    for s in samples {
        let started = Instant::now();
        f(s).await?;
        out.push(started.elapsed());
    }
    Ok(out)
}

/// Runs the lookups and prints the report.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let keyring = Keyring::from_json(&std::fs::read_to_string(&args.key_file)?)
        .map_err(|e| anyhow::anyhow!("the key file: {e}"))?;
    let (samples, rows) = sample(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = fundpass_store::Store::connect(&args.database_url).await?;
        let members = store.member_count().await?;
        let document = |s: &Sample| keyring.blind_index(Field::IdNumber, s.id_number.normalised());
        // Warm the cache the way a running server's is: one pass, not timed.
        for s in &samples {
            store
                .member_by_id_number(IdType::ResidentId, &document(s))
                .await?;
        }
        let by_document = timed(&samples, |s| {
            let index = document(s);
            let store = &store;
            async move {
                store
                    .member_by_id_number(IdType::ResidentId, &index)
                    .await?
                    .context("a sampled member is not found by document")?;
                Ok(())
            }
        })
        .await?;
        let unknown = timed(&samples, |s| {
            // Another, well-formed number: the index of one nobody holds.
            let index = keyring.blind_index(
                Field::IdNumber,
                &format!("{}-unknown", s.id_number.normalised()),
            );
            let store = &store;
            async move {
                if store
                    .member_by_id_number(IdType::ResidentId, &index)
                    .await?
                    .is_some()
                {
                    bail!("an unknown document was found");
                }
                Ok(())
            }
        })
        .await?;
        let by_account = timed(&samples, |s| {
            let store = &store;
            let account = s.account.clone();
            async move {
                store
                    .member_by_account(&account)
                    .await?
                    .context("a sampled member is not found by account")?;
                Ok(())
            }
        })
        .await?;
        let by_phone = timed(&samples, |s| {
            let index = keyring.blind_index(Field::Phone, s.phone.normalised());
            let store = &store;
            async move {
                if store.members_by_phone(&index).await?.is_empty() {
                    bail!("a sampled member is not found by phone");
                }
                Ok(())
            }
        })
        .await?;
        let size = if args.database_url.starts_with("postgres") {
            let mut conn = crate::crash::database::reader(None, Some(&args.database_url)).await?;
            let row = sqlx::query(
                "SELECT pg_total_relation_size('members')::bigint, pg_relation_size('members')::bigint",
            )
            .fetch_one(&mut conn)
            .await?;
            Some((row.try_get::<i64, _>(0)?, row.try_get::<i64, _>(1)?))
        } else {
            None
        };
        print(members, rows, samples.len(), size, &[
            ("by document (blind index)", by_document),
            ("by a document nobody holds", unknown),
            ("by account number", by_account),
            ("by phone (blind index)", by_phone),
        ]);
        Ok(())
    })
}

#[allow(clippy::print_stdout)]
fn print(
    members: u64,
    rows: usize,
    samples: usize,
    size: Option<(i64, i64)>,
    all: &[(&str, Vec<Duration>)],
) {
    println!(
        "Member lookups: {members} members in the database ({rows} rows in the file), {samples} sampled, one at a time after one warming pass"
    );
    if let Some((total, table)) = size {
        let mib = |b: i64| b as f64 / 1024.0 / 1024.0;
        println!(
            "members table: {:.0} MiB, with its indexes {:.0} MiB",
            mib(table),
            mib(total)
        );
    }
    for (label, latencies) in all {
        let mut sorted = latencies.clone();
        sorted.sort_unstable();
        let summary = Summary::of(latencies.clone());
        let p999 = percentile(&sorted, 99.9).unwrap_or_default();
        println!(
            "  {label:<28} p50 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms  max {:.3} ms",
            ms(summary.p50),
            ms(summary.p99),
            ms(p999),
            ms(summary.max)
        );
    }
}
