//! The benefit qualification check (待遇资格认证) through the app's API, the sweeps
//! and the internal API: a member's own face check moving the due date, another
//! person's face refused, three refusals closing the face check, reminders at each
//! offset and none after the check, a missed due date suspending the member (read by
//! the benefit system and announced by event), and a late check restoring them with
//! the months between recorded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod internal_common;
mod support;

use api_common::{Api, LI, LOGIN_PASSWORD, WANG, app_with_registered, assert_audited, seed};
use fundpass_core::clients::Scope;
use fundpass_core::member::{AccountNumber, MemberId};
use fundpass_core::ports::{MemberStore as _, OutboxStore as _, QualificationStore as _};
use fundpass_core::qualification::add_months;
use internal_common::{Internal, KeyKind, Receiver, TestClient, last_of, types, webhook_worker};
use serde_json::{Value, json};
use support::{Person, TestApp};
use time::{Date, Duration};

/// China's date on the test clock.
fn today(app: &TestApp) -> Date {
    app.china_today()
}

/// Gives `person` a yearly pension due in `days` days (imported as the benefit
/// system's file would be).
async fn entitle(app: &TestApp, person: &Person, days: i64) -> MemberId {
    app.entitle(person, today(app) + Duration::days(days), None)
        .await
}

async fn entitle_with(
    app: &TestApp,
    person: &Person,
    days: i64,
    deceased_on: Option<Date>,
) -> MemberId {
    app.entitle(person, today(app) + Duration::days(days), deceased_on)
        .await
}

/// `POST /api/v1/qualification/checks` that must be issued: the attempt and nonce.
async fn start(api: &Api<'_>, token: &str) -> (String, String) {
    let reply = api.start_check(token).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let body = reply.json();
    (
        body["attempt"].as_str().unwrap().to_owned(),
        body["nonce"].as_str().unwrap().to_owned(),
    )
}

trait Checks {
    async fn start_check(&self, token: &str) -> api_common::Reply;
    async fn complete_check(&self, token: &str, attempt: &str, result: &str) -> api_common::Reply;
    /// A whole face check of `face` (whose document the provider compares) for the
    /// signed-in member.
    async fn check_with(&self, token: &str, face: &Person, overrides: Value) -> api_common::Reply;
}

impl Checks for Api<'_> {
    async fn start_check(&self, token: &str) -> api_common::Reply {
        self.post_json_as(token, "/api/v1/qualification/checks", json!({}))
            .await
    }

    async fn complete_check(&self, token: &str, attempt: &str, result: &str) -> api_common::Reply {
        let body = json!({ "attempt": attempt, "result": result });
        self.post_json_as(token, "/api/v1/qualification/checks/complete", body)
            .await
    }

    async fn check_with(&self, token: &str, face: &Person, overrides: Value) -> api_common::Reply {
        let (attempt, nonce) = start(self, token).await;
        let result = self
            .dev_face_result(&nonce, face.id_number, overrides)
            .await;
        self.complete_check(token, &attempt, &result).await
    }
}

/// A business system reading qualification, with a webhook receiver.
async fn benefit_system(app: &TestApp) -> (TestClient, Receiver) {
    let receiver = Receiver::start(&[]).await;
    let client = TestClient::register_with(
        app,
        "benefits",
        KeyKind::Ed25519,
        &[Scope::QualificationRead],
        Some(&receiver.url),
    )
    .await;
    (client, receiver)
}

async fn read_internal(app: &TestApp, client: &TestClient, person: &Person) -> Value {
    let internal = Internal::new(app);
    let token = internal.token(client).await;
    let path = format!("/internal/v1/members/{}/qualification", person.account);
    let reply = internal.get(&token, &path).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()
}

