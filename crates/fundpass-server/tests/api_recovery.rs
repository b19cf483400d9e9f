//! Forgotten passwords through the app's JSON API (seed scenarios 1 and 2): the login
//! password with the transaction password, the transaction password with an SMS code,
//! and what every reset does (tokens ended, notice texted, hold, audit, delivery).
//! The code step's limits are in `api_recovery_codes.rs`; face login, scenario 3, in
//! `api_face.rs`.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use api_common::{
    Api, LI, LOGIN_PASSWORD, NEW_LOGIN_PASSWORD, NEW_TRANSACTION_PASSWORD, Reply, STRANGER,
    TRANSACTION_PASSWORD, WANG, app_with_registered, assert_audited, audit_events, seed, without,
};
use fundpass_core::ports::{OutboxStore as _, SmsAccepted, SmsError, SmsRequest, SmsSender};
use fundpass_server::sms::{OutboxWorker, WorkerConfig};
use serde_json::json;
use time::Duration;

/// Five wrong transaction passwords in one flow: the first four answers and the fifth.
async fn five_wrong_proofs(api: &Api<'_>, name: &str, id_number: &str) -> (Vec<Reply>, Reply) {
    let reply = api.start_forgot_login(name, id_number).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let flow = reply.json()["flow"].as_str().unwrap().to_owned();
    let mut first = Vec::new();
    for _ in 0..4 {
        first.push(api.verify_forgot_login(&flow, "150826").await);
    }
    let fifth = api.verify_forgot_login(&flow, "150826").await;
    (first, fifth)
}

#[tokio::test]
async fn a_forgotten_login_password_is_reset_with_the_transaction_password() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let old_tokens = [api.token_for(&WANG).await, api.token_for(&WANG).await];

    let started = api.start_forgot_login(WANG.name, WANG.id_number).await;
    assert_eq!(started.status, 201, "{}", started.text);
    assert_eq!(started.header("cache-control"), Some("no-store"));
    assert_eq!(started.json()["expires_at"], "2026-11-23T02:16:01Z");
    let flow = started.json()["flow"].as_str().unwrap().to_owned();
    let reply = api.verify_forgot_login(&flow, TRANSACTION_PASSWORD).await;
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!({"next": "new_password"}))
    );
    let reply = api
        .complete_forgot_login(&flow, NEW_LOGIN_PASSWORD, NEW_LOGIN_PASSWORD)
        .await;
    assert_eq!(
        (reply.status, reply.json()["status"].clone()),
        (200, json!("reset"))
    );

    for token in &old_tokens {
        api.get_as(token, "/api/v1/me")
            .await
            .assert_error(401, "unauthorized");
    }
    api.login_by_account(WANG.account, LOGIN_PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");
    let login = api.login_by_account(WANG.account, NEW_LOGIN_PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.text);
    api.complete_forgot_login(&flow, "Other9meadow37", "Other9meadow37")
        .await
        .assert_error(409, "wrong_step");
}

#[tokio::test]
async fn a_reset_texts_the_phone_on_file_places_a_hold_and_is_audited() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    api.recover_login_password(&WANG, TRANSACTION_PASSWORD, NEW_LOGIN_PASSWORD)
        .await;

    let texts = app.sms_to(WANG.phone).await;
    let notice = texts
        .iter()
        .find(|t| t.contains("重置"))
        .expect("no reset notice");
    assert!(
        notice.contains("登录密码") && !notice.contains("交易密码"),
        "{notice}"
    );
    assert!(
        notice.contains("12329") && notice.contains("手机APP"),
        "{notice}"
    );
    assert!(notice.contains("2026-11-23 10:01"), "China time: {notice}");

    let token = api.token_for_password(&WANG, NEW_LOGIN_PASSWORD).await;
    let me = api.get_as(&token, "/api/v1/me").await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(
        me.json()["holds"],
        json!([{
            "reason": "login_reset", "channel": "app",
            "created_at": "2026-11-23T02:01:01Z", "until": "2026-11-24T02:01:01Z",
        }])
    );

    let events = audit_events(&app).await;
    assert_audited(
        &events,
        &[
            "recovery.login.start",
            "recovery.login.proof",
            "recovery.login.complete",
        ],
        &WANG,
        &[LOGIN_PASSWORD, TRANSACTION_PASSWORD, NEW_LOGIN_PASSWORD],
    );
}

