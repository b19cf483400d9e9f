//! How fast an import writes: not a pass/fail test (targets live in benchmarks), but an
//! early look at the rate. Run with
//! `cargo test -p fundpass-store --release -- --ignored --nocapture`.

use std::time::{Duration, Instant};

use fundpass_core::member::{ImportOutcome, NewMember};
use fundpass_core::ports::MemberStore;

use crate::support::{at, backends, member};

/// Rows imported; `FUNDPASS_UPSERT_RATE_ROWS` overrides it (e.g. 1000000).
fn rows() -> u64 {
    std::env::var("FUNDPASS_UPSERT_RATE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}
const BATCH: usize = 1_000;

#[tokio::test]
#[ignore = "prints the upsert rate; run in release mode"]
async fn upsert_rate_of_100_000_members_in_batches_of_1000() {
    let total_rows = rows();
    for db in backends().await {
        let rows: Vec<NewMember> = (0..total_rows).map(member).collect();
        for (pass, expected) in [
            (
                "insert",
                ImportOutcome {
                    inserted: total_rows,
                    updated: 0,
                },
            ),
            (
                "update",
                ImportOutcome {
                    inserted: 0,
                    updated: total_rows,
                },
            ),
        ] {
            let started = Instant::now();
            let (mut lookup, mut upsert) = (Duration::ZERO, Duration::ZERO);
            let mut import = db.store.begin_import().await.unwrap();
            let mut total = ImportOutcome::default();
            for batch in rows.chunks(BATCH) {
                let pairs: Vec<_> = batch
                    .iter()
                    .map(|m| (m.id_type, m.id_number_index.clone()))
                    .collect();
                let step = Instant::now();
                let held = import.existing_by_index(&pairs).await.unwrap();
                lookup += step.elapsed();
                assert_eq!(
                    held.len() as u64,
                    expected.updated / total_rows * batch.len() as u64
                );
                let step = Instant::now();
                total += import.upsert(batch, at(0)).await.unwrap();
                upsert += step.elapsed();
            }
            import.commit().await.unwrap();
            let secs = started.elapsed().as_secs_f64();
            assert_eq!(total, expected);
            eprintln!(
                "{:?} {pass}: {total_rows} rows in batches of {BATCH}: {secs:.2} s = {:.0} rows/s \
                 (lookups {:.2} s, upserts {:.2} s)",
                db.store.backend(),
                total_rows as f64 / secs,
                lookup.as_secs_f64(),
                upsert.as_secs_f64(),
            );
        }
    }
}
