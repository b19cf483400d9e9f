//! The internal API's own OpenAPI document, and its absence from the app's.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod internal_common;
mod support;

use internal_common::Internal;
use serde_json::{Value, json};
use support::TestApp;

const INTERNAL_PATHS: [&str; 10] = [
    "/internal/oauth/token",
    "/internal/v1/authorizations",
    "/internal/v1/authorizations/{id}",
    "/internal/v1/authorizations/{id}/capture",
    "/internal/v1/transaction-password/verify",
    "/internal/v1/members/{account_no}",
    "/internal/v1/members/{account_no}/holds",
    "/internal/v1/members/{account_no}/qualification",
    "/internal/v1/introspect",
    "/internal/v1/jwks.json",
];

async fn document(app: &TestApp, path: &str) -> Value {
    let internal = Internal::new(app);
    let reply = internal
        .api
        .send(internal.api.client.get(app.url(path)))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.json()
}

#[tokio::test]
async fn the_internal_document_lists_every_path_with_the_client_credentials_scheme() {
    let app = TestApp::spawn().await;
    let doc = document(&app, "/internal/openapi.json").await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );

    let paths = doc["paths"].as_object().unwrap();
    let mut listed: Vec<&str> = paths.keys().map(String::as_str).collect();
    listed.sort_unstable();
    let mut expected = INTERNAL_PATHS.to_vec();
    expected.sort_unstable();
    assert_eq!(listed, expected);

    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "oauth2", "{scheme}");
    let flow = &scheme["flows"]["clientCredentials"];
    assert_eq!(flow["tokenUrl"], "/internal/oauth/token", "{scheme}");
    let scopes: Vec<&String> = flow["scopes"].as_object().unwrap().keys().collect();
    assert_eq!(
        scopes,
        [
            "holds:read",
            "members:read",
            "payments:authorize",
            "qualification:read",
            "tokens:introspect"
        ]
    );

    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            let responses = operation["responses"].as_object().unwrap();
            let open = path.ends_with("/jwks.json") || path.ends_with("/oauth/token");
            if open {
                assert!(
                    operation.get("security").is_none(),
                    "{method} {path} asks for a token"
                );
                continue;
            }
            for status in ["401", "403"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} does not declare {status}"
                );
            }
            let security = &operation["security"];
            assert!(
                security
                    .as_array()
                    .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some())),
                "{method} {path}: {security}"
            );
        }
    }
    // The one error envelope, documented.
    assert!(doc["components"]["schemas"]["InternalErrorBody"].is_object());
}

#[tokio::test]
async fn the_apps_document_has_no_internal_path() {
    let app = TestApp::spawn().await;
    let doc = document(&app, "/api/openapi.json").await;
    let paths = doc["paths"].as_object().unwrap();
    assert!(!paths.is_empty());
    let internal: Vec<&String> = paths
        .keys()
        .filter(|p| p.starts_with("/internal"))
        .collect();
    assert_eq!(internal, Vec::<&String>::new());
    assert!(
        !doc.to_string().contains("/internal/"),
        "the app's document mentions /internal/"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["type"],
        json!("http")
    );
}

/// Status of `GET path` on `router`, answered in process.
async fn status_of(router: &axum::Router, path: &str) -> u16 {
    use tower::ServiceExt as _;
    let request = axum::http::Request::get(path)
        .body(axum::body::Body::empty())
        .unwrap();
    router
        .clone()
        .oneshot(request)
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn with_a_listener_of_its_own_the_internal_api_is_absent_from_the_public_one() {
    let app = TestApp::spawn().await;
    let settings = fundpass_server::state::ServerSettings {
        mode: fundpass_server::state::Mode::Dev,
        secure_cookies: false,
        public_origin: "http://127.0.0.1".into(),
        trust_forwarded_for: true,
        internal_listener: true,
    };
    let state = fundpass_server::state::AppState {
        portal: app.portal.clone(),
        settings: std::sync::Arc::new(settings),
        face_simulator: None,
    };
    let public = fundpass_server::app::build(state.clone());
    let internal = fundpass_server::app::build_internal(state);

    for path in ["/internal/openapi.json", "/internal/v1/jwks.json"] {
        assert_eq!(
            status_of(&internal, path).await,
            200,
            "{path} on the internal listener"
        );
        assert_eq!(
            status_of(&public, path).await,
            404,
            "{path} on the public listener"
        );
    }
    assert_eq!(status_of(&public, "/api/openapi.json").await, 200);
    assert_eq!(status_of(&internal, "/api/openapi.json").await, 404);
}