#[tokio::test]
async fn the_identify_step_answers_the_same_for_members_strangers_and_wrong_names() {
    let app = app_with_registered(&WANG).await;
    seed(&app, &LI).await;
    let texts_before = app.sms_to(WANG.phone).await.len();
    let mut replies = Vec::new();
    for (ip, name, id_number) in [
        ("203.0.113.1", WANG.name, WANG.id_number),
        ("203.0.113.2", STRANGER.name, STRANGER.id_number),
        ("203.0.113.3", "王大明", WANG.id_number),
        ("203.0.113.4", LI.name, LI.id_number),
    ] {
        let api = Api::from_ip(&app, ip);
        replies.push(api.start_forgot_login(name, id_number).await);
    }
    let first = without(&replies[0], &["flow"]);
    for reply in &replies {
        assert_eq!(reply.status, 201, "{}", reply.text);
        assert_eq!(without(reply, &["flow"]), first);
        assert_eq!(
            reply.header("content-length"),
            replies[0].header("content-length")
        );
    }
    assert_eq!(
        app.sms_to(WANG.phone).await.len(),
        texts_before,
        "nothing is sent"
    );

    // The refusals of the next step are the same too: member, stranger, wrong name.
    let api = Api::new(&app);
    let flows: Vec<String> = replies
        .iter()
        .map(|r| r.json()["flow"].as_str().unwrap().to_owned())
        .collect();
    let mut refusals = Vec::new();
    for flow in &flows[..3] {
        refusals.push(api.verify_forgot_login(flow, "150826").await);
    }
    for refusal in &refusals {
        refusal.assert_error(400, "not_verified");
        assert_eq!(refusal.text, refusals[0].text);
    }
    assert_eq!(
        refusals[0].json()["error"]["details"],
        json!({"remaining": 4})
    );
    // The right transaction password under a wrong name proves nothing either.
    api.verify_forgot_login(&flows[2], TRANSACTION_PASSWORD)
        .await
        .assert_error(400, "not_verified");
}

#[tokio::test]
async fn five_wrong_transaction_passwords_lock_until_china_midnight_across_flows() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let (first, fifth) = five_wrong_proofs(&api, WANG.name, WANG.id_number).await;
    for (reply, remaining) in first.iter().zip([4, 3, 2, 1]) {
        reply.assert_error(400, "not_verified");
        assert_eq!(reply.json()["error"]["details"]["remaining"], remaining);
    }
    fifth.assert_error(423, "transaction_locked");
    // 02:01 UTC is 10:01 in China; the next midnight there is 16:00 UTC.
    assert_eq!(
        fifth.json()["error"]["details"]["until"],
        "2026-11-23T16:00:00Z"
    );

    let flow = api.forgot_login_flow(&WANG).await;
    let reply = api.verify_forgot_login(&flow, TRANSACTION_PASSWORD).await;
    reply.assert_error(423, "transaction_locked");
    assert_eq!(
        reply.json()["error"]["details"]["until"],
        "2026-11-23T16:00:00Z"
    );

    app.clock.advance(Duration::hours(14));
    let flow = api.forgot_login_flow(&WANG).await;
    let reply = api.verify_forgot_login(&flow, TRANSACTION_PASSWORD).await;
    assert_eq!(reply.status, 200, "after midnight: {}", reply.text);
}

