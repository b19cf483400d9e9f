//! Security questions through the app's JSON API: set, listed back without their
//! answers, and refused when the set is not acceptable.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod support;

use api_common::{Api, WANG, app_with_registered};
use serde_json::json;

#[tokio::test]
async fn security_questions_are_set_and_listed_without_their_answers() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    let reply = api.get_as(&token, "/api/v1/security/questions").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["questions"], json!([]));
    assert_eq!(reply.json()["max"], 3);
    assert!(reply.json()["available"].as_array().unwrap().len() >= 3);

    let body = json!({"questions": [
        {"question": "first_school", "answer": "Beijing No. 4"},
        {"question": "first_street", "answer": "Nanluoguxiang"},
    ]});
    let reply = api
        .put_json_as(&token, "/api/v1/security/questions", body)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.json()["questions"],
        json!(["first_school", "first_street"])
    );
    let listed = api.get_as(&token, "/api/v1/security/questions").await;
    assert_eq!(
        listed.json()["questions"],
        json!(["first_school", "first_street"])
    );
    assert!(!listed.text.contains("Beijing") && !listed.text.contains("Nanluoguxiang"));

    let bad = json!({"questions": [
        {"question": "first_school", "answer": "a"},
        {"question": "first_school", "answer": "b"},
    ]});
    let reply = api
        .put_json_as(&token, "/api/v1/security/questions", bad)
        .await;
    reply.assert_error(422, "bad_questions");
    assert_eq!(reply.json()["error"]["details"]["reason"], "repeated");
    let unknown = json!({"questions": [{"question": "my_pet_rex", "answer": "a"}]});
    let reply = api
        .put_json_as(&token, "/api/v1/security/questions", unknown)
        .await;
    reply.assert_error(422, "bad_questions");
    assert!(!reply.text.contains("my_pet_rex"), "{}", reply.text);
}
