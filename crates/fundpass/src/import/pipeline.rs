//! The import pipeline: a blocking reader thread validates and seals rows, the async
//! side checks them against the database and writes them in one transaction.

use std::collections::HashMap;

use anyhow::Context as _;
use fundpass_core::crypto::{BlindIndex, Keyring};
use fundpass_core::identity::IdType;
use fundpass_core::member::{ImportOutcome, NewMember};
use fundpass_core::ports::{Clock, MemberStore, Repeat, Repeated};
use indicatif::ProgressBar;
use tokio::sync::mpsc;

use crate::context::Context;
use crate::system::{OsSecrets, today};
use fundpass::import_file::RowReader;

/// One rejected row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

/// Rejected rows listed at most; beyond this they are only counted, so a file that is
/// wrong throughout does not make the importer's memory grow with it.
pub const MAX_LISTED_ERRORS: usize = 10_000;

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Data rows read (valid and invalid).
    pub rows: u64,
    pub outcome: ImportOutcome,
    /// The problems of the rejected rows, in line order: every one, or the first
    /// [`MAX_LISTED_ERRORS`] to arrive when there are more.
    pub errors: Vec<RowError>,
    /// Rows rejected (a row with several problems counts once), listed or not.
    pub rejected: u64,
    /// Whether anything was written.
    pub committed: bool,
}

impl ImportReport {
    /// Number of rows rejected (a row with several problems counts once).
    pub fn rejected_rows(&self) -> u64 {
        self.rejected
    }

    /// Notes the problems of one or more rejected rows (`rows` of them).
    fn reject(&mut self, rows: u64, errors: impl IntoIterator<Item = RowError>) {
        self.rejected += rows;
        let room = MAX_LISTED_ERRORS.saturating_sub(self.errors.len());
        self.errors.extend(errors.into_iter().take(room));
    }

    /// Rejected rows whose problems are not listed.
    pub fn unlisted_rows(&self) -> u64 {
        let mut lines: Vec<u64> = self.errors.iter().map(|e| e.line).collect();
        lines.dedup();
        self.rejected.saturating_sub(lines.len() as u64)
    }
}

/// Rows sealed and ready to write, with the line each came from.
type Batch = Vec<(u64, NewMember)>;

enum Message {
    Batch(Batch),
    /// The problems of `rows` rejected rows.
    Errors {
        rows: u64,
        errors: Vec<RowError>,
    },
}

/// Runs one import. With `skip_invalid` false, any rejected row means nothing is
/// committed (every row is still checked so all problems are reported at once).
pub async fn import_rows(
    ctx: &Context,
    reader: RowReader,
    skip_invalid: bool,
    batch_size: usize,
    bar: ProgressBar,
) -> anyhow::Result<ImportReport> {
    let (tx, mut rx) = mpsc::channel::<Message>(4);
    let keyring = ctx.keyring.clone();
    let today = today(&ctx.clock);
    let producer = std::thread::spawn(move || produce(reader, keyring, today, batch_size, tx, bar));

    let mut import = ctx.store.begin_import().await?;
    let mut report = ImportReport::default();
    let now = ctx.clock.now();
    while let Some(message) = rx.recv().await {
        match message {
            Message::Errors { rows, errors } => report.reject(rows, errors),
            Message::Batch(batch) => {
                let (batch, repeats) = drop_repeats(import.as_mut(), batch).await?;
                report.reject(repeats.len() as u64, repeats);
                let (rows, conflicts) = drop_conflicts(import.as_mut(), batch).await?;
                report.reject(conflicts.len() as u64, conflicts);
                if (skip_invalid || report.rejected == 0) && !rows.is_empty() {
                    report.outcome += import.upsert(&rows, now).await?;
                }
            }
        }
    }
    report.rows = match producer.join() {
        Ok(result) => result?,
        Err(_) => anyhow::bail!("the import reader stopped unexpectedly"),
    };
    report.errors.sort_by_key(|e| e.line);
    if skip_invalid || report.rejected == 0 {
        import.commit().await.context("cannot commit the import")?;
        report.committed = true;
    }
    Ok(report)
}

