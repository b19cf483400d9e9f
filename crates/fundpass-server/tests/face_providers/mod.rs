//! What the face-provider tests share: the two providers' stand-ins behind one
//! handle ([`StandIn`]), the scripted outcome of each check ([`Outcome`]), the
//! production adapter pointed at a stand-in ([`Adapter`]), an app with a registered
//! member whose face logins go through it ([`world`]), and the app's calls as it
//! makes them for a query-by-token provider.
//!
//! A stand-in checks each request as its provider would (signature recomputed from
//! the raw bytes by `provider_mocks/signatures.rs`, clock window, Alibaba's nonce
//! used once, action and version), issues unique handles and remembers the request
//! each was issued for, answers results from the outcome the test scripted for the
//! handle (a pass for the person it was issued for unless told otherwise), records
//! every request it received, and answers queued outages with a bare 5xx.

pub mod alibaba_mock;
// The SMS stand-ins' ledger: calls, refusals and queued outages (its per-number
// counters are for texts and go unused here).
#[allow(dead_code)]
#[path = "../sms_providers/ledger.rs"]
mod ledger;
#[path = "../provider_mocks/signatures.rs"]
pub mod signatures;
pub mod tencent_mock;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use axum::http::StatusCode;
use fundpass_core::ports::{Clock, FaceProvider, SecretGenerator};
use fundpass_core::testing::FixedClock;
use fundpass_server::system::OsSecrets;
use secrecy::SecretString;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::api_common::{Api, Person, Reply, WANG};
use crate::support::{FaceProviderFactory, TestApp, TestOptions};

/// The similarity a stand-in reports for a pass unless scripted otherwise.
pub const SIMILARITY: f64 = 97.7;

/// What the provider's SDK on the phone produced for the server call (Alibaba's
/// documented example).
pub const META_INFO: &str = r#"{"zimVer":"3.0.0","appVersion":"1","bioMetaInfo":"4.1.0:11501568,0","appName":"cn.fund.app","deviceType":"ios","osVersion":"iOS 17.2","apdidToken":"","deviceModel":"iPhone15,2"}"#;

/// The provider a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Tencent,
    Alibaba,
}

impl Provider {
    /// The name fundpass keeps with a handle and answers at the start.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tencent => "tencent",
            Self::Alibaba => "alibaba",
        }
    }

    /// The call that issues a handle.
    pub fn begin_action(self) -> &'static str {
        match self {
            Self::Tencent => "GetFaceIdToken",
            Self::Alibaba => "InitFaceVerify",
        }
    }

    /// The call that fetches a check's result.
    pub fn result_action(self) -> &'static str {
        match self {
            Self::Tencent => "GetFaceIdResult",
            Self::Alibaba => "DescribeFaceVerify",
        }
    }

    /// The provider's code for a pass (Tencent `Result`, Alibaba `SubCode`).
    pub fn pass_code(self) -> &'static str {
        match self {
            Self::Tencent => "0",
            Self::Alibaba => "200",
        }
    }

    /// The provider's code for a face that failed the liveness check.
    pub fn liveness_failed(self) -> &'static str {
        match self {
            Self::Tencent => "1002",
            Self::Alibaba => "205",
        }
    }

    /// The provider's code for a face that did not match the reference photo.
    pub fn low_score(self) -> &'static str {
        match self {
            Self::Tencent => "2016",
            Self::Alibaba => "204",
        }
    }

    /// What the provider answers a request signed with the wrong secret.
    pub fn signature_refusal(self) -> &'static str {
        match self {
            Self::Tencent => "AuthFailure.SignatureFailure",
            Self::Alibaba => "SignatureDoesNotMatch",
        }
    }

    /// How far off a signing clock may be, and what the provider answers beyond.
    pub fn clock_window(self) -> (Duration, &'static str) {
        match self {
            Self::Tencent => (Duration::minutes(5), "AuthFailure.SignatureExpire"),
            Self::Alibaba => (Duration::minutes(15), "InvalidTimeStamp.Expired"),
        }
    }
}

