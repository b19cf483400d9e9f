//! Face verification login through the app's JSON API (seed scenario 3): a member who
//! forgot both passwords gets a recovery-only token from a face check, recovers the
//! transaction password with it, then the login password with the new transaction
//! password. Every way a face result can be refused has its own tested reason.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod support;

use api_common::{
    Api, LI, LOGIN_PASSWORD, NEW_LOGIN_PASSWORD, NEW_TRANSACTION_PASSWORD, STRANGER,
    TRANSACTION_PASSWORD, WANG, app_with_registered, assert_audited, audit_events, seed, without,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fundpass_core::face::{FaceClaims, FacePolicy, FaceSigner, subject_hash};
use fundpass_core::identity::IdType;
use fundpass_core::portal::PortalPolicy;
use fundpass_server::state::{DEV_FACE_KID, Mode};
use fundpass_server::system::OsSecrets;
use serde_json::{Value, json};
use support::{TestApp, TestOptions};
use time::Duration;

/// Claims a provider would sign for `nonce` and a resident ID, checked just now.
fn claims(app: &TestApp, nonce: &str, id_number: &str) -> FaceClaims {
    FaceClaims {
        kid: String::new(),
        nonce: nonce.to_owned(),
        subject: subject_hash(IdType::ResidentId, id_number),
        liveness: true,
        score: 0.95,
        issued_at: app.clock_now(),
        jti: None,
    }
}

/// The three parts of a JWS, decoded.
fn split(result: &str) -> [Vec<u8>; 3] {
    let parts: Vec<Vec<u8>> = result
        .split('.')
        .map(|p| URL_SAFE_NO_PAD.decode(p).unwrap())
        .collect();
    parts.try_into().unwrap()
}

/// A JWS from three raw parts.
fn join(parts: &[Vec<u8>; 3]) -> String {
    parts
        .iter()
        .map(|p| URL_SAFE_NO_PAD.encode(p))
        .collect::<Vec<_>>()
        .join(".")
}

/// `result` with its header replaced by `header`.
fn with_header(result: &str, header: Value) -> String {
    let [_, payload, signature] = split(result);
    join(&[header.to_string().into_bytes(), payload, signature])
}

/// Ways to spoil a result; each must be refused for its own reason.
#[derive(Debug, Clone, Copy)]
enum Forgery {
    FlippedSignatureByte,
    EditedPayload,
    AlgNone,
    AlgHs256,
    UnknownKey,
    SameKidOtherKey,
    OtherFlowsNonce,
    Stale,
    IssuedInFuture,
    OtherPersonsDocument,
    NotAlive,
    LowScore,
    Garbage,
}

impl Forgery {
    fn reason(self) -> &'static str {
        match self {
            Self::FlippedSignatureByte | Self::EditedPayload | Self::SameKidOtherKey => {
                "bad_signature"
            }
            Self::AlgNone | Self::AlgHs256 => "algorithm_mismatch",
            Self::UnknownKey => "unknown_key",
            Self::OtherFlowsNonce => "nonce_mismatch",
            Self::Stale => "stale",
            Self::IssuedInFuture => "issued_in_future",
            Self::OtherPersonsDocument => "wrong_subject",
            Self::NotAlive => "liveness_failed",
            Self::LowScore => "low_score",
            Self::Garbage => "malformed",
        }
    }

    /// A spoiled result for the flow whose nonce is `nonce`, for WANG's face.
    async fn result(self, api: &Api<'_>, nonce: &str) -> String {
        let dev = |overrides: Value| api.dev_face_result(nonce, WANG.id_number, overrides);
        match self {
            Self::FlippedSignatureByte => {
                let [header, payload, mut signature] = split(&dev(json!({})).await);
                signature[10] ^= 0x01;
                join(&[header, payload, signature])
            }
            Self::EditedPayload => {
                let [header, payload, signature] = split(&dev(json!({"score": 0.5})).await);
                let mut claims: Value = serde_json::from_slice(&payload).unwrap();
                claims["score"] = json!(0.99);
                join(&[header, claims.to_string().into_bytes(), signature])
            }
            Self::AlgNone | Self::AlgHs256 => {
                let alg = if matches!(self, Self::AlgNone) {
                    "none"
                } else {
                    "HS256"
                };
                let header = json!({"alg": alg, "kid": DEV_FACE_KID, "typ": "face-result+jwt"});
                with_header(&dev(json!({})).await, header)
            }
            Self::UnknownKey => FaceSigner::generate("other-provider", &OsSecrets).sign(&claims(
                api.app,
                nonce,
                WANG.id_number,
            )),
            Self::SameKidOtherKey => FaceSigner::generate(DEV_FACE_KID, &OsSecrets).sign(&claims(
                api.app,
                nonce,
                WANG.id_number,
            )),
            Self::OtherFlowsNonce => {
                let (_, other_nonce) = api.face_challenge(WANG.id_number).await;
                api.dev_face_result(&other_nonce, WANG.id_number, json!({}))
                    .await
            }
            Self::Stale => dev(json!({"issued_seconds_ago": 600})).await,
            Self::IssuedInFuture => dev(json!({"issued_seconds_ago": -600})).await,
            Self::OtherPersonsDocument => api.dev_face_result(nonce, LI.id_number, json!({})).await,
            Self::NotAlive => dev(json!({"liveness": false})).await,
            Self::LowScore => dev(json!({"score": 0.5})).await,
            Self::Garbage => "garbage".to_owned(),
        }
    }
}

