//! The exposure check every HTTP test runs without asking: no response, and no
//! audit event, carries a full document number or phone number the test process
//! knows, except the member's copy of their own data.
//!
//! How it works. Every [`TestApp`](super::TestApp) serves its router behind
//! [`guard`], a middleware that reads each request and response whole, whoever sent
//! the request (the harnesses through `send_from`, or a test's own `reqwest` call).
//! It scans the status line, every header value (`Location`, `Set-Cookie`…) and the
//! body, in every decoded form [`find`] knows, for every value in the
//! process-wide registry, then every audit event written since the last request.
//! What it finds is kept on the app's [`Guard`]: `send_from` panics with it as soon as
//! the response is back, and `TestApp`'s `Drop` panics with whatever no `send_from`
//! reported (a request sent around the harness).
//!
//! The registry holds the seeded people (`seed_member`, the harnesses' `Person`
//! constants, staff accounts' own documents) and every document or phone number a
//! test typed into a request field (`*id_number*`, `*phone*`).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, Weak};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use fundpass_core::audit::AuditEvent;
use fundpass_core::identity::{IdNumber, IdType, Phone};
use fundpass_core::ports::AuditStore as _;
use fundpass_store::Store;

use super::Person;
pub use super::scan::{Hit, Kind, Known, find};

/// The member's copy of their own data (PIPL): the only answers that may carry the
/// member's full document and phone number, and only when they are the download.
const DATA_COPY: [(&str, &str); 2] = [("POST", "/security/my-data"), ("POST", "/api/v1/my-data")];

/// Forms that show the member what they typed in this very request after a refusal
/// (registration, forgotten login and transaction password): the document and phone
/// fields may come back in their own `value="…"`, and nowhere else.
const ECHOING_FORMS: [&str; 3] = [
    "/register",
    "/forgot-password",
    "/security/transaction-password",
];

/// Every full document and phone number the test process knows of.
static KNOWN: Mutex<BTreeSet<Known>> = Mutex::new(BTreeSet::new());

/// The guards of the running apps, by `host:port`.
static GUARDS: Mutex<Option<HashMap<String, Weak<Guard>>>> = Mutex::new(None);

/// Adds `value` (as typed; upper-cased here) to the values no page may show.
pub fn know(kind: Kind, value: &str) {
    let value = value.trim().to_uppercase();
    if value.len() >= 8 {
        KNOWN.lock().unwrap().insert(Known { kind, value });
    }
}

/// Adds `person`'s document and phone number.
pub fn know_person(person: &Person) {
    know(Kind::DocumentNumber, person.id_number);
    know(Kind::Phone, person.phone);
}

/// Adds each of `people`.
pub fn know_people(people: &[Person]) {
    people.iter().for_each(know_person);
}

/// Everything known so far.
pub fn known() -> Vec<Known> {
    KNOWN.lock().unwrap().iter().cloned().collect()
}

/// The known values in `text` (for tests scanning what is not a response: logs,
/// outbox rows).
pub fn hits_in(text: &str) -> Vec<Hit> {
    find(text, &known())
}

/// Panics when `text`, described by `what`, carries a known value.
#[track_caller]
pub fn assert_clean(what: &str, text: &str) {
    let hits = hits_in(text);
    assert!(hits.is_empty(), "{what} carries {}", list(&hits));
}

