//! `TestApp`: the real router on a random port, a fresh SQLite database (or
//! PostgreSQL when FUNDPASS_TEST_POSTGRES_URL is set and the test asks for it), a
//! fixed clock the test moves, and the outbox read back as the member's phone would.
//! Every app is watched by the exposure check (`exposure.rs`): a full document or
//! phone number in any answer or audit event fails the test.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;

use fundpass_core::credentials::{HashParams, PasswordHasher};
use fundpass_core::crypto::{CipherSuite, Field, Keyring};
use fundpass_core::member::{ImportRow, MemberId};
use fundpass_core::portal::{Portal, PortalPolicy, SmsTemplates};
use fundpass_core::ports::{CaptchaStore, MemberStore, OutboxStore, RateLimiter};
use fundpass_core::testing::FixedClock;
use fundpass_server::hash_pool::HashPool;
use fundpass_server::state::{AppState, Mode, ServerSettings};
use fundpass_server::system::OsSecrets;
use fundpass_store::Store;
use reqwest::header::HeaderMap;
use time::macros::datetime;

pub mod database;
pub mod exposure;
mod scan;

use database::TestDatabase;

/// A member as imported, and the passwords they will choose.
#[derive(Debug, Clone, Copy)]
pub struct Person {
    pub account: &'static str,
    pub name: &'static str,
    pub id_number: &'static str,
    pub phone: &'static str,
}

/// Nobody by this description is in the registry.
pub const STRANGER: Person = Person {
    account: "100200300499",
    name: "赵六",
    id_number: "440305197806157894",
    phone: "15011112222",
};

/// A response read whole: status, headers and body text.
#[derive(Debug)]
pub struct Received {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

/// Sends `request` as if from the client address `ip` and reads the whole response;
/// panics when the app's exposure check found a full document or phone number in it
/// (or in the audit events written meanwhile).
pub async fn send_from(request: reqwest::RequestBuilder, ip: &str) -> Received {
    let (client, request) = request.header("x-forwarded-for", ip).build_split();
    let request = request.unwrap();
    let url = request.url();
    let authority = format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or_default()
    );
    let response = client.execute(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    exposure::report(&authority);
    Received {
        status,
        headers,
        body,
    }
}

/// The value of header `name`, when it is there and is text.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A running fundpass for one test.
pub struct TestApp {
    pub addr: SocketAddr,
    pub portal: Portal,
    pub store: Store,
    pub clock: Arc<FixedClock>,
    pub keyring: Arc<Keyring>,
    exposure: Arc<exposure::Guard>,
    db: TestDatabase,
}

/// Options for [`TestApp::spawn_with`].
pub struct TestOptions {
    pub mode: Mode,
    pub policy: PortalPolicy,
    /// Makes the query-by-token face provider from the app's clock, when the test
    /// needs one.
    pub face_provider: Option<FaceProviderFactory>,
}

/// Builds a face provider that signs its requests by the app's clock.
pub type FaceProviderFactory =
    Box<dyn FnOnce(Arc<FixedClock>) -> Arc<dyn fundpass_core::ports::FaceProvider>>;

impl Default for TestOptions {
    fn default() -> Self {
        Self {
            mode: Mode::Dev,
            policy: PortalPolicy {
                dev_mode: true,
                ..PortalPolicy::default()
            },
            face_provider: None,
        }
    }
}

impl TestApp {
    /// Dev mode, default rules, SQLite.
    pub async fn spawn() -> Self {
        Self::spawn_with(TestOptions::default()).await
    }

    pub async fn spawn_with(options: TestOptions) -> Self {
        Self::spawn_with_pool(options, Arc::new(HashPool::new(2, 64))).await
    }

    /// With routes added as the binary adds them (the SMS delivery-report
    /// endpoints), built once the app's store and clock exist.
    pub async fn spawn_with_routes(
        options: TestOptions,
        routes: impl FnOnce(&Store, Arc<FixedClock>) -> axum::Router<AppState>,
    ) -> Self {
        let pool = Arc::new(HashPool::new(2, 64));
        Self::spawn_on_with(TestDatabase::sqlite(), options, pool, routes, None).await
    }