#[tokio::test]
async fn a_member_who_forgot_both_passwords_recovers_them_after_a_face_login() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);

    let (flow, nonce) = api.face_challenge(WANG.id_number).await;
    let result = api.dev_face_result(&nonce, WANG.id_number, json!({})).await;
    let reply = api.face_complete(&flow, &result).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(
        (&body["scope"], &body["token_type"], &body["expires_at"]),
        (
            &json!("recovery"),
            &json!("Bearer"),
            &json!("2026-11-23T02:16:01Z")
        )
    );
    let recovery = body["token"].as_str().unwrap().to_owned();

    api.recover_transaction_password(&recovery, &WANG, NEW_TRANSACTION_PASSWORD)
        .await;
    api.start_forgot_transaction(&recovery, &WANG)
        .await
        .assert_error(401, "unauthorized");

    api.recover_login_password(&WANG, NEW_TRANSACTION_PASSWORD, NEW_LOGIN_PASSWORD)
        .await;
    api.login_by_account(WANG.account, LOGIN_PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");
    let token = api.token_for_password(&WANG, NEW_LOGIN_PASSWORD).await;
    let me = api.get_as(&token, "/api/v1/me").await;
    assert_eq!(me.status, 200, "{}", me.text);
    let mut reasons: Vec<String> = me.json()["holds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["reason"].as_str().unwrap().to_owned())
        .collect();
    reasons.sort();
    assert_eq!(reasons, ["login_reset", "transaction_reset"]);
    let notices = app.sms_to(WANG.phone).await;
    assert_eq!(notices.iter().filter(|t| t.contains("重置")).count(), 2);

    assert_audited(
        &audit_events(&app).await,
        &[
            "face.start",
            "face.result",
            "recovery.transaction.complete",
            "recovery.login.complete",
        ],
        &WANG,
        &[
            TRANSACTION_PASSWORD,
            NEW_TRANSACTION_PASSWORD,
            NEW_LOGIN_PASSWORD,
            &nonce,
        ],
    );
}

#[tokio::test]
async fn a_face_login_token_is_refused_everywhere_but_transaction_recovery() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let recovery = api.face_login(&WANG).await;

    api.get_as(&recovery, "/api/v1/me")
        .await
        .assert_error(403, "recovery_session_only");
    api.get_as(&recovery, "/api/v1/security/questions")
        .await
        .assert_error(403, "recovery_session_only");
    let questions = json!({"questions": [{"question": "first_school", "answer": "x"}]});
    api.put_json_as(&recovery, "/api/v1/security/questions", questions)
        .await
        .assert_error(403, "recovery_session_only");
    api.post_as(&recovery, "/api/v1/logout-all")
        .await
        .assert_error(403, "recovery_session_only");

    let reply = api.start_forgot_transaction(&recovery, &WANG).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json()["masked_phone"], "138****5678");

    // Once it has run out (15 minutes), the token is simply unknown: 401, not 403.
    app.clock.advance(Duration::minutes(15));
    api.get_as(&recovery, "/api/v1/me")
        .await
        .assert_error(401, "unauthorized");
    api.start_forgot_transaction(&recovery, &WANG)
        .await
        .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn unsigned_garbage_uses_up_a_flow_but_never_locks_the_document() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    for _ in 0..3 {
        let (flow, _) = api.face_challenge(WANG.id_number).await;
        for _ in 0..2 {
            api.face_complete(&flow, "garbage")
                .await
                .assert_error(400, "face_rejected");
        }
        api.face_complete(&flow, "garbage")
            .await
            .assert_error(423, "face_attempts_exhausted");
    }
    // Nine rejected posts by anyone, and the member can still log in by face.
    let token = api.face_login(&WANG).await;
    assert!(!token.is_empty());
    // The address that posted them may have one more refused this hour, then waits.
    let (flow, _) = api.face_challenge(WANG.id_number).await;
    api.face_complete(&flow, "garbage")
        .await
        .assert_error(400, "face_rejected");
    let (flow, _) = api.face_challenge(WANG.id_number).await;
    api.face_complete(&flow, "garbage")
        .await
        .assert_error(429, "rate_limited");
}

