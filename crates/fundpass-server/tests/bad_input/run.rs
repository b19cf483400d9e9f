//! Sending each attempt of a row and judging the answer: never a 5xx, the specific
//! refusal the table names, no unescaped echo of what was sent, and no change to the
//! database beyond what the table allows.

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;

use super::cases::{self, Attempt, Case, MARKER};
use super::snapshot::{Change, Reader};
use super::wire;
use super::{Expect, Field, Place, Prepared, Row, Surface};
use crate::support::{Received, TestApp, send_from};

/// Tables any refused request may write: the per-address and per-client request
/// counters (a refused request still counts against its sender's budget).
pub const ANYONE_WRITES: &[&str] = &["rate_limits"];

/// A table of rows for one surface: how its world is set up and its requests filled.
pub trait Table {
    /// What the rows share in one app (tokens, flows, staff sessions…).
    type State;

    async fn setup(app: &TestApp) -> Self::State;

    /// The row's request with good values throughout; `target` is the field about to
    /// be made hostile (a row may fill in a variant that has it, e.g. `account_no`).
    async fn prepare(
        app: &TestApp,
        state: &mut Self::State,
        row: &Row,
        target: Option<&Field>,
    ) -> Prepared;
}

/// Runs every attempt of `row` in `app`; the problems found, one line each.
pub async fn attempts<T: Table>(app: &TestApp, state: &mut T::State, row: &Row) -> Vec<String> {
    let mut problems = Vec::new();
    let mut reader = Reader::open(app).await;
    for attempt in cases::attempts(row) {
        let expect = cases::expectation(row, &attempt);
        let mut control_reply = None;
        if let Some(control) = &attempt.control {
            let ascii = Attempt {
                value: Some(control.clone()),
                control: None,
                ..attempt.clone()
            };
            let prepared = T::prepare(app, state, row, attempt.field.as_ref()).await;
            let (reply, found) = one(app, &mut reader, row, &ascii, expect, prepared).await;
            problems.extend(found);
            control_reply = Some(reply);
        }
        let prepared = T::prepare(app, state, row, attempt.field.as_ref()).await;
        let (reply, found) = one(app, &mut reader, row, &attempt, expect, prepared).await;
        problems.extend(found);
        if let Some(control) = control_reply
            && gist(&control) != gist(&reply)
        {
            problems.push(format!(
                "{} {} {}: answered {} where the same digits in ASCII got {}",
                row.method,
                row.path,
                attempt.label(),
                gist(&reply),
                gist(&control)
            ));
        }
    }
    reader.close().await;
    problems
        .into_iter()
        .map(|p| format!("[{}] {p}", backend(app)))
        .collect()
}

/// The row's good request, sent untouched in `app`: it must be accepted, or the
/// refusals above prove nothing about the values tried.
pub async fn baseline<T: Table>(app: &TestApp, state: &mut T::State, row: &Row) -> Option<String> {
    let prepared = T::prepare(app, state, row, None).await;
    let request = wire::build(row, &prepared, None).reqwest(app, &prepared.client);
    let reply = send_from(request, &prepared.ip).await;
    let refused = reply.status >= 400 || reply.body.contains("class=\"error-summary\"");
    refused.then(|| {
        format!(
            "[{}] {} {}: the good request was refused ({}): {}",
            backend(app),
            row.method,
            row.path,
            reply.status,
            excerpt(&reply.body)
        )
    })
}

fn backend(app: &TestApp) -> &'static str {
    if app.database_url().starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    }
}

/// Sends one attempt and judges it.
async fn one(
    app: &TestApp,
    reader: &mut Reader,
    row: &Row,
    attempt: &Attempt,
    expect: Expect,
    prepared: Prepared,
) -> (Received, Vec<String>) {
    let before = reader.take().await;
    let wire = wire::build(row, &prepared, Some(attempt));
    // reqwest neither streams a body without its `stream` feature nor sends a URL
    // longer than 65,534 bytes: those go by hand.
    let by_hand = attempt.case == Case::Huge
        && attempt
            .field
            .is_some_and(|f| matches!(f.place, Place::Path | Place::Query));
    let reply = if attempt.case == Case::OversizedChunked || by_hand {
        wire::raw(
            app,
            &wire,
            &prepared.ip,
            attempt.case == Case::OversizedChunked,
        )
        .await
    } else {
        send_from(wire.reqwest(app, &prepared.client), &prepared.ip).await
    };
    let after = reader.take().await;
    let what = format!("{} {} {}", row.method, row.path, attempt.label());
    let mut problems = Vec::new();
    if let Some(wrong) = judge(row, expect, &reply) {
        problems.push(format!("{what}: {wrong}"));
    }
    if let Some(echo) = echo(&reply) {
        problems.push(format!("{what}: {echo}"));
    }
    let allowed = allowed_writes(row, attempt);
    let unexpected: Vec<Change> = before
        .changes(&after)
        .into_iter()
        .filter(|c| !allowed.contains(&c.table.as_str()))
        .collect();
    if !unexpected.is_empty() {
        let list: Vec<String> = unexpected.iter().map(ToString::to_string).collect();
        problems.push(format!(
            "{what}: answered {} and changed {}",
            reply.status,
            list.join(", ")
        ));
    }
    (reply, problems)
}