/// Panics when an audit event of `events` carries a known value.
#[track_caller]
pub fn assert_audit_clean(events: &[AuditEvent]) {
    let leaks: Vec<String> = events
        .iter()
        .filter_map(|e| audit_leak(e, None, "read back by the test"))
        .collect();
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

fn list(hits: &[Hit]) -> String {
    hits.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the middleware of one app found, and what that app's tests allowed.
pub struct Guard {
    store: Store,
    /// The last audit sequence number scanned.
    audited: tokio::sync::Mutex<i64>,
    leaks: Mutex<Vec<String>>,
    /// (method, path) answers a test declared may carry full numbers.
    allowed: Mutex<Vec<(String, String)>>,
}

impl Guard {
    /// A guard for the app serving `authority` (`host:port`) from `store`.
    pub fn register(authority: &str, store: Store) -> Arc<Self> {
        let guard = Arc::new(Self {
            store,
            audited: tokio::sync::Mutex::new(0),
            leaks: Mutex::new(Vec::new()),
            allowed: Mutex::new(Vec::new()),
        });
        let mut guards = GUARDS.lock().unwrap();
        let guards = guards.get_or_insert_with(HashMap::new);
        guards.retain(|_, g| g.strong_count() > 0);
        guards.insert(authority.to_owned(), Arc::downgrade(&guard));
        guard
    }

    /// Lets the answers to `method path` carry full numbers (a page whose purpose is
    /// to show them; see the caller for why).
    pub fn allow(&self, method: &str, path: &str) {
        self.allowed
            .lock()
            .unwrap()
            .push((method.to_owned(), path.to_owned()));
    }

    /// The leaks found so far, forgotten once taken.
    pub fn take_leaks(&self) -> Vec<String> {
        std::mem::take(&mut *self.leaks.lock().unwrap())
    }

    fn allowed(&self, method: &Method, path: &str) -> bool {
        self.allowed
            .lock()
            .unwrap()
            .iter()
            .any(|(m, p)| m == method.as_str() && p == path)
    }

    fn record(&self, leak: String) {
        self.leaks.lock().unwrap().push(leak);
    }

    /// Scans the audit events written since the last scan; `after` names the
    /// request that was just answered.
    async fn scan_audit(&self, after: &str) {
        let mut audited = self.audited.lock().await;
        loop {
            let Ok(records) = self.store.records_after(*audited, 500).await else {
                return;
            };
            for record in &records {
                *audited = record.seq;
                if let Some(leak) = audit_leak(&record.event, Some(record.seq), after) {
                    self.record(leak);
                }
            }
            if records.len() < 500 {
                return;
            }
        }
    }
}

/// The leak in `event`, described, if it has one.
fn audit_leak(event: &AuditEvent, seq: Option<i64>, when: &str) -> Option<String> {
    let json = serde_json::to_value(event).ok()?;
    let hits = find(&json.to_string(), &known());
    if hits.is_empty() {
        return None;
    }
    let seq = seq.map(|s| format!(" #{s}")).unwrap_or_default();
    Some(format!(
        "exposure: audit event {}{seq} ({when}) carries {}",
        json["action"],
        list(&hits)
    ))
}

/// Panics with the leaks the app at `authority` found, if any (called by
/// `send_from` once a response is read).
#[track_caller]
pub fn report(authority: &str) {
    let guard = GUARDS
        .lock()
        .unwrap()
        .as_ref()
        .and_then(|g| g.get(authority))
        .and_then(Weak::upgrade);
    let leaks = guard.map(|g| g.take_leaks()).unwrap_or_default();
    assert!(leaks.is_empty(), "{}\n{HINT}", leaks.join("\n"));
}

/// What a failure adds to the leaks it lists.
pub const HINT: &str = "(the exposure check, tests/support/exposure.rs: only the member's data \
     copy may carry a full document or phone number; a page whose purpose is to show one \
     is allowed by its test with TestApp::allow_full_identity_on)";

/// The middleware: passes the request on, then scans the answer and the audit trail.
pub async fn guard(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(sent) = axum::body::to_bytes(body, usize::MAX).await else {
        return (
            StatusCode::BAD_REQUEST,
            "exposure guard: unreadable request body",
        )
            .into_response();
    };
    let method = parts.method.clone();
    let path = parts.uri.path().to_owned();
    let fields = typed_fields(parts.uri.query(), &sent);
    learn_typed(&fields);
    let response = next.run(Request::from_parts(parts, Body::from(sent))).await;
    let (parts, body) = response.into_parts();
    let Ok(received) = axum::body::to_bytes(body, usize::MAX).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "exposure guard: unreadable response body",
        )
            .into_response();
    };
    let request_line = format!("{method} {path}");
    let exempt = guard.allowed(&method, &path) || is_data_copy(&method, &path, &parts.headers);
    if !exempt {
        let echo = (method == Method::POST && ECHOING_FORMS.contains(&path.as_str()))
            .then_some(fields.as_slice());
        for leak in scan_response(&request_line, parts.status, &parts.headers, &received, echo) {
            guard.record(leak);
        }
    }
    guard
        .scan_audit(&format!("written by the time {request_line} was answered"))
        .await;
    Response::from_parts(parts, Body::from(received))
}

