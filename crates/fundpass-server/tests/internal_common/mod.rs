//! What the internal API tests share: business systems registered straight in the
//! store with keys made here, client assertions signed and receipts checked with an
//! independent JOSE implementation (`jsonwebtoken`, never fundpass's own JWS code),
//! the payment a withdrawal system would send, and a stand-in webhook receiver.
//!
//! Test files using it also declare `mod api_common;` and `mod support;`.

// Test helpers: a failed request or a missing field is a failed test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fundpass_core::clients::{ClientWrite, Scope, ServiceClient};
use fundpass_core::crypto::{Field, PublicKey};
use fundpass_core::ports::{ChangeSet, SecretGenerator as _, UnitOfWork as _};
use fundpass_server::sms::WorkerConfig;
use fundpass_server::system::OsSecrets;
use fundpass_server::webhooks::WebhookWorker;
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::api_common::{Api, Reply};
use crate::support::TestApp;

pub const TOKEN_PATH: &str = "/internal/oauth/token";
/// The assertion type of RFC 7523 §2.2, written out here rather than imported.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The payee every test payment goes to (a landlord paid from a rent withdrawal), as
/// the withdrawal system sends it.
pub const PAYEE_NAME: &str = "张建国";
pub const PAYEE_ACCOUNT: &str = "6222********1234";
/// 12,345.67 yuan, as the member reads it.
pub const AMOUNT_FEN: i64 = 1_234_567;
pub const AMOUNT_TEXT: &str = "12,345.67";
pub const PURPOSE: &str = "withdrawal.rent";
pub const PURPOSE_TEXT: &str = "租房提取";

/// Which kind of key a test client signs its assertions with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Ed25519,
    Es256,
}

/// A private key, in the PKCS#8 DER form jsonwebtoken signs with, and its public half
/// as fundpass stores it.
pub struct ClientKey {
    pub algorithm: Algorithm,
    pkcs8_der: Vec<u8>,
    pub public: PublicKey,
}

impl ClientKey {
    /// A fresh random key of `kind`.
    pub fn generate(kind: KeyKind) -> Self {
        let mut seed = [0u8; 32];
        OsSecrets.fill(&mut seed);
        match kind {
            KeyKind::Ed25519 => {
                use ed25519_dalek::pkcs8::EncodePrivateKey as _;
                let key = ed25519_dalek::SigningKey::from_bytes(&seed);
                Self {
                    algorithm: Algorithm::EdDSA,
                    pkcs8_der: key.to_pkcs8_der().unwrap().as_bytes().to_vec(),
                    public: PublicKey::Ed25519(key.verifying_key()),
                }
            }
            KeyKind::Es256 => {
                use p256::pkcs8::EncodePrivateKey as _;
                let key = p256::ecdsa::SigningKey::from_slice(&seed).unwrap();
                Self {
                    algorithm: Algorithm::ES256,
                    pkcs8_der: key.to_pkcs8_der().unwrap().as_bytes().to_vec(),
                    public: PublicKey::Es256(*key.verifying_key()),
                }
            }
        }
    }

    /// A compact JWS of `claims` signed by jsonwebtoken with this key.
    pub fn sign(&self, claims: &Value) -> String {
        let key = match self.algorithm {
            Algorithm::EdDSA => EncodingKey::from_ed_der(&self.pkcs8_der),
            _ => EncodingKey::from_ec_der(&self.pkcs8_der),
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), claims, &key).unwrap()
    }
}

/// A business system registered in the test's store.
pub struct TestClient {
    pub id: String,
    pub key: ClientKey,
    /// The HMAC key of its webhooks, in the clear, as its operator was given it.
    pub webhook_secret: String,
    pub record: ServiceClient,
}

impl TestClient {
    /// Registers `id` with an Ed25519 key, `scopes` and no webhook.
    pub async fn register(app: &TestApp, id: &str, scopes: &[Scope]) -> Self {
        Self::register_with(app, id, KeyKind::Ed25519, scopes, None).await
    }

    /// Registers `id` the way `fundpass clients add` would, straight through the store.
    pub async fn register_with(
        app: &TestApp,
        id: &str,
        kind: KeyKind,
        scopes: &[Scope],
        webhook_url: Option<&str>,
    ) -> Self {
        let key = ClientKey::generate(kind);
        let mut secret = [0u8; 24];
        OsSecrets.fill(&mut secret);
        let webhook_secret = hex::encode(secret);
        let record = ServiceClient {
            id: id.to_owned(),
            description: format!("test client {id}"),
            scopes: scopes.to_vec(),
            public_key: key.public.clone(),
            secret_digest: None,
            webhook_url: webhook_url.map(str::to_owned),
            webhook_secret: webhook_url.map(|_| {
                app.keyring
                    .seal(Field::WebhookSecret, &webhook_secret, &OsSecrets)
            }),
            created_at: app.clock_now(),
            disabled_at: None,
            version: 1,
        };
        app.store
            .apply(ChangeSet {
                clients: vec![ClientWrite::Insert(record.clone())],
                ..ChangeSet::default()
            })
            .await
            .unwrap();
        Self {
            id: id.to_owned(),
            key,
            webhook_secret,
            record,
        }
    }

