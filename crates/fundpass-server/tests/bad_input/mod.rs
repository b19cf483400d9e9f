//! The bad-input table: every endpoint that takes input (`Row`), what each of its
//! inputs holds (`Field`), what a hostile value there must get (`Expect`), and which
//! tables a refused request may still write.
//!
//! The tables are in `api.rs` (the app's JSON API), `internal.rs` (the business
//! systems' API), `portal.rs` (the member's forms) and `console.rs` (the staff
//! console's forms); the hostile inputs in `cases.rs`; sending one and judging the
//! answer in `run.rs`; reading the database back in `snapshot.rs`; the check that no
//! route lacks a row in `routes.rs`.

pub mod api;
pub mod api_prepare;
pub mod cases;
pub mod console;
pub mod internal;
pub mod portal;
pub mod portal_prepare;
pub mod routes;
pub mod run;
pub mod snapshot;
pub mod wire;
pub mod world;

use serde_json::Value;

/// How a request carries its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// No body: the input is in the path, the query or the `Authorization` header.
    None,
}

/// Which answers a row's refusals take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// The app's envelope, `{"error": {"code", …}}`.
    Api,
    /// The internal API's envelope (the same shape, its own codes).
    Internal,
    /// RFC 6749 §5.2, `{"error": "invalid_request", …}` (the token endpoint).
    OAuth,
    /// HTML pages.
    Web,
}

/// Where a field's value travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// In the body, at this JSON pointer (`/payee/name`) or under this form name.
    Body,
    /// A `{name}` segment of the path.
    Path,
    /// A query-string parameter.
    Query,
    /// `Authorization: Bearer <value>`.
    Bearer,
    /// Another request header (`Idempotency-Key`).
    Header,
}

/// What a field holds, which decides the hostile values it is tried with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An identity-document number: confusable letters, full-width digits.
    Document,
    /// A mobile number: full-width digits.
    Phone,
    /// Digits that are not forgiven in full width (codes, account numbers, amounts).
    Digits,
    /// Free text (names, reasons, references).
    Text,
    /// A security answer: compared by its letters and digits only, after NFKC
    /// (full-width forms, spaces, punctuation and control characters fall out by
    /// design), so only its length and encoding can be wrong.
    Answer,
    /// A password or answer being checked, or a new one being chosen.
    Secret,
    /// An opaque id or token (flows, captchas, sessions, CSRF tokens).
    Token,
    /// One of a fixed set of words (`id_type`, `scope`, `decision`).
    Choice,
}

/// What a hostile value in a field (or a hostile body) must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// An envelope with one of these codes, at the status the code goes with.
    Code(&'static [&'static str]),
    /// The form again, with an error summary (200, or 429 with `Retry-After`).
    Form,
    /// A page (or bare answer) with this status.
    Status(u16),
    /// `303 See Other` to this path.
    Redirect(&'static str),
}

/// One input of an endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The form name, query name, path segment name, or JSON pointer (`/payee/name`).
    pub name: &'static str,
    pub place: Place,
    pub kind: Kind,
    pub expect: Expect,
    /// Tables a refusal of this field may write besides the row's own (a wrong
    /// password counts against the member: `members`, `audit_events`…).
    pub writes: &'static [&'static str],
}

/// A field sent in the body.
pub const fn body(name: &'static str, kind: Kind, expect: Expect) -> Field {
    Field {
        name,
        place: Place::Body,
        kind,
        expect,
        writes: &[],
    }
}

/// A field sent elsewhere.
pub const fn at(place: Place, name: &'static str, kind: Kind, expect: Expect) -> Field {
    Field {
        name,
        place,
        kind,
        expect,
        writes: &[],
    }
}

impl Field {
    /// The same field, whose refusal may also write `tables`.
    pub const fn writing(self, tables: &'static [&'static str]) -> Self {
        Self {
            writes: tables,
            ..self
        }
    }
}

/// One endpoint of the table.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub method: &'static str,
    /// The path as the router and the OpenAPI document name it (`/api/v1/sessions/{id}`).
    pub path: &'static str,
    pub body: Body,
    pub surface: Surface,
    pub fields: &'static [Field],
    /// Tables any refused request of this row may write (a captcha is used up by the
    /// attempt it was solved for, refused or not).
    pub writes: &'static [&'static str],
}

/// A request ready to send: everything the row needs, filled in with good values.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub client: reqwest::Client,
    pub ip: String,
    /// Values of the path's `{name}` segments.
    pub path: Vec<(&'static str, String)>,
    pub query: Vec<(&'static str, String)>,
    pub bearer: Option<String>,
    /// Extra headers (`Idempotency-Key`).
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body, for [`Body::Json`].
    pub json: Value,
    /// The form, for [`Body::Form`], in order (a name may repeat).
    pub form: Vec<(String, String)>,
}

impl Prepared {
    /// A request from `ip` with the cookies of `client` and nothing filled in yet.
    pub fn new(client: &reqwest::Client, ip: &str) -> Self {
        Self {
            client: client.clone(),
            ip: ip.to_owned(),
            path: Vec::new(),
            query: Vec::new(),
            bearer: None,
            headers: Vec::new(),
            json: Value::Null,
            form: Vec::new(),
        }
    }

    pub fn json(mut self, json: Value) -> Self {
        self.json = json;
        self
    }

    pub fn form(mut self, pairs: &[(&str, &str)]) -> Self {
        self.form = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self
    }

    pub fn pairs(mut self, pairs: Vec<(String, String)>) -> Self {
        self.form = pairs;
        self
    }

    pub fn bearer(mut self, token: &str) -> Self {
        self.bearer = Some(token.to_owned());
        self
    }

    pub fn path(mut self, name: &'static str, value: &str) -> Self {
        self.path.push((name, value.to_owned()));
        self
    }

    pub fn query(mut self, name: &'static str, value: &str) -> Self {
        self.query.push((name, value.to_owned()));
        self
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
}