/// Whether this is the member's data copy being handed out: the route, and an answer
/// that is the download (a refusal on the same route is an ordinary page).
fn is_data_copy(method: &Method, path: &str, headers: &HeaderMap) -> bool {
    let download = headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("attachment")
        });
    download
        && DATA_COPY
            .iter()
            .any(|(m, p)| method.as_str() == *m && path == *p)
}

/// What each part of one answer carries; `echo`: the fields of an echoing form.
fn scan_response(
    request_line: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &Bytes,
    echo: Option<&[(String, String)]>,
) -> Vec<String> {
    let mut parts = vec![("the status line".to_owned(), format!("HTTP/1.1 {status}"))];
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        parts.push((format!("header {name}"), format!("{name}: {value}")));
    }
    let mut body = String::from_utf8_lossy(body).into_owned();
    if let Some(fields) = echo {
        body = without_echo(&body, fields);
    }
    parts.push(("the body".to_owned(), body));
    let known = known();
    parts
        .iter()
        .filter_map(|(part, text)| {
            let hits = find(text, &known);
            (!hits.is_empty()).then(|| {
                format!(
                    "exposure: {request_line} answered with {} in {part}",
                    list(&hits)
                )
            })
        })
        .collect()
}

/// `body` with the `value="…"` of what the member typed into a document or phone
/// field of this request emptied: the form showing the member their own typing back
/// after a refusal is allowed; the same number anywhere else on the page is not.
fn without_echo(body: &str, fields: &[(String, String)]) -> String {
    let mut body = body.to_owned();
    for (name, value) in fields {
        if field_kind(name).is_some() && !value.is_empty() {
            let escaped = html_escape(value);
            body = body.replace(&format!("value=\"{escaped}\""), "value=\"\"");
        }
    }
    body
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// The kind of number a field of this name holds, if any.
fn field_kind(name: &str) -> Option<Kind> {
    if name.contains("id_number") {
        Some(Kind::DocumentNumber)
    } else if name.contains("phone") {
        Some(Kind::Phone)
    } else {
        None
    }
}

/// The (name, value) pairs of the query string and of the body, read as a form or
/// as JSON (string members at any depth).
fn typed_fields(query: Option<&str>, body: &[u8]) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let mut form = |text: &str| {
        for pair in text.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            fields.push((
                super::scan::percent_decode(name),
                super::scan::percent_decode(value),
            ));
        }
    };
    if let Some(query) = query {
        form(query);
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => json_fields(None, &json, &mut fields),
        Err(_) => form(&String::from_utf8_lossy(body)),
    }
    fields
}

fn json_fields(name: Option<&str>, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(members) => {
            for (key, value) in members {
                json_fields(Some(key), value, out);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                json_fields(name, item, out);
            }
        }
        serde_json::Value::String(text) => out.push((name.unwrap_or("").to_owned(), text.clone())),
        serde_json::Value::Number(n) => out.push((name.unwrap_or("").to_owned(), n.to_string())),
        _ => {}
    }
}

/// Registers each document or phone number typed into a field named for one (when
/// it is a valid one: a typo is nobody's number).
fn learn_typed(fields: &[(String, String)]) {
    let today = time::macros::date!(2026 - 11 - 23);
    for (name, value) in fields {
        match field_kind(name) {
            Some(Kind::DocumentNumber) => {
                if let Some(id) = IdType::ALL
                    .iter()
                    .find_map(|t| IdNumber::parse(*t, value, today).ok())
                {
                    know(Kind::DocumentNumber, id.normalised());
                }
            }
            Some(Kind::Phone) => {
                if let Ok(phone) = Phone::parse(value) {
                    know(Kind::Phone, phone.normalised());
                }
            }
            None => {}
        }
    }
}
