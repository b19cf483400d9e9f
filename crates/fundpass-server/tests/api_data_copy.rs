//! A copy of one's personal information from the app (`POST /api/v1/my-data`): only
//! against the login password typed with the request, complete, as an attachment,
//! audited without personal data and texted to the phone on file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod support;

use api_common::{
    Api, LOGIN_PASSWORD, Reply, WANG, app_with_registered, assert_audited, audit_events,
};
use fundpass_core::audit::Outcome;
use fundpass_core::crypto::Field;
use fundpass_core::ports::OutboxStore as _;
use serde_json::{Value, json};
use support::TestApp;

const PATH: &str = "/api/v1/my-data";
const WRONG_LOGIN: &str = "Blue7harbor43";
const SUCCESS: &str = "member.data_copy";

/// The texts queued for `phone` with `purpose`.
async fn texts(app: &TestApp, phone: &str, purpose: &str) -> Vec<String> {
    let mut out = Vec::new();
    for m in app.store.recent_messages(500).await.unwrap() {
        if m.purpose == purpose && app.keyring.open(Field::Phone, &m.to).unwrap() == phone {
            out.push(app.keyring.open(Field::Message, &m.body).unwrap());
        }
    }
    out
}

async fn copy(api: &Api<'_>, token: &str, password: &str) -> Reply {
    api.post_json_as(token, PATH, json!({ "password": password }))
        .await
}

/// Nothing of the member's full data is in `reply`, and no copy was recorded.
async fn nothing_downloaded(app: &TestApp, reply: &Reply) {
    assert!(
        !reply.text.contains(WANG.id_number) && !reply.text.contains(WANG.phone),
        "{}",
        reply.text
    );
    assert!(reply.header("content-disposition").is_none());
    let events = audit_events(app).await;
    assert!(
        !events
            .iter()
            .any(|e| e.action == SUCCESS && e.outcome == Outcome::Success)
    );
    assert!(texts(app, WANG.phone, "data_copy").await.is_empty());
}

#[tokio::test]
async fn the_copy_is_refused_without_the_password_or_a_token() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;

    let missing = api.post_json_as(&token, PATH, json!({})).await;
    assert!(
        (400..500).contains(&missing.status),
        "{} {}",
        missing.status,
        missing.text
    );
    nothing_downloaded(&app, &missing).await;
    let empty = copy(&api, &token, "").await;
    empty.assert_error(400, "wrong_login_password");
    nothing_downloaded(&app, &empty).await;
    let anonymous = api.post(PATH, json!({ "password": LOGIN_PASSWORD })).await;
    anonymous.assert_error(401, "unauthorized");
    nothing_downloaded(&app, &anonymous).await;
}

#[tokio::test]
async fn wrong_passwords_give_no_copy_count_with_failed_logins_and_the_fifth_locks_and_ends_the_session()
 {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    for _ in 0..2 {
        api.login_by_account(WANG.account, WRONG_LOGIN)
            .await
            .assert_error(401, "invalid_credentials");
    }

    for remaining in [2, 1] {
        let wrong = copy(&api, &token, WRONG_LOGIN).await;
        wrong.assert_error(400, "wrong_login_password");
        assert_eq!(wrong.json()["error"]["details"]["remaining"], remaining);
        nothing_downloaded(&app, &wrong).await;
    }
    let fifth = copy(&api, &token, WRONG_LOGIN).await;
    fifth.assert_error(423, "locked");
    assert_eq!(fifth.json()["error"]["details"]["signed_out"], true);
    nothing_downloaded(&app, &fifth).await;

    assert_eq!(
        api.get_as(&token, "/api/v1/me").await.status,
        401,
        "session ended"
    );
    copy(&api, &token, LOGIN_PASSWORD)
        .await
        .assert_error(401, "unauthorized");
    api.login_by_account(WANG.account, LOGIN_PASSWORD)
        .await
        .assert_error(423, "locked");
    let events = audit_events(&app).await;
    let failures = events
        .iter()
        .filter(|e| e.action == SUCCESS && e.outcome == Outcome::Failure)
        .count();
    assert_eq!(
        failures, 3,
        "each wrong password is audited as a data-copy failure"
    );
}