/// The tables `attempt` may write.
fn allowed_writes(row: &Row, attempt: &Attempt) -> Vec<&'static str> {
    let mut allowed = ANYONE_WRITES.to_vec();
    if let Some(field) = &attempt.field {
        allowed.extend(row.writes);
        allowed.extend(field.writes);
    }
    if allowed.contains(&"audit_events") {
        allowed.push("audit_head");
    }
    allowed
}

/// What is wrong with `reply` given `expect`, if anything.
fn judge(row: &Row, expect: Expect, reply: &Received) -> Option<String> {
    let text = excerpt(&reply.body);
    if reply.status >= 500 {
        return Some(format!("answered {}: {text}", reply.status));
    }
    match expect {
        Expect::Code(codes) => {
            let code = error_code(row.surface, &reply.body);
            let fits = (400..500).contains(&reply.status)
                && code.as_deref().is_some_and(|c| codes.contains(&c));
            (!fits).then(|| {
                format!(
                    "expected {codes:?}, answered {} {}: {text}",
                    reply.status,
                    code.unwrap_or_default()
                )
            })
        }
        Expect::Form => {
            let shown = matches!(reply.status, 200 | 429)
                && reply.body.contains("class=\"error-summary\"")
                && reply.body.contains("<form");
            (!shown).then(|| format!("expected the form again, answered {}: {text}", reply.status))
        }
        Expect::Status(status) => (reply.status != status)
            .then(|| format!("expected {status}, answered {}: {text}", reply.status)),
        Expect::Redirect(to) => {
            let location = crate::support::header(&reply.headers, "location");
            (reply.status != 303 || location != Some(to)).then(|| {
                format!(
                    "expected 303 to {to}, answered {} to {location:?}: {text}",
                    reply.status
                )
            })
        }
    }
}

/// `error.code` of an envelope, or `error` of an OAuth answer.
fn error_code(surface: Surface, body: &str) -> Option<String> {
    let json: Value = serde_json::from_str(body).ok()?;
    let code = match surface {
        Surface::OAuth => json["error"].as_str().or(json["error"]["code"].as_str()),
        _ => json["error"]["code"].as_str(),
    };
    code.map(str::to_owned)
}

/// What of the input came back unescaped, if anything: the marker's markup or a NUL,
/// in the body or any header.
fn echo(reply: &Received) -> Option<String> {
    let tag = &MARKER[..7];
    let headers = headers_text(&reply.headers);
    for (part, text) in [("the body", reply.body.as_str()), ("a header", &headers)] {
        if let Some(at) = text.find(tag) {
            let start = (0..=at.saturating_sub(60))
                .rev()
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(0);
            let around: String = text[start..].chars().take(140).collect();
            return Some(format!("echoed the input unescaped in {part}: «{around}»"));
        }
        if text.contains('\0') {
            return Some(format!("echoed a NUL in {part}"));
        }
    }
    None
}

fn headers_text(headers: &HeaderMap) -> String {
    headers
        .iter()
        .map(|(k, v)| format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes())))
        .collect()
}

/// Status, code and reason of an answer, or its error summary: what an ASCII and a
/// full-width attempt must share.
fn gist(reply: &Received) -> String {
    if let Ok(json) = serde_json::from_str::<Value>(&reply.body) {
        let error = &json["error"];
        return format!(
            "{} {} {}",
            reply.status, error["code"], error["details"]["reason"]
        );
    }
    let summary = reply
        .body
        .split_once("class=\"error-summary\"")
        .and_then(|(_, rest)| rest.split_once("</div>"))
        .map_or("", |(summary, _)| summary);
    format!("{} {summary}", reply.status)
}

/// The start of a body, on one line, for messages: a page's title and the text of
/// its main part, or the start of anything else.
pub fn excerpt(body: &str) -> String {
    let text = match body.split_once("<main") {
        Some((head, main)) => {
            let title = head
                .split_once("<title>")
                .and_then(|(_, t)| t.split_once("</title>"))
                .map_or("", |(t, _)| t);
            format!("«{title}» {}", without_tags(main))
        }
        None => body.to_owned(),
    };
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(240)
        .collect()
}

fn without_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// `value` for a header, or `None` when it cannot be one.
pub fn header_value(bytes: &[u8]) -> Option<HeaderValue> {
    HeaderValue::from_bytes(bytes).ok()
}