#[tokio::test]
async fn a_members_own_face_check_moves_the_due_date_on_by_one_cycle() {
    let app = app_with_registered(&WANG).await;
    let (client, receiver) = benefit_system(&app).await;
    // A payout system without `qualification:read` is not told of checks.
    let payouts = Receiver::start(&[]).await;
    TestClient::register_with(
        &app,
        "withdrawals",
        KeyKind::Ed25519,
        &[Scope::HoldsRead],
        Some(&payouts.url),
    )
    .await;
    let member = entitle(&app, &WANG, 20).await;
    let due = today(&app) + Duration::days(20);
    let api = Api::new(&app);
    let token = api.token_for_password(&WANG, LOGIN_PASSWORD).await;

    let before = api.get_as(&token, "/api/v1/qualification").await;
    assert_eq!(before.status, 200, "{}", before.text);
    assert_eq!(before.json()["status"], "qualified");
    assert_eq!(before.json()["due_date"], due.to_string());
    assert_eq!(before.json()["last_check"], Value::Null);

    let (attempt, nonce) = start(&api, &token).await;
    let result = api.dev_face_result(&nonce, WANG.id_number, json!({})).await;
    let passed = api.complete_check(&token, &attempt, &result).await;
    assert_eq!(passed.status, 200, "{}", passed.text);
    let next_due = add_months(due, 12);
    assert_eq!(passed.json()["due_date"], next_due.to_string());
    assert_eq!(passed.json()["status"], "qualified");
    assert_eq!(passed.json()["last_check"]["channel"], "app_face");

    // The same result again is a replay; a new check is not due for months.
    let again = api.complete_check(&token, &attempt, &result).await;
    again.assert_error(409, "face_replayed");
    let early = api.start_check(&token).await;
    early.assert_error(409, "check_not_due");
    let opens = add_months(due, 12) - Duration::days(90);
    assert_eq!(
        early.json()["error"]["details"]["opens_on"],
        opens.to_string()
    );

    let stored = app.store.benefit(member).await.unwrap().unwrap();
    assert_eq!(stored.due_date, next_due);
    let listed = api.get_as(&token, "/api/v1/qualification").await.json();
    assert_eq!(listed["recent_checks"].as_array().unwrap().len(), 1);
    assert_eq!(listed["recent_checks"][0]["gap_months"], 0);

    let read = read_internal(&app, &client, &WANG).await;
    assert_eq!(read["status"], "qualified");
    assert_eq!(read["due_date"], next_due.to_string());
    assert_eq!(read["last_check"]["channel"], "app_face");
    webhook_worker(&app).run_once().await.unwrap();
    assert_eq!(types(&receiver), ["qualification.checked"]);
    assert!(types(&payouts).is_empty(), "{:?}", types(&payouts));
    let event = last_of(&receiver, "qualification.checked");
    assert_eq!(event["data"]["account_no"], WANG.account);
    assert_eq!(event["data"]["due_date"], next_due.to_string());
    assert_eq!(event["data"]["previous_due_date"], due.to_string());

    let events = app.audit_events().await;
    assert_audited(
        &events,
        &["qualification.start", "qualification.result"],
        &WANG,
        &[&result, &nonce, &attempt],
    );
    let pass = events
        .iter()
        .find(|e| e.action == "qualification.result")
        .unwrap();
    assert_eq!(pass.details["channel"], "app_face");
    assert!(pass.details["similarity"].as_f64().unwrap() > 90.0);
}

#[tokio::test]
async fn another_persons_face_is_refused_and_three_refusals_close_the_face_check() {
    let app = app_with_registered(&WANG).await;
    seed(&app, &LI).await;
    let member = entitle(&app, &WANG, 10).await;
    let api = Api::new(&app);
    let token = api.token_for_password(&WANG, LOGIN_PASSWORD).await;

    // The face of someone else (here the person the provider compared is LI).
    let other = api.check_with(&token, &LI, json!({})).await;
    other.assert_error(400, "face_rejected");
    assert_eq!(other.json()["error"]["details"]["reason"], "wrong_subject");
    let low = api.check_with(&token, &WANG, json!({ "score": 0.2 })).await;
    low.assert_error(400, "face_rejected");
    assert_eq!(low.json()["error"]["details"]["reason"], "low_score");
    let third = api
        .check_with(&token, &WANG, json!({ "liveness": false }))
        .await;
    third.assert_error(423, "face_attempts_exhausted");

    api.start_check(&token)
        .await
        .assert_error(423, "face_attempts_exhausted");
    let stored = app.store.benefit(member).await.unwrap().unwrap();
    assert_eq!(stored.failed_attempts, 3);
    assert_eq!(stored.due_date, today(&app) + Duration::days(10));
    assert_eq!(stored.last_check_at, None);
    let status = api.get_as(&token, "/api/v1/qualification").await.json();
    assert_eq!(status["face_check_open"], false);
    let events = app.audit_events().await;
    let refusals = events
        .iter()
        .filter(|e| e.action == "qualification.result" && e.details["reason"].is_string())
        .count();
    assert_eq!(refusals, 3);
    assert_audited(&events, &["qualification.result"], &LI, &[]);
}

