//! Recovery steps submitted many times at once, at the use-case level, on SQLite and
//! (when FUNDPASS_TEST_POSTGRES_URL names a server) on PostgreSQL: one valid code
//! submitted 50 times in parallel verifies exactly once, a finished flow completes
//! exactly once, and parallel wrong transaction passwords are all counted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use fundpass_core::audit::Channel;
use fundpass_core::credentials::{HashParams, PasswordHasher};
use fundpass_core::crypto::{CipherSuite, Field, Keyring};
use fundpass_core::identity::IdType;
use fundpass_core::member::{CredentialUpdate, ImportRow, MemberStatus};
use fundpass_core::portal::{
    Authenticated, NewSecret, Portal, PortalPolicy, RecoveryError, RecoveryIdentify,
    RequestContext, SmsTemplates,
};
use fundpass_core::ports::{MemberStore, OutboxStore, SessionStore, UnitOfWork};
use fundpass_core::session::{ClientKind, SessionRecord, SessionScope};
use fundpass_core::testing::FixedClock;
use fundpass_server::hash_pool::HashPool;
use fundpass_server::system::OsSecrets;
use fundpass_store::Store;
use sqlx::Connection as _;
use time::macros::datetime;

const POSTGRES_URL_VAR: &str = "FUNDPASS_TEST_POSTGRES_URL";
const ID_NUMBER: &str = "110105199003071239";
const PHONE: &str = "13800000001";