#[tokio::test]
async fn results_for_another_person_never_lock_the_document() {
    let app = app_with_registered(&WANG).await;
    seed(&app, &LI).await;
    let api = Api::new(&app);
    for _ in 0..3 {
        let (flow, nonce) = api.face_challenge(WANG.id_number).await;
        // A genuine, live, high-scoring result — for someone else's document.
        let theirs = api.dev_face_result(&nonce, LI.id_number, json!({})).await;
        let reply = api.face_complete(&flow, &theirs).await;
        reply.assert_error(400, "face_rejected");
        assert_eq!(reply.json()["error"]["details"]["reason"], "wrong_subject");
    }
    let token = api.face_login(&WANG).await;
    assert!(!token.is_empty(), "the member can still log in by face");
}

#[tokio::test]
async fn a_result_for_an_unregistered_document_reads_like_a_members_until_it_is_valid() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    // Someone else's valid result posted to a flow: for a member's document and for a
    // document nobody registered, the answer is the same.
    for id_number in [WANG.id_number, STRANGER.id_number] {
        let (flow, nonce) = api.face_challenge(id_number).await;
        let mine = api.dev_face_result(&nonce, LI.id_number, json!({})).await;
        let reply = api.face_complete(&flow, &mine).await;
        reply.assert_error(400, "face_rejected");
        assert_eq!(reply.json()["error"]["details"]["reason"], "wrong_subject");
    }
}

#[tokio::test]
async fn each_forged_or_unfit_result_is_refused_with_its_own_reason() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let forgeries = [
        Forgery::FlippedSignatureByte,
        Forgery::EditedPayload,
        Forgery::AlgNone,
        Forgery::AlgHs256,
        Forgery::UnknownKey,
        Forgery::SameKidOtherKey,
        Forgery::OtherFlowsNonce,
        Forgery::Stale,
        Forgery::IssuedInFuture,
        Forgery::OtherPersonsDocument,
        Forgery::NotAlive,
        Forgery::LowScore,
        Forgery::Garbage,
    ];
    for forgery in forgeries {
        // A new hour each time: one address may have 10 results refused per hour.
        app.clock.advance(Duration::hours(1));
        let (flow, nonce) = api.face_challenge(WANG.id_number).await;
        let forged = forgery.result(&api, &nonce).await;
        let reply = api.face_complete(&flow, &forged).await;
        reply.assert_error(400, "face_rejected");
        assert_eq!(
            reply.json()["error"]["details"],
            json!({"reason": forgery.reason()}),
            "{forgery:?}"
        );
        // One refusal does not end the flow, and a success clears the count.
        let genuine = api.dev_face_result(&nonce, WANG.id_number, json!({})).await;
        let reply = api.face_complete(&flow, &genuine).await;
        assert_eq!(
            reply.status, 200,
            "{forgery:?} then genuine: {}",
            reply.text
        );
    }
}

