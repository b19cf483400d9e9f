//! What every endpoint of the app's JSON API shares: the error envelope for bodies
//! that are not JSON, unknown paths and methods, no caching, and the OpenAPI document.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod support;

use api_common::{Api, WANG};
use support::TestApp;

#[tokio::test]
async fn a_body_that_is_not_json_is_refused_without_being_echoed() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let request = api
        .client
        .post(app.url("/api/v1/login"))
        .header("content-type", "application/json")
        .body(r#"{"account_no": "100200300401", "password": "Hunter2secret", "#);
    let reply = api.send(request).await;
    reply.assert_error(400, "bad_json");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert!(
        !reply.text.contains("Hunter2secret") && !reply.text.contains("100200300401"),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_named_but_its_value_is_not_echoed() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let body = serde_json::json!({
        "name": WANG.name, "id_type": "driving_licence", "id_number": WANG.id_number,
        "phone": WANG.phone, "captcha_id": "x", "captcha_answer": "y",
    });
    let reply = api.post("/api/v1/registration", body).await;
    reply.assert_error(400, "bad_json");
    assert_eq!(reply.json()["error"]["details"]["field"], "id_type");
    assert!(
        !reply.text.contains("driving_licence") && !reply.text.contains(WANG.id_number),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn a_body_that_is_not_declared_as_json_is_refused_with_415() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let request = api
        .client
        .post(app.url("/api/v1/login"))
        .header("content-type", "text/plain")
        .body("{}");
    api.send(request)
        .await
        .assert_error(415, "unsupported_media_type");
    let form = api
        .client
        .post(app.url("/api/v1/registration/code"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("flow_id=x&code=1");
    api.send(form)
        .await
        .assert_error(415, "unsupported_media_type");
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let padding = "a".repeat(20 * 1024);
    let body = serde_json::json!({ "flow_id": padding, "code": "123456" });
    let reply = api.post("/api/v1/registration/code", body).await;
    assert_eq!(reply.status, 413, "{}", reply.text);
    reply.assert_error(413, "payload_too_large");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_with_the_envelope() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let missing = api
        .send(api.client.get(app.url("/api/v1/nothing-here")))
        .await;
    missing.assert_error(404, "not_found");
    assert_eq!(missing.header("cache-control"), Some("no-store"));
    let wrong_method = api.send(api.client.get(app.url("/api/v1/login"))).await;
    wrong_method.assert_error(405, "method_not_allowed");
    assert!(
        wrong_method
            .header("allow")
            .is_some_and(|a| a.contains("POST")),
        "{:?}",
        wrong_method.headers
    );
}

#[tokio::test]
async fn a_captcha_is_a_png_with_an_expiry_and_is_not_cached() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let reply = api.send(api.client.post(app.url("/api/v1/captcha"))).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = reply.json();
    assert_eq!(body["expires_at"], "2026-11-23T02:05:00Z");
    let png = body["image_png_base64"].as_str().unwrap();
    assert!(png.starts_with("iVBORw0KGgo"), "a PNG signature in base64");
    assert!(
        !reply.text.contains(
            &app.captcha_answer(body["captcha_id"].as_str().unwrap())
                .await
        )
    );
}

#[tokio::test]
async fn the_openapi_document_is_generated_and_lists_every_endpoint() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let reply = api.send(api.client.get(app.url("/api/openapi.json"))).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    let doc = reply.json();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    let operations = [
        ("/api/v1/captcha", "post"),
        ("/api/v1/registration", "post"),
        ("/api/v1/registration/code", "post"),
        ("/api/v1/registration/resend", "post"),
        ("/api/v1/registration/complete", "post"),
        ("/api/v1/login", "post"),
        ("/api/v1/logout", "post"),
        ("/api/v1/logout-all", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/security-record", "get"),
        ("/api/v1/security-record/export", "get"),
        ("/api/v1/security-record/{seq}/not-me", "post"),
        ("/api/v1/sessions", "get"),
        ("/api/v1/sessions/{id}", "delete"),
        ("/api/v1/recovery/login", "post"),
        ("/api/v1/recovery/login/verify", "post"),
        ("/api/v1/recovery/login/complete", "post"),
        ("/api/v1/recovery/transaction", "post"),
        ("/api/v1/recovery/transaction/code-request", "post"),
        ("/api/v1/recovery/transaction/resend", "post"),
        ("/api/v1/recovery/transaction/code", "post"),
        ("/api/v1/recovery/transaction/complete", "post"),
        ("/api/v1/face/start", "post"),
        ("/api/v1/face/complete", "post"),
        ("/api/v1/security/questions", "get"),
        ("/api/v1/security/questions", "put"),
        ("/api/v1/my-data", "post"),
        ("/api/v1/phone", "post"),
        ("/api/v1/password/login", "post"),
        ("/api/v1/password/transaction", "post"),
        ("/api/v1/authorizations/pending", "get"),
        ("/api/v1/authorizations/{id}/confirm", "post"),
        ("/api/v1/authorizations/{id}/decline", "post"),
        ("/api/v1/qualification", "get"),
        ("/api/v1/qualification/checks", "post"),
        ("/api/v1/qualification/checks/complete", "post"),
        ("/api/v1/qualification/relatives", "post"),
        ("/api/v1/qualification/relatives", "get"),
        ("/api/v1/qualification/relatives/confirm", "post"),
    ];
    let mut operation_ids = std::collections::BTreeSet::new();
    for (path, method) in operations {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is missing");
        assert!(
            operation["responses"]["500"].is_object(),
            "{method} {path}: no 500"
        );
        operation_ids.insert(operation["operationId"].as_str().unwrap().to_owned());
    }
    assert_eq!(operation_ids.len(), operations.len(), "{operation_ids:?}");
    let paths: std::collections::BTreeSet<_> = operations.iter().map(|(p, _)| *p).collect();
    assert_eq!(doc["paths"].as_object().unwrap().len(), paths.len());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for (path, method) in [
        ("/api/v1/me", "get"),
        ("/api/v1/recovery/transaction/code", "post"),
        ("/api/v1/security/questions", "put"),
        ("/api/v1/phone", "post"),
        ("/api/v1/authorizations/{id}/confirm", "post"),
    ] {
        assert_eq!(
            doc["paths"][path][method]["security"][0]["bearer"],
            serde_json::json!([]),
            "{method} {path}"
        );
    }
    assert!(
        doc["paths"]["/api/v1/face/start"]["post"]["security"].is_null(),
        "face login is anonymous"
    );
    let codes = &doc["components"]["schemas"]["ErrorCode"]["enum"];
    for code in [
        "invalid_credentials",
        "locked",
        "password_policy",
        "unauthorized",
        "internal",
        "not_verified",
        "recovery_session_only",
        "face_rejected",
        "face_attempts_exhausted",
        "face_login_required",
        "wrong_transaction_password",
    ] {
        assert!(
            codes.as_array().unwrap().iter().any(|c| c == code),
            "{code} missing from {codes}"
        );
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for reference in &refs {
        let name = reference.strip_prefix("#/components/schemas/").unwrap();
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{reference} is not defined"
        );
    }
    assert!(refs.iter().any(|r| r.ends_with("/HoldView")), "{refs:?}");
    let login = &doc["paths"]["/api/v1/login"]["post"];
    assert!(
        login["requestBody"]["content"]["application/json"]["schema"]["$ref"].is_string(),
        "{login}"
    );
    let documented = |status: &str| login["responses"][status].is_object();
    assert!(documented("413") && documented("415"), "{login}");
}

/// Every `$ref` in `value`, however deep.
fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner.as_str()) {
                    ("$ref", Some(target)) => out.push(target.to_owned()),
                    _ => collect_refs(inner, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
