//! What the member does with their security record in the app: download it whole
//! (`GET /api/v1/security-record/export`, JSON or CSV with an integrity value that
//! `fundpass record verify` checks) and report an event as not theirs
//! (`POST /api/v1/security-record/{seq}/not-me`).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use fundpass_core::audit::Channel;
use fundpass_core::record::{ExportError, ExportFormat, NotMeError, RecordExport};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::auth::SignedIn;
use super::error::{ApiError, ErrorBody, ErrorCode};
use super::map;
use super::path::ApiPath;
use super::record::{RecordEntryView, entry_view};
use crate::i18n::Tr;
use crate::request::ClientInfo;
use crate::state::AppState;

/// The whole record, as the JSON download holds it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordExportView {
    pub account_no: String,
    #[serde(with = "time::serde::rfc3339")]
    pub exported_at: OffsetDateTime,
    /// Every event, newest first.
    pub entries: Vec<RecordEntryView>,
}

/// The JSON download: the record and its integrity value.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedRecordExport {
    pub record: RecordExportView,
    /// A compact JWS (`alg` `EdDSA`, `typ` `security-record+jwt`) signed with the
    /// fund's signing key (the one whose public half business systems fetch); its claims: `iss` (`fundpass`), `sub`
    /// (the account number), `iat` (export time), `format`, `entries` and `sha256`,
    /// the hex SHA-256 of the exact bytes of the `record` value in the file.
    /// `fundpass record verify FILE` checks it.
    pub integrity: String,
}

/// The format of a download.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormatName {
    Json,
    Csv,
}

/// `?format=json|csv`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `json` (default) or `csv` (UTF-8 with a byte-order mark, one row per event in
    /// words, the last line `integrity,<JWS>`).
    #[param(inline)]
    pub format: Option<ExportFormatName>,
}

/// The record's JSON content: the bytes the integrity value covers.
pub(crate) fn export_json(export: &RecordExport) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&RecordExportView {
        account_no: export.account_no.clone(),
        exported_at: export.exported_at,
        entries: export.entries.iter().cloned().map(entry_view).collect(),
    })
}

/// Download the whole security record.
///
/// Every download is audited (it shows on the record as a copy of one's data).
#[utoipa::path(
    get,
    path = "/api/v1/security-record/export",
    operation_id = "export_security_record",
    tag = "session",
    security(("bearer" = [])),
    params(ExportParams),
    responses(
        (status = 200, description = "The record as an attachment `fundpass-security-record-<date>.json`, \
            or with `format=csv` `.csv` (UTF-8 with a byte-order mark, the last line `integrity,<JWS>`)",
            content(
                (SignedRecordExport = "application/json"),
                (String = "text/csv"),
            )),
        (status = 400, description = "bad_json: format is not json or csv", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only: a face-login token", body = ErrorBody),
    )
)]
pub async fn export(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    params: Result<Query<ExportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params
        .map_err(|_| ApiError::new(ErrorCode::BadJson).message("format must be json or csv"))?;
    let format = match params.format {
        Some(ExportFormatName::Csv) => ExportFormat::Csv,
        Some(ExportFormatName::Json) | None => ExportFormat::Json,
    };
    let portal = &state.portal;
    let export = portal
        .export_record(&auth, format, &client.context(Channel::App))
        .await
        .map_err(export_error)?;
    let sealed = crate::record_text::sealed_download(portal, Tr::from_headers(&headers), &export)
        .map_err(|e| ApiError::internal(&*e))?;
    Ok(crate::web::record_attachment(
        format,
        export.exported_at,
        sealed.file,
    ))
}

fn export_error(e: ExportError) -> ApiError {
    match e {
        ExportError::Store(e) => map::store(e),
        e @ ExportError::NoSigningKey => ApiError::internal(&e),
    }
}

/// What reporting an event did.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotMeView {
    /// Always true: every session and app token of the member ended, this one too.
    pub signed_out: bool,
    /// Payouts are refused until then.
    #[serde(with = "time::serde::rfc3339")]
    pub hold_until: OffsetDateTime,
    /// The hotline to call (also texted to the phone on file).
    pub hotline: String,
}

/// Report an event on the record as not the member's ("this was not me").
///
/// Every session and app token ends (this token too), a hold refuses payouts, the
/// phone on file is texted the hotline's number, and the report goes on the
/// auditor's anomaly report.
#[utoipa::path(
    post,
    path = "/api/v1/security-record/{seq}/not-me",
    operation_id = "report_not_me",
    tag = "session",
    security(("bearer" = [])),
    params(("seq" = i64, Path, description = "The event's `seq`, from GET /api/v1/security-record (an entry with `reportable`); anything else names no event (404)")),
    responses(
        (status = 200, description = "Reported: sessions ended, payouts held", body = NotMeView),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only: a face-login token", body = ErrorBody),
        (status = 404, description = "event_not_found: no such event on the member's record", body = ErrorBody),
        (status = 409, description = "not_reportable: the event is not a successful login, reset or change", body = ErrorBody),
    )
)]
pub async fn not_me(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedIn(auth): SignedIn,
    ApiPath(seq): ApiPath<i64>,
) -> Result<Json<NotMeView>, ApiError> {
    let report = state
        .portal
        .report_not_me(&auth, seq, &client.context(Channel::App))
        .await
        .map_err(|e| match e {
            NotMeError::UnknownEvent => ApiError::new(ErrorCode::EventNotFound),
            NotMeError::NotReportable => ApiError::new(ErrorCode::NotReportable),
            NotMeError::Store(e) => map::store(e),
        })?;
    Ok(Json(NotMeView {
        signed_out: true,
        hold_until: report.hold.until,
        hotline: report.hotline,
    }))
}