/// Removes rows that repeat an account or a document of an earlier line.
async fn drop_repeats(
    import: &mut dyn fundpass_core::ports::MemberImport,
    batch: Batch,
) -> anyhow::Result<(Batch, Vec<RowError>)> {
    let rows: Vec<(u64, &NewMember)> = batch.iter().map(|(line, m)| (*line, m)).collect();
    let repeats = import.claim(&rows).await?;
    if repeats.is_empty() {
        return Ok((batch, Vec::new()));
    }
    let repeated: HashMap<u64, Repeat> = repeats.into_iter().map(|r| (r.line, r)).collect();
    let mut kept = Vec::with_capacity(batch.len());
    let mut errors = Vec::with_capacity(repeated.len());
    for (line, member) in batch {
        match repeated.get(&line) {
            None => kept.push((line, member)),
            Some(r) => errors.push(RowError {
                line,
                message: match r.what {
                    Repeated::Account => {
                        format!("account_no: repeats the account on line {}", r.first_line)
                    }
                    Repeated::Document => {
                        format!("id_number: the same document is on line {}", r.first_line)
                    }
                },
            }),
        }
    }
    Ok((kept, errors))
}

/// Removes rows whose document is already held by another account in the database.
async fn drop_conflicts(
    import: &mut dyn fundpass_core::ports::MemberImport,
    batch: Batch,
) -> anyhow::Result<(Vec<NewMember>, Vec<RowError>)> {
    let keys: Vec<(IdType, BlindIndex)> = batch
        .iter()
        .map(|(_, m)| (m.id_type, m.id_number_index.clone()))
        .collect();
    let held: HashMap<(IdType, BlindIndex), _> = import
        .existing_by_index(&keys)
        .await?
        .into_iter()
        .map(|(t, i, account)| ((t, i), account))
        .collect();
    let mut rows = Vec::with_capacity(batch.len());
    let mut errors = Vec::new();
    for (line, member) in batch {
        match held.get(&(member.id_type, member.id_number_index.clone())) {
            Some(owner) if *owner != member.account_no => errors.push(RowError {
                line,
                message: format!("id_number: this document already belongs to account {owner}"),
            }),
            _ => rows.push(member),
        }
    }
    Ok((rows, errors))
}

/// Reads, validates and seals rows on a blocking thread; returns the number of rows.
fn produce(
    mut reader: RowReader,
    keyring: Keyring,
    today: time::Date,
    batch_size: usize,
    tx: mpsc::Sender<Message>,
    bar: ProgressBar,
) -> anyhow::Result<u64> {
    let rng = OsSecrets;
    let mut batch: Batch = Vec::with_capacity(batch_size);
    let mut errors = Vec::new();
    let mut rejected = 0u64;
    let mut rows = 0u64;
    while let Some(read) = reader.next_row()? {
        rows += 1;
        if rows.is_multiple_of(1024) {
            bar.set_position(read.offset);
        }
        let line = read.line;
        let checked = read.row.map_err(|m| vec![m]).and_then(|row| {
            row.validate(today)
                .map_err(|ps| ps.iter().map(ToString::to_string).collect())
        });
        match checked {
            Ok(valid) => batch.push((line, valid.seal(&keyring, &rng))),
            Err(messages) => {
                rejected += 1;
                errors.extend(
                    messages
                        .into_iter()
                        .map(|message| RowError { line, message }),
                );
            }
        }
        if batch.len() >= batch_size || errors.len() >= batch_size {
            let errors = std::mem::take(&mut errors);
            send(
                &tx,
                Message::Errors {
                    rows: std::mem::take(&mut rejected),
                    errors,
                },
            )?;
            send(
                &tx,
                Message::Batch(std::mem::replace(
                    &mut batch,
                    Vec::with_capacity(batch_size),
                )),
            )?;
        }
    }
    send(
        &tx,
        Message::Errors {
            rows: rejected,
            errors,
        },
    )?;
    send(&tx, Message::Batch(batch))?;
    Ok(rows)
}

fn send(tx: &mpsc::Sender<Message>, message: Message) -> anyhow::Result<()> {
    let empty = match &message {
        Message::Errors { rows, .. } => *rows == 0,
        Message::Batch(b) => b.is_empty(),
    };
    if empty {
        return Ok(());
    }
    tx.blocking_send(message)
        .map_err(|_| anyhow::anyhow!("the database writer stopped"))
}
