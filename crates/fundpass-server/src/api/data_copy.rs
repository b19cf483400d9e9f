//! A copy of one's personal information (PIPL Art. 45): `POST /api/v1/my-data` with
//! the login password. The one answer anywhere that carries the full document number
//! and phone on file; the web page's download is the same document.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use fundpass_core::audit::Channel;
use fundpass_core::portal::{DataCopy, DataCopyError};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::SignedIn;
use super::error::{ApiError, ErrorBody, ErrorCode, rfc3339};
use super::json::ApiJson;
use super::me::HoldView;
use super::sessions::{SessionView, device_text};
use super::types::{AccountStatus, DocumentType};
use super::{map, run};
use crate::i18n::{Lang, Tr};
use crate::request::ClientInfo;
use crate::state::AppState;

/// The login password, typed again for this download.
#[derive(Deserialize, ToSchema)]
pub struct DataCopyRequest {
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

/// One security question set (never its answer).
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionSet {
    /// The question's code, e.g. `first_school`.
    pub code: String,
    /// The question as the member chose it, in Simplified Chinese.
    pub text: String,
}

/// Everything fundpass holds about the member, in full.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyData {
    /// Version of this document's layout.
    #[schema(example = 1)]
    pub schema_version: u32,
    /// When the copy was made.
    #[serde(with = "time::serde::rfc3339")]
    pub exported_at: OffsetDateTime,
    /// Name as on the document.
    pub name: String,
    /// Type of the document on file.
    pub id_type: DocumentType,
    /// The full document number on file.
    pub id_number: String,
    /// The full mobile number on file (11 digits).
    pub phone: String,
    /// Personal account number (个人账号).
    pub account_no: String,
    /// Where the member stands with the online services.
    pub status: AccountStatus,
    /// When the member registered for online services (the newest completed online
    /// registration in the audit trail); `null` if none is recorded.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(required = true)]
    pub registered_at: Option<OffsetDateTime>,
    /// When the current login password was set: the newest login-password entry of
    /// the secret history (registration, a reset or a change); `null` if never set.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(required = true)]
    pub login_password_set_at: Option<OffsetDateTime>,
    /// When the fund's core system's record of the member reached fundpass.
    #[serde(with = "time::serde::rfc3339")]
    pub imported_at: OffsetDateTime,
    /// The security questions set, in order; never the answers.
    pub security_questions: Vec<QuestionSet>,
    /// Holds in force.
    pub holds: Vec<HoldView>,
    /// Live sessions and app tokens, addresses masked.
    pub sessions: Vec<SessionView>,
}

impl MyData {
    /// The document of a copy; question texts and devices in `lang`.
    pub(crate) fn of(copy: DataCopy, lang: Lang) -> Self {
        let tr = Tr::new(lang);
        Self {
            schema_version: 1,
            exported_at: copy.exported_at,
            name: copy.name,
            id_type: copy.id_type.into(),
            id_number: copy.id_number.expose_secret().to_owned(),
            phone: copy.phone.expose_secret().to_owned(),
            account_no: copy.account_no.as_str().to_owned(),
            status: copy.status.into(),
            registered_at: copy.registered_at,
            login_password_set_at: copy.login_password_set_at,
            imported_at: copy.imported_at,
            security_questions: copy
                .security_questions
                .into_iter()
                .map(|code| QuestionSet {
                    text: question_text(tr, &code),
                    code,
                })
                .collect(),
            holds: copy.holds.into_iter().map(HoldView::from).collect(),
            sessions: copy
                .sessions
                .into_iter()
                .map(|s| SessionView {
                    id: s.id.as_str().to_owned(),
                    channel: s.channel.into(),
                    started_at: s.started_at,
                    last_active_at: s.last_active_at,
                    address: s.address,
                    device: device_text(tr, s.device),
                    current: s.current,
                })
                .collect(),
        }
    }

    /// The document as a download: an attachment named after the day of export in
    /// China (`date`), never cached.
    pub(crate) fn attachment(&self, date: time::Date) -> Response {
        let disposition = format!("attachment; filename=\"fundpass-my-data-{date}.json\"");
        (
            [
                (header::CONTENT_DISPOSITION, disposition),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            axum::Json(self),
        )
            .into_response()
    }
}

/// A question's text in `tr`'s language (the code itself if unknown).
fn question_text(tr: Tr, code: &str) -> String {
    match crate::i18n::question_key(code) {
        Some(key) => tr.get(key).to_owned(),
        None => code.to_owned(),
    }
}

/// Download a copy of one's personal information.
///
/// The login password is checked in the same request; a wrong one counts against
/// the login lock as at login, and the failure that locks ends every session and
/// token, this one too (`locked` with `details.signed_out`). Each copy is audited
/// and texted to the phone on file.
#[utoipa::path(
    post,
    path = "/api/v1/my-data",
    operation_id = "download_my_data",
    tag = "security",
    security(("bearer" = [])),
    request_body = DataCopyRequest,
    responses(
        (status = 200, description = "The copy, as an attachment `fundpass-my-data-<date>.json`", body = MyData),
        (status = 400, description = "wrong_login_password (details.remaining)", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only: a face-login token", body = ErrorBody),
        (status = 409, description = "conflict", body = ErrorBody),
        (status = 423, description = "locked (details.until, details.signed_out)", body = ErrorBody),
        (status = 503, description = "busy", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn download(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedIn(auth): SignedIn,
    ApiJson(body): ApiJson<DataCopyRequest>,
) -> Result<Response, ApiError> {
    let ctx = client.context(Channel::App);
    let call = state
        .portal
        .data_copy(&auth, body.password.expose_secret(), &ctx);
    let copy = run(&state, call, refusal).await?;
    let date = copy.exported_on;
    Ok(MyData::of(copy, Lang::Zh).attachment(date))
}

/// Why no copy was given.
fn refusal(error: DataCopyError, _now: OffsetDateTime) -> ApiError {
    let locked = |until: OffsetDateTime, signed_out: bool| {
        ApiError::new(ErrorCode::Locked)
            .message(format!(
                "Too many wrong login passwords. Try again after {}.",
                rfc3339(until)
            ))
            .details(json!({ "until": rfc3339(until), "signed_out": signed_out }))
    };
    match error {
        DataCopyError::RecoverySession => ApiError::new(ErrorCode::RecoverySessionOnly),
        DataCopyError::WrongPassword { remaining } => ApiError::new(ErrorCode::WrongLoginPassword)
            .message(format!(
                "The login password is wrong. {remaining} tries left."
            ))
            .details(json!({ "remaining": remaining })),
        DataCopyError::Locked { until } => locked(until, false),
        DataCopyError::LockedOut { until } => locked(until, true),
        DataCopyError::Conflict => ApiError::new(ErrorCode::Conflict),
        DataCopyError::Busy(e) => map::busy(e),
        DataCopyError::Store(e) => map::store(e),
    }
}