#[tokio::test]
async fn details_that_match_nobody_lock_exactly_like_a_member() {
    let app = app_with_registered(&WANG).await;
    let member = five_wrong_proofs(
        &Api::from_ip(&app, "203.0.113.1"),
        WANG.name,
        WANG.id_number,
    )
    .await;
    let stranger = five_wrong_proofs(
        &Api::from_ip(&app, "203.0.113.2"),
        STRANGER.name,
        STRANGER.id_number,
    )
    .await;
    for (a, b) in member.0.iter().zip(&stranger.0) {
        assert_eq!((a.status, &a.text), (b.status, &b.text));
    }
    stranger.1.assert_error(423, "transaction_locked");
    assert_eq!(member.1.text, stranger.1.text);

    let api = Api::from_ip(&app, "203.0.113.2");
    let flow = api.forgot_login_flow(&STRANGER).await;
    api.verify_forgot_login(&flow, TRANSACTION_PASSWORD)
        .await
        .assert_error(423, "transaction_locked");
}

#[tokio::test]
async fn a_new_login_password_that_breaks_the_rules_is_refused_with_every_reason() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let flow = api.forgot_login_flow(&WANG).await;
    let reply = api.verify_forgot_login(&flow, TRANSACTION_PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.text);

    let reply = api
        .complete_forgot_login(&flow, "abcdefgh", "abcdefgi")
        .await;
    reply.assert_error(422, "password_policy");
    let details = &reply.json()["error"]["details"];
    assert_eq!(details["mismatch"], true);
    let codes: Vec<&str> = details["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"needs_digit"), "{codes:?}");
    assert!(details["reasons"][0]["message"].is_string());
    assert!(!reply.text.contains("abcdefg"), "{}", reply.text);

    let reply = api
        .complete_forgot_login(&flow, LOGIN_PASSWORD, LOGIN_PASSWORD)
        .await;
    reply.assert_error(422, "password_policy");
    assert_eq!(
        reply.json()["error"]["details"]["reasons"][0]["code"],
        "reused"
    );
    // Each refusal is audited with its reason codes, never the passwords typed.
    let refused: Vec<_> = audit_events(&app)
        .await
        .into_iter()
        .filter(|e| {
            e.action == "recovery.login.complete"
                && e.outcome == fundpass_core::audit::Outcome::Failure
        })
        .collect();
    assert_eq!(refused.len(), 2);
    let details = serde_json::to_string(&refused[1].details).unwrap();
    assert!(details.contains("reused"), "{details}");
    assert!(!details.contains("abcdefg") && !details.contains(LOGIN_PASSWORD));
    let reply = api
        .complete_forgot_login(&flow, NEW_LOGIN_PASSWORD, NEW_LOGIN_PASSWORD)
        .await;
    assert_eq!(
        reply.status, 200,
        "the refusals changed nothing: {}",
        reply.text
    );
}

#[tokio::test]
async fn a_forgotten_transaction_password_is_reset_with_a_code_to_the_phone_on_file() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    let other_device = api.token_for(&WANG).await;

    let started = api.start_forgot_transaction(&token, &WANG).await;
    assert_eq!(started.status, 201, "{}", started.text);
    assert_eq!(started.json()["masked_phone"], "138****5678");
    let flow = started.json()["flow"].as_str().unwrap().to_owned();
    let sent = api.request_recovery_code(&token, &flow, WANG.phone).await;
    assert_eq!(sent.status, 202, "{}", sent.text);
    assert_eq!(
        sent.json(),
        json!({"code_expires_at": "2026-11-23T02:06:01Z", "resend_after": "2026-11-23T02:02:01Z"})
    );
    let code = app.last_code_to(WANG.phone).await;
    let reply = api.submit_recovery_code(&token, &flow, &code).await;
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!({"next": "new_transaction_password"}))
    );
    let reply = api
        .complete_forgot_transaction(&token, &flow, NEW_TRANSACTION_PASSWORD)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);

    for t in [&token, &other_device] {
        api.get_as(t, "/api/v1/me")
            .await
            .assert_error(401, "unauthorized");
        api.start_forgot_transaction(t, &WANG)
            .await
            .assert_error(401, "unauthorized");
    }
    let texts = app.sms_to(WANG.phone).await;
    let notice = texts
        .iter()
        .find(|t| t.contains("重置"))
        .expect("no reset notice");
    assert!(
        notice.contains("交易密码") && notice.contains("12329"),
        "{notice}"
    );

    let token = api.token_for(&WANG).await;
    let me = api.get_as(&token, "/api/v1/me").await;
    assert_eq!(
        me.json()["holds"][0]["reason"],
        "transaction_reset",
        "{}",
        me.text
    );
    // The old transaction password no longer proves anything; the new one does.
    let flow = api.forgot_login_flow(&WANG).await;
    api.verify_forgot_login(&flow, TRANSACTION_PASSWORD)
        .await
        .assert_error(400, "not_verified");
    let reply = api
        .verify_forgot_login(&flow, NEW_TRANSACTION_PASSWORD)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);

    assert_audited(
        &audit_events(&app).await,
        &[
            "recovery.transaction.start",
            "recovery.transaction.code_sent",
            "recovery.transaction.code",
            "recovery.transaction.complete",
        ],
        &WANG,
        &[
            TRANSACTION_PASSWORD,
            NEW_TRANSACTION_PASSWORD,
            LOGIN_PASSWORD,
            &code,
        ],
    );
}

