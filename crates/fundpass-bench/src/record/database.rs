//! The databases the record benchmark writes its trail into: a SQLite file in a new
//! temporary folder (as `fundpass serve` opens its default store), and, when a
//! PostgreSQL URL is given, a new database created next to the one it names and
//! dropped at the end, so a run never reads another run's trail or leaves one behind.

use std::path::PathBuf;

use anyhow::Context as _;
use fundpass_store::Store;
use sqlx::{AnyConnection, Connection as _};
use tempfile::TempDir;

/// A migrated, empty store of its own; [`Database::remove`] deletes it.
#[derive(Debug)]
pub struct Database {
    pub store: Store,
    /// `SQLite` or `PostgreSQL`, for the report.
    pub label: &'static str,
    /// Where it lives, with no password, for `--keep` (EXPLAIN by hand).
    pub shown: String,
    /// The database's URL, for the few statements that are not the store's.
    pub url: String,
    place: Place,
}

#[derive(Debug)]
enum Place {
    Sqlite(TempDir),
    Postgres { admin_url: String, name: String },
}

impl Database {
    /// A new SQLite file in a temporary folder.
    pub async fn sqlite() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("fundpass-bench-record-")
            .tempdir()?;
        let path: PathBuf = dir.path().join("fundpass.db");
        let url = format!("sqlite://{}", path.display());
        let store = Store::connect(&url)
            .await
            .context("cannot open the SQLite store")?;
        store.migrate().await.context("cannot migrate SQLite")?;
        Ok(Self {
            store,
            label: "SQLite",
            shown: path.display().to_string(),
            url,
            place: Place::Sqlite(dir),
        })
    }

    /// A new database on the PostgreSQL server of `admin_url` (which must allow
    /// `CREATE DATABASE`).
    pub async fn postgres(admin_url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let name = format!("fundpass_bench_record_{}", std::process::id());
        let mut admin = AnyConnection::connect(admin_url)
            .await
            .context("cannot connect to the PostgreSQL URL")?;
        // One statement at a time: CREATE and DROP DATABASE refuse a transaction.
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut admin)
                .await
                .context("cannot create the benchmark's database")?;
        }
        admin.close().await?;
        let url = with_database(admin_url, &name);
        let store = Store::connect(&url)
            .await
            .context("cannot open the PostgreSQL store")?;
        store.migrate().await.context("cannot migrate PostgreSQL")?;
        Ok(Self {
            store,
            label: "PostgreSQL",
            shown: format!("database {name}"),
            url,
            place: Place::Postgres {
                admin_url: admin_url.to_owned(),
                name,
            },
        })
    }

    /// Refreshes the planner's statistics on PostgreSQL, as autovacuum does within a
    /// minute of a bulk write in production; without it, the plans would depend on
    /// whether autovacuum happened to run before the timed reads. SQLite's store never
    /// runs ANALYZE, so neither does the benchmark.
    pub async fn analyze(&self) -> anyhow::Result<()> {
        if let Place::Postgres { .. } = self.place {
            let mut conn = AnyConnection::connect(&self.url).await?;
            sqlx::raw_sql("ANALYZE audit_events")
                .execute(&mut conn)
                .await?;
            conn.close().await?;
        }
        Ok(())
    }

    /// Closes the store and deletes the database, unless `keep`: then it stays (the
    /// SQLite folder too) and its place is printed.
    pub async fn remove(self, keep: bool) -> anyhow::Result<()> {
        self.store.close().await;
        if keep {
            eprintln!("kept the {} trail: {}", self.label, self.shown);
            if let Place::Sqlite(dir) = self.place {
                let _ = dir.keep();
            }
            return Ok(());
        }
        if let Place::Postgres { admin_url, name } = self.place {
            let mut admin = AnyConnection::connect(&admin_url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await?;
            admin.close().await?;
        }
        Ok(())
    }
}

/// `postgres://user@host:port/db?query` with the database replaced by `name`.
pub(crate) fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_and_the_query_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "b"),
            "postgres://postgres@127.0.0.1:5432/b"
        );
        assert_eq!(
            with_database("postgres://u:p@db/test?sslmode=disable", "b"),
            "postgres://u:p@db/b?sslmode=disable"
        );
        assert_eq!(with_database("postgres://db", "b"), "postgres://db/b");
    }
}