    /// Dev mode, default rules, SQLite, with captchas and rate limits kept in `redis`.
    pub async fn spawn_with_redis(redis: fundpass_store::RedisState) -> Self {
        let pool = Arc::new(HashPool::new(2, 64));
        let db = TestDatabase::sqlite();
        let none = |_: &Store, _| axum::Router::new();
        Self::spawn_on_with(db, TestOptions::default(), pool, none, Some(redis)).await
    }

    /// Like [`Self::spawn_with`], on a new PostgreSQL database; `None` when
    /// FUNDPASS_TEST_POSTGRES_URL is not set.
    pub async fn spawn_on_postgres(options: TestOptions) -> Option<Self> {
        let db = TestDatabase::postgres().await?;
        Some(Self::spawn_on(db, options, Arc::new(HashPool::new(2, 64))).await)
    }

    /// With the CPU pool given (tests that need it full).
    pub async fn spawn_with_pool(
        options: TestOptions,
        pool: Arc<dyn fundpass_core::ports::CpuPool>,
    ) -> Self {
        Self::spawn_on(TestDatabase::sqlite(), options, pool).await
    }

    async fn spawn_on(
        db: TestDatabase,
        options: TestOptions,
        pool: Arc<dyn fundpass_core::ports::CpuPool>,
    ) -> Self {
        Self::spawn_on_with(db, options, pool, |_, _| axum::Router::new(), None).await
    }