/// A gateway that refuses the reset notice a number of times, then takes it, and
/// takes every other message at once; it records each call.
struct FlakyGateway {
    refusals: Mutex<VecDeque<SmsError>>,
    calls: Mutex<Vec<(String, String, bool)>>,
}

#[async_trait::async_trait]
impl SmsSender for FlakyGateway {
    async fn send(&self, request: &SmsRequest<'_>) -> Result<SmsAccepted, SmsError> {
        let text = request.content.text.as_str();
        let notice = text.contains("重置");
        let refusal = if notice {
            self.refusals.lock().unwrap().pop_front()
        } else {
            None
        };
        let key = request.idempotency_key.to_owned();
        let call = (key, text.to_owned(), refusal.is_none());
        self.calls.lock().unwrap().push(call);
        refusal.map_or(Ok(SmsAccepted::default()), Err)
    }
}

#[tokio::test]
async fn a_reset_notice_is_delivered_once_through_a_failing_gateway() {
    let app = app_with_registered(&WANG).await;
    Api::new(&app)
        .recover_login_password(&WANG, TRANSACTION_PASSWORD, NEW_LOGIN_PASSWORD)
        .await;
    let temporary = || SmsError::Temporary("gateway timeout".into());
    let gateway = Arc::new(FlakyGateway {
        refusals: Mutex::new(VecDeque::from([temporary(), temporary(), temporary()])),
        calls: Mutex::new(Vec::new()),
    });
    let worker = OutboxWorker::new(
        Arc::new(app.store.clone()),
        gateway.clone(),
        app.keyring.clone(),
        app.clock.clone(),
        WorkerConfig::default(),
    );
    for _ in 0..8 {
        worker.run_once().await.unwrap();
        app.clock.advance(Duration::hours(2));
    }

    let notices: Vec<_> = gateway
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, text, _)| text.contains("重置"))
        .cloned()
        .collect();
    assert_eq!(
        notices.len(),
        4,
        "three refusals, then one delivery: {notices:?}"
    );
    assert_eq!(notices.iter().filter(|(_, _, taken)| *taken).count(), 1);
    assert!(notices.last().unwrap().2, "the last try is the delivery");
    let stored = app.store.recent_messages(100).await.unwrap();
    let row = stored.iter().find(|m| m.purpose == "reset_notice").unwrap();
    assert!(
        notices.iter().all(|(key, _, _)| *key == row.id),
        "every try carries the message's own idempotency key"
    );
    assert!(row.delivered_at.is_some());
}

