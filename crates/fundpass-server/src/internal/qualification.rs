//! A member's benefit qualification standing, for the benefit system that pays (or
//! suspends) the benefit. Changes also arrive as events: `qualification.checked`,
//! `qualification.suspended` and `qualification.restored`.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::{self, InternalError, InternalErrorBody};
use super::payments::PathParam;
use crate::api::rfc3339;
use crate::state::AppState;

/// Where a member's check stands; never the document number, a face image or a score.
#[derive(Debug, Serialize, ToSchema)]
pub struct QualificationView {
    pub account_no: String,
    /// `pension`, `work_injury`, `unemployment`, `survivor` or `disability`.
    #[schema(example = "pension")]
    pub benefit: &'static str,
    /// `qualified` (pay), `suspended` (the due date passed without a check: suspend
    /// payment until one) or `ended` (reported deceased).
    #[schema(example = "qualified")]
    pub status: &'static str,
    /// The day by which the next check must be passed (China date, inclusive).
    #[schema(example = "2027-03-15")]
    pub due_date: String,
    /// The missed due date, while suspended.
    #[schema(required = true)]
    pub suspended_since: Option<String>,
    /// The last passed check.
    #[schema(required = true)]
    pub last_check: Option<LastCheck>,
}

/// The last passed check.
#[derive(Debug, Serialize, ToSchema)]
pub struct LastCheck {
    /// RFC 3339.
    pub at: String,
    /// `app_face`, `web_face` or `relative_face`.
    #[schema(example = "app_face")]
    pub channel: &'static str,
    /// Months of suspended payment this check ended, to pay back (0 when on time).
    pub gap_months: u32,
}

/// Read a member's benefit qualification status.
#[utoipa::path(
    get,
    path = "/internal/v1/members/{account_no}/qualification",
    operation_id = "get_member_qualification",
    tag = "members",
    security(("bearer" = ["qualification:read"])),
    params(("account_no" = String, Path, pattern = r"^\s*[A-Za-z0-9]{6,24}\s*$",
        description = "The member's account number: 6 to 24 letters and digits (anything else names no member)")),
    responses(
        (status = 200, description = "The member's qualification standing", body = QualificationView),
        (status = 401, description = "invalid_token", body = InternalErrorBody),
        (status = 403, description = "insufficient_scope", body = InternalErrorBody),
        (status = 404, description = "unknown_member or not_entitled", body = InternalErrorBody),
        (status = 429, description = "rate_limited", body = InternalErrorBody),
    )
)]
pub async fn qualification(
    State(state): State<AppState>,
    Caller(caller): Caller,
    PathParam(account_no): PathParam<String>,
) -> Result<axum::Json<QualificationView>, InternalError> {
    let now = state.portal.clock.now();
    let q = state
        .portal
        .client_qualification(&caller, &account_no)
        .await
        .map_err(|e| error::qualification(e, now))?;
    let last_check = q
        .last_check_at
        .zip(q.last_check_channel)
        .map(|(at, channel)| {
            let gap_months = q
                .recent
                .first()
                .filter(|c| c.checked_at == at)
                .map_or(0, |c| c.gap_months);
            LastCheck {
                at: rfc3339(at),
                channel: channel.code(),
                gap_months,
            }
        });
    Ok(axum::Json(QualificationView {
        account_no: q.account_no,
        benefit: q.kind.code(),
        status: q.status.code(),
        due_date: q.due_date.to_string(),
        suspended_since: q.suspended_since.map(|d| d.to_string()),
        last_check,
    }))
}