#[tokio::test]
async fn reminders_go_out_at_each_offset_once_and_stop_after_the_check() {
    let app = app_with_registered(&WANG).await;
    entitle(&app, &WANG, 31).await;
    let due = today(&app) + Duration::days(31);
    let reminders = || async {
        let texts = app.sms_to(WANG.phone).await;
        texts
            .into_iter()
            .filter(|t| t.contains("待遇资格认证截止日为"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        app.portal.qualification_sweep(100).await.unwrap().reminded,
        0
    );
    for (advance, days_left) in [(1, 30), (23, 7), (6, 1)] {
        app.clock.advance(Duration::days(advance));
        let first = app.portal.qualification_sweep(100).await.unwrap();
        assert_eq!(first.reminded, 1, "{days_left} days before");
        let second = app.portal.qualification_sweep(100).await.unwrap();
        assert_eq!(second.reminded, 0, "sent once at {days_left} days");
        let newest = reminders().await.into_iter().next().unwrap();
        assert!(newest.contains(&due.to_string()), "{newest}");
        assert!(newest.contains(&format!("距今{days_left}天")), "{newest}");
    }
    assert_eq!(reminders().await.len(), 3);

    // The check is passed the day before: no more reminders, and no lapse.
    let api = Api::new(&app);
    let token = api.token_for_password(&WANG, LOGIN_PASSWORD).await;
    let passed = api.check_with(&token, &WANG, json!({})).await;
    assert_eq!(passed.status, 200, "{}", passed.text);
    for _ in 0..3 {
        app.clock.advance(Duration::days(1));
        let swept = app.portal.qualification_sweep(100).await.unwrap();
        assert_eq!((swept.reminded, swept.suspended), (0, 0));
    }
    assert_eq!(reminders().await.len(), 3);
    let record = app.audit_events().await;
    let reminded = record
        .iter()
        .filter(|e| e.action == "qualification.remind")
        .count();
    assert_eq!(reminded, 3);
}

#[tokio::test]
async fn a_missed_due_date_suspends_and_a_late_check_restores_with_the_gap() {
    let app = app_with_registered(&WANG).await;
    let (client, receiver) = benefit_system(&app).await;
    let member = entitle(&app, &WANG, 2).await;
    let due = today(&app) + Duration::days(2);

    // The due date itself still counts; the day after it lapses.
    app.clock.advance(Duration::days(2));
    assert_eq!(
        app.portal.qualification_sweep(100).await.unwrap().suspended,
        0
    );
    app.clock.advance(Duration::days(1));
    let swept = app.portal.qualification_sweep(100).await.unwrap();
    assert_eq!(swept.suspended, 1);
    assert_eq!(
        app.portal.qualification_sweep(100).await.unwrap().suspended,
        0
    );
    let read = read_internal(&app, &client, &WANG).await;
    assert_eq!(read["status"], "suspended");
    assert_eq!(read["suspended_since"], due.to_string());
    webhook_worker(&app).run_once().await.unwrap();
    let suspended = last_of(&receiver, "qualification.suspended");
    assert_eq!(suspended["data"]["account_no"], WANG.account);
    assert_eq!(suspended["data"]["suspended_since"], due.to_string());
    let lapsed = app.sms_to(WANG.phone).await;
    assert!(lapsed[0].contains("待遇已暂停发放"), "{}", lapsed[0]);

    // Two and a half months later the member checks.
    app.clock.advance(Duration::days(75));
    let checked_on = today(&app);
    let gap = fundpass_core::qualification::months_between(due, checked_on);
    assert!(gap >= 2, "{gap}");
    let api = Api::new(&app);
    let token = api.token_for_password(&WANG, LOGIN_PASSWORD).await;
    let passed = api.check_with(&token, &WANG, json!({})).await;
    assert_eq!(passed.status, 200, "{}", passed.text);
    assert_eq!(passed.json()["status"], "qualified");
    assert_eq!(
        passed.json()["due_date"],
        add_months(checked_on, 12).to_string()
    );

    let read = read_internal(&app, &client, &WANG).await;
    assert_eq!(read["status"], "qualified");
    assert_eq!(read["suspended_since"], Value::Null);
    assert_eq!(read["last_check"]["gap_months"], gap);
    webhook_worker(&app).run_once().await.unwrap();
    assert_eq!(
        types(&receiver),
        ["qualification.suspended", "qualification.restored"]
    );
    let restored = last_of(&receiver, "qualification.restored");
    assert_eq!(restored["data"]["gap_months"], gap);
    assert_eq!(restored["data"]["suspended_since"], due.to_string());
    let checks = app.store.recent_checks(member, 5).await.unwrap();
    assert_eq!(checks[0].gap_months, gap);
    assert_eq!(checks[0].due_before, due);
}

#[tokio::test]
async fn only_entitled_members_have_a_check_and_an_ended_benefit_takes_none() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for_password(&WANG, LOGIN_PASSWORD).await;
    api.get_as(&token, "/api/v1/qualification")
        .await
        .assert_error(404, "not_entitled");
    api.start_check(&token)
        .await
        .assert_error(404, "not_entitled");
    let (client, _receiver) = benefit_system(&app).await;
    let internal = Internal::new(&app);
    let bearer = internal.token(&client).await;
    let path = format!("/internal/v1/members/{}/qualification", WANG.account);
    let reply = internal.get(&bearer, &path).await;
    assert_eq!(reply.status, 404, "{}", reply.text);
    assert_eq!(reply.json()["error"]["code"], "not_entitled");
    let unknown = internal
        .get(&bearer, "/internal/v1/members/999999999/qualification")
        .await;
    assert_eq!(unknown.json()["error"]["code"], "unknown_member");

    // A business system without the scope is refused.
    let payer = TestClient::register(&app, "withdrawals", &[Scope::MembersRead]).await;
    let other = internal.token(&payer).await;
    let refused = internal.get(&other, &path).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(refused.json()["error"]["code"], "insufficient_scope");

    let yesterday = today(&app) - Duration::days(1);
    entitle_with(&app, &WANG, 40, Some(yesterday)).await;
    api.start_check(&token)
        .await
        .assert_error(409, "benefit_ended");
    let status = api.get_as(&token, "/api/v1/qualification").await.json();
    assert_eq!(status["status"], "ended");
    assert_eq!(status["face_check_open"], false);
    // Nobody is suspended or reminded for an ended benefit.
    app.clock.advance(Duration::days(60));
    let swept = app.portal.qualification_sweep(100).await.unwrap();
    assert_eq!((swept.suspended, swept.reminded), (0, 0));
}

#[tokio::test]
async fn a_relative_checks_for_their_parent_with_the_parents_face_and_not_their_own() {
    // LI runs the check of WANG, an elderly pensioner who never registered online.
    let app = app_with_registered(&LI).await;
    seed(&app, &WANG).await;
    let parent = entitle(&app, &WANG, 10).await;
    let (client, _receiver) = benefit_system(&app).await;
    let api = Api::new(&app);
    let token = api.token_for_password(&LI, LOGIN_PASSWORD).await;
    let add = |person: &Person| json!({ "id_type": "resident_id", "id_number": person.id_number, "name": person.name });

    // Not yet a relative: refused.
    let early = api
        .post_json_as(
            &token,
            "/api/v1/qualification/checks",
            json!({ "relative_account_no": WANG.account }),
        )
        .await;
    early.assert_error(404, "not_relative");

    // Someone who is no entitled member gets the same answer, and no text goes out.
    let texts_before = app.store.recent_messages(500).await.unwrap().len();
    let stranger = api
        .post_json_as(
            &token,
            "/api/v1/qualification/relatives",
            add(&api_common::STRANGER),
        )
        .await;
    assert_eq!(stranger.status, 202, "{}", stranger.text);
    assert_eq!(
        app.store.recent_messages(500).await.unwrap().len(),
        texts_before
    );
    let stranger_flow = stranger.json()["flow"].as_str().unwrap().to_owned();
    let body = json!({ "flow": stranger_flow, "code": "123456" });
    api.post_json_as(&token, "/api/v1/qualification/relatives/confirm", body)
        .await
        .assert_error(400, "wrong_code");

    let started = api
        .post_json_as(&token, "/api/v1/qualification/relatives", add(&WANG))
        .await;
    assert_eq!(started.status, 202, "{}", started.text);
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&started.json()), keys(&stranger.json()));
    let flow = started.json()["flow"].as_str().unwrap().to_owned();
    let code = app.last_code_to(WANG.phone).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let body = json!({ "flow": flow, "code": wrong });
    api.post_json_as(&token, "/api/v1/qualification/relatives/confirm", body)
        .await
        .assert_error(400, "wrong_code");
    // Another member (here WANG, once registered) cannot use LI's request.
    app.clock.advance(Duration::seconds(61));
    let other = Api::from_ip(&app, "203.0.113.2");
    other.register(&WANG).await;
    let wang = other.token_for_password(&WANG, LOGIN_PASSWORD).await;
    let body = json!({ "flow": flow, "code": code });
    other
        .post_json_as(
            &wang,
            "/api/v1/qualification/relatives/confirm",
            body.clone(),
        )
        .await
        .assert_error(404, "unknown_flow");
    let confirmed = api
        .post_json_as(&token, "/api/v1/qualification/relatives/confirm", body)
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    assert_eq!(confirmed.json()["account_no"], WANG.account);
    let listed = api.get_as(&token, "/api/v1/qualification/relatives").await;
    assert_eq!(listed.json()["relatives"].as_array().unwrap().len(), 1);

    // LI's own face is refused: the provider compares with WANG's document.
    let for_parent = json!({ "relative_account_no": WANG.account });
    let start_for_parent = || async {
        let reply = api
            .post_json_as(&token, "/api/v1/qualification/checks", for_parent.clone())
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let body = reply.json();
        (
            body["attempt"].as_str().unwrap().to_owned(),
            body["nonce"].as_str().unwrap().to_owned(),
        )
    };
    let (attempt, nonce) = start_for_parent().await;
    let own_face = api.dev_face_result(&nonce, LI.id_number, json!({})).await;
    let refused = api.complete_check(&token, &attempt, &own_face).await;
    refused.assert_error(400, "face_rejected");
    assert_eq!(
        refused.json()["error"]["details"]["reason"],
        "wrong_subject"
    );

    let (attempt, nonce) = start_for_parent().await;
    let parents_face = api.dev_face_result(&nonce, WANG.id_number, json!({})).await;
    let passed = api.complete_check(&token, &attempt, &parents_face).await;
    assert_eq!(passed.status, 200, "{}", passed.text);
    assert_eq!(passed.json()["account_no"], WANG.account);
    assert_eq!(passed.json()["last_check"]["channel"], "relative_face");
    let due = today(&app) + Duration::days(10);
    assert_eq!(passed.json()["due_date"], add_months(due, 12).to_string());
    // LI's own entitlement is untouched (LI has none).
    api.get_as(&token, "/api/v1/qualification")
        .await
        .assert_error(404, "not_entitled");

    let read = read_internal(&app, &client, &WANG).await;
    assert_eq!(read["last_check"]["channel"], "relative_face");
    let checks = app.store.recent_checks(parent, 5).await.unwrap();
    let li = app
        .store
        .member_by_account(&AccountNumber::parse(LI.account).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(checks[0].by_member, Some(li.id));
    let events = app.audit_events().await;
    let pass = events
        .iter()
        .find(|e| e.action == "qualification.result" && e.details["by_member"].is_number())
        .unwrap();
    assert_eq!(pass.member_id, Some(parent));
    assert_eq!(pass.actor.id, Some(li.id.0.to_string()));
    assert_audited(
        &events,
        &[
            "qualification.relative_start",
            "qualification.relative_confirm",
        ],
        &WANG,
        &[&code, &parents_face, &own_face],
    );
}

