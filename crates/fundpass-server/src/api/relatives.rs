//! The relatives' service (亲情服务) in the app: a member adds an elderly or disabled
//! relative who receives a benefit (the relative confirms with the code sent to their
//! phone on file), lists them, and then runs their qualification check with the
//! relative's face (`POST /api/v1/qualification/checks` with `relative_account_no`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fundpass_core::audit::Channel;
use fundpass_core::qualification::RelativeInput;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::SignedIn;
use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use super::qualification::{Qualification, view};
use super::types::DocumentType;
use super::{map, run};
use crate::request::ClientInfo;
use crate::state::AppState;

/// The relative to add, as on their document.
#[derive(Deserialize, ToSchema)]
pub struct RelativeStart {
    pub id_type: DocumentType,
    /// Document number as printed; spaces and full-width characters are forgiven.
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub id_number: String,
    /// The name on the document.
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub name: String,
}

/// The same answer whether or not the details are an entitled member's: when they
/// are, a code went to the relative's phone on file.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelativeStarted {
    /// Keep it to confirm with the code.
    pub flow: String,
    #[serde(with = "time::serde::rfc3339")]
    pub code_expires_at: OffsetDateTime,
}

/// Start adding a relative.
#[utoipa::path(
    post,
    path = "/api/v1/qualification/relatives",
    operation_id = "start_relative",
    tag = "qualification",
    security(("bearer" = [])),
    request_body = RelativeStart,
    responses(
        (status = 202, description = "If the details are an entitled member's, a code went to their phone", body = RelativeStarted),
        (status = 400, description = "bad_id_number, bad_name or bad_json", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only", body = ErrorBody),
        (status = 429, description = "rate_limited: five relatives a day, or the relative's phone had its texts", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn start(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedIn(auth): SignedIn,
    ApiJson(body): ApiJson<RelativeStart>,
) -> Result<(StatusCode, Json<RelativeStarted>), ApiError> {
    let ctx = client.context(Channel::App);
    let input = RelativeInput {
        id_type: body.id_type.into(),
        id_number: &body.id_number,
        name: &body.name,
    };
    let call = state.portal.start_relative_link(&auth, &input, &ctx);
    let call = crate::evenly::evenly(&state, call);
    let started = run(&state, call, map::relative).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RelativeStarted {
            flow: started.flow.expose().to_owned(),
            code_expires_at: started.code_expires_at,
        }),
    ))
}

/// The code the relative received.
#[derive(Deserialize, ToSchema)]
pub struct RelativeConfirm {
    #[schema(pattern = r"^\s*[A-Za-z0-9_-]{43}\s*$")]
    pub flow: String,
    /// Six digits.
    #[schema(pattern = r"^\s*[0-9]{6}\s*$")]
    pub code: String,
}

/// Confirm a relative with the code sent to their phone.
#[utoipa::path(
    post,
    path = "/api/v1/qualification/relatives/confirm",
    operation_id = "confirm_relative",
    tag = "qualification",
    security(("bearer" = [])),
    request_body = RelativeConfirm,
    responses(
        (status = 200, description = "Added; the relative's standing", body = Qualification),
        (status = 400, description = "wrong_code (details.remaining), code_expired or bad_json", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only", body = ErrorBody),
        (status = 404, description = "unknown_flow", body = ErrorBody),
        (status = 409, description = "wrong_step or conflict", body = ErrorBody),
        (status = 410, description = "flow_expired or flow_dead", body = ErrorBody),
    )
)]
pub async fn confirm(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedIn(auth): SignedIn,
    ApiJson(body): ApiJson<RelativeConfirm>,
) -> Result<Json<Qualification>, ApiError> {
    let ctx = client.context(Channel::App);
    let call = state
        .portal
        .confirm_relative_link(&auth, &body.flow, &body.code, &ctx);
    let q = run(&state, call, map::relative).await?;
    Ok(Json(view(&q)))
}

/// The member's confirmed relatives.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelativeList {
    /// Each relative's standing (their own account number, status and due date).
    pub relatives: Vec<Qualification>,
}

/// List the relatives whose checks the member may run.
#[utoipa::path(
    get,
    path = "/api/v1/qualification/relatives",
    operation_id = "list_relatives",
    tag = "qualification",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Confirmed relatives", body = RelativeList),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
) -> Result<Json<RelativeList>, ApiError> {
    let relatives = run(&state, state.portal.my_relatives(&auth), map::qualification).await?;
    Ok(Json(RelativeList {
        relatives: relatives.iter().map(view).collect(),
    }))
}
