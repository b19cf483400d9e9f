//! The member's security record as the app reads it: `GET /api/v1/security-record`,
//! newest first, paged by `before`, filtered by kind.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use fundpass_core::audit::Outcome;
use fundpass_core::record::{RecordChannel, RecordEntry, RecordKind, RecordPage};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::auth::SignedIn;
use super::error::{ApiError, ErrorBody, ErrorCode};
use super::map;
use crate::state::AppState;

/// Entries per page unless `limit` says otherwise.
const DEFAULT_LIMIT: u32 = 50;

/// A kind of event on the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordKindName {
    Login,
    LoginFailed,
    /// A login refused while the account was locked.
    Lock,
    Registration,
    PasswordChange,
    PasswordReset,
    PhoneChange,
    /// The account frozen or released.
    Hold,
    SecurityQuestions,
    /// A member of staff acted on the account.
    StaffAction,
    /// A member of staff saw the full document or phone number.
    StaffReveal,
    /// A reset code sent by SMS.
    SmsNotice,
    /// A payment authorisation asked for by a business system.
    PayoutAuthorization,
    /// A session ended.
    Session,
    /// A copy of the member's personal information, or a download of this record.
    DataCopy,
    /// The member reported an event as not theirs.
    NotMe,
    /// The benefit qualification check.
    Qualification,
}

impl From<RecordKind> for RecordKindName {
    fn from(kind: RecordKind) -> Self {
        match kind {
            RecordKind::Login => Self::Login,
            RecordKind::LoginFailed => Self::LoginFailed,
            RecordKind::Lock => Self::Lock,
            RecordKind::Registration => Self::Registration,
            RecordKind::PasswordChange => Self::PasswordChange,
            RecordKind::PasswordReset => Self::PasswordReset,
            RecordKind::PhoneChange => Self::PhoneChange,
            RecordKind::Hold => Self::Hold,
            RecordKind::SecurityQuestions => Self::SecurityQuestions,
            RecordKind::StaffAction => Self::StaffAction,
            RecordKind::StaffReveal => Self::StaffReveal,
            RecordKind::SmsNotice => Self::SmsNotice,
            RecordKind::PayoutAuthorization => Self::PayoutAuthorization,
            RecordKind::Session => Self::Session,
            RecordKind::DataCopy => Self::DataCopy,
            RecordKind::NotMe => Self::NotMe,
            RecordKind::Qualification => Self::Qualification,
        }
    }
}

impl From<RecordKindName> for RecordKind {
    fn from(kind: RecordKindName) -> Self {
        match kind {
            RecordKindName::Login => Self::Login,
            RecordKindName::LoginFailed => Self::LoginFailed,
            RecordKindName::Lock => Self::Lock,
            RecordKindName::Registration => Self::Registration,
            RecordKindName::PasswordChange => Self::PasswordChange,
            RecordKindName::PasswordReset => Self::PasswordReset,
            RecordKindName::PhoneChange => Self::PhoneChange,
            RecordKindName::Hold => Self::Hold,
            RecordKindName::SecurityQuestions => Self::SecurityQuestions,
            RecordKindName::StaffAction => Self::StaffAction,
            RecordKindName::StaffReveal => Self::StaffReveal,
            RecordKindName::SmsNotice => Self::SmsNotice,
            RecordKindName::PayoutAuthorization => Self::PayoutAuthorization,
            RecordKindName::Session => Self::Session,
            RecordKindName::DataCopy => Self::DataCopy,
            RecordKindName::NotMe => Self::NotMe,
            RecordKindName::Qualification => Self::Qualification,
        }
    }
}

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordChannelName {
    Online,
    App,
    Counter,
    Hotline,
    BusinessSystem,
    System,
}

/// How an event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordOutcome {
    Success,
    Failure,
    /// Refused by a rule (lock, permission, rate limit).
    Denied,
}

/// One event on the record.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordEntryView {
    /// The event's place in the trail: pass it as `before` to read older events.
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub kind: RecordKindName,
    pub channel: RecordChannelName,
    /// The branch, for counter and hotline events; `null` otherwise.
    #[schema(required = true)]
    pub branch: Option<String>,
    /// The role of the member of staff who acted (never their name); `null` if none.
    #[schema(required = true)]
    pub staff_role: Option<String>,
    pub outcome: RecordOutcome,
    /// The client address, last part masked; `null` if unknown.
    #[schema(required = true)]
    pub address: Option<String>,
    /// Kind-specific facts, masked (`amount_fen`, `payee_account`, `new_phone`, `reason`…).
    #[schema(value_type = Object)]
    pub facts: serde_json::Map<String, serde_json::Value>,
    /// Whether `POST /api/v1/security-record/{seq}/not-me` takes this event.
    pub reportable: bool,
}

/// One page of the record, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordPageView {
    pub entries: Vec<RecordEntryView>,
    /// `before` for the next, older page; `null` on the last page.
    #[schema(required = true)]
    pub next_before: Option<i64>,
}

/// Which page, which kind.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordParams {
    /// Only events older than this `seq` (from `next_before`).
    pub before: Option<i64>,
    /// Only events of this kind.
    pub kind: Option<RecordKindName>,
    /// Entries per page (default 50); a number below 1 or above 100 is taken as 1 or
    /// 100.
    #[param(value_type = Option<u64>, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
}

/// The member's security record.
#[utoipa::path(
    get,
    path = "/api/v1/security-record",
    operation_id = "security_record",
    tag = "session",
    security(("bearer" = [])),
    params(RecordParams),
    responses(
        (status = 200, description = "Events about the member's own account, newest first", body = RecordPageView),
        (status = 400, description = "bad_json: a query parameter is not of the expected shape", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only: a face-login token", body = ErrorBody),
    )
)]
pub async fn security_record(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    params: Result<Query<RecordParams>, QueryRejection>,
) -> Result<Json<RecordPageView>, ApiError> {
    let Query(params) = params.map_err(|_| {
        ApiError::new(ErrorCode::BadJson).message("before, kind or limit is not valid")
    })?;
    let page = state
        .portal
        .security_record(
            &auth,
            params.before,
            params.kind.map(RecordKind::from),
            params.limit.unwrap_or(DEFAULT_LIMIT),
        )
        .await
        .map_err(map::store)?;
    Ok(Json(view(page)))
}

fn view(page: RecordPage) -> RecordPageView {
    RecordPageView {
        entries: page.entries.into_iter().map(entry_view).collect(),
        next_before: page.next_before,
    }
}

pub(crate) fn entry_view(entry: RecordEntry) -> RecordEntryView {
    let (channel, branch) = match entry.channel {
        RecordChannel::Online => (RecordChannelName::Online, None),
        RecordChannel::App => (RecordChannelName::App, None),
        RecordChannel::Counter { branch } => (RecordChannelName::Counter, branch),
        RecordChannel::Hotline { branch } => (RecordChannelName::Hotline, branch),
        RecordChannel::BusinessSystem => (RecordChannelName::BusinessSystem, None),
        RecordChannel::System => (RecordChannelName::System, None),
    };
    RecordEntryView {
        seq: entry.seq,
        at: entry.at,
        kind: entry.kind.into(),
        channel,
        branch,
        staff_role: entry.staff_role,
        outcome: match entry.outcome {
            Outcome::Success => RecordOutcome::Success,
            Outcome::Failure => RecordOutcome::Failure,
            Outcome::Denied => RecordOutcome::Denied,
        },
        address: entry.address,
        facts: entry.facts,
        reportable: entry.reportable,
    }
}
