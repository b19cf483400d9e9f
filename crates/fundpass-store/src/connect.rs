//! Opening the database, applying the schema, and the few statements that differ
//! between SQLite and PostgreSQL.

use fundpass_core::ports::StoreError;
use sqlx::any::{Any, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool, Connection, Transaction};

use crate::errors::{db_error, migrate_error};

/// Longest a request waits for a database connection. Past it the store answers
/// [`StoreError::Unavailable`], which members see as "busy, try again in a moment"
/// (503 with `Retry-After`): when the database is down, a request is refused in two
/// seconds instead of waiting out sqlx's default of 30 (the whole request timeout);
/// when every connection is taken, the excess load is refused instead of queued.
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Per-connection SQLite settings: wait up to 5 s for a writer instead of failing at
/// once, enforce foreign keys, and sync at checkpoints only (safe with WAL: a power cut
/// may lose the last commits but never corrupts the file).
const SQLITE_CONNECTION_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = NORMAL;";

/// Which database a [`Store`] talks to. The SQL is shared; the backend decides the
/// migrations, how a writing transaction starts and how the audit head is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// A local file: zero setup, one instance.
    Sqlite,
    /// A server: production and every multi-instance deployment.
    Postgres,
}

impl Backend {
    /// Recognises the backend from a database URL's scheme (`sqlite:`, `postgres:`,
    /// `postgresql:`), so configuration needs only the URL.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            // Only the scheme is echoed: the rest of a URL may hold a password.
            _ => Err(StoreError::Backend(format!(
                "unsupported database URL scheme {scheme:?} (expected sqlite: or postgres:)"
            ))),
        }
    }
}

/// The database behind every store port: a connection pool plus the backend kind.
/// Cheap to clone; clones share the pool.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
}

impl Store {
    /// Opens a connection pool. For SQLite the file is created when missing (unless the
    /// URL sets `mode=`), switched to WAL journaling, and every connection gets a 5 s
    /// busy timeout, foreign keys and `synchronous = NORMAL`.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let pool = match backend {
            Backend::Sqlite => connect_sqlite(url).await?,
            Backend::Postgres => AnyPoolOptions::new()
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect(url)
                .await
                .map_err(db_error)?,
        };
        Ok(Store { pool, backend })
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies the embedded migrations of this backend that have not run yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.migrator().run(&self.pool).await.map_err(migrate_error)
    }

    /// Whether every embedded migration has been applied, read without writing (so
    /// that a role without DDL rights can tell). `false` when the schema has never
    /// been made, or its record cannot be read.
    pub async fn schema_is_current(&self) -> bool {
        let applied: Vec<i64> =
            match sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await
            {
                Ok(applied) => applied,
                Err(_) => return false,
            };
        self.migrator().iter().all(|m| applied.contains(&m.version))
    }

    /// Which database this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Recomputes the planner's statistics of the members table (PostgreSQL;
    /// SQLite plans these lookups by their unique and plain indexes alone). A role
    /// that does not own the table gets a warning from PostgreSQL, not an error, and
    /// autovacuum does it later.
    pub async fn refresh_member_statistics(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("ANALYZE members")
                .execute(&self.pool)
                .await
                .map_err(db_error)?;
        }
        Ok(())
    }

    /// Checks that the database answers, for readiness probes.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(db_error)
    }

    /// Closes every connection and waits for them, so that shutdown is clean and a test
    /// can drop its database afterwards.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and then writes
    /// fails instead of waiting when another writer got in between.
    ///
    /// The time it takes (a connection from the pool, and on SQLite the write lock) is
    /// recorded as the database wait.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        let started = std::time::Instant::now();
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
        .map_err(db_error);
        fundpass_core::metrics::database_waited(started.elapsed());
        tx
    }
}

async fn connect_sqlite(url: &str) -> Result<AnyPool, StoreError> {
    let url = with_default_mode(url);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let options = AnyPoolOptions::new()
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                sqlx::raw_sql(SQLITE_CONNECTION_PRAGMAS)
                    .execute(conn)
                    .await
                    .map(|_| ())
            })
        });
    if in_memory {
        // Each connection to `:memory:` would be its own empty database: keep exactly
        // one, for the life of the pool.
        return options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect(&url)
            .await
            .map_err(db_error);
    }
    // WAL is a property of the file; switching needs an exclusive lock, so do it once,
    // before the pool opens its connections.
    let mut conn = AnyConnection::connect(&url).await.map_err(db_error)?;
    sqlx::raw_sql("PRAGMA journal_mode = WAL")
        .execute(&mut conn)
        .await
        .map_err(db_error)?;
    conn.close().await.map_err(db_error)?;
    options.connect(&url).await.map_err(db_error)
}

/// Adds `mode=rwc` (create the file when missing) unless the URL chooses a mode.
fn with_default_mode(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}mode=rwc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_schema_is_current_only_once_every_migration_ran() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("fp.db").display());
        let store = Store::connect(&url).await.unwrap();
        assert!(!store.schema_is_current().await);
        store.migrate().await.unwrap();
        assert!(store.schema_is_current().await);
        sqlx::query("DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)")
            .execute(&store.pool)
            .await
            .unwrap();
        assert!(!store.schema_is_current().await);
        store.close().await;
    }

    #[test]
    fn the_backend_follows_the_url_scheme() {
        assert_eq!(
            Backend::from_url("sqlite://data/fp.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("postgres://u:p@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("postgresql://h/db").unwrap(),
            Backend::Postgres
        );
        let err = Backend::from_url("mysql://root:secret@h/db").unwrap_err();
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn sqlite_files_are_created_unless_a_mode_is_given() {
        assert_eq!(with_default_mode("sqlite://a.db"), "sqlite://a.db?mode=rwc");
        assert_eq!(
            with_default_mode("sqlite://a.db?cache=shared"),
            "sqlite://a.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            with_default_mode("sqlite://a.db?mode=ro"),
            "sqlite://a.db?mode=ro"
        );
        assert_eq!(with_default_mode("sqlite::memory:"), "sqlite::memory:");
    }
}
