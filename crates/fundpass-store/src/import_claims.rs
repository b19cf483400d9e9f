//! The notes one import keeps of the line on which each account number and each
//! document first appeared, so that a row repeating either is reported with that line.
//! They are a temporary table in the import's own transaction, not a map in memory, so
//! a file of ten million rows needs no more memory than one of ten; the table goes
//! with the transaction (dropped before commit, or rolled back with it).

use std::collections::HashMap;

use fundpass_core::member::NewMember;
use fundpass_core::ports::{Repeat, Repeated, StoreError};
use sqlx::{Any, AssertSqlSafe, Transaction};

use crate::connect::Backend;
use crate::errors::db_error;
use crate::members::column;

/// Notes per statement (two parameters each for an insert).
const NOTES_PER_STATEMENT: usize = 1_000;

/// Creates the (empty) notes table for a new import.
pub(crate) async fn create(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
) -> Result<(), StoreError> {
    let sql = match backend {
        Backend::Sqlite => {
            "CREATE TEMP TABLE IF NOT EXISTS import_claims \
             (claim BLOB NOT NULL PRIMARY KEY, line BIGINT NOT NULL) WITHOUT ROWID"
        }
        Backend::Postgres => {
            "CREATE TEMP TABLE IF NOT EXISTS import_claims \
             (claim BYTEA NOT NULL PRIMARY KEY, line BIGINT NOT NULL) ON COMMIT DROP"
        }
    };
    sqlx::query(sql)
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    sqlx::query("DELETE FROM import_claims")
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Drops the notes before the import commits (PostgreSQL drops them at commit).
pub(crate) async fn drop_before_commit(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
) -> Result<(), StoreError> {
    if backend == Backend::Sqlite {
        sqlx::query("DROP TABLE IF EXISTS temp.import_claims")
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

/// The note key of an account number.
fn account_key(member: &NewMember) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + member.account_no.as_str().len());
    key.push(b'a');
    key.extend_from_slice(member.account_no.as_str().as_bytes());
    key
}

/// The note key of a document: its type and blind index (never the number).
fn document_key(member: &NewMember) -> Vec<u8> {
    let code = member.id_type.code().as_bytes();
    let index = member.id_number_index.as_bytes();
    let mut key = Vec::with_capacity(2 + code.len() + index.len());
    key.push(b'd');
    key.extend_from_slice(code);
    key.push(0);
    key.extend_from_slice(index);
    key
}

/// See [`fundpass_core::ports::MemberImport::claim`].
pub(crate) async fn claim(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[(u64, &NewMember)],
) -> Result<Vec<Repeat>, StoreError> {
    let keys: Vec<(Vec<u8>, Vec<u8>)> = rows
        .iter()
        .map(|(_, m)| (account_key(m), document_key(m)))
        .collect();
    let wanted: Vec<&[u8]> = keys
        .iter()
        .flat_map(|(a, d)| [a.as_slice(), d.as_slice()])
        .collect();
    let earlier = noted(tx, backend, &wanted).await?;
    // Notes made by this batch, checked as well: a repeat may be on the line before.
    let mut new: HashMap<&[u8], u64> = HashMap::with_capacity(2 * rows.len());
    let mut repeats = Vec::new();
    for ((line, _), (account, document)) in rows.iter().zip(&keys) {
        let first = |key: &[u8], new: &HashMap<&[u8], u64>| {
            earlier.get(key).or_else(|| new.get(key)).copied()
        };
        if let Some(first_line) = first(account, &new) {
            repeats.push(Repeat {
                line: *line,
                what: Repeated::Account,
                first_line,
            });
            continue;
        }
        new.insert(account, *line);
        if let Some(first_line) = first(document, &new) {
            repeats.push(Repeat {
                line: *line,
                what: Repeated::Document,
                first_line,
            });
            continue;
        }
        new.insert(document, *line);
    }
    let new: Vec<(&[u8], u64)> = new.into_iter().collect();
    note(tx, backend, &new).await?;
    Ok(repeats)
}

/// The lines noted for those of `keys` that have a note.
async fn noted(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    keys: &[&[u8]],
) -> Result<HashMap<Vec<u8>, u64>, StoreError> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(NOTES_PER_STATEMENT) {
        let mut sql = String::from("SELECT claim, line FROM import_claims WHERE claim IN ");
        crate::import::Placeholders::new(backend).tuple(&mut sql, chunk.len());
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for key in chunk {
            query = query.bind(*key);
        }
        for row in query.fetch_all(&mut **tx).await.map_err(db_error)? {
            let claim: Vec<u8> = column(&row, "claim")?;
            let line: i64 = column(&row, "line")?;
            found.insert(claim, u64::try_from(line).unwrap_or(0));
        }
    }
    Ok(found)
}

/// Writes new notes.
async fn note(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    notes: &[(&[u8], u64)],
) -> Result<(), StoreError> {
    for chunk in notes.chunks(NOTES_PER_STATEMENT) {
        let mut sql = String::from("INSERT INTO import_claims (claim, line) VALUES ");
        let mut placeholders = crate::import::Placeholders::new(backend);
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            placeholders.tuple(&mut sql, 2);
        }
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (key, line) in chunk {
            query = query
                .bind(*key)
                .bind(i64::try_from(*line).unwrap_or(i64::MAX));
        }
        query.execute(&mut **tx).await.map_err(db_error)?;
    }
    Ok(())
}
