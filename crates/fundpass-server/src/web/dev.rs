//! Development helpers, answering only in dev mode (404 otherwise): the SMS outbox as
//! a phone would show it, and a captcha's answer for automated tests.

use askama::Template;
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use fundpass_core::crypto::Field;
use fundpass_core::identity::Phone;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use super::context::Web;
use super::error::{self, Internal};
use super::layout::{Page, Reply, date_time};

/// Messages shown, newest first.
const OUTBOX_LIMIT: u32 = 100;

/// One outbox message, decrypted (dev data only).
#[derive(Debug, Serialize)]
struct OutboxEntry {
    id: String,
    /// All 11 digits.
    to: String,
    purpose: String,
    text: String,
    /// RFC 3339, UTC.
    created_at: String,
    delivered: bool,
}

/// A row of the HTML table.
struct OutboxRow {
    time: String,
    to: String,
    purpose: String,
    text: String,
    delivered: bool,
}

#[derive(Template)]
#[template(path = "dev_outbox.html")]
struct OutboxView {
    page: Page,
    rows: Vec<OutboxRow>,
}

async fn entries(web: &Web) -> Result<Vec<(OutboxEntry, OutboxRow)>, Internal> {
    let portal = &web.state.portal;
    let messages = portal
        .store
        .recent_messages(OUTBOX_LIMIT)
        .await
        .map_err(|e| web.internal(e))?;
    let mut out = Vec::with_capacity(messages.len());
    for m in messages {
        let to = portal
            .keyring
            .open(Field::Phone, &m.to)
            .map_err(|e| web.internal(e))?;
        let text = portal
            .keyring
            .open(Field::Message, &m.body)
            .map_err(|e| web.internal(e))?;
        let masked = Phone::parse(&to)
            .map(|p| p.masked())
            .unwrap_or_else(|_| "***".to_owned());
        let row = OutboxRow {
            time: date_time(m.created_at),
            to: masked,
            purpose: m.purpose.clone(),
            text: text.clone(),
            delivered: m.delivered_at.is_some(),
        };
        let created_at = m
            .created_at
            .format(&Rfc3339)
            .unwrap_or_else(|_| m.created_at.to_string());
        let entry = OutboxEntry {
            id: m.id,
            to,
            purpose: m.purpose,
            text,
            created_at,
            delivered: row.delivered,
        };
        out.push((entry, row));
    }
    Ok(out)
}

/// `GET /dev/outbox`: the outbox as a table.
pub(super) async fn outbox(web: Web) -> Result<Response, Internal> {
    if !web.state.settings.dev() {
        return Ok(error::not_found(&web));
    }
    let rows = entries(&web)
        .await?
        .into_iter()
        .map(|(_, row)| row)
        .collect();
    let view = OutboxView {
        page: web.page("dev.outbox_title"),
        rows,
    };
    Ok(Reply::page(&web, &view)?.into_response())
}

/// `GET /dev/outbox.json`: the same as a JSON array, full numbers included.
pub(super) async fn outbox_json(web: Web) -> Result<Response, Internal> {
    if !web.state.settings.dev() {
        return Ok(error::not_found(&web));
    }
    let entries: Vec<OutboxEntry> = entries(&web)
        .await?
        .into_iter()
        .map(|(entry, _)| entry)
        .collect();
    Ok(([(CACHE_CONTROL, "no-store")], Json(entries)).into_response())
}

/// `GET /dev/captcha/{id}`: `{"answer": "…"}` of a live captcha.
pub(super) async fn captcha(web: Web, Path(id): Path<String>) -> Result<Response, Internal> {
    if !web.state.settings.dev() {
        return Ok(error::not_found(&web));
    }
    let answer = web
        .state
        .portal
        .dev_captcha_answer(&id)
        .await
        .map_err(|e| web.internal(e))?;
    let no_store = [(CACHE_CONTROL, "no-store")];
    Ok(match answer {
        Some(answer) => (no_store, Json(serde_json::json!({ "answer": answer }))).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            no_store,
            Json(serde_json::json!({ "error": "unknown captcha" })),
        )
            .into_response(),
    })
}