/// What a stand-in answers for one handle's result.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A pass for the person the handle was issued for.
    Pass { similarity: f64 },
    /// A check that did not pass, with the provider's code (Tencent `Result`,
    /// Alibaba `SubCode` with `Passed: "F"`).
    Failed(&'static str),
    /// The check was not finished in the app (Tencent `Result: "17"`, Alibaba
    /// `Code: "424"`).
    Unfinished,
    /// The provider no longer keeps the handle (Tencent `Result: "15"`, Alibaba
    /// `Code: "406"`).
    Expired,
    /// A pass naming another document and name (Tencent only: Alibaba's result names
    /// nobody).
    Names {
        id_card: &'static str,
        name: &'static str,
    },
    /// A pass carrying another order reference (Tencent's `Extra` only).
    Extra(String),
}

impl Default for Outcome {
    fn default() -> Self {
        Self::Pass {
            similarity: SIMILARITY,
        }
    }
}

/// How the production adapter is built against a stand-in.
#[derive(Clone)]
pub struct Adapter {
    /// Signs with the key the stand-in knows; `false` for a wrong secret.
    pub right_secret: bool,
    pub handle_lifetime: Duration,
    /// How far the adapter's signing clock stands from the app's.
    pub clock_offset: Duration,
    /// Where Alibaba's signature nonces come from.
    pub rng: Arc<dyn SecretGenerator>,
}

impl Adapter {
    /// The secret to sign with: the stand-in's `right` one, or a wrong one.
    fn secret(&self, right: &str) -> SecretString {
        SecretString::from(if self.right_secret {
            right
        } else {
            "not-the-secret"
        })
    }
}

impl Default for Adapter {
    fn default() -> Self {
        Self {
            right_secret: true,
            handle_lifetime: Duration::minutes(10),
            clock_offset: Duration::ZERO,
            rng: Arc::new(OsSecrets),
        }
    }
}

/// The app's clock moved by a fixed offset, as a server's clock that is off.
struct OffsetClock(Arc<FixedClock>, Duration);

impl Clock for OffsetClock {
    fn now(&self) -> OffsetDateTime {
        self.0.now() + self.1
    }
}

/// What a stand-in keeps, whichever provider it plays.
#[derive(Default)]
pub struct Desk {
    pub ledger: ledger::Ledger,
    /// Alibaba's signature nonces seen.
    pub nonces: HashSet<String>,
    /// Every request received, oldest first: the action and its parameters.
    calls: Vec<(String, Value)>,
    /// The handles issued, oldest first, with the request each was issued for.
    issued: Vec<(String, Value)>,
    scripts: Vec<(String, Outcome)>,
    repeat_handles: bool,
}

impl Desk {
    /// Records a request; the status to answer it with when an outage is queued.
    pub fn record(&mut self, action: &str, request: Value) -> Option<StatusCode> {
        self.calls.push((action.to_owned(), request));
        self.ledger.call()
    }

    /// A new handle, `fresh(n)` for the n-th (from 1), for the check `request`
    /// asks for; the last one again when the test switched that on.
    pub fn issue(&mut self, request: Value, fresh: impl FnOnce(usize) -> String) -> String {
        let handle = match self.issued.last() {
            Some((last, _)) if self.repeat_handles => last.clone(),
            _ => fresh(self.issued.len() + 1),
        };
        self.issued.push((handle.clone(), request));
        handle
    }

    /// The outcome scripted for `handle` and the request it was first issued for (a
    /// handle given out again stays bound to its first check); `None` for a handle
    /// never issued.
    pub fn outcome(&self, handle: &str) -> Option<(Outcome, Value)> {
        let (_, request) = self.issued.iter().find(|(h, _)| h == handle)?;
        let scripted = self.scripts.iter().rev().find(|(h, _)| h == handle);
        let outcome = scripted.map(|(_, o)| o.clone()).unwrap_or_default();
        Some((outcome, request.clone()))
    }
}

/// A running stand-in; cheap to clone.
#[derive(Clone)]
pub struct StandIn {
    pub provider: Provider,
    pub url: String,
    /// The app's clock, once the app built its adapter.
    clock: Arc<OnceLock<Arc<FixedClock>>>,
    desk: Arc<Mutex<Desk>>,
}

impl StandIn {
    /// Listens on 127.0.0.1 as `provider`.
    pub async fn start(provider: Provider) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stand_in = Self {
            provider,
            url: format!("http://{}", listener.local_addr().unwrap()),
            clock: Arc::default(),
            desk: Arc::default(),
        };
        let answer = match provider {
            Provider::Tencent => axum::routing::post(tencent_mock::answer),
            Provider::Alibaba => axum::routing::post(alibaba_mock::answer),
        };
        let app = axum::Router::new()
            .route("/", answer)
            .with_state(stand_in.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        stand_in
    }

