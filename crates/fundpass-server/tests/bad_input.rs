//! Bad input, everywhere: every endpoint that takes input, whether a form, a JSON
//! body, a path, a query or a bearer token, is sent the wrong content type, oversized
//! bodies (declared and streamed), malformed and deeply nested JSON, bytes that are not
//! UTF-8, NUL characters, 100,000- and 5,000-character fields, full-width digits and
//! look-alike letters in document numbers. Each must be refused with the specific 4xx
//! the table names (in the error envelope for the APIs, the form shown again or a
//! specific error page for pages), never a 5xx, never with the input echoed unescaped,
//! and with no row of any table changed but what the table allows a refused request
//! to write:
//!
//! - any request: `rate_limits` (it still counts against its sender's budget), and
//!   a live session's `last_seen_at` (the snapshot leaves that column out);
//! - a step behind a captcha: `captchas` (a captcha answers for one attempt);
//! - a wrong code or password: the attempt counters of the flow, member, staff
//!   account or identifier (`flows`, `members`, `staff`, `staff_sessions`,
//!   `login_throttles`) and the failed attempt's audit event;
//! - a login with a malformed identifier: counted and audited like an unknown one;
//! - a refused new password, client authentication or introspection, and anything a
//!   logged-in staff member is refused: its audit event.
//!
//! Full-width digits in document and phone numbers are forgiven by design: a number
//! with a wrong check character (or not a mobile number) must get the same refusal in
//! full width as in ASCII. The tables are in `bad_input/`;
//! `every_route_that_takes_input_has_a_row` fails when a route is added without one.
//! With FUNDPASS_TEST_POSTGRES_URL set every row runs on PostgreSQL too.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod console_common;
mod internal_common;
mod support;
// `tests/bad_input/`: a directory named like this file, so named by its path.
#[path = "bad_input/mod.rs"]
mod table;
mod web_common;

use support::TestApp;
use table::routes::{declared_with_bodies, differences, documented, of_rows};
use table::{api, console, internal, portal, world};

/// Fails with every problem found, one a line.
#[track_caller]
fn assert_none(what: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{what}: {} problems\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[tokio::test]
async fn the_app_api_refuses_bad_input_specifically_and_changes_nothing() {
    let rows = api::ROWS;
    let problems = world::check::<table::api_prepare::ApiTable>(rows).await;
    assert_none("the app's API", &problems);
}

#[tokio::test]
async fn the_dev_face_simulator_refuses_bad_input_specifically() {
    let rows = api::DEV_ROWS;
    let problems = world::check::<table::api_prepare::ApiTable>(rows).await;
    assert_none("the dev face simulator", &problems);
}

#[tokio::test]
async fn the_internal_api_refuses_bad_input_specifically_and_changes_nothing() {
    let rows = internal::ROWS;
    let problems = world::check::<internal::InternalTable>(rows).await;
    assert_none("the internal API", &problems);
}

#[tokio::test]
async fn the_portal_forms_refuse_bad_input_specifically_and_change_nothing() {
    let rows = portal::ROWS;
    let problems = world::check::<table::portal_prepare::PortalTable>(rows).await;
    assert_none("the member portal", &problems);
}

#[tokio::test]
async fn the_console_forms_refuse_bad_input_specifically_and_change_nothing() {
    let rows = console::ROWS;
    let problems = world::check::<console::ConsoleTable>(rows).await;
    assert_none("the staff console", &problems);
}

#[tokio::test]
async fn every_route_that_takes_input_has_a_row() {
    let app = TestApp::spawn().await;
    let mut problems = Vec::new();
    for (document, rows) in [
        ("/api/openapi.json", of_rows(&[api::ROWS])),
        ("/internal/openapi.json", of_rows(&[internal::ROWS])),
    ] {
        problems.extend(differences(
            &documented(&app, document).await,
            &rows,
            document,
        ));
    }
    let forms = of_rows(&[portal::ROWS, console::ROWS, api::DEV_ROWS]);
    problems.extend(differences(
        &declared_with_bodies(),
        &forms,
        "a `.route(…)` of the server's source",
    ));
    assert_none("routes without a row", &problems);
    let tables = [
        api::ROWS,
        api::DEV_ROWS,
        internal::ROWS,
        portal::ROWS,
        console::ROWS,
    ];
    let rows: usize = tables.iter().map(|t| t.len()).sum();
    let (attempts, controls) = tables
        .iter()
        .map(|t| world::requests(t))
        .fold((0, 0), |(a, c), (ta, tc)| (a + ta, c + tc));
    eprintln!(
        "bad-input table: {rows} endpoints, {attempts} hostile requests and {controls} ASCII \
         controls per database, and one good request per endpoint"
    );
}

#[tokio::test]
async fn the_dev_face_simulator_refuses_an_issue_time_out_of_reach() {
    let app = TestApp::spawn().await;
    let api = api_common::Api::new(&app);
    app.seed(&api_common::WANG).await;
    let (_, nonce) = api.face_challenge(api_common::WANG.id_number).await;
    for seconds in [i64::MAX, i64::MIN] {
        let body = serde_json::json!({
            "nonce": nonce, "id_type": "resident_id",
            "id_number": api_common::WANG.id_number, "issued_seconds_ago": seconds,
        });
        let reply = api.post("/dev/face", body).await;
        reply.assert_error(400, "invalid_body");
    }
}

/// An assertion is read for its `iss` before anything is checked; PostgreSQL text
/// cannot hold the NUL, so the look-up must not be asked at all.
#[tokio::test]
async fn an_assertion_naming_a_client_with_a_nul_is_an_unknown_client() {
    use internal_common::{ClientKey, Internal, KeyKind};
    for backend in world::backends() {
        let app = world::spawn(backend).await;
        let now = app.clock_now().unix_timestamp();
        let claims = serde_json::json!({
            "iss": "with\u{0}nul", "sub": "with\u{0}nul",
            "aud": app.portal.policy.clients.token_endpoint,
            "iat": now, "exp": now + 120, "jti": "bad-input-1",
        });
        let assertion = ClientKey::generate(KeyKind::Ed25519).sign(&claims);
        let reply = Internal::new(&app).ask_token(&assertion, None).await;
        assert_eq!(reply.status, 401, "{backend:?}: {}", reply.text);
        assert_eq!(reply.json()["error"], "invalid_client", "{}", reply.text);
    }
}
