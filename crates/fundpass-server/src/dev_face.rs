//! The dev face simulator, answering only in dev mode (404 otherwise).
//!
//! A real app gets its face-verification result from a certified provider; in dev
//! mode `POST /dev/face` plays that provider: it signs a result for the nonce of a
//! face-login flow, a document and a chosen score with a key made at start-up, so the
//! app flow can be driven end to end by hand or by tests. The key is trusted only
//! while the server runs in dev mode; production never trusts it (the face policy
//! refuses keys marked as the simulator's).

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use fundpass_core::face::{FaceClaims, subject_hash};
use fundpass_core::identity::{IdNumber, IdType};
use serde::Deserialize;
use time::Duration;

use crate::api::{ApiError, ApiJson};
use crate::state::AppState;

/// Routes of the simulator.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dev/face", get(describe).post(sign))
        .layer(DefaultBodyLimit::max(crate::app::MAX_BODY_BYTES))
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({"error": {"code": "not_found", "message": "no such resource"}})),
    )
        .into_response()
}

/// `GET /dev/face`: how to use the simulator, and its public key.
async fn describe(State(state): State<AppState>) -> Response {
    let Some(signer) = state
        .face_simulator
        .as_ref()
        .filter(|_| state.settings.dev())
    else {
        return not_found();
    };
    (
        [(CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({
            "simulator": "dev only: never trusted in production",
            "kid": signer.kid(),
            "algorithm": "EdDSA",
            "public_key": signer.public_key_b64(),
            "usage": "POST /dev/face {\"nonce\", \"id_type\", \"id_number\", \"score\"?, \"liveness\"?, \"issued_seconds_ago\"?} -> {\"result\"}",
        })),
    )
        .into_response()
}

/// What the simulator is asked to sign.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignRequest {
    nonce: String,
    id_type: String,
    id_number: String,
    #[serde(default = "default_score")]
    score: f64,
    #[serde(default = "default_liveness")]
    liveness: bool,
    #[serde(default)]
    issued_seconds_ago: i64,
}

fn default_score() -> f64 {
    0.95
}

fn default_liveness() -> bool {
    true
}

fn bad_request(code: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// `POST /dev/face`: a signed face result, `{"result": "<JWS>"}`.
async fn sign(
    State(state): State<AppState>,
    body: Result<ApiJson<SignRequest>, ApiError>,
) -> Response {
    let Some(signer) = state
        .face_simulator
        .as_ref()
        .filter(|_| state.settings.dev())
    else {
        return not_found();
    };
    // Refused in the API's envelope: 415, 413 or `bad_json`.
    let req = match body {
        Ok(ApiJson(req)) => req,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(id_type) = IdType::from_code(&req.id_type) else {
        return bad_request("invalid_id_type", "unknown document type");
    };
    let now = state.portal.clock.now();
    let today = now
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC))
        .date();
    let id = match IdNumber::parse(id_type, &req.id_number, today) {
        Ok(id) => id,
        Err(e) => return bad_request("invalid_id_number", &e.to_string()),
    };
    let issued_at = now
        .checked_sub(Duration::seconds(req.issued_seconds_ago))
        .filter(|_| req.score.is_finite() && req.nonce.len() <= 256);
    let Some(issued_at) = issued_at else {
        return bad_request(
            "invalid_body",
            "score must be a number, nonce short and issued_seconds_ago within reach",
        );
    };
    let claims = FaceClaims {
        kid: signer.kid().to_owned(),
        nonce: req.nonce,
        subject: subject_hash(id_type, id.normalised()),
        liveness: req.liveness,
        score: req.score,
        issued_at,
        jti: None,
    };
    (
        [(CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({"result": signer.sign(&claims)})),
    )
        .into_response()
}
