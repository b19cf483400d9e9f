//! The benefit qualification check (待遇资格认证) in the app: the signed-in member
//! reads where their check stands and passes it with their own face, through the same
//! provider as face login.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fundpass_core::audit::Channel;
use fundpass_core::qualification::{CheckSubject, QualificationView};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::SignedIn;
use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use super::{map, run};
use crate::request::ClientInfo;
use crate::state::AppState;

/// Where the member's check stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct Qualification {
    pub account_no: String,
    /// `pension`, `work_injury`, `unemployment`, `survivor` or `disability`.
    #[schema(example = "pension")]
    pub benefit: &'static str,
    /// `qualified`, `suspended` (the due date passed without a check: payment is
    /// suspended until one) or `ended`.
    #[schema(example = "qualified")]
    pub status: &'static str,
    /// The day by which the next check must be passed (China date, inclusive).
    #[schema(example = "2027-03-15")]
    pub due_date: String,
    /// The first day a check can be passed for this due date.
    #[schema(example = "2026-12-15")]
    pub opens_on: String,
    /// The due date that was missed, while suspended.
    #[schema(required = true)]
    pub suspended_since: Option<String>,
    /// The last passed check.
    #[schema(required = true)]
    pub last_check: Option<CheckView>,
    /// Whether a face check can be started (not after three refusals: then manual
    /// review or a counter).
    pub face_check_open: bool,
    /// Refused face checks since the last passed one.
    pub failed_attempts: i32,
    /// The newest passed checks, newest first.
    pub recent_checks: Vec<CheckView>,
}

/// One passed check.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckView {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// `app_face`, `web_face` or `relative_face`.
    #[schema(example = "app_face")]
    pub channel: &'static str,
    /// Months of suspended payment the check ended (0 when on time).
    #[schema(required = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap_months: Option<u32>,
}

pub(crate) fn view(q: &QualificationView) -> Qualification {
    Qualification {
        account_no: q.account_no.clone(),
        benefit: q.kind.code(),
        status: q.status.code(),
        due_date: q.due_date.to_string(),
        opens_on: q.opens_on.to_string(),
        suspended_since: q.suspended_since.map(|d| d.to_string()),
        last_check: q
            .last_check_at
            .zip(q.last_check_channel)
            .map(|(at, channel)| CheckView {
                at,
                channel: channel.code(),
                gap_months: None,
            }),
        face_check_open: q.face_check_open,
        failed_attempts: q.failed_attempts,
        recent_checks: q
            .recent
            .iter()
            .map(|c| CheckView {
                at: c.checked_at,
                channel: c.channel.code(),
                gap_months: Some(c.gap_months),
            })
            .collect(),
    }
}

/// Read where the qualification check stands.
#[utoipa::path(
    get,
    path = "/api/v1/qualification",
    operation_id = "get_qualification",
    tag = "qualification",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The member's standing", body = Qualification),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only", body = ErrorBody),
        (status = 404, description = "not_entitled: no benefit on file", body = ErrorBody),
    )
)]
pub async fn status(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
) -> Result<Json<Qualification>, ApiError> {
    let q = run(
        &state,
        state.portal.my_qualification(&auth),
        map::qualification,
    )
    .await?;
    Ok(Json(view(&q)))
}

/// What the app sends to start a face check.
#[derive(Deserialize, ToSchema)]
pub struct CheckStart {
    /// A confirmed relative's account number, to check the relative (with the
    /// relative's face); left out for the member's own check.
    #[schema(pattern = r"^\s*[A-Za-z0-9]{6,24}\s*$")]
    pub relative_account_no: Option<String>,
    /// What the provider's SDK on the phone produced for the server (Alibaba Cloud's
    /// `MetaInfo`, Tencent Cloud's `Meta`): required by Alibaba Cloud, optional for
    /// Tencent Cloud, ignored for signed results.
    #[schema(min_length = 1, max_length = 4096, pattern = r"\S")]
    pub meta_info: Option<String>,
}

