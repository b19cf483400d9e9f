//! A stand-in for Tencent Cloud FaceID (API 3.0, 2018-03-01): one `POST /` for
//! every action, TC3-HMAC-SHA256 for the product `faceid` checked from the raw
//! request (timestamp within 5 minutes), `X-TC-Version` checked, answers with HTTP
//! 200 and either `Response.Error` or the action's fields.
//!
//! - `GetFaceIdToken` needs `CompareLib: "BUSINESS"`, `IdCard`, `Name` and `Extra`,
//!   and answers a new `FaceIdToken`.
//! - `GetFaceIdResult` answers the outcome scripted for the token, echoing the
//!   `IdCard`, `Name` and `Extra` the token was issued for unless the outcome says
//!   otherwise; an unknown token is a parameter error.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use fundpass_core::ports::{Clock, FaceProvider};
use fundpass_server::face::{TencentFace, TencentFaceConfig};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::ledger::header;
use super::signatures::{Key, check_tc3};
use super::{Adapter, Desk, Outcome, StandIn};

/// The `SecretId` and `SecretKey` the stand-in knows.
const KEY: Key = Key {
    id: "AKIDfundpassFACE0000000000000000",
    secret: "tencent-face-secret-key-0123456789",
};
const VERSION: &str = "2018-03-01";

/// The production adapter pointed at the stand-in at `url`.
pub fn adapter(url: &str, adapter: &Adapter, clock: Arc<dyn Clock>) -> Arc<dyn FaceProvider> {
    let config = TencentFaceConfig {
        endpoint: url.to_owned(),
        secret_id: SecretString::from(KEY.id),
        secret_key: adapter.secret(KEY.secret),
        rule_id: None,
        handle_lifetime: adapter.handle_lifetime,
        timeout: Duration::from_secs(5),
        allow_http: true,
    };
    Arc::new(TencentFace::new(config, clock).unwrap())
}

/// Every call: `POST /`.
pub async fn answer(State(mock): State<StandIn>, headers: HeaderMap, body: Bytes) -> Response {
    let now = mock.now();
    let mut desk = mock.desk();
    let action = header(&headers, "x-tc-action");
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    if let Some(status) = desk.record(action, request.clone()) {
        return status.into_response();
    }
    if let Err((code, message)) = check_tc3(KEY, "faceid", &headers, &body, now) {
        return error(&mut desk, code, message);
    }
    if header(&headers, "x-tc-version") != VERSION {
        return error(&mut desk, "NoSuchVersion", "unknown version");
    }
    match action {
        "GetFaceIdToken" => token(&mut desk, request),
        "GetFaceIdResult" => result(&mut desk, &request),
        _ => error(&mut desk, "InvalidAction", "unknown action"),
    }
}

fn token(desk: &mut Desk, request: Value) -> Response {
    let given = |name: &str| request[name].as_str().is_some_and(|v| !v.is_empty());
    if request["CompareLib"] != "BUSINESS" || !["IdCard", "Name", "Extra"].into_iter().all(given) {
        let message = "CompareLib BUSINESS, IdCard, Name and Extra are required";
        return error(desk, "InvalidParameterValue", message);
    }
    let token = desk.issue(request, |n| format!("{n:08X}-5A1C-4E2B-9D3F-{n:012X}"));
    ok(json!({ "FaceIdToken": token }))
}

fn result(desk: &mut Desk, request: &Value) -> Response {
    let token = request["FaceIdToken"].as_str().unwrap_or_default();
    let Some((outcome, issued)) = desk.outcome(token) else {
        return error(desk, "InvalidParameterValue", "unknown FaceIdToken");
    };
    let (code, similarity) = match outcome {
        Outcome::Pass { similarity } => ("0", json!(similarity)),
        Outcome::Failed(code) => (code, Value::Null),
        Outcome::Unfinished => ("17", Value::Null),
        Outcome::Expired => ("15", Value::Null),
        Outcome::Names { .. } | Outcome::Extra(_) => ("0", json!(super::SIMILARITY)),
    };
    let mut result = json!({
        "Result": code, "Description": "scripted", "Similarity": similarity,
        "IdCard": issued["IdCard"], "Name": issued["Name"], "Extra": issued["Extra"],
    });
    match outcome {
        Outcome::Names { id_card, name } => {
            result["IdCard"] = id_card.into();
            result["Name"] = name.into();
        }
        Outcome::Extra(extra) => result["Extra"] = extra.into(),
        _ => {}
    }
    ok(result)
}

fn ok(mut response: Value) -> Response {
    response["RequestId"] = "req".into();
    (StatusCode::OK, axum::Json(json!({ "Response": response }))).into_response()
}

fn error(desk: &mut Desk, code: &str, message: &str) -> Response {
    desk.ledger.refusals.push(code.to_owned());
    let body =
        json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "req"}});
    (StatusCode::OK, axum::Json(body)).into_response()
}
