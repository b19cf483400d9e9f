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
use fundpass_core::portal::FaceStartInput;

/// The document whose holder is about to be verified.
#[derive(Deserialize, ToSchema)]
pub struct FaceStart {
    /// Type of the document.
    pub id_type: DocumentType,
    /// Document number as printed; spaces and full-width characters are forgiven. It
    /// must then be a valid number of `id_type`.
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub id_number: String,
    /// The name on the document. Required when the service verifies faces through a
    /// query-by-token provider (Tencent Cloud FaceID, Alibaba Cloud ID Verification),
    /// which compares the face with the national database's photo for this name and
    /// number; ignored otherwise.
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub name: Option<String>,
    /// What the provider's SDK on the phone produced for the server (Alibaba Cloud's
    /// `MetaInfo`, Tencent Cloud's `Meta`): required by Alibaba Cloud, optional for
    /// Tencent Cloud, ignored for signed results.
    #[schema(min_length = 1, max_length = 4096, pattern = r"\S")]
    pub meta_info: Option<String>,
}

/// A challenge for the face-verification provider: the same shape whether or not the
/// document is a registered member's.
#[derive(Debug, Serialize, ToSchema)]
pub struct FaceChallengeIssued {
    /// Keep it to post the result.
    pub flow: String,
    /// Hand it to the provider's SDK. For signed results, the result must carry it;
    /// with a query-by-token provider it is the provider's handle for the check
    /// (Tencent `FaceIdToken`, Alibaba `CertifyId`), good for one check.
    pub nonce: String,
    /// `null` when the provider's SDK hands back a signed result to post; otherwise
    /// the query-by-token provider (`tencent`, `alibaba`) whose SDK to run, after which
    /// the service fetches the result itself.
    #[schema(example = "tencent")]
    pub provider: Option<&'static str>,
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
        (status = 400, description = "bad_id_number, bad_name, face_document_unsupported, face_meta_info_required or bad_json", body = ErrorBody),
        (status = 423, description = "face_attempts_exhausted (details.until): manual review or a counter", body = ErrorBody),
        (status = 503, description = "face_provider_unavailable or busy (Retry-After)", body = ErrorBody),
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
    let input = FaceStartInput {
        id_type: body.id_type.into(),
        id_number: &body.id_number,
        name: body.name.as_deref(),
        meta_info: body.meta_info.as_deref(),
    };
    let call = state.portal.start_face_login(&input, &ctx);
    let call = crate::evenly::evenly(&state, call);
    let challenge = run(&state, call, map::recovery).await?;
    let body = FaceChallengeIssued {
        flow: challenge.flow.expose().to_owned(),
        nonce: challenge.nonce,
        expires_at: challenge.expires_at,
        provider: challenge.provider,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// The provider's signed result for the challenge.
#[derive(Deserialize, ToSchema)]
pub struct FaceComplete {
    /// From the start.
    #[schema(pattern = r"^\s*[A-Za-z0-9_-]{43}\s*$")]
    pub flow: String,
    /// The provider's signed result, a JWS in compact form
    /// (`header.payload.signature`). Left out with a query-by-token provider, whose
    /// result the service fetches itself (anything sent is not read).
    #[schema(pattern = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")]
    pub result: Option<String>,
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
/// `no_reference`, `malformed`); the third refusal gets `face_attempts_exhausted`. A
/// result is good once: posting it again gets `face_replayed`.
///
/// With a query-by-token provider the service fetches the check's result from the
/// provider and applies the same checks; one handle is good for one check, so a
/// refused check ends the flow (start again for another try).
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
        (status = 503, description = "face_provider_unavailable or busy (Retry-After)", body = ErrorBody),
        (status = 409, description = "face_replayed, face_unfinished (finish the check in the provider's SDK first), wrong_step or conflict", body = ErrorBody),
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
    let call = state.portal.complete_face_login(
        &body.flow,
        body.result.as_deref().unwrap_or_default(),
        &ctx,
    );
    let success = run(&state, call, map::recovery).await?;
    Ok(Json(FaceLoginResponse {
        token: success.token.expose().to_owned(),
        token_type: "Bearer",
        expires_at: success.expires_at,
        scope: "recovery",
    }))
}