/// A started face check.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckChallengeIssued {
    /// Keep it to post the result.
    pub attempt: String,
    /// Hand it to the provider's SDK: the nonce a signed result must carry, or the
    /// query-by-token provider's handle for one check.
    pub nonce: String,
    /// `null` for signed results; otherwise the provider (`tencent`, `alibaba`) whose
    /// SDK to run.
    #[schema(required = true, example = "tencent")]
    pub provider: Option<&'static str>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Start a face check of the signed-in member.
#[utoipa::path(
    post,
    path = "/api/v1/qualification/checks",
    operation_id = "start_qualification_check",
    tag = "qualification",
    security(("bearer" = [])),
    request_body = CheckStart,
    responses(
        (status = 201, description = "A challenge for the provider", body = CheckChallengeIssued),
        (status = 400, description = "face_document_unsupported, face_meta_info_required or bad_json", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only", body = ErrorBody),
        (status = 404, description = "not_entitled, or not_relative (the account is not a confirmed relative's)", body = ErrorBody),
        (status = 409, description = "check_not_due (details.opens_on) or benefit_ended", body = ErrorBody),
        (status = 423, description = "face_attempts_exhausted: ask for a manual review or visit a counter", body = ErrorBody),
        (status = 429, description = "rate_limited (details.retry_after)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "face_provider_unavailable or busy (Retry-After)", body = ErrorBody),
    )
)]
pub async fn start(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedIn(auth): SignedIn,
    ApiJson(body): ApiJson<CheckStart>,
) -> Result<(StatusCode, Json<CheckChallengeIssued>), ApiError> {
    let ctx = client.context(Channel::App);
    let meta = body.meta_info.as_deref();
    let subject = match body.relative_account_no.as_deref() {
        Some(account) => CheckSubject::Relative(account),
        None => CheckSubject::Own,
    };
    let call = state
        .portal
        .start_qualification_check(&auth, subject, meta, &ctx);
    let challenge = run(&state, call, map::qualification).await?;
    Ok((
        StatusCode::CREATED,
        Json(CheckChallengeIssued {
            attempt: challenge.attempt.expose().to_owned(),
            nonce: challenge.nonce,
            provider: challenge.provider,
            expires_at: challenge.expires_at,
        }),
    ))
}

/// The provider's result for a started check.
#[derive(Deserialize, ToSchema)]
pub struct CheckComplete {
    /// From the start.
    #[schema(pattern = r"^\s*[A-Za-z0-9_-]{43}\s*$")]
    pub attempt: String,
    /// The provider's signed result (compact JWS). Left out with a query-by-token
    /// provider, whose result the service fetches itself.
    #[schema(pattern = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")]
    pub result: Option<String>,
}

/// Finish a face check. A pass moves the due date on by one cycle (and restores a
/// suspended member, the months between recorded); a refused result ends the attempt
/// (`face_rejected`, `details.reason`), and the third refusal closes the face check
/// (`face_attempts_exhausted`).
#[utoipa::path(
    post,
    path = "/api/v1/qualification/checks/complete",
    operation_id = "complete_qualification_check",
    tag = "qualification",
    security(("bearer" = [])),
    request_body = CheckComplete,
    responses(
        (status = 200, description = "Passed; the member's new standing", body = Qualification),
        (status = 400, description = "face_rejected (details.reason) or bad_json", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only", body = ErrorBody),
        (status = 404, description = "unknown_check or not_entitled", body = ErrorBody),
        (status = 409, description = "face_replayed, face_unfinished, benefit_ended or conflict", body = ErrorBody),
        (status = 410, description = "check_expired", body = ErrorBody),
        (status = 423, description = "face_attempts_exhausted", body = ErrorBody),
        (status = 503, description = "face_provider_unavailable or busy (Retry-After)", body = ErrorBody),
    )
)]
pub async fn complete(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedIn(auth): SignedIn,
    ApiJson(body): ApiJson<CheckComplete>,
) -> Result<Json<Qualification>, ApiError> {
    let ctx = client.context(Channel::App);
    let call = state.portal.complete_qualification_check(
        &auth,
        &body.attempt,
        body.result.as_deref().unwrap_or_default(),
        &ctx,
    );
    let q = run(&state, call, map::qualification).await?;
    Ok(Json(view(&q)))
}
