//! `fundpass benefits import FILE`: who is entitled to a benefit (and so to the yearly
//! qualification check), since when, checked how often, and who was reported deceased.
//!
//! The whole file is checked before anything is written and written in one
//! transaction: one bad row, or one account no member has, means nothing is imported.
//! A re-import updates kind, cycle and date of death and keeps due dates and checks.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use fundpass_core::audit::Outcome;
use fundpass_core::member::{AccountNumber, MemberId};
use fundpass_core::ports::{BenefitImport, QualificationStore as _};
use fundpass_core::qualification::{
    BENEFIT_IMPORT_ACTION, Benefit, BenefitRow, BenefitRowError, QualificationStatus,
    ValidBenefitRow,
};
use serde_json::json;

use crate::cli::BenefitImportArgs;
use crate::config::Config;
use crate::context::Context;
use crate::system::today;

/// Problems listed before the rest are only counted.
const MAX_LISTED_ERRORS: usize = 50;

/// Rows looked up and written per batch.
const BATCH: usize = 1_000;

/// The columns a benefit file must have (`cycle_months` and `deceased_on` may be left
/// out or empty).
const REQUIRED: [&str; 3] = ["account_no", "kind", "start_date"];

/// A row that passed every check, with its line.
pub type Checked = (u64, ValidBenefitRow);

/// A row that failed, by line.
pub struct Rejected {
    line: u64,
    problems: Vec<BenefitRowError>,
}

/// `fundpass benefits import FILE`.
pub async fn import(config: &Config, args: &BenefitImportArgs) -> anyhow::Result<ExitCode> {
    let ctx = Context::open(config).await?;
    let today = today(&ctx.clock);
    let (rows, mut rejected) = read_rows(&args.file, today)?;
    let file_name = file_name(&args.file);
    let bar = crate::import::progress_bar(rows.len() as u64, args.quiet);
    bar.set_message("benefits");
    let mut tx = ctx.store.begin_benefit_import().await?;
    let Written {
        inserted,
        updated,
        ended,
    } = write(tx.as_mut(), &rows, today, &mut rejected, &bar).await?;
    bar.finish_and_clear();
    rejected.sort_by_key(|r| r.line);
    let total = rows.len() + rejected.len();
    if !rejected.is_empty() {
        let details = json!({
            "file": file_name, "rows": total, "rejected": rejected.len(), "written": 0,
        });
        // Dropping the transaction rolls it back.
        drop(tx);
        list(&rejected);
        ctx.audit_operator(BENEFIT_IMPORT_ACTION, Outcome::Failure, details)
            .await?;
        eprintln!(
            "nothing imported from {file_name}: {} of {total} rows are invalid (listed above)",
            rejected.len()
        );
        return Ok(ExitCode::from(1));
    }
    tx.commit().await?;
    let details = json!({
        "file": file_name,
        "rows": total,
        "inserted": inserted,
        "updated": updated,
        "ended": ended,
    });
    ctx.audit_operator(BENEFIT_IMPORT_ACTION, Outcome::Success, details)
        .await?;
    eprintln!(
        "imported {file_name}: {total} rows, {inserted} new benefits, {updated} updated, {ended} ended by a date of death"
    );
    Ok(ExitCode::SUCCESS)
}

/// What a write of checked rows did.
#[derive(Debug, Default)]
pub struct Written {
    pub inserted: u64,
    pub updated: u64,
    /// Benefits a date of death ended.
    pub ended: u64,
}

/// Writes checked rows in batches inside the import's transaction; an account no
/// member holds is added to `rejected`, and once anything is rejected nothing more is
/// written (the caller then rolls back).
pub async fn write(
    tx: &mut dyn BenefitImport,
    rows: &[Checked],
    today: time::Date,
    rejected: &mut Vec<Rejected>,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<Written> {
    let mut done = Written::default();
    for batch in rows.chunks(BATCH) {
        let accounts: Vec<AccountNumber> =
            batch.iter().map(|(_, r)| r.account_no.clone()).collect();
        let members: HashMap<String, MemberId> = tx
            .members_by_account(&accounts)
            .await?
            .into_iter()
            .map(|(a, id)| (a.as_str().to_owned(), id))
            .collect();
        let ids: Vec<MemberId> = members.values().copied().collect();
        let existing: HashMap<MemberId, Benefit> = tx
            .benefits_of(&ids)
            .await?
            .into_iter()
            .map(|b| (b.member_id, b))
            .collect();
        let mut writes = Vec::with_capacity(batch.len());
        for (line, row) in batch {
            let Some(member) = members.get(row.account_no.as_str()) else {
                rejected.push(Rejected {
                    line: *line,
                    problems: vec![BenefitRowError::UnknownMember],
                });
                continue;
            };
            let before = existing.get(member);
            let benefit = row.apply(*member, before, today);
            match before {
                Some(_) => done.updated += 1,
                None => done.inserted += 1,
            }
            if benefit.status == QualificationStatus::Ended
                && before.is_none_or(|b| b.status != QualificationStatus::Ended)
            {
                done.ended += 1;
            }
            writes.push(benefit);
        }
        if rejected.is_empty() {
            tx.upsert(&writes).await?;
        }
        bar.inc(batch.len() as u64);
    }
    Ok(done)
}

/// Every row of the file checked, with its line: the good ones and why the others
/// are not.
fn read_rows(path: &Path, today: time::Date) -> anyhow::Result<(Vec<Checked>, Vec<Rejected>)> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let headers = reader
        .headers()
        .context("cannot read the header line")?
        .clone();
    for column in REQUIRED {
        if !headers.iter().any(|h| h == column) {
            bail!(
                "the header line must name the columns account_no,kind,start_date \
                 (and may name cycle_months,deceased_on): {column} is missing"
            );
        }
    }
    let mut good = Vec::new();
    let mut bad = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for record in reader.records() {
        // The reader's own messages can quote a field; say only what kind of problem
        // it was.
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                bail!(
                    "line {line}: the row cannot be read as CSV ({})",
                    csv_problem(&e)
                );
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let row: BenefitRow = match record.deserialize(Some(&headers)) {
            Ok(row) => row,
            Err(_) => {
                bail!("line {line}: the row cannot be read (an unknown column, or a missing field)")
            }
        };
        match row.validate(today) {
            Ok(valid) if seen.contains(valid.account_no.as_str()) => bad.push(Rejected {
                line,
                problems: vec![BenefitRowError::Repeated],
            }),
            Ok(valid) => {
                seen.insert(valid.account_no.as_str().to_owned());
                good.push((line, valid));
            }
            Err(problems) => bad.push(Rejected { line, problems }),
        }
    }
    Ok((good, bad))
}

/// What kind of CSV problem, without the field's content.
fn csv_problem(e: &csv::Error) -> &'static str {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8",
        csv::ErrorKind::UnequalLengths { .. } => "a different number of fields than the header",
        _ => "malformed",
    }
}

fn list(rejected: &[Rejected]) {
    for r in rejected.iter().take(MAX_LISTED_ERRORS) {
        for p in &r.problems {
            eprintln!("line {}: {p}", r.line);
        }
    }
    if rejected.len() > MAX_LISTED_ERRORS {
        eprintln!(
            "… and {} more rejected rows, not listed",
            rejected.len() - MAX_LISTED_ERRORS
        );
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