#[tokio::test]
async fn an_unfinished_recovery_changes_nothing_on_the_account() {
    use fundpass_core::ports::{HoldStore as _, MemberStore as _};
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    let account = fundpass_core::member::AccountNumber::parse(WANG.account).unwrap();
    let before = app
        .store
        .member_by_account(&account)
        .await
        .unwrap()
        .unwrap();

    // Forgotten login password: identified and proven, never completed.
    let flow = api.forgot_login_flow(&WANG).await;
    let reply = api.verify_forgot_login(&flow, TRANSACTION_PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // Forgotten transaction password: code sent and entered, never completed.
    let (flow, code) = api.flow_with_code(&token, &WANG).await;
    let reply = api.submit_recovery_code(&token, &flow, &code).await;
    assert_eq!(reply.status, 200, "{}", reply.text);

    let after = app.store.member_by_id(before.id).await.unwrap().unwrap();
    assert_eq!(after.login_hash, before.login_hash);
    assert_eq!(after.transaction_hash, before.transaction_hash);
    assert_eq!(after.status, before.status);
    assert!(
        app.store
            .active_holds(before.id, app.clock_now())
            .await
            .unwrap()
            .is_empty()
    );
    let me = api.get_as(&token, "/api/v1/me").await;
    assert_eq!(me.status, 200, "the session is still alive: {}", me.text);
    assert!(
        !app.sms_to(WANG.phone)
            .await
            .iter()
            .any(|t| t.contains("重置")),
        "no reset notice before a reset"
    );
}

/// What the forgotten-login-password proof step answers never depends on whether
/// the name typed was the member's: failures count against the document.
#[tokio::test]
async fn the_proof_step_answers_the_same_whichever_name_was_typed() {
    let mut transcripts = Vec::new();
    for wrong_name_first in [false, true] {
        let app = app_with_registered(&WANG).await;
        let api = Api::new(&app);
        let (first, second) = if wrong_name_first {
            ("王小二", WANG.name)
        } else {
            (WANG.name, "王小二")
        };
        let (four, fifth) = five_wrong_proofs(&api, first, WANG.id_number).await;
        let mut transcript: Vec<(u16, String)> = four
            .iter()
            .chain([&fifth])
            .map(|r| (r.status, r.json()["error"]["code"].to_string()))
            .collect();
        let reply = api.start_forgot_login(second, WANG.id_number).await;
        let flow = reply.json()["flow"].as_str().unwrap().to_owned();
        let reply = api.verify_forgot_login(&flow, TRANSACTION_PASSWORD).await;
        transcript.push((reply.status, reply.json()["error"]["code"].to_string()));
        transcripts.push(transcript);
    }
    assert_eq!(transcripts[0], transcripts[1]);
    assert_eq!(
        transcripts[0][5],
        (423, "\"transaction_locked\"".to_owned())
    );
}

/// A member whose transaction password is locked by failures elsewhere is not tried,
/// and the answer is the one a stranger gets.
#[tokio::test]
async fn a_member_locked_elsewhere_reads_like_a_stranger() {
    use fundpass_core::member::CredentialUpdate;
    use fundpass_core::ports::MemberStore as _;
    let app = app_with_registered(&WANG).await;
    seed(&app, &STRANGER).await;
    let api = Api::new(&app);
    let account = fundpass_core::member::AccountNumber::parse(WANG.account).unwrap();
    let member = app
        .store
        .member_by_account(&account)
        .await
        .unwrap()
        .unwrap();
    let mut update = CredentialUpdate::from_record(&member, app.clock_now());
    update.transaction_lock.failures = 5;
    update.transaction_lock.locked_until = Some(app.clock_now() + Duration::hours(3));
    app.store
        .update_credentials(member.id, member.version, &update)
        .await
        .unwrap();

    let mut answers = Vec::new();
    for person in [&WANG, &STRANGER] {
        let flow = api.forgot_login_flow(person).await;
        let reply = api.verify_forgot_login(&flow, TRANSACTION_PASSWORD).await;
        assert_eq!(reply.status, 400, "{}", reply.text);
        answers.push(without(&reply, &[]));
    }
    assert_eq!(answers[0], answers[1]);
    assert!(answers[0].contains("not_verified"), "{}", answers[0]);
}
