//! What the provider tests share: the app with its delivery-report endpoints, the two
//! provider stand-ins, senders pointed at them, and the outbox worker run by hand.

pub mod alibaba_mock;
mod ledger;
mod reports;
#[path = "../provider_mocks/signatures.rs"]
pub mod signatures;
pub mod tencent_mock;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use fundpass_core::ports::{Clock, OutboxMessage, OutboxStore as _, SecretGenerator, SmsSender};
use fundpass_core::testing::FixedClock;
use fundpass_server::sms::receipts::{self, ReceiptSettings};
use fundpass_server::sms::{
    AlibabaConfig, AlibabaSender, DeliveryReport, OutboxWorker, TemplateSet, TencentConfig,
    TencentSender, WorkerConfig,
};
use fundpass_server::system::OsSecrets;
use secrecy::SecretString;

use crate::support::{TestApp, TestOptions};

/// The path token of the report endpoints in these tests.
pub const RECEIPT_TOKEN: &str = "rcpt-0123456789abcdef0123456789abcdef";

/// The app, with report endpoints open to loopback and 10.9.0.0/16 only.
pub async fn app() -> TestApp {
    TestApp::spawn_with_routes(TestOptions::default(), |store, clock| {
        let networks = ["127.0.0.0/8".to_owned(), "10.9.0.0/16".to_owned()];
        let settings =
            ReceiptSettings::new(SecretString::from(RECEIPT_TOKEN), &networks, true).unwrap();
        receipts::router(Arc::new(store.clone()), clock, settings)
    })
    .await
}

/// Templates for the registration texts (and no others).
fn templates() -> TemplateSet {
    let entries: BTreeMap<String, (String, Vec<String>)> = [
        ("registration_code", "1110", vec!["code", "minutes"]),
        ("registration_done", "1111", vec!["time", "hotline"]),
    ]
    .into_iter()
    .map(|(purpose, id, params)| {
        let params = params.into_iter().map(str::to_owned).collect();
        (purpose.to_owned(), (id.to_owned(), params))
    })
    .collect();
    TemplateSet::parse(&entries).unwrap()
}

/// A Tencent sender for `url` with `secret_key`, signing by `clock`.
pub fn tencent(url: &str, secret_key: &str, clock: Arc<dyn Clock>) -> TencentSender {
    let config = TencentConfig {
        endpoint: url.to_owned(),
        region: "ap-guangzhou".into(),
        secret_id: SecretString::from(tencent_mock::SECRET_ID),
        secret_key: SecretString::from(secret_key),
        sdk_app_id: tencent_mock::APP_ID.into(),
        sign_name: "公积金中心".into(),
        templates: templates(),
        timeout: Duration::from_secs(5),
        allow_http: true,
    };
    TencentSender::new(config, clock).unwrap()
}

/// An Alibaba sender for `url` with `secret`, signing by `clock`, nonces from `rng`.
pub fn alibaba(
    url: &str,
    secret: &str,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn SecretGenerator>,
) -> AlibabaSender {
    let config = AlibabaConfig {
        endpoint: url.to_owned(),
        access_key_id: SecretString::from(alibaba_mock::KEY_ID),
        access_key_secret: SecretString::from(secret),
        sign_name: "公积金中心".into(),
        templates: templates(),
        timeout: Duration::from_secs(5),
        allow_http: true,
    };
    AlibabaSender::new(config, clock, rng).unwrap()
}

/// The operating system's randomness, as production uses it.
pub fn os_rng() -> Arc<dyn SecretGenerator> {
    Arc::new(OsSecrets)
}

/// A clock standing `offset` away from the app's.
pub fn clock_off_by(app: &TestApp, offset: time::Duration) -> Arc<FixedClock> {
    Arc::new(FixedClock::at(app.clock.now() + offset))
}

/// One pass of the outbox worker through `sender`.
pub async fn deliver(app: &TestApp, sender: Arc<dyn SmsSender>) -> DeliveryReport {
    let worker = OutboxWorker::new(
        Arc::new(app.store.clone()),
        sender,
        app.keyring.clone(),
        app.clock.clone(),
        WorkerConfig::default(),
    );
    worker.run_once().await.unwrap()
}

/// The outbox rows of `purpose`, newest first.
pub async fn rows(app: &TestApp, purpose: &str) -> Vec<OutboxMessage> {
    let all = app.store.recent_messages(100).await.unwrap();
    all.into_iter().filter(|m| m.purpose == purpose).collect()
}