#[tokio::test]
async fn the_right_password_gives_a_complete_copy_with_the_full_document_and_phone_as_an_attachment()
 {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    let answers = json!({ "questions": [
        { "question": "first_school", "answer": "Hongqi Primary" },
        { "question": "first_street", "answer": "Chang'an Street" },
    ]});
    let set = api
        .put_json_as(&token, "/api/v1/security/questions", answers)
        .await;
    assert_eq!(set.status, 200, "{}", set.text);

    let reply = copy(&api, &token, LOGIN_PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.header("content-disposition"),
        Some("attachment; filename=\"fundpass-my-data-2026-11-23.json\"")
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let doc: Value = reply.json();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["name"], WANG.name);
    assert_eq!(doc["id_type"], "resident_id");
    assert_eq!(doc["id_number"], WANG.id_number, "the full document number");
    assert_eq!(doc["phone"], WANG.phone, "the full phone on file");
    assert_eq!(doc["account_no"], WANG.account);
    assert_eq!(doc["status"], "registered");
    assert!(doc["exported_at"].is_string());
    assert!(doc["imported_at"].is_string());
    assert!(doc["login_password_set_at"].is_string(), "{doc}");
    assert_eq!(
        doc["registered_at"], "2026-11-23T02:00:00Z",
        "the registration, before the clock moved on"
    );
    let codes: Vec<_> = doc["security_questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["first_school", "first_street"]);
    assert!(
        doc["security_questions"][0]["text"]
            .as_str()
            .unwrap()
            .contains("学校")
    );
    assert!(
        !reply.text.contains("Hongqi") && !reply.text.contains("Chang"),
        "no answers"
    );
    assert_eq!(doc["holds"], json!([]));
    let sessions = doc["sessions"].as_array().unwrap();
    assert!(!sessions.is_empty());
    assert!(sessions.iter().any(|s| s["current"] == true));
    assert!(
        sessions.iter().all(|s| s["address"] == "203.0.113.*"),
        "{sessions:?}"
    );
    assert!(!reply.text.contains("203.0.113.10"), "addresses masked");
    assert!(!reply.text.contains(LOGIN_PASSWORD));
}

#[tokio::test]
async fn the_copy_has_a_documented_schema_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = Api::new(&app)
        .send(app.client().get(app.url("/api/openapi.json")))
        .await
        .json();
    let operation = &doc["paths"][PATH]["post"];
    assert_eq!(
        operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/MyData",
        "{operation}"
    );
    let properties = &doc["components"]["schemas"]["MyData"]["properties"];
    for field in [
        "name",
        "id_type",
        "id_number",
        "phone",
        "account_no",
        "status",
        "registered_at",
        "security_questions",
        "holds",
        "sessions",
    ] {
        assert!(properties[field].is_object(), "{field} in {properties}");
    }
}

#[tokio::test]
async fn a_copy_is_audited_without_the_document_number_or_phone() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    assert_eq!(copy(&api, &token, LOGIN_PASSWORD).await.status, 200);

    let events = audit_events(&app).await;
    assert_audited(&events, &[SUCCESS], &WANG, &[LOGIN_PASSWORD]);
    let event = events
        .iter()
        .find(|e| e.action == SUCCESS && e.outcome == Outcome::Success)
        .expect("the copy is audited");
    let text = serde_json::to_string(event).unwrap();
    assert!(!text.contains(WANG.name), "{text}");
}

#[tokio::test]
async fn the_phone_on_file_is_texted_about_the_copy() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    assert!(texts(&app, WANG.phone, "data_copy").await.is_empty());
    assert_eq!(copy(&api, &token, LOGIN_PASSWORD).await.status, 200);

    let notices = texts(&app, WANG.phone, "data_copy").await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].contains("下载了个人信息副本"), "{}", notices[0]);
    assert!(notices[0].contains("12329"), "{}", notices[0]);
    assert!(!notices[0].contains(WANG.id_number));
}

#[tokio::test]
async fn a_face_login_token_gets_no_copy() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let face = api.face_login(&WANG).await;
    let reply = copy(&api, &face, LOGIN_PASSWORD).await;
    reply.assert_error(403, "recovery_session_only");
    nothing_downloaded(&app, &reply).await;
}