#[tokio::test]
async fn one_result_posted_twice_at_once_passes_once_and_moves_the_due_date_once() {
    let app = app_with_registered(&WANG).await;
    let member = entitle(&app, &WANG, 10).await;
    let due = today(&app) + Duration::days(10);
    let api = Api::new(&app);
    let token = api.token_for_password(&WANG, LOGIN_PASSWORD).await;
    for _ in 0..3 {
        let (attempt, nonce) = start(&api, &token).await;
        let result = api.dev_face_result(&nonce, WANG.id_number, json!({})).await;
        let (a, b) = tokio::join!(
            api.complete_check(&token, &attempt, &result),
            api.complete_check(&token, &attempt, &result)
        );
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "{} / {}", a.text, b.text);
        // Open the window again for the next round, as a fresh due date would.
        let stored = app.store.benefit(member).await.unwrap().unwrap();
        assert_eq!(stored.due_date, add_months(due, 12));
        let reopened = fundpass_core::qualification::Benefit {
            due_date: due,
            ..stored.clone()
        };
        let change = fundpass_core::ports::ChangeSet {
            qualification: vec![fundpass_core::qualification::QualificationWrite::Benefit {
                record: reopened,
                expected_version: stored.version,
            }],
            ..Default::default()
        };
        fundpass_core::ports::UnitOfWork::apply(&app.store, change)
            .await
            .unwrap();
    }
    assert_eq!(app.store.recent_checks(member, 10).await.unwrap().len(), 3);
}
