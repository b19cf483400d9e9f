//! Fresh databases per test, synthetic members, and the raw readers the secrecy tests
//! look for plaintext with.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use fundpass_core::crypto::{BlindIndex, Sealed};
use fundpass_core::identity::IdType;
use fundpass_core::member::{AccountNumber, ImportOutcome, NewMember};
use fundpass_core::ports::{CaptchaStore, MemberStore, RateLimiter};
use fundpass_store::{Backend, RedisState, RedisTimeouts, Store};
use sqlx::{AnyConnection, Connection, Row};
use tempfile::TempDir;
use time::OffsetDateTime;

/// The variable naming a PostgreSQL database to create test databases through.
pub const POSTGRES_URL_VAR: &str = "FUNDPASS_TEST_POSTGRES_URL";

/// The variable naming a Redis server to run the captcha and limiter tests against.
pub const REDIS_URL_VAR: &str = "FUNDPASS_TEST_REDIS_URL";

/// A migrated store on a database of its own, removed when dropped.
pub struct TestDb {
    pub store: Store,
    /// The URL of this database, for raw connections that bypass the store.
    pub url: String,
    guard: Guard,
}

#[allow(dead_code)] // The fields are held only for their Drop.
enum Guard {
    Sqlite(TempDir),
    Postgres(PgDatabase),
}

impl TestDb {
    /// A raw connection to the same database, for tampering and privilege checks.
    pub async fn raw(&self) -> AnyConnection {
        AnyConnection::connect(&self.url).await.unwrap()
    }

    /// Drops `role` (cluster-wide) after the database is gone.
    pub fn drop_role_afterwards(&mut self, role: &str) {
        if let Guard::Postgres(pg) = &mut self.guard {
            pg.roles.push(role.to_owned());
        }
    }

    /// The server URL of this PostgreSQL database with extra query parameters.
    /// Creates a role with the documented application grants
    /// (`sql/postgres-app-role.sql`) and returns a store whose every connection runs
    /// as that role, with its URL and the role's name. The role is dropped with the
    /// database.
    pub async fn app_role_store(&mut self, prefix: &str) -> (Store, String, String) {
        const GRANTS: &str = include_str!("../../sql/postgres-app-role.sql");
        let role = unique_name(prefix);
        self.drop_role_afterwards(&role);
        let mut owner = self.raw().await;
        let setup = format!(
            "CREATE ROLE {role} NOLOGIN; {}",
            GRANTS.replace("fundpass_app", &role)
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(setup))
            .execute(&mut owner)
            .await
            .unwrap();
        let url = self.url_with(&format!("options[role]={role}"));
        (Store::connect(&url).await.unwrap(), url, role)
    }

    pub fn url_with(&self, params: &str) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}{params}", self.url)
    }

    /// The SQLite database file and its write-ahead log (none on PostgreSQL), to grep
    /// for plaintext that may sit in free pages or the log rather than in a live row.
    pub fn sqlite_files(&self) -> Vec<std::path::PathBuf> {
        let Some(path) = self.url.strip_prefix("sqlite://") else {
            return Vec::new();
        };
        let path = path.split('?').next().unwrap_or(path);
        let main = std::path::PathBuf::from(path);
        let wal = std::path::PathBuf::from(format!("{path}-wal"));
        [main, wal].into_iter().filter(|p| p.exists()).collect()
    }
}

/// Every value of every row of `table`, as bytes (text as UTF-8, integers as decimal).
pub async fn raw_values(conn: &mut AnyConnection, table: &str) -> Vec<Vec<u8>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {table}")))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let mut values = Vec::new();
    for row in &rows {
        for i in 0..row.len() {
            let value = if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
                v.unwrap_or_default()
            } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
                v.unwrap_or_default().into_bytes()
            } else if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                v.map(|n| n.to_string()).unwrap_or_default().into_bytes()
            } else {
                panic!("{table} column {i} is neither bytes, text nor an integer");
            };
            values.push(value);
        }
    }
    assert!(!rows.is_empty(), "{table} has rows to inspect");
    values
}

/// Whether any of `values` contains `needle`.
pub fn contains(values: &[Vec<u8>], needle: &[u8]) -> bool {
    values
        .iter()
        .any(|v| v.windows(needle.len()).any(|w| w == needle))
}

/// Every backend available: SQLite always, PostgreSQL when configured.
pub async fn backends() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    dbs.extend(postgres().await);
    dbs
}

/// A captcha store and rate limiter under test, with what keeps its data alive.
pub struct Ephemeral {
    pub name: &'static str,
    pub captchas: Arc<dyn CaptchaStore>,
    pub limiter: Arc<dyn RateLimiter>,
    _db: Option<TestDb>,
}