    /// Disables the client as `fundpass clients disable` would.
    pub async fn disable(&mut self, app: &TestApp) {
        let mut record = self.record.clone();
        record.disabled_at = Some(app.clock_now());
        app.store
            .apply(ChangeSet {
                clients: vec![ClientWrite::Update {
                    record: record.clone(),
                    expected_version: self.record.version,
                }],
                ..ChangeSet::default()
            })
            .await
            .unwrap();
        record.version += 1;
        self.record = record;
    }

    /// The claims of a good assertion at the app's clock: `iss` = `sub` = the client,
    /// `aud` the token endpoint, 2 minutes to live, a fresh `jti`.
    pub fn claims(&self, app: &TestApp) -> Value {
        let now = app.clock_now().unix_timestamp();
        let mut jti = [0u8; 16];
        OsSecrets.fill(&mut jti);
        json!({
            "iss": self.id, "sub": self.id,
            "aud": app.portal.policy.clients.token_endpoint,
            "iat": now, "exp": now + 120, "jti": hex::encode(jti),
        })
    }

    /// A good assertion, signed with the client's key.
    pub fn assertion(&self, app: &TestApp) -> String {
        self.key.sign(&self.claims(app))
    }

    /// An assertion whose claims `edit` changed, signed with the client's key.
    pub fn assertion_with(&self, app: &TestApp, edit: impl FnOnce(&mut Value)) -> String {
        let mut claims = self.claims(app);
        edit(&mut claims);
        self.key.sign(&claims)
    }
}

/// `application/x-www-form-urlencoded`, by the URL crate's form serializer.
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse("http://form.invalid/").unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    url.query().unwrap_or_default().to_owned()
}

/// The internal API, as a business system on the private network calls it.
pub struct Internal<'a> {
    pub api: Api<'a>,
}

impl<'a> Internal<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            api: Api::from_ip(app, "10.20.30.40"),
        }
    }

    fn url(&self, path: &str) -> String {
        self.api.app.url(path)
    }

    /// Posts `pairs` as a form to `path`, with `token` as the bearer when given.
    pub async fn post_form(
        &self,
        token: Option<&str>,
        path: &str,
        pairs: &[(&str, &str)],
    ) -> Reply {
        let mut request = self
            .api
            .client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(pairs));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.api.send(request).await
    }

    /// `POST /internal/oauth/token` with `assertion` and, when given, `scope`.
    pub async fn ask_token(&self, assertion: &str, scope: Option<&str>) -> Reply {
        let mut pairs = vec![
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
        ];
        if let Some(scope) = scope {
            pairs.push(("scope", scope));
        }
        self.post_form(None, TOKEN_PATH, &pairs).await
    }

    /// An access token for `client` carrying `scope` (all its scopes when `None`).
    pub async fn token_with_scope(&self, client: &TestClient, scope: Option<&str>) -> String {
        let reply = self.ask_token(&client.assertion(self.api.app), scope).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// An access token for `client` carrying all its scopes.
    pub async fn token(&self, client: &TestClient) -> String {
        self.token_with_scope(client, None).await
    }

    pub async fn get(&self, token: &str, path: &str) -> Reply {
        self.api.get_as(token, path).await
    }

    /// Posts `body` as JSON, with an `Idempotency-Key` when given.
    pub async fn post_json(
        &self,
        token: &str,
        path: &str,
        body: &Value,
        key: Option<&str>,
    ) -> Reply {
        let mut request = self
            .api
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        self.api.send(request).await
    }

    /// `POST /internal/v1/authorizations` under `key`.
    pub async fn create(&self, token: &str, body: &Value, key: Option<&str>) -> Reply {
        self.post_json(token, "/internal/v1/authorizations", body, key)
            .await
    }

    /// A pending authorisation of `body` that must be created; its view.
    pub async fn created(&self, token: &str, body: &Value) -> Value {
        let key = format!("key-{}", body["business_ref"].as_str().unwrap());
        let reply = self.create(token, body, Some(&key)).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json()
    }

    /// `POST /internal/v1/transaction-password/verify` of `body` with `password`.
    pub async fn verify(&self, token: &str, body: &Value, password: &str) -> Reply {
        let mut body = body.clone();
        body["transaction_password"] = password.into();
        self.post_json(
            token,
            "/internal/v1/transaction-password/verify",
            &body,
            None,
        )
        .await
    }

    pub async fn authorization(&self, token: &str, id: &str) -> Reply {
        self.get(token, &format!("/internal/v1/authorizations/{id}"))
            .await
    }

    pub async fn capture(&self, token: &str, id: &str) -> Reply {
        let path = format!("/internal/v1/authorizations/{id}/capture");
        self.api.post_as(token, &path).await
    }

    /// `POST /internal/v1/introspect` of a member's app token.
    pub async fn introspect(&self, token: &str, member_token: &str) -> Reply {
        self.post_form(
            Some(token),
            "/internal/v1/introspect",
            &[("token", member_token)],
        )
        .await
    }

    /// The receipt keys, read without authentication.
    pub async fn jwks(&self) -> jsonwebtoken::jwk::JwkSet {
        let reply = self
            .api
            .send(self.api.client.get(self.url("/internal/v1/jwks.json")))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        serde_json::from_str(&reply.text).unwrap()
    }
}

