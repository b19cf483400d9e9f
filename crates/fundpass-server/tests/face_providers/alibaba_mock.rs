//! A stand-in for Alibaba Cloud ID Verification (Cloudauth 2019-03-07): RPC calls
//! `POST /?<parameters>` with an empty body, ACS3-HMAC-SHA256 checked from the raw
//! request (`x-acs-date` within 15 minutes, each `x-acs-signature-nonce` once),
//! `x-acs-version` checked. Gateway refusals come with HTTP 400/404; everything else
//! with HTTP 200 and a `Code` (`"200"` for a call that worked).
//!
//! - `InitFaceVerify` needs the scene, `ProductCode: "ID_PRO"`, `CertType:
//!   "IDENTITY_CARD"`, `OuterOrderNo`, `CertName`, `CertNo` and `MetaInfo` (else
//!   `Code: "401"`), and answers a new `CertifyId`.
//! - `DescribeFaceVerify` answers the outcome scripted for the CertifyId: `Passed`,
//!   `SubCode` and, for a pass, `MaterialInfo` with the similarity; `Code: "424"`
//!   while unfinished and `"406"` for a CertifyId it does not keep.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use fundpass_core::ports::{Clock, FaceProvider};
use fundpass_server::face::{AlibabaFace, AlibabaFaceConfig};
use secrecy::SecretString;
use serde_json::{Map, Value, json};

use super::ledger::header;
use super::signatures::{Key, check_acs3, parameters};
use super::{Adapter, Desk, Outcome, StandIn};

/// The `AccessKeyId` and `AccessKeySecret` the stand-in knows.
const KEY: Key = Key {
    id: "LTAIfundpassFACE00000000",
    secret: "alibaba-face-secret-0123456789abcdef",
};
pub const SCENE_ID: &str = "1000000006";
pub const PRODUCT_CODE: &str = "ID_PRO";
const VERSION: &str = "2019-03-07";

/// The production adapter pointed at the stand-in at `url`.
pub fn adapter(url: &str, adapter: &Adapter, clock: Arc<dyn Clock>) -> Arc<dyn FaceProvider> {
    let config = AlibabaFaceConfig {
        endpoint: url.to_owned(),
        access_key_id: SecretString::from(KEY.id),
        access_key_secret: adapter.secret(KEY.secret),
        scene_id: SCENE_ID.into(),
        product_code: PRODUCT_CODE.into(),
        handle_lifetime: adapter.handle_lifetime,
        timeout: Duration::from_secs(5),
        allow_http: true,
    };
    Arc::new(AlibabaFace::new(config, clock, adapter.rng.clone()).unwrap())
}

/// Parameters as one JSON object, for recording and reading.
fn object(params: Vec<(String, String)>) -> Value {
    let fields: Map<String, Value> = params.into_iter().map(|(n, v)| (n, v.into())).collect();
    Value::Object(fields)
}

/// Every call: `POST /`.
pub async fn answer(
    State(mock): State<StandIn>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = mock.now();
    let mut desk = mock.desk();
    let action = header(&headers, "x-acs-action");
    let query = query.as_deref().unwrap_or_default();
    let seen = parameters(query).map(object).unwrap_or_default();
    if let Some(status) = desk.record(action, seen) {
        return status.into_response();
    }
    let params = match check_acs3(KEY, &mut desk.nonces, query, &headers, &body, now) {
        Ok(params) => object(params),
        Err((status, code)) => return refuse(&mut desk, status, code),
    };
    if header(&headers, "x-acs-version") != VERSION {
        return refuse(&mut desk, StatusCode::BAD_REQUEST, "InvalidVersion");
    }
    match action {
        "InitFaceVerify" => init(&mut desk, params),
        "DescribeFaceVerify" => describe(&mut desk, &params),
        _ => refuse(&mut desk, StatusCode::NOT_FOUND, "InvalidAction.NotFound"),
    }
}

fn init(desk: &mut Desk, params: Value) -> Response {
    let given = |name: &str| params[name].as_str().is_some_and(|v| !v.is_empty());
    let required = ["OuterOrderNo", "CertName", "CertNo", "MetaInfo"];
    if params["SceneId"] != SCENE_ID
        || params["ProductCode"] != PRODUCT_CODE
        || params["CertType"] != "IDENTITY_CARD"
        || !required.into_iter().all(given)
    {
        return refuse(desk, StatusCode::OK, "401");
    }
    let certify_id = desk.issue(params, |n| format!("91707dc296d469ad38e4c5ef{n:08x}"));
    ok(json!({ "CertifyId": certify_id }))
}

fn describe(desk: &mut Desk, params: &Value) -> Response {
    if params["SceneId"] != SCENE_ID {
        return refuse(desk, StatusCode::OK, "401");
    }
    let certify_id = params["CertifyId"].as_str().unwrap_or_default();
    let Some((outcome, _)) = desk.outcome(certify_id) else {
        return refuse(desk, StatusCode::OK, "406");
    };
    match outcome {
        Outcome::Pass { similarity } => {
            let material =
                json!({"faceAttack": "F", "facialPictureFront": {"verifyScore": similarity}});
            ok(json!({"Passed": "T", "SubCode": "200", "MaterialInfo": material.to_string()}))
        }
        Outcome::Failed(sub_code) => ok(json!({"Passed": "F", "SubCode": sub_code})),
        Outcome::Unfinished => refuse(desk, StatusCode::OK, "424"),
        Outcome::Expired => refuse(desk, StatusCode::OK, "406"),
        Outcome::Names { .. } | Outcome::Extra(_) => {
            panic!("Alibaba's result names no person and repeats no reference")
        }
    }
}

fn ok(result: Value) -> Response {
    let body =
        json!({"RequestId": "req", "Code": "200", "Message": "success", "ResultObject": result});
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn refuse(desk: &mut Desk, status: StatusCode, code: &str) -> Response {
    desk.ledger.refusals.push(code.to_owned());
    let body = json!({"RequestId": "req", "Code": code, "Message": "refused"});
    (status, axum::Json(body)).into_response()
}
