//! `fundpass import`: members from the fund's core system, validated row by row.
//!
//! A reader thread parses, validates and encrypts rows while the database writer works
//! on the previous batch, so both cores are busy. The whole file is one database
//! transaction: unless `--skip-invalid` is given, one bad row means nothing is written.

mod pipeline;

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;
use fundpass_core::audit::Outcome;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

pub use fundpass::import_file::{Format, RowReader};
pub use pipeline::import_rows;

use crate::cli::ImportArgs;
use crate::config::Config;
use crate::context::Context;

/// `fundpass import FILE`.
pub async fn command(config: &Config, args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let Some(format) = args.format.or_else(|| Format::from_path(&args.file)) else {
        bail!(
            "cannot tell the format of {} from its name: use --format csv or --format jsonl",
            args.file.display()
        );
    };
    let ctx = Context::open(config).await?;
    let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    let reader = RowReader::open(&args.file, format)?;
    let bar = progress_bar(size, args.quiet);
    bar.set_message("rows");
    let started = Instant::now();
    let report = import_rows(
        &ctx,
        reader,
        args.skip_invalid,
        args.batch_size as usize,
        bar.clone(),
    )
    .await?;
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    for e in &report.errors {
        eprintln!("line {}: {}", e.line, e.message);
    }
    if report.unlisted_rows() > 0 {
        eprintln!(
            "… and {} more rejected rows, not listed (the first {} problems are above)",
            report.unlisted_rows(),
            pipeline::MAX_LISTED_ERRORS
        );
    }
    let file_name = file_name(&args.file);
    let details = json!({
        "file": file_name,
        "rows": report.rows,
        "inserted": report.outcome.inserted,
        "updated": report.outcome.updated,
        "rejected": report.rejected_rows(),
        "skip_invalid": args.skip_invalid,
    });
    let rate = report.rows as f64 / elapsed.as_secs_f64().max(1e-9);
    if report.committed {
        ctx.audit_operator("member.import", Outcome::Success, details)
            .await?;
        // The planner's statistics, so that the first lookups after a large import
        // use the indexes as they will later (without them, a phone lookup on 10^7
        // fresh rows was planned for tens of thousands of matches: 35 ms, not 0.2).
        if report.outcome.inserted > 0 {
            ctx.store.refresh_member_statistics().await?;
        }
        eprintln!(
            "imported {file_name}: {} rows read, {} inserted, {} updated, {} rejected, in {:.1} s ({rate:.0} rows/s)",
            report.rows,
            report.outcome.inserted,
            report.outcome.updated,
            report.rejected_rows(),
            elapsed.as_secs_f64(),
        );
        Ok(ExitCode::SUCCESS)
    } else {
        ctx.audit_operator("member.import", Outcome::Failure, details)
            .await?;
        eprintln!(
            "nothing imported from {file_name}: {} of {} rows are invalid (listed above). Fix them, or \
             use --skip-invalid to import the valid rows only.",
            report.rejected_rows(),
            report.rows
        );
        Ok(ExitCode::from(1))
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A progress bar on stderr (hidden when `quiet` or when stderr is not a terminal).
pub fn progress_bar(len: u64, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(len),
        if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% {msg} eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}