#[tokio::test]
async fn a_result_is_good_once() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let (flow, nonce) = api.face_challenge(WANG.id_number).await;
    let result = api.dev_face_result(&nonce, WANG.id_number, json!({})).await;
    let reply = api.face_complete(&flow, &result).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    api.face_complete(&flow, &result)
        .await
        .assert_error(409, "face_replayed");
    let (other_flow, _) = api.face_challenge(WANG.id_number).await;
    api.face_complete(&other_flow, &result)
        .await
        .assert_error(400, "face_rejected");
}

#[tokio::test]
async fn three_refused_results_close_face_login_for_the_document_for_a_day() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let low = json!({"score": 0.5});
    let (first, nonce) = api.face_challenge(WANG.id_number).await;
    for _ in 0..2 {
        let result = api
            .dev_face_result(&nonce, WANG.id_number, low.clone())
            .await;
        api.face_complete(&first, &result)
            .await
            .assert_error(400, "face_rejected");
    }
    // A new flow buys no new attempts.
    let (second, nonce) = api.face_challenge(WANG.id_number).await;
    let result = api
        .dev_face_result(&nonce, WANG.id_number, low.clone())
        .await;
    let reply = api.face_complete(&second, &result).await;
    reply.assert_error(423, "face_attempts_exhausted");
    let error = &reply.json()["error"];
    assert_eq!(error["details"]["until"], "2026-11-24T02:01:01Z");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("manual review") && message.contains("counter"),
        "{message}"
    );

    let genuine = api.dev_face_result(&nonce, WANG.id_number, json!({})).await;
    api.face_complete(&second, &genuine)
        .await
        .assert_error(423, "face_attempts_exhausted");
    api.face_start(WANG.id_number)
        .await
        .assert_error(423, "face_attempts_exhausted");

    app.clock.advance(Duration::hours(24));
    let token = api.face_login(&WANG).await;
    assert!(!token.is_empty());
}

#[tokio::test]
async fn a_document_that_is_not_a_registered_users_gets_the_same_challenge_and_no_token() {
    let app = app_with_registered(&WANG).await;
    seed(&app, &LI).await;
    let member = Api::from_ip(&app, "203.0.113.1")
        .face_start(WANG.id_number)
        .await;
    let stranger = Api::from_ip(&app, "203.0.113.2")
        .face_start(STRANGER.id_number)
        .await;
    assert_eq!((member.status, stranger.status), (201, 201));
    assert_eq!(
        without(&member, &["flow", "nonce"]),
        without(&stranger, &["flow", "nonce"])
    );

    let api = Api::new(&app);
    for person in [&STRANGER, &LI] {
        let (flow, nonce) = api.face_challenge(person.id_number).await;
        let result = api
            .dev_face_result(&nonce, person.id_number, json!({}))
            .await;
        api.face_complete(&flow, &result)
            .await
            .assert_error(403, "face_not_eligible");
    }
    api.face_start("110105199003071238")
        .await
        .assert_error(400, "bad_id_number");
}

#[tokio::test]
async fn production_refuses_the_dev_simulators_key_and_has_no_simulator() {
    let simulator = FaceSigner::generate(DEV_FACE_KID, &OsSecrets);
    let policy = PortalPolicy {
        face: FacePolicy {
            keys: vec![simulator.trusted_key(true)],
            accept_dev_keys: false,
            ..FacePolicy::default()
        },
        ..PortalPolicy::default()
    };
    let app = TestApp::spawn_with(TestOptions {
        mode: Mode::Production,
        policy,
        face_provider: None,
    })
    .await;
    seed(&app, &WANG).await;
    let api = Api::new(&app);
    let body = json!({"nonce": "n", "id_type": "resident_id", "id_number": WANG.id_number});
    assert_eq!(api.post("/dev/face", body).await.status, 404);

    let (flow, nonce) = api.face_challenge(WANG.id_number).await;
    let result = simulator.sign(&claims(&app, &nonce, WANG.id_number));
    let reply = api.face_complete(&flow, &result).await;
    reply.assert_error(400, "face_rejected");
    assert_eq!(
        reply.json()["error"]["details"]["reason"],
        "dev_key_refused"
    );
}
