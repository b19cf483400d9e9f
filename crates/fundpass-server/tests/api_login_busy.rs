//! A login refused because the Argon2 pool is full (503 `busy`) leaves its captcha
//! usable: the member's retry with the same picture is not refused for a refusal that
//! was not theirs. A captcha still never serves two password attempts.

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
