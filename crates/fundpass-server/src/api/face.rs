//! Face verification login (seed scenario 3): the app asks for a challenge naming a
//! document, has the certified provider check the member's face with the nonce, and
//! posts the provider's signed result back for a recovery-only token.
//!
//! The token is good for the forgotten-transaction-password endpoints and nothing
//! else (`recovery_session_only` elsewhere). Three refused results lock face login
//! for the document for a day; the app then sends the member to manual review or a
//! counter.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fundpass_core::audit::Channel;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use super::types::DocumentType;
use super::{map, run};
use crate::request::ClientInfo;
use crate::state::AppState;

/// The document whose holder is about to be verified.
#[derive(Deserialize, ToSchema)]
pub struct FaceStart {
    /// Type of the document.
    pub id_type: DocumentType,
    /// Document number as printed; spaces and full-width characters are forgiven. It
    /// must then be a valid number of `id_type`.
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub id_number: String,
}

/// A challenge for the face-verification provider: the same shape whether or not the
/// document is a registered member's.
#[derive(Debug, Serialize, ToSchema)]
pub struct FaceChallengeIssued {
    /// Keep it to post the result.
    pub flow: String,
    /// Hand it to the provider's SDK; the signed result must carry it.
    pub nonce: String,
    /// When the challenge stops being answerable.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Start a face login.
#[utoipa::path(
    post,
    path = "/api/v1/face/start",
    operation_id = "start_face_login",
    tag = "face",
    request_body = FaceStart,
    responses(
        (status = 201, description = "A challenge for the provider", body = FaceChallengeIssued),
        (status = 400, description = "bad_id_number or bad_json", body = ErrorBody),
        (status = 423, description = "face_attempts_exhausted (details.until): manual review or a counter", body = ErrorBody),
        (status = 429, description = "rate_limited: too many face logins started from this address (details.retry_after)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn start(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<FaceStart>,
) -> Result<(StatusCode, Json<FaceChallengeIssued>), ApiError> {
    let ctx = client.context(Channel::App);
    let call = state
        .portal
        .start_face_login(body.id_type.into(), &body.id_number, &ctx);
    let call = crate::evenly::evenly(&state, call);
    let challenge = run(&state, call, map::recovery).await?;
    let body = FaceChallengeIssued {
        flow: challenge.flow.expose().to_owned(),
        nonce: challenge.nonce,
        expires_at: challenge.expires_at,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// The provider's signed result for the challenge.
#[derive(Deserialize, ToSchema)]
pub struct FaceComplete {
    /// From the start.
    #[schema(pattern = r"^\s*[A-Za-z0-9_-]{43}\s*$")]
    pub flow: String,
    /// The provider's result, a JWS in compact form (`header.payload.signature`).
    #[schema(pattern = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")]
    pub result: String,
}

/// A recovery-only app token.
#[derive(Debug, Serialize, ToSchema)]
pub struct FaceLoginResponse {
    /// Send as `Authorization: Bearer <token>` to the `/api/v1/recovery/transaction`
    /// endpoints; refused everywhere else.
    pub token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// The latest the token can live.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Always `recovery`.
    #[schema(example = "recovery")]
    pub scope: &'static str,
}

/// Finish a face login with the provider's signed result.
///
/// A refused result gets `face_rejected` with `details.reason` (`bad_signature`,
/// `algorithm_mismatch`, `unknown_key`, `dev_key_refused`, `nonce_mismatch`,
/// `issued_in_future`, `stale`, `wrong_subject`, `liveness_failed`, `low_score`,
/// `malformed`); the third refusal gets `face_attempts_exhausted`. A result is good
/// once: posting it again gets `face_replayed`.
#[utoipa::path(
    post,
    path = "/api/v1/face/complete",
    operation_id = "complete_face_login",
    tag = "face",
    request_body = FaceComplete,
    responses(
        (status = 200, description = "Verified; a recovery-only token", body = FaceLoginResponse),
        (status = 400, description = "face_rejected (details.reason) or bad_json", body = ErrorBody),
        (status = 403, description = "face_not_eligible: not a registered user", body = ErrorBody),
        (status = 404, description = "unknown_flow", body = ErrorBody),
        (status = 409, description = "face_replayed, wrong_step or conflict", body = ErrorBody),
        (status = 410, description = "flow_expired", body = ErrorBody),
        (status = 423, description = "face_attempts_exhausted: manual review or a counter", body = ErrorBody),
        (status = 429, description = "rate_limited: too many refused results from this address (details.retry_after)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn complete(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<FaceComplete>,
) -> Result<Json<FaceLoginResponse>, ApiError> {
    let ctx = client.context(Channel::App);
    let call = state
        .portal
        .complete_face_login(&body.flow, &body.result, &ctx);
    let success = run(&state, call, map::recovery).await?;
    Ok(Json(FaceLoginResponse {
        token: success.token.expose().to_owned(),
        token_type: "Bearer",
        expires_at: success.expires_at,
        scope: "recovery",
    }))
}