/// A portal on one database, and what it takes to drop that database afterwards.
struct Backend {
    label: &'static str,
    portal: Portal,
    clock: Arc<FixedClock>,
    store: Store,
    keyring: Arc<Keyring>,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl Backend {
    async fn cleanup(self) {
        let Self { store, pg, .. } = self;
        store.close().await;
        if let Some((admin_url, name)) = pg {
            let mut admin = sqlx::AnyConnection::connect(&admin_url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await
            .unwrap();
        }
    }
}

async fn portal_on(url: &str) -> (Portal, Arc<FixedClock>, Store, Arc<Keyring>) {
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let keyring = Arc::new(Keyring::generate(CipherSuite::Aes256Gcm, &OsSecrets));
    let clock = Arc::new(FixedClock::at(datetime!(2026-11-23 02:00 UTC)));
    let portal = Portal {
        store: Arc::new(store.clone()),
        captchas: Arc::new(store.clone()),
        limiter: Arc::new(store.clone()),
        pool: Arc::new(HashPool::new(2, 256)),
        keyring: keyring.clone(),
        hasher: Arc::new(PasswordHasher::new(FAST).unwrap()),
        clock: clock.clone(),
        rng: Arc::new(OsSecrets),
        policy: PortalPolicy::default(),
        templates: SmsTemplates::default(),
        face_provider: None,
    };
    (portal, clock, store, keyring)
}

/// SQLite always; PostgreSQL too when configured (each on a new database).
async fn backends() -> Vec<Backend> {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("races.db").display());
    let (portal, clock, store, keyring) = portal_on(&url).await;
    let mut out = vec![Backend {
        label: "sqlite",
        portal,
        clock,
        store,
        keyring,
        _dir: Some(dir),
        pg: None,
    }];
    if let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) {
        let mut random = [0u8; 6];
        fundpass_core::ports::SecretGenerator::fill(&OsSecrets, &mut random);
        let name = format!("fp_races_{}", hex::encode(random));
        let mut admin = sqlx::AnyConnection::connect(&admin_url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        let (portal, clock, store, keyring) = portal_on(&format!("{base}/{name}")).await;
        out.push(Backend {
            label: "postgres",
            portal,
            clock,
            store,
            keyring,
            _dir: None,
            pg: Some((admin_url.clone(), name)),
        });
    }
    out
}

const FAST: HashParams = HashParams {
    m_kib: 256,
    t: 1,
    p: 1,
};

fn ctx() -> RequestContext {
    RequestContext {
        channel: Channel::App,
        ip: Some("127.0.0.1".into()),
        user_agent: None,
    }
}

fn identify() -> RecoveryIdentify {
    RecoveryIdentify {
        name: "张三".into(),
        id_type: IdType::ResidentId,
        id_number: ID_NUMBER.into(),
    }
}

/// A registered member with transaction password 135790, and a full app session.
async fn registered(b: &Backend) -> Authenticated {
    let row = ImportRow {
        account_no: "100200300400".into(),
        name: "张三".into(),
        id_type: "resident_id".into(),
        id_number: ID_NUMBER.into(),
        phone: PHONE.into(),
    };
    let now = b.portal.clock.now();
    let sealed = row
        .validate(time::macros::date!(2026 - 11 - 23))
        .unwrap()
        .seal(&b.keyring, &OsSecrets);
    let mut import = b.store.begin_import().await.unwrap();
    import.upsert(&[sealed], now).await.unwrap();
    import.commit().await.unwrap();
    let account = fundpass_core::member::AccountNumber::parse("100200300400").unwrap();
    let member = b.store.member_by_account(&account).await.unwrap().unwrap();
    let hasher = PasswordHasher::new(FAST).unwrap();
    let mut update = CredentialUpdate::from_record(&member, now);
    update.status = MemberStatus::Registered;
    update.login_hash = Some(hasher.hash(&b.keyring, "Lily2026pass", &OsSecrets).unwrap());
    update.transaction_hash = Some(hasher.hash(&b.keyring, "135790", &OsSecrets).unwrap());
    b.store
        .update_credentials(member.id, member.version, &update)
        .await
        .unwrap();
    let member = b.store.member_by_id(member.id).await.unwrap().unwrap();
    let session = SessionRecord {
        token: fundpass_core::crypto::TokenDigest([9; 32]),
        member_id: member.id,
        client: ClientKind::App,
        scope: SessionScope::Full,
        csrf: "csrf".into(),
        created_at: now,
        last_seen_at: now,
        ip: None,
        user_agent: None,
        revoked_at: None,
    };
    b.store
        .apply(fundpass_core::ports::ChangeSet {
            sessions: vec![fundpass_core::ports::SessionWrite::Insert(session.clone())],
            ..Default::default()
        })
        .await
        .unwrap();
    Authenticated { session, member }
}

/// The newest recovery code sent to the member's phone.
async fn last_code(b: &Backend) -> String {
    for m in b.store.recent_messages(50).await.unwrap() {
        if m.purpose == "recovery_code" {
            let text = b.keyring.open(Field::Message, &m.body).unwrap();
            let chars: Vec<char> = text.chars().collect();
            return chars
                .windows(6)
                .find(|w| w.iter().all(char::is_ascii_digit))
                .map(|w| w.iter().collect())
                .unwrap();
        }
    }
    panic!("no recovery code sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_submissions_of_one_valid_code_verify_exactly_once() {
    for b in backends().await {
        let auth = registered(&b).await;
        let started = b
            .portal
            .start_forgot_transaction(&auth, &identify(), &ctx())
            .await
            .unwrap();
        let flow = started.flow.expose().to_owned();
        b.portal
            .send_forgot_transaction_code(&auth, &flow, PHONE, &ctx())
            .await
            .unwrap();
        let code = last_code(&b).await;
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (portal, auth, flow, code) =
                    (b.portal.clone(), auth.clone(), flow.clone(), code.clone());
                tokio::spawn(async move {
                    portal
                        .submit_forgot_transaction_code(&auth, &flow, &code, &ctx())
                        .await
                })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => ok += 1,
                Err(
                    RecoveryError::Conflict
                    | RecoveryError::Flow(fundpass_core::flow::FlowError::WrongStep),
                ) => {}
                Err(other) => panic!("{}: unexpected {other:?}", b.label),
            }
        }
        assert_eq!(ok, 1, "{}: exactly one submission verifies", b.label);

        // The finished flow completes once, however many ask at the same time.
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let (portal, auth, flow) = (b.portal.clone(), auth.clone(), flow.clone());
                tokio::spawn(async move {
                    let new = NewSecret {
                        value: "258146".into(),
                        again: "258146".into(),
                    };
                    portal
                        .complete_forgot_transaction(&auth, &flow, &new, &ctx())
                        .await
                })
            })
            .collect();
        let mut completed = 0;
        for t in tasks {
            if t.await.unwrap().is_ok() {
                completed += 1;
            }
        }
        assert_eq!(completed, 1, "{}: the reset lands once", b.label);
        let session = b.store.session(&auth.session.token).await.unwrap().unwrap();
        assert!(
            session.revoked_at.is_some(),
            "{}: the session ended",
            b.label
        );
        b.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_transaction_passwords_in_separate_flows_all_count() {
    for b in backends().await {
        let auth = registered(&b).await;
        let mut flows = Vec::new();
        for _ in 0..4 {
            let started = b
                .portal
                .start_forgot_login(&identify(), &ctx())
                .await
                .unwrap();
            flows.push(started.flow.expose().to_owned());
        }
        let tasks: Vec<_> = flows
            .into_iter()
            .map(|flow| {
                let portal = b.portal.clone();
                tokio::spawn(
                    async move { portal.verify_forgot_login(&flow, "999999", &ctx()).await },
                )
            })
            .collect();
        for t in tasks {
            assert!(matches!(
                t.await.unwrap(),
                Err(RecoveryError::NotVerified { .. })
            ));
        }
        let member = b.store.member_by_id(auth.member.id).await.unwrap().unwrap();
        assert_eq!(
            member.transaction_lock.failures, 4,
            "{}: no parallel failure was lost",
            b.label
        );
        b.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_codes_across_flows_never_get_past_the_members_counter() {
    for b in backends().await {
        let auth = registered(&b).await;
        let mut flows = Vec::new();
        for _ in 0..4 {
            let started = b
                .portal
                .start_forgot_transaction(&auth, &identify(), &ctx())
                .await
                .unwrap();
            let flow = started.flow.expose().to_owned();
            b.clock.advance(time::Duration::seconds(61));
            b.portal
                .send_forgot_transaction_code(&auth, &flow, PHONE, &ctx())
                .await
                .unwrap();
            let code = last_code(&b).await;
            let wrong = if code == "000000" { "000001" } else { "000000" };
            flows.push((flow, wrong.to_owned()));
        }
        // Every flow's wrong code at once, round after round, until the member's
        // counter locks: a wrong answer is only ever given for a counted failure.
        let mut wrong_answers = 0;
        let mut locked = false;
        for _ in 0..20 {
            let tasks: Vec<_> = flows
                .iter()
                .cloned()
                .map(|(flow, wrong)| {
                    let (portal, auth) = (b.portal.clone(), auth.clone());
                    tokio::spawn(async move {
                        portal
                            .submit_forgot_transaction_code(&auth, &flow, &wrong, &ctx())
                            .await
                    })
                })
                .collect();
            for t in tasks {
                match t.await.unwrap() {
                    Err(RecoveryError::Flow(fundpass_core::flow::FlowError::WrongCode {
                        ..
                    })) => wrong_answers += 1,
                    Err(RecoveryError::CodesLocked { .. }) => locked = true,
                    Err(RecoveryError::Conflict) => {}
                    other => panic!("{}: unexpected {other:?}", b.label),
                }
            }
            if locked {
                break;
            }
        }
        assert!(locked, "{}: the member's counter locked", b.label);
        assert!(
            wrong_answers <= 4,
            "{}: {wrong_answers} wrong codes answered before the lock at 5",
            b.label
        );
        b.cleanup().await;
    }
}