/// Every captcha store and rate limiter available: each database backend, and Redis
/// when [`REDIS_URL_VAR`] is set (under a key prefix of its own, so parallel tests and
/// runs never share a key; the keys expire with their captchas and windows).
pub async fn ephemeral_backends() -> Vec<Ephemeral> {
    let mut all: Vec<_> = backends()
        .await
        .into_iter()
        .map(|db| Ephemeral {
            name: match db.store.backend() {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            },
            captchas: Arc::new(db.store.clone()),
            limiter: Arc::new(db.store.clone()),
            _db: Some(db),
        })
        .collect();
    if let Ok(url) = std::env::var(REDIS_URL_VAR) {
        // A randomly keyed hasher (std seeds each one from the OS) makes the prefix
        // unique across runs.
        let salt = std::hash::BuildHasher::hash_one(
            &std::collections::hash_map::RandomState::new(),
            std::process::id(),
        );
        let prefix = format!("{}_{salt:x}", unique_name("fundpass-test"));
        let redis = RedisState::open(&url, &prefix, RedisTimeouts::default()).unwrap();
        all.push(Ephemeral {
            name: "redis",
            captchas: Arc::new(redis.clone()),
            limiter: Arc::new(redis),
            _db: None,
        });
    }
    all
}

/// A migrated store on a new SQLite file.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fundpass.db").display());
    let store = Store::connect(&url).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    store.migrate().await.unwrap();
    let url = format!("{url}?mode=rw");
    TestDb {
        store,
        url,
        guard: Guard::Sqlite(dir),
    }
}

/// A migrated store on a new PostgreSQL database, if one is configured.
pub async fn postgres() -> Option<TestDb> {
    let admin_url = std::env::var(POSTGRES_URL_VAR).ok()?;
    sqlx::any::install_default_drivers();
    let name = unique_name("fp_test");
    let mut admin = AnyConnection::connect(&admin_url).await.unwrap();
    // One statement at a time: several in one string run as one transaction, which
    // CREATE and DROP DATABASE refuse.
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
    let guard = PgDatabase {
        admin_url: admin_url.clone(),
        name: name.clone(),
        roles: Vec::new(),
    };
    let url = with_database(&admin_url, &name);
    let store = Store::connect(&url).await.unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
    store.migrate().await.unwrap();
    Some(TestDb {
        store,
        url,
        guard: Guard::Postgres(guard),
    })
}

/// A name no other test (in this or a concurrent run) uses.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}_{}_{n}", std::process::id())
}

/// `postgres://user@host:port/db?query` with the database replaced.
fn with_database(url: &str, name: &str) -> String {
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

/// A throw-away PostgreSQL database (and roles), dropped best-effort even when the test
/// panics.
struct PgDatabase {
    admin_url: String,
    name: String,
    roles: Vec<String>,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let mut statements = vec![format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )];
        statements.extend(
            self.roles
                .iter()
                .map(|role| format!("DROP ROLE IF EXISTS {role}")),
        );
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread
        // with a runtime of its own.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = AnyConnection::connect(&admin_url).await.ok()?;
                for sql in statements {
                    // Best effort: a failure leaves a stray database, not a failed test.
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut admin)
                        .await;
                }
                admin.close().await.ok()
            })
        });
        let _ = cleanup.join();
    }
}

/// A fixed instant plus `secs` seconds, whole microseconds so it survives storage.
pub fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_750_000_000 + secs).unwrap()
}

/// Deterministic pseudo-random bytes (splitmix64), so indexes spread over the B-tree
/// the way real MACs do.
pub fn bytes(seed: u64, tag: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ tag.rotate_left(17);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.extend_from_slice(&(z ^ (z >> 31)).to_be_bytes());
    }
    out.truncate(len);
    out
}

/// The account number of synthetic member `n`.
pub fn account(n: u64) -> AccountNumber {
    AccountNumber::parse(&format!("{n:010}")).unwrap()
}

/// The document blind index of synthetic member `n`.
pub fn document_index(n: u64) -> BlindIndex {
    BlindIndex::from_bytes(bytes(n, 1, 32))
}

/// The phone blind index of synthetic member `n`.
pub fn phone_index(n: u64) -> BlindIndex {
    BlindIndex::from_bytes(bytes(n, 2, 32))
}

/// Synthetic member `n`, with sealed values the size of real ones.
pub fn member(n: u64) -> NewMember {
    NewMember {
        account_no: account(n),
        name: format!("测试会员{n}"),
        id_type: IdType::ResidentId,
        id_number: Sealed::from_bytes(bytes(n, 3, 57)),
        id_number_index: document_index(n),
        phone: Sealed::from_bytes(bytes(n, 4, 50)),
        phone_index: phone_index(n),
    }
}

/// Imports `rows` in one committed import.
pub async fn import(store: &Store, rows: &[NewMember], when: OffsetDateTime) -> ImportOutcome {
    let mut import = store.begin_import().await.unwrap();
    let outcome = import.upsert(rows, when).await.unwrap();
    import.commit().await.unwrap();
    outcome
}
