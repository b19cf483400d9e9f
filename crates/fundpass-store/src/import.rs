//! [`MemberImport`]: one import as one database transaction, written in multi-row
//! statements so that a million members load in about a minute or less.

use std::collections::HashSet;
use std::fmt::Write as _;

use async_trait::async_trait;
use fundpass_core::crypto::BlindIndex;
use fundpass_core::identity::IdType;
use fundpass_core::member::{AccountNumber, ImportOutcome, NewMember};
use fundpass_core::ports::{MemberImport, Repeat, StoreError};
use sqlx::{Any, AssertSqlSafe, Transaction};
use time::OffsetDateTime;

use crate::codec::micros;
use crate::connect::{Backend, Store};
use crate::errors::{bad_value, db_error};
use crate::members::column;

/// Rows per upsert statement. Nine parameters a row makes 9,000: far below SQLite's
/// 32,766 and PostgreSQL's 65,535, and large enough that per-statement overhead
/// disappears.
const UPSERT_ROWS_PER_STATEMENT: usize = 1_000;

/// Document pairs per lookup statement (two parameters each).
const LOOKUP_PAIRS_PER_STATEMENT: usize = 1_000;

/// SQLite's limit on bound parameters (PostgreSQL's, 65,535, is higher).
const MAX_PARAMETERS: usize = 32_766;
/// Parameters in a full upsert statement.
const UPSERT_PARAMETERS: usize = 9 * UPSERT_ROWS_PER_STATEMENT;
const _: () = assert!(UPSERT_PARAMETERS <= MAX_PARAMETERS);
const _: () = assert!(2 * LOOKUP_PAIRS_PER_STATEMENT <= MAX_PARAMETERS);

/// The constraint an account number repeated within one batch would break.
const ACCOUNT_CONSTRAINT: &str = "members_account_no_key";

/// An import in progress: a transaction that commits on [`MemberImport::commit`] and
/// rolls back when dropped.
pub(crate) struct Import {
    tx: Transaction<'static, Any>,
    backend: Backend,
    /// SQLite: the connection's page-cache size before the import enlarged it.
    restore_cache_size: Option<i64>,
}

impl std::fmt::Debug for Import {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Import { .. }")
    }
}

/// SQLite page cache for an import, in KiB. With the default 2 MiB a million-row
/// import spills dirty pages to the WAL over and over and takes half as long again.
const SQLITE_IMPORT_CACHE_KIB: i64 = 32 * 1024;

impl Import {
    /// Opens the import's transaction (on SQLite, with the write lock and a larger page
    /// cache for its connection until commit).
    pub(crate) async fn start(store: &Store) -> Result<Self, StoreError> {
        let mut tx = store.begin_write().await?;
        let mut restore_cache_size = None;
        if store.backend == Backend::Sqlite {
            let current: i64 = sqlx::query_scalar("PRAGMA cache_size")
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
            set_cache_size(&mut tx, -SQLITE_IMPORT_CACHE_KIB).await?;
            restore_cache_size = Some(current);
        }
        crate::import_claims::create(&mut tx, store.backend).await?;
        Ok(Self {
            tx,
            backend: store.backend,
            restore_cache_size,
        })
    }
}

async fn set_cache_size(tx: &mut Transaction<'static, Any>, size: i64) -> Result<(), StoreError> {
    // PRAGMA takes no bound parameters; `size` is an integer we produced.
    sqlx::raw_sql(AssertSqlSafe(format!("PRAGMA cache_size = {size}")))
        .execute(&mut **tx)
        .await
        .map(|_| ())
        .map_err(db_error)
}

#[async_trait]
impl MemberImport for Import {
    async fn existing_by_index(
        &mut self,
        indexes: &[(IdType, BlindIndex)],
    ) -> Result<Vec<(IdType, BlindIndex, AccountNumber)>, StoreError> {
        let mut found = Vec::new();
        for chunk in indexes.chunks(LOOKUP_PAIRS_PER_STATEMENT) {
            let mut query = sqlx::query(AssertSqlSafe(lookup_sql(self.backend, chunk.len())));
            for (id_type, index) in chunk {
                query = query.bind(id_type.code()).bind(index.as_bytes());
            }
            let rows = query.fetch_all(&mut *self.tx).await.map_err(db_error)?;
            for row in &rows {
                let id_type: String = column(row, "id_type")?;
                let account: String = column(row, "account_no")?;
                found.push((
                    IdType::from_code(&id_type).ok_or_else(|| bad_value("document type"))?,
                    BlindIndex::from_bytes(column(row, "id_number_index")?),
                    AccountNumber::parse(&account).map_err(|_| bad_value("account number"))?,
                ));
            }
        }
        Ok(found)
    }

    async fn claim(&mut self, rows: &[(u64, &NewMember)]) -> Result<Vec<Repeat>, StoreError> {
        crate::import_claims::claim(&mut self.tx, self.backend, rows).await
    }

