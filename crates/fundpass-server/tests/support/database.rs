//! The database under a `TestApp`: a new SQLite file, or a new PostgreSQL database
//! made through FUNDPASS_TEST_POSTGRES_URL and dropped again when the app is.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{AnyConnection, Connection as _};

/// The variable naming a PostgreSQL server to create test databases through.
pub const POSTGRES_URL_VAR: &str = "FUNDPASS_TEST_POSTGRES_URL";

/// A test's own database: its URL and what removes it afterwards.
pub struct TestDatabase {
    pub url: String,
    _guard: Guard,
}

#[allow(dead_code)] // The fields are held only for their Drop.
enum Guard {
    Sqlite(tempfile::TempDir),
    Postgres(PgDatabase),
}

impl TestDatabase {
    /// A new SQLite file in a temporary directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        Self {
            url,
            _guard: Guard::Sqlite(dir),
        }
    }

    /// A new, empty PostgreSQL database, when FUNDPASS_TEST_POSTGRES_URL is set.
    pub async fn postgres() -> Option<Self> {
        let admin_url = std::env::var(POSTGRES_URL_VAR).ok()?;
        sqlx::any::install_default_drivers();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "fp_app_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = AnyConnection::connect(&admin_url).await.unwrap();
        // One statement at a time: CREATE and DROP DATABASE refuse to run in a
        // transaction, which several statements in one string would be.
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut admin)
                .await
                .unwrap();
        }
        admin.close().await.unwrap();
        let url = with_database(&admin_url, &name);
        Some(Self {
            url,
            _guard: Guard::Postgres(PgDatabase { admin_url, name }),
        })
    }

    /// A connection that bypasses the store, for reading back what it wrote.
    pub async fn connect(&self) -> AnyConnection {
        sqlx::any::install_default_drivers();
        AnyConnection::connect(&self.url).await.unwrap()
    }
}

/// `postgres://user@host:port/db?query` with the database replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

/// A throw-away PostgreSQL database, dropped best-effort even when the test panics.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread
        // with a runtime of its own does the work.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = AnyConnection::connect(&admin_url).await.ok()?;
                // Best effort: a failure leaves a stray database, not a failed test.
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut admin)
                    .await;
                admin.close().await.ok()
            })
        });
        let _ = cleanup.join();
    }
}
