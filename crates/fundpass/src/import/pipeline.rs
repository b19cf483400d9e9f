//! The import pipeline: a blocking reader thread validates and seals rows, the async
//! side checks them against the database and writes them in one transaction.

use std::collections::HashMap;

use anyhow::Context as _;
use fundpass_core::crypto::{BlindIndex, Keyring};
use fundpass_core::identity::IdType;
use fundpass_core::member::{ImportOutcome, NewMember};
use fundpass_core::ports::{Clock, MemberStore};
use indicatif::ProgressBar;
use tokio::sync::mpsc;

use super::reader::RowReader;
use crate::context::Context;
use crate::system::{OsSecrets, today};

/// One rejected row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Data rows read (valid and invalid).
    pub rows: u64,
    pub outcome: ImportOutcome,
    /// Every rejected row, in line order.
    pub errors: Vec<RowError>,
    /// Whether anything was written.
    pub committed: bool,
}

impl ImportReport {
    /// Number of rows rejected (a row with several problems counts once).
    pub fn rejected_rows(&self) -> usize {
        let mut lines: Vec<u64> = self.errors.iter().map(|e| e.line).collect();
        lines.dedup();
        lines.len()
    }
}

/// Rows sealed and ready to write, with the line each came from.
type Batch = Vec<(u64, NewMember)>;

enum Message {
    Batch(Batch),
    Errors(Vec<RowError>),
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
            Message::Errors(errors) => report.errors.extend(errors),
            Message::Batch(batch) => {
                let (rows, conflicts) = drop_conflicts(import.as_mut(), batch).await?;
                report.errors.extend(conflicts);
                if (skip_invalid || report.errors.is_empty()) && !rows.is_empty() {
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
    if skip_invalid || report.errors.is_empty() {
        import.commit().await.context("cannot commit the import")?;
        report.committed = true;
    }
    Ok(report)
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
    let mut seen_accounts: HashMap<String, u64> = HashMap::new();
    let mut seen_documents: HashMap<(IdType, BlindIndex), u64> = HashMap::new();
    let mut batch: Batch = Vec::with_capacity(batch_size);
    let mut errors = Vec::new();
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
        let valid = match checked {
            Ok(v) => v,
            Err(messages) => {
                errors.extend(
                    messages
                        .into_iter()
                        .map(|message| RowError { line, message }),
                );
                continue;
            }
        };
        if let Some(first) = seen_accounts.insert(valid.account_no.as_str().to_owned(), line) {
            errors.push(RowError {
                line,
                message: format!("account_no: repeats the account on line {first}"),
            });
            continue;
        }
        let member = valid.seal(&keyring, &rng);
        let key = (member.id_type, member.id_number_index.clone());
        if let Some(first) = seen_documents.insert(key, line) {
            errors.push(RowError {
                line,
                message: format!("id_number: the same document is on line {first}"),
            });
            continue;
        }
        batch.push((line, member));
        if batch.len() >= batch_size {
            send(&tx, Message::Errors(std::mem::take(&mut errors)))?;
            send(
                &tx,
                Message::Batch(std::mem::replace(
                    &mut batch,
                    Vec::with_capacity(batch_size),
                )),
            )?;
        }
    }
    send(&tx, Message::Errors(errors))?;
    send(&tx, Message::Batch(batch))?;
    Ok(rows)
}

fn send(tx: &mpsc::Sender<Message>, message: Message) -> anyhow::Result<()> {
    let empty = match &message {
        Message::Errors(e) => e.is_empty(),
        Message::Batch(b) => b.is_empty(),
    };
    if empty {
        return Ok(());
    }
    tx.blocking_send(message)
        .map_err(|_| anyhow::anyhow!("the database writer stopped"))
}
