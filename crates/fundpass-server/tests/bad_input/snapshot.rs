//! Every row of every table of the app's database, read around the store, so that a
//! test can say exactly what one request changed.
//!
//! Each row is read as its columns quoted and joined by commas: one text per row that
//! changes when any column does, except [`UNWATCHED`] ones.

use std::collections::BTreeMap;

use sqlx::{AnyConnection, Connection as _};

use crate::support::TestApp;

/// Columns left out: a request that carries a live session keeps it alive, refused
/// or not (a session made, ended or otherwise changed still shows).
pub const UNWATCHED: &[&str] = &["last_seen_at"];

/// The rows of each table, each table's rows sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot(BTreeMap<String, Vec<String>>);

/// A connection for taking snapshots, and the statement that reads each table.
pub struct Reader {
    conn: AnyConnection,
    queries: Vec<(String, String)>,
}

impl Reader {
    /// Connects to the database of `app` and learns its tables.
    pub async fn open(app: &TestApp) -> Self {
        sqlx::any::install_default_drivers();
        let url = app.database_url();
        let mut conn = AnyConnection::connect(url).await.unwrap();
        let postgres = url.starts_with("postgres");
        let tables: Vec<String> = if postgres {
            sqlx::query_scalar(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() \
                 AND tablename NOT LIKE '\\_sqlx%' ORDER BY tablename",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap()
        } else {
            sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                 AND name NOT LIKE '\\_sqlx%' ESCAPE '\\' ORDER BY name",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap()
        };
        assert!(tables.len() > 10, "tables found: {tables:?}");
        let mut queries = Vec::new();
        for table in tables {
            let columns: Vec<String> = if postgres {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT column_name::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = '{table}' \
                     ORDER BY ordinal_position"
                )))
            } else {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
                )))
            }
            .fetch_all(&mut conn)
            .await
            .unwrap();
            let quoted: Vec<String> = columns
                .iter()
                .filter(|c| !UNWATCHED.contains(&c.as_str()))
                .map(|c| {
                    if postgres {
                        format!("quote_nullable(\"{c}\"::text)")
                    } else {
                        format!("quote(\"{c}\")")
                    }
                })
                .collect();
            let query = format!("SELECT {} FROM \"{table}\"", quoted.join(" || ',' || "));
            queries.push((table, query));
        }
        Self { conn, queries }
    }

    /// Every row of every table, now.
    pub async fn take(&mut self) -> Snapshot {
        let mut tables = BTreeMap::new();
        for (table, query) in &self.queries {
            let mut rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(query.clone()))
                .fetch_all(&mut self.conn)
                .await
                .unwrap();
            rows.sort_unstable();
            tables.insert(table.clone(), rows);
        }
        Snapshot(tables)
    }

    pub async fn close(self) {
        self.conn.close().await.unwrap();
    }
}

/// What changed in one table: rows that appeared and rows that went (a changed row
/// is one of each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub table: String,
    pub added: usize,
    pub removed: usize,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (+{} −{})", self.table, self.added, self.removed)
    }
}

impl Snapshot {
    /// The tables whose rows differ in `after`.
    pub fn changes(&self, after: &Snapshot) -> Vec<Change> {
        let mut out = Vec::new();
        for (table, rows) in &after.0 {
            let before = self.0.get(table).map(Vec::as_slice).unwrap_or_default();
            if before == rows.as_slice() {
                continue;
            }
            out.push(Change {
                table: table.clone(),
                added: rows.iter().filter(|r| !before.contains(r)).count(),
                removed: before.iter().filter(|r| !rows.contains(r)).count(),
            });
        }
        out
    }
}