    /// Builds the production adapter for this stand-in as `adapter` says, from the
    /// app's clock (which the stand-in then checks signatures by).
    pub fn adapter(&self, adapter: Adapter) -> FaceProviderFactory {
        let stand_in = self.clone();
        Box::new(move |clock: Arc<FixedClock>| {
            let signing = Arc::new(OffsetClock(clock.clone(), adapter.clock_offset));
            stand_in.clock.set(clock).ok();
            let url = stand_in.url.as_str();
            let provider: Arc<dyn FaceProvider> = match stand_in.provider {
                Provider::Tencent => tencent_mock::adapter(url, &adapter, signing),
                Provider::Alibaba => alibaba_mock::adapter(url, &adapter, signing),
            };
            provider
        })
    }

    /// The outcome of the check made with `handle` from now on.
    pub fn script(&self, handle: &str, outcome: Outcome) {
        self.desk().scripts.push((handle.to_owned(), outcome));
    }

    /// From now on, each handle issued is the last one again.
    pub fn repeat_handles(&self) {
        self.desk().repeat_handles = true;
    }

    /// The next call answers with `status` and an empty body.
    pub fn fail_next_with(&self, status: StatusCode) {
        self.desk().ledger.fail_next_with(status);
    }

    /// The requests received for `action`, oldest first (refused ones included).
    pub fn calls_of(&self, action: &str) -> Vec<Value> {
        let desk = self.desk();
        let calls = desk.calls.iter().filter(|(a, _)| a == action);
        calls.map(|(_, request)| request.clone()).collect()
    }

    /// The handles issued, oldest first.
    pub fn handles(&self) -> Vec<String> {
        self.desk().issued.iter().map(|(h, _)| h.clone()).collect()
    }

    /// The error codes answered, in order.
    pub fn refusals(&self) -> Vec<String> {
        self.desk().ledger.refusals.clone()
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.get().expect("no app uses the stand-in").now()
    }

    fn desk(&self) -> MutexGuard<'_, Desk> {
        self.desk.lock().unwrap()
    }
}

/// A fresh app whose face logins go through `provider`'s stand-in, the adapter built
/// as `adapter` says, with WANG registered (the clock then at 02:01:01 UTC).
pub async fn world(provider: Provider, adapter: Adapter) -> (TestApp, StandIn) {
    let stand_in = StandIn::start(provider).await;
    let app = TestApp::spawn_with(TestOptions {
        face_provider: Some(stand_in.adapter(adapter)),
        ..TestOptions::default()
    })
    .await;
    app.seed(&WANG).await;
    Api::from_ip(&app, "203.0.113.1").register(&WANG).await;
    app.clock.advance(Duration::seconds(61));
    (app, stand_in)
}

/// Asserts a `face_rejected` answer with `reason`.
#[track_caller]
pub fn assert_rejected(reply: &Reply, reason: &str) {
    reply.assert_error(400, "face_rejected");
    assert_eq!(reply.json()["error"]["details"]["reason"], reason);
}

/// Face login as the app drives it with a query-by-token provider.
impl Api<'_> {
    /// `POST /api/v1/face/start` with `person`'s resident ID, name and the SDK's
    /// meta information.
    pub async fn provider_start(&self, person: &Person) -> Reply {
        let body = json!({
            "id_type": "resident_id", "id_number": person.id_number,
            "name": person.name, "meta_info": META_INFO,
        });
        self.post("/api/v1/face/start", body).await
    }

    /// A check that must start: its flow and the provider's handle.
    pub async fn provider_check(&self, person: &Person) -> (String, String) {
        let reply = self.provider_start(person).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let [flow, handle] =
            ["flow", "nonce"].map(|f| reply.json()[f].as_str().unwrap().to_owned());
        (flow, handle)
    }

    /// `POST /api/v1/face/complete` with the flow alone: the service fetches the
    /// result from the provider.
    pub async fn provider_complete(&self, flow: &str) -> Reply {
        self.post("/api/v1/face/complete", json!({ "flow": flow }))
            .await
    }
}
