//! A login refused because the Argon2 pool is full (503 `busy`) leaves its captcha
//! usable: the member's retry with the same picture is not refused for a refusal that
//! was not theirs. A captcha still never serves two password attempts. With captchas
//! and rate limits in Redis, a Redis that does not answer makes requests `busy` too:
//! no limit is skipped.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use api_common::{Api, LOGIN_PASSWORD, WANG, seed};
use async_trait::async_trait;
use fundpass_core::ports::{CpuPool, PoolBusy};
use fundpass_server::hash_pool::HashPool;
use fundpass_store::{RedisState, RedisTimeouts};
use serde_json::json;
use support::{TestApp, TestOptions};

/// A pool that refuses every job while closed, as a full pool does.
struct Gate {
    inner: HashPool,
    closed: AtomicBool,
}

#[async_trait]
impl CpuPool for Gate {
    async fn run_boxed(&self, job: Box<dyn FnOnce() + Send + 'static>) -> Result<(), PoolBusy> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(PoolBusy {
                retry_after_secs: 1,
            });
        }
        self.inner.run_boxed(job).await
    }
}

async fn app_with_gate() -> (TestApp, Arc<Gate>) {
    let gate = Arc::new(Gate {
        inner: HashPool::new(2, 64),
        closed: AtomicBool::new(false),
    });
    let app = TestApp::spawn_with_pool(TestOptions::default(), gate.clone()).await;
    seed(&app, &WANG).await;
    Api::from_ip(&app, "203.0.113.1").register(&WANG).await;
    app.clock.advance(time::Duration::seconds(61));
    (app, gate)
}

fn login(captcha: &(String, String), password: &str) -> serde_json::Value {
    json!({
        "account_no": WANG.account, "password": password,
        "captcha_id": captcha.0, "captcha_answer": captcha.1,
    })
}

#[tokio::test]
async fn a_busy_refusal_leaves_the_captcha_for_the_retry_and_only_for_one_attempt() {
    let (app, gate) = app_with_gate().await;
    let api = Api::new(&app);
    let captcha = api.captcha().await;

    gate.closed.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        let busy = api
            .post("/api/v1/login", login(&captcha, LOGIN_PASSWORD))
            .await;
        busy.assert_error(503, "busy");
        assert_eq!(busy.header("retry-after"), Some("1"));
    }
    gate.closed.store(false, Ordering::SeqCst);
    let retried = api
        .post("/api/v1/login", login(&captcha, LOGIN_PASSWORD))
        .await;
    assert_eq!(retried.status, 200, "{}", retried.text);
    // Used by that attempt: never a second one.
    let again = api
        .post("/api/v1/login", login(&captcha, LOGIN_PASSWORD))
        .await;
    assert_eq!(again.status, 400, "{}", again.text);
    assert!(again.code().starts_with("captcha"), "{}", again.text);
}

#[tokio::test]
async fn a_captcha_that_served_a_wrong_password_is_not_given_back() {
    let (app, gate) = app_with_gate().await;
    let api = Api::new(&app);
    let captcha = api.captcha().await;
    let wrong = api
        .post("/api/v1/login", login(&captcha, "Wrong7password"))
        .await;
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    let again = api
        .post("/api/v1/login", login(&captcha, LOGIN_PASSWORD))
        .await;
    assert!(again.code().starts_with("captcha"), "{}", again.text);

    // A busy refusal gives back only a captcha answered right: a wrong answer is spent.
    let fresh = api.captcha().await;
    gate.closed.store(true, Ordering::SeqCst);
    let wrong_answer = (fresh.0.clone(), "0000".to_owned());
    let refused = api
        .post("/api/v1/login", login(&wrong_answer, LOGIN_PASSWORD))
        .await;
    assert!(refused.code().starts_with("captcha"), "{}", refused.text);
    gate.closed.store(false, Ordering::SeqCst);
    let after = api
        .post("/api/v1/login", login(&fresh, LOGIN_PASSWORD))
        .await;
    assert!(after.code().starts_with("captcha"), "{}", after.text);
}

/// The tables a refused request must leave alone.
const WRITTEN: [&str; 5] = [
    "audit_events",
    "captchas",
    "rate_limits",
    "sessions",
    "login_throttles",
];

async fn rows(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in WRITTEN {
        counts.push(app.count_rows(table).await);
    }
    counts
}

#[tokio::test]
async fn with_redis_down_captchas_and_logins_are_busy_and_nothing_is_written() {
    // Nothing listens on port 1.
    let redis = RedisState::open(
        "redis://127.0.0.1:1/0",
        "fundpass",
        RedisTimeouts::default(),
    )
    .unwrap();
    let app = TestApp::spawn_with_redis(redis).await;
    seed(&app, &WANG).await;
    let before = rows(&app).await;
    let api = Api::new(&app);

    let captcha = api
        .send(app.client().post(app.url("/api/v1/captcha")))
        .await;
    captcha.assert_error(503, "busy");
    assert_eq!(captcha.header("retry-after"), Some("2"));
    let made_up = ("A".repeat(43), "abcd".to_owned());
    let login = api
        .post("/api/v1/login", login(&made_up, LOGIN_PASSWORD))
        .await;
    login.assert_error(503, "busy");
    assert_eq!(login.header("retry-after"), Some("2"));
    assert_eq!(rows(&app).await, before);

    let ready = app.client().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
}

#[tokio::test]
async fn with_captchas_and_limits_in_redis_a_member_registers_and_logs_in() {
    let Ok(url) = std::env::var("FUNDPASS_TEST_REDIS_URL") else {
        return;
    };
    let prefix = format!("fundpass-test-{}", uuid_like());
    let redis = RedisState::open(&url, &prefix, RedisTimeouts::default()).unwrap();
    let app = TestApp::spawn_with_redis(redis).await;
    seed(&app, &WANG).await;
    let api = Api::new(&app);
    api.register(&WANG).await;
    app.clock.advance(time::Duration::seconds(61));
    let logged_in = api.login_by_account(WANG.account, LOGIN_PASSWORD).await;
    assert_eq!(logged_in.status, 200, "{}", logged_in.text);
    assert_eq!(app.count_rows("captchas").await, 0);
    assert_eq!(app.count_rows("rate_limits").await, 0);
    let ready = app.client().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

/// A key prefix no other run uses.
fn uuid_like() -> String {
    let mut bytes = [0u8; 8];
    fundpass_core::ports::SecretGenerator::fill(&fundpass_server::system::OsSecrets, &mut bytes);
    format!("{}-{}", std::process::id(), hex::encode(bytes))
}