/// A payment of `amount_fen` from `account_no`'s fund under `business_ref`.
pub fn payment(account_no: &str, amount_fen: i64, business_ref: &str) -> Value {
    json!({
        "account_no": account_no, "amount_fen": amount_fen, "currency": "CNY",
        "payee": {"name": PAYEE_NAME, "account": PAYEE_ACCOUNT},
        "purpose": PURPOSE, "business_ref": business_ref,
    })
}

/// base64url(SHA-256(name "\n" account)), computed here from the documented rule.
pub fn payee_hash(name: &str, account: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{name}\n{account}").as_bytes()))
}

/// Why a receipt did not check out.
pub type ReceiptError = jsonwebtoken::errors::Error;

/// Checks `receipt` offline as a business system would, with jsonwebtoken and the
/// published key set: EdDSA under the key its `kid` names, `iss` fundpass, `aud`
/// `client_id`. Returns the claims. (`exp` is checked by the caller against the
/// test's fixed clock: jsonwebtoken would compare it with the machine's clock.)
pub fn check_receipt(
    keys: &jsonwebtoken::jwk::JwkSet,
    receipt: &str,
    client_id: &str,
) -> Result<Value, ReceiptError> {
    let header = jsonwebtoken::decode_header(receipt)?;
    let kid = header.kid.unwrap_or_default();
    let jwk = keys
        .find(&kid)
        .unwrap_or_else(|| panic!("no key {kid} in the published set"));
    let key = DecodingKey::from_jwk(jwk)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&["fundpass"]);
    validation.set_required_spec_claims(&["exp", "aud", "iss"]);
    validation.validate_exp = false;
    Ok(jsonwebtoken::decode::<Value>(receipt, &key, &validation)?.claims)
}

/// Asserts that the receipt of the authorisation `view` verifies offline for
/// `client_id` and that every fact it signs is the payment's, `exp` still ahead at
/// `now`; returns its claims.
pub async fn assert_receipt(
    internal: &Internal<'_>,
    view: &Value,
    client_id: &str,
    channel: &str,
    now: OffsetDateTime,
) -> Value {
    let receipt = view["receipt"]
        .as_str()
        .unwrap_or_else(|| panic!("no receipt: {view}"));
    let keys = internal.jwks().await;
    let claims = check_receipt(&keys, receipt, client_id)
        .unwrap_or_else(|e| panic!("the receipt does not verify: {e}"));
    let payee = &view["payee"];
    let expected = [
        ("authorization_id", view["id"].clone()),
        ("account_no", view["account_no"].clone()),
        ("amount_fen", view["amount_fen"].clone()),
        ("currency", json!("CNY")),
        (
            "payee_hash",
            json!(payee_hash(
                payee["name"].as_str().unwrap(),
                payee["account"].as_str().unwrap()
            )),
        ),
        ("purpose", view["purpose"].clone()),
        ("business_ref", view["business_ref"].clone()),
        ("aud", json!(client_id)),
        ("channel", json!(channel)),
    ];
    for (name, want) in expected {
        assert_eq!(claims[name], want, "{name} in {claims}");
    }
    let exp = claims["exp"].as_i64().unwrap();
    assert!(exp > now.unix_timestamp(), "exp {exp} is not after {now}");
    let capture_until =
        OffsetDateTime::parse(view["expires_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert_eq!(
        exp,
        capture_until.unix_timestamp(),
        "exp is not the end of the capture window"
    );
    assert!(
        claims["jti"].as_str().is_some_and(|j| !j.is_empty()),
        "{claims}"
    );

    // The signature covers the facts: the same receipt with another amount fails.
    let parts: Vec<&str> = receipt.split('.').collect();
    let mut forged_claims = claims.clone();
    forged_claims["amount_fen"] = json!(claims["amount_fen"].as_i64().unwrap() * 10);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(forged_claims.to_string()),
        parts[2]
    );
    assert!(
        check_receipt(&keys, &forged, client_id).is_err(),
        "a forged receipt verified"
    );
    assert!(
        check_receipt(&keys, receipt, "another-client").is_err(),
        "aud is not checked"
    );
    claims
}