    async fn spawn_on_with(
        db: TestDatabase,
        options: TestOptions,
        pool: Arc<dyn fundpass_core::ports::CpuPool>,
        routes: impl FnOnce(&Store, Arc<FixedClock>) -> axum::Router<AppState>,
        redis: Option<fundpass_store::RedisState>,
    ) -> Self {
        let store = Store::connect(&db.url).await.unwrap();
        store.migrate().await.unwrap();
        let clock = Arc::new(FixedClock::at(datetime!(2026-11-23 02:00 UTC)));
        let keyring = Arc::new(Keyring::generate(CipherSuite::Aes256Gcm, &OsSecrets));
        // Small Argon2 costs keep the suite fast; the benchmark uses the real ones.
        let hasher = Arc::new(
            PasswordHasher::new(HashParams {
                m_kib: 256,
                t: 1,
                p: 1,
            })
            .unwrap(),
        );
        let mut policy = options.policy;
        let face_simulator = (options.mode == Mode::Dev)
            .then(|| fundpass_server::state::dev_face_simulator(&mut policy, &OsSecrets));
        let shared = Arc::new(store.clone());
        let (captchas, limiter): (Arc<dyn CaptchaStore>, Arc<dyn RateLimiter>) = match redis {
            Some(redis) => {
                let redis = Arc::new(redis);
                (redis.clone(), redis)
            }
            None => (shared.clone(), shared.clone()),
        };
        let portal = Portal {
            store: shared,
            captchas,
            limiter,
            pool,
            keyring: keyring.clone(),
            hasher,
            clock: clock.clone(),
            rng: Arc::new(OsSecrets),
            policy,
            templates: SmsTemplates::default(),
            face_provider: options.face_provider.map(|make| make(clock.clone())),
        };
        let settings = ServerSettings {
            mode: options.mode,
            secure_cookies: options.mode == Mode::Production,
            public_origin: "http://127.0.0.1".into(),
            trust_forwarded_for: true,
            internal_listener: false,
        };
        let state = AppState {
            portal: portal.clone(),
            settings: Arc::new(settings),
            face_simulator,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        exposure::know_person(&STRANGER);
        let guard = exposure::Guard::register(&addr.to_string(), store.clone());
        let extra = routes(&store, clock.clone());
        let app = fundpass_server::app::build_with(state, extra).layer(
            axum::middleware::from_fn_with_state(guard.clone(), exposure::guard),
        );
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Self {
            addr,
            portal,
            store,
            clock,
            keyring,
            exposure: guard,
            db,
        }
    }

    /// The URL of the app's database, for reading it back around the store.
    pub fn database_url(&self) -> &str {
        &self.db.url
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A client that keeps cookies and does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Imports one ordinary member the way `fundpass import` does.
    pub async fn seed_member(
        &self,
        account: &str,
        name: &str,
        id_number: &str,
        phone: &str,
    ) -> MemberId {
        exposure::know(exposure::Kind::DocumentNumber, id_number);
        exposure::know(exposure::Kind::Phone, phone);
        let row = ImportRow {
            account_no: account.into(),
            name: name.into(),
            id_type: "resident_id".into(),
            id_number: id_number.into(),
            phone: phone.into(),
        };
        let valid = row.validate(time::macros::date!(2026 - 11 - 23)).unwrap();
        let member = valid.seal(&self.keyring, &OsSecrets);
        let mut import = self.store.begin_import().await.unwrap();
        import.upsert(&[member], self.clock_now()).await.unwrap();
        import.commit().await.unwrap();
        let account = fundpass_core::member::AccountNumber::parse(account).unwrap();
        self.store
            .member_by_account(&account)
            .await
            .unwrap()
            .unwrap()
            .id
    }

    /// Imports `person` as an ordinary member.
    pub async fn seed(&self, person: &Person) -> MemberId {
        self.seed_member(person.account, person.name, person.id_number, person.phone)
            .await
    }

    /// The holds in force now on the member with `account`.
    pub async fn active_holds_of(&self, account: &str) -> Vec<fundpass_core::member::Hold> {
        use fundpass_core::ports::HoldStore as _;
        let account = fundpass_core::member::AccountNumber::parse(account).unwrap();
        let member = self
            .store
            .member_by_account(&account)
            .await
            .unwrap()
            .unwrap();
        self.store
            .active_holds(member.id, self.clock_now())
            .await
            .unwrap()
    }

    pub fn clock_now(&self) -> time::OffsetDateTime {
        use fundpass_core::ports::Clock as _;
        self.clock.now()
    }

    /// Texts sent to `phone` (11 digits), newest first, decrypted as the phone shows them.
    pub async fn sms_to(&self, phone: &str) -> Vec<String> {
        let mut out = Vec::new();
        for m in self.store.recent_messages(500).await.unwrap() {
            if self.keyring.open(Field::Phone, &m.to).unwrap() == phone {
                out.push(self.keyring.open(Field::Message, &m.body).unwrap());
            }
        }
        out
    }

    /// The six-digit code in the newest code message to `phone` (the test clock
    /// stands still, so notices sent in the same instant are skipped by purpose).
    pub async fn last_code_to(&self, phone: &str) -> String {
        let mut texts = Vec::new();
        for m in self.store.recent_messages(500).await.unwrap() {
            if m.purpose.ends_with("_code")
                && self.keyring.open(Field::Phone, &m.to).unwrap() == phone
            {
                texts.push(self.keyring.open(Field::Message, &m.body).unwrap());
            }
        }
        let text = texts.first().expect("no code sent to that phone");
        let digits: Vec<char> = text.chars().collect();
        digits
            .windows(6)
            .find(|w| w.iter().all(char::is_ascii_digit))
            .map(|w| w.iter().collect())
            .expect("no code in the text")
    }

    /// The answer of a captcha issued in dev mode.
    pub async fn captcha_answer(&self, captcha_id: &str) -> String {
        self.portal
            .dev_captcha_answer(captcha_id)
            .await
            .unwrap()
            .expect("no such captcha")
    }
}

/// The id of the member `person` (seeded already).
pub async fn member_id(app: &TestApp, person: &Person) -> fundpass_core::member::MemberId {
    use fundpass_core::ports::MemberStore as _;
    let account = fundpass_core::member::AccountNumber::parse(person.account).unwrap();
    app.store
        .member_by_account(&account)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// The benefit qualification check's data, as the benefit import writes it.
impl TestApp {
    /// China's date on the test clock.
    pub fn china_today(&self) -> time::Date {
        self.clock_now()
            .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
            .date()
    }

    /// Gives the member `person` (seeded already) a yearly pension due on `due`, or
    /// ended by a reported date of death; returns the member's id.
    pub async fn entitle(
        &self,
        person: &Person,
        due: time::Date,
        deceased_on: Option<time::Date>,
    ) -> fundpass_core::member::MemberId {
        use fundpass_core::ports::QualificationStore as _;
        use fundpass_core::qualification::{Benefit, BenefitKind, QualificationStatus};
        let id = member_id(self, person).await;
        let benefit = Benefit {
            member_id: id,
            kind: BenefitKind::Pension,
            start_date: time::Date::from_calendar_date(2018, time::Month::March, 15).unwrap(),
            cycle_months: 12,
            due_date: due,
            status: if deceased_on.is_some() {
                QualificationStatus::Ended
            } else {
                QualificationStatus::Qualified
            },
            suspended_since: None,
            last_check_at: None,
            last_check_channel: None,
            failed_attempts: 0,
            deceased_on,
            version: 0,
        };
        let mut tx = self.store.begin_benefit_import().await.unwrap();
        tx.upsert(&[benefit]).await.unwrap();
        tx.commit().await.unwrap();
        id
    }
}

/// Reading back what a test did: the audit trail and the rows of a table.
impl TestApp {
    /// Every audit event recorded so far, oldest first, as the store's audit API
    /// hands them out; panics when one carries a full document or phone number.
    pub async fn audit_events(&self) -> Vec<fundpass_core::audit::AuditEvent> {
        use fundpass_core::ports::AuditStore as _;
        let events: Vec<_> = self
            .store
            .records_after(0, 10_000)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.event)
            .collect();
        exposure::assert_audit_clean(&events);
        events
    }

    /// The columns of every SMS and webhook outbox row that are stored in the clear
    /// (purpose, errors, webhook bodies…), one text per row: what an operator reading
    /// the database sees without the keyring.
    pub async fn outbox_clear_columns(&self) -> Vec<String> {
        use sqlx::Connection as _;
        let mut conn = self.db.connect().await;
        let queries = [
            "SELECT 'outbox ' || id || ' ' || purpose || ' ' || COALESCE(last_error, '') \
             FROM outbox",
            "SELECT 'webhook_outbox ' || id || ' ' || event_id || ' ' || client_id || ' ' \
             || kind || ' ' || body || ' ' || COALESCE(last_error, '') FROM webhook_outbox",
        ];
        let mut rows = Vec::new();
        for query in queries {
            let found: Vec<String> = sqlx::query_scalar(query)
                .fetch_all(&mut conn)
                .await
                .unwrap();
            rows.extend(found);
        }
        conn.close().await.unwrap();
        rows
    }

    /// Lets the answers to `method path` show full document and phone numbers. Only
    /// for a page whose purpose is to show them (the console's audited reveal); the
    /// caller says why.
    pub fn allow_full_identity_on(&self, method: &str, path: &str) {
        self.exposure.allow(method, path);
    }

    /// What the exposure check found that no `send_from` reported yet, forgotten once
    /// taken (for the check's own tests, which send around the harness on purpose).
    pub fn take_exposures(&self) -> Vec<String> {
        self.exposure.take_leaks()
    }

    /// How many rows `table` of the test database holds (for "nothing was created").
    pub async fn count_rows(&self, table: &str) -> i64 {
        use sqlx::Connection as _;
        assert!(
            table.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "not a table name: {table}"
        );
        let mut conn = self.db.connect().await;
        let count: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&mut conn)
                .await
                .unwrap();
        conn.close().await.unwrap();
        count
    }
}

/// Fails the test with what the exposure check found in answers no `send_from` read
/// (requests a test sent with its own client).
impl Drop for TestApp {
    fn drop(&mut self) {
        let leaks = self.exposure.take_leaks();
        if !leaks.is_empty() && !std::thread::panicking() {
            panic!(
                "{}\n(found after requests sent around send_from)\n{}",
                leaks.join("\n"),
                exposure::HINT
            );
        }
    }
}