    async fn upsert(
        &mut self,
        rows: &[NewMember],
        at: OffsetDateTime,
    ) -> Result<ImportOutcome, StoreError> {
        refuse_repeated_accounts(rows)?;
        let mut outcome = ImportOutcome::default();
        for chunk in rows.chunks(UPSERT_ROWS_PER_STATEMENT) {
            let mut query =
                sqlx::query_scalar(AssertSqlSafe(upsert_sql(self.backend, chunk.len())));
            for m in chunk {
                query = query
                    .bind(m.account_no.as_str())
                    .bind(m.name.as_str())
                    .bind(m.id_type.code())
                    .bind(m.id_number.as_bytes())
                    .bind(m.id_number_index.as_bytes())
                    .bind(m.phone.as_bytes())
                    .bind(m.phone_index.as_bytes())
                    .bind(micros(at))
                    .bind(micros(at));
            }
            // A new row has the initial version 1; an updated row has at least 2.
            let versions: Vec<i64> = query.fetch_all(&mut *self.tx).await.map_err(db_error)?;
            let inserted = versions.iter().filter(|v| **v == 1).count() as u64;
            outcome += ImportOutcome {
                inserted,
                updated: versions.len() as u64 - inserted,
            };
        }
        Ok(outcome)
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        // Restored before COMMIT so the pooled connection goes back as it came. (An
        // import dropped without commit leaves its connection with the larger limit,
        // which costs memory only as pages are actually cached.)
        crate::import_claims::drop_before_commit(&mut self.tx, self.backend).await?;
        if let Some(size) = self.restore_cache_size {
            set_cache_size(&mut self.tx, size).await?;
        }
        self.tx.commit().await.map_err(db_error)
    }
}

/// One account twice in a batch is refused the same way on both backends (PostgreSQL
/// would refuse to update a row twice in one statement; SQLite would keep the last).
fn refuse_repeated_accounts(rows: &[NewMember]) -> Result<(), StoreError> {
    let mut seen = HashSet::with_capacity(rows.len());
    if rows.iter().all(|m| seen.insert(m.account_no.as_str())) {
        Ok(())
    } else {
        Err(StoreError::Duplicate(ACCOUNT_CONSTRAINT.to_owned()))
    }
}

/// Writes bind placeholders in the form each backend binds fastest: anonymous `?` for
/// SQLite, whose lookup of a numbered parameter's name is linear (binding a 9,000
/// parameter statement numbered `$n` costs tens of milliseconds), `$n` for PostgreSQL,
/// which knows no other form.
pub(crate) struct Placeholders {
    backend: Backend,
    count: usize,
}

impl Placeholders {
    pub(crate) fn new(backend: Backend) -> Self {
        Self { backend, count: 0 }
    }

    /// Appends a parenthesised tuple of `n` placeholders.
    pub(crate) fn tuple(&mut self, sql: &mut String, n: usize) {
        sql.push('(');
        for i in 0..n {
            if i > 0 {
                sql.push(',');
            }
            self.count += 1;
            match self.backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    let _ = write!(sql, "${}", self.count);
                }
            }
        }
        sql.push(')');
    }
}

/// Inserts `rows` members; an existing account number gets the new name, document and
/// phone while its status, credentials and counters stay.
fn upsert_sql(backend: Backend, rows: usize) -> String {
    let mut sql = String::with_capacity(400 + rows * 64);
    sql.push_str(
        "INSERT INTO members (account_no, name, id_type, id_number_enc, id_number_index, \
         phone_enc, phone_index, created_at, updated_at) VALUES ",
    );
    let mut placeholders = Placeholders::new(backend);
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        placeholders.tuple(&mut sql, 9);
    }
    sql.push_str(
        " ON CONFLICT (account_no) DO UPDATE SET name = excluded.name, \
         id_type = excluded.id_type, id_number_enc = excluded.id_number_enc, \
         id_number_index = excluded.id_number_index, phone_enc = excluded.phone_enc, \
         phone_index = excluded.phone_index, updated_at = excluded.updated_at, \
         version = members.version + 1 \
         RETURNING version",
    );
    sql
}

/// Finds which of `pairs` (document type, blind index) are already held.
///
/// Written as one correlated lookup per pair rather than `(id_type, id_number_index) IN
/// (VALUES …)`: during a first import the table grows inside one transaction, without
/// statistics, and PostgreSQL then chose a hash join over a full scan per batch (80 ms
/// a batch at a million rows). A scalar subquery on the unique key is always an index
/// probe, on both backends.
fn lookup_sql(backend: Backend, pairs: usize) -> String {
    let mut sql = String::with_capacity(300 + pairs * 12);
    sql.push_str(
        "SELECT id_type, id_number_index, account_no FROM (\
         SELECT v.column1 AS id_type, v.column2 AS id_number_index, \
         (SELECT m.account_no FROM members m \
         WHERE m.id_type = v.column1 AND m.id_number_index = v.column2) AS account_no \
         FROM (VALUES ",
    );
    let mut placeholders = Placeholders::new(backend);
    for pair in 0..pairs {
        if pair > 0 {
            sql.push(',');
        }
        placeholders.tuple(&mut sql, 2);
    }
    sql.push_str(") AS v) AS held WHERE account_no IS NOT NULL");
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_statements_number_their_parameters() {
        let sql = upsert_sql(Backend::Postgres, 2);
        assert!(sql.contains(
            "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9),($10,$11,$12,$13,$14,$15,$16,$17,$18) ON CONFLICT"
        ));
        assert!(lookup_sql(Backend::Postgres, 2).contains("(VALUES ($1,$2),($3,$4)) AS v"));
    }

    #[test]
    fn sqlite_statements_use_anonymous_parameters() {
        let sql = upsert_sql(Backend::Sqlite, 2);
        assert!(sql.contains("VALUES (?,?,?,?,?,?,?,?,?),(?,?,?,?,?,?,?,?,?) ON CONFLICT"));
        assert!(lookup_sql(Backend::Sqlite, 2).contains("(VALUES (?,?),(?,?)) AS v"));
    }
}
