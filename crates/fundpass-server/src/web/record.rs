//! The member's security record: `/security/record` lists every event about their
//! own account, newest first, 50 a page, with an "older" link and a kind filter;
//! each login, reset or change has a "this was not me" button (see `not_me`). The
//! whole record downloads as CSV or JSON with an integrity value, or prints.

use askama::Template;
use axum::extract::Query;
use axum::http::header;
use axum::response::{IntoResponse as _, Response};
use fundpass_core::record::{ExportFormat, RecordKind};
use serde::Deserialize;

use super::auth::Member;
use super::csrf::MemberForm;
use super::error::Internal;
use super::home::TokenForm;
use super::layout::{Page, Reply, date_time};
use crate::record_text::{EntryText, entry_text, kind_key, sealed_download};

/// Entries per page.
const PAGE_SIZE: u32 = 50;

/// One choice of the kind filter.
struct KindOption {
    code: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordView {
    page: Page,
    csrf: String,
    entries: Vec<EntryText>,
    kinds: Vec<KindOption>,
    /// The filter in force, for the "older" link.
    kind: Option<&'static str>,
    older: Option<i64>,
}

#[derive(Template)]
#[template(path = "record_print.html")]
struct PrintView {
    page: Page,
    account_no: String,
    exported_at: String,
    entries: Vec<EntryText>,
    integrity: String,
}

/// `?before=<seq>&kind=<code>`.
#[derive(Deserialize, Default)]
pub(super) struct Shown {
    before: Option<i64>,
    kind: Option<String>,
}

/// `GET /security/record`.
pub(super) async fn page(
    Member { web, auth }: Member,
    Query(shown): Query<Shown>,
) -> Result<Reply, Internal> {
    let kind = shown.kind.as_deref().and_then(RecordKind::from_code);
    let record = web
        .state
        .portal
        .security_record(&auth, shown.before, kind, PAGE_SIZE)
        .await
        .map_err(|e| web.internal(e))?;
    let view = RecordView {
        page: web.page("record.title").with_csrf(&auth.session.csrf),
        csrf: auth.session.csrf.clone(),
        entries: record
            .entries
            .iter()
            .map(|e| entry_text(web.tr, e))
            .collect(),
        kinds: RecordKind::ALL
            .into_iter()
            .map(|k| KindOption {
                code: k.code(),
                label: web.tr.get(kind_key(k)),
                selected: Some(k) == kind,
            })
            .collect(),
        kind: kind.map(RecordKind::code),
        older: record.next_before,
    };
    Reply::page(&web, &view)
}

/// `?format=csv|json` of a download.
#[derive(Deserialize, Default)]
pub(super) struct Download {
    format: Option<String>,
}

/// `POST /security/record/download?format=csv|json`: the whole record as a file with
/// its integrity value (CSRF-checked: every download is audited).
pub(super) async fn download(
    Query(download): Query<Download>,
    MemberForm { web, auth, .. }: MemberForm<TokenForm>,
) -> Result<Response, Internal> {
    let format = match download.format.as_deref() {
        Some("json") => ExportFormat::Json,
        Some("csv") | None => ExportFormat::Csv,
        Some(_) => return Ok(super::error::not_found(&web)),
    };
    let export = web
        .state
        .portal
        .export_record(&auth, format, &web.ctx())
        .await
        .map_err(|e| web.internal(e))?;
    let sealed =
        sealed_download(&web.state.portal, web.tr, &export).map_err(|e| web.internal(e))?;
    Ok(attachment(format, export.exported_at, sealed.file))
}

/// `GET /security/record/print`: the whole record on one printable page, with the
/// time of export and the integrity value of the same record as a JSON download.
pub(super) async fn print(Member { web, auth }: Member) -> Result<Reply, Internal> {
    let export = web
        .state
        .portal
        .export_record(&auth, ExportFormat::Json, &web.ctx())
        .await
        .map_err(|e| web.internal(e))?;
    let sealed =
        sealed_download(&web.state.portal, web.tr, &export).map_err(|e| web.internal(e))?;
    let view = PrintView {
        page: web.page("record.print_title"),
        account_no: export.account_no.clone(),
        exported_at: date_time(export.exported_at),
        entries: export
            .entries
            .iter()
            .map(|e| entry_text(web.tr, e))
            .collect(),
        integrity: sealed.integrity,
    };
    Reply::page(&web, &view)
}

/// A download named after the day of export, never cached.
pub(crate) fn attachment(
    format: ExportFormat,
    exported_at: time::OffsetDateTime,
    file: Vec<u8>,
) -> Response {
    let day = exported_at.to_offset(time::macros::offset!(+8)).date();
    let (ext, mime) = match format {
        ExportFormat::Csv => ("csv", "text/csv; charset=utf-8"),
        ExportFormat::Json => ("json", "application/json"),
    };
    (
        [
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"fundpass-security-record-{day}.{ext}\""),
            ),
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        file,
    )
        .into_response()
}