/// `error.details` of an error envelope.
pub fn details(reply: &Reply) -> Value {
    reply.json()["error"]["details"].clone()
}

/// What a webhook receiver got: the request and how it answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub answered: u16,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone, Default)]
struct ReceiverState {
    /// Statuses to answer, in order; 200 once they run out.
    script: Arc<Mutex<VecDeque<u16>>>,
    received: Arc<Mutex<Vec<Received>>>,
}

async fn receive(
    State(state): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let answered = state.script.lock().unwrap().pop_front().unwrap_or(200);
    state.received.lock().unwrap().push(Received {
        headers,
        body,
        answered,
    });
    StatusCode::from_u16(answered).unwrap()
}

/// A business system's webhook endpoint on 127.0.0.1 that answers as scripted.
pub struct Receiver {
    pub url: String,
    state: ReceiverState,
}

impl Receiver {
    /// Starts a receiver answering `script` in order, then 200.
    pub async fn start(script: &[u16]) -> Self {
        let state = ReceiverState::default();
        state.script.lock().unwrap().extend(script);
        let app = axum::Router::new()
            .route("/hooks/fundpass", axum::routing::post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/fundpass", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, state }
    }

    /// Every request so far, oldest first; panics when one carries a full document
    /// or phone number (a business system gets neither in a webhook).
    pub fn received(&self) -> Vec<Received> {
        let received = self.state.received.lock().unwrap().clone();
        for request in &received {
            let body = String::from_utf8_lossy(&request.body);
            crate::support::exposure::assert_clean(&format!("a webhook to {}", self.url), &body);
        }
        received
    }
}

/// The `t` of a `Fundpass-Signature: t=…,v1=…` header when its MAC, recomputed here
/// with HMAC-SHA256 over `"<t>.<body>"`, matches.
pub fn signature_timestamp(secret: &str, received: &Received) -> Option<i64> {
    let header = received.header("fundpass-signature")?;
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=')? {
            ("t", value) => t = Some(value),
            ("v1", value) => v1 = Some(value),
            _ => {}
        }
    }
    let (t, v1) = (t?, hex::decode(v1?).ok()?);
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(&received.body);
    mac.verify_slice(&v1).ok()?;
    t.parse().ok()
}

/// The webhook worker over the test's store, keyring and clock.
pub fn webhook_worker(app: &TestApp) -> WebhookWorker {
    WebhookWorker::new(
        Arc::new(app.store.clone()),
        app.keyring.clone(),
        app.clock.clone(),
        WorkerConfig::default(),
        std::time::Duration::from_secs(5),
    )
    .unwrap()
}

/// Runs webhook passes until nothing is left to deliver (each pass an hour after the
/// last, past any backoff); the events every receiver got, by type.
pub async fn drain(app: &TestApp) {
    let worker = webhook_worker(app);
    for _ in 0..5 {
        let report = worker.run_once().await.unwrap();
        if report.claimed() == 0 {
            return;
        }
        app.clock.advance(time::Duration::hours(1));
    }
}

pub fn types(receiver: &Receiver) -> Vec<String> {
    receiver
        .received()
        .iter()
        .filter(|r| r.answered == 200)
        .map(|r| r.json()["type"].as_str().unwrap().to_owned())
        .collect()
}

pub fn last_of(receiver: &Receiver, kind: &str) -> Value {
    receiver
        .received()
        .iter()
        .rev()
        .map(|r| r.json())
        .find(|e| e["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} event"))
}

/// The member's side in the app: payments waiting, confirm, decline.
pub struct MemberApp<'a> {
    pub api: &'a Api<'a>,
    pub token: String,
}

impl MemberApp<'_> {
    /// `GET /api/v1/authorizations/pending`; asserts 200 and returns the list.
    pub async fn pending(&self) -> Vec<Value> {
        let reply = self
            .api
            .get_as(&self.token, "/api/v1/authorizations/pending")
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()["authorizations"].as_array().unwrap().clone()
    }

    pub async fn confirm(&self, id: &str, transaction_password: &str) -> Reply {
        let path = format!("/api/v1/authorizations/{id}/confirm");
        let body = json!({ "transaction_password": transaction_password });
        self.api.post_json_as(&self.token, &path, body).await
    }

    pub async fn decline(&self, id: &str) -> Reply {
        let path = format!("/api/v1/authorizations/{id}/decline");
        self.api.post_as(&self.token, &path).await
    }
}
