//! Turning a prepared request and an attempt into bytes on the wire: the path, query,
//! headers and body with the hostile value in place, and (for a body streamed without
//! a length, which reqwest cannot send without its `stream` feature) HTTP/1.1 by hand.

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::cases::{Attempt, Case, MARKER};
use super::run::header_value;
use super::{Body, Place, Prepared, Row};
use crate::support::{Received, TestApp, exposure};

/// Bytes over the 16 KiB every body is limited to.
const OVER_LIMIT: usize = 16 * 1024 + 1;

/// Stands in a JSON body for a value sent as raw bytes.
const PLACEHOLDER: &str = "\u{1}hostile\u{1}";

/// A request as it goes on the wire.
#[derive(Debug, Clone)]
pub struct Wire {
    pub method: &'static str,
    /// Path and query, percent-encoded.
    pub target: String,
    pub headers: Vec<(&'static str, Vec<u8>)>,
    pub body: Option<Vec<u8>>,
}

impl Wire {
    /// The request through `client` (its cookies, redirects not followed).
    pub fn reqwest(&self, app: &TestApp, client: &reqwest::Client) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(self.method.as_bytes()).unwrap();
        let mut request = client.request(method, app.url(&self.target));
        for (name, value) in &self.headers {
            if let Some(value) = header_value(value) {
                request = request.header(*name, value);
            }
        }
        match &self.body {
            Some(body) => request.body(body.clone()),
            None => request,
        }
    }
}

/// The request for `prepared` with `attempt` applied (none: the good request).
pub fn build(row: &Row, prepared: &Prepared, attempt: Option<&Attempt>) -> Wire {
    let target = attempt.and_then(|a| Some((a.field?, a.value.clone()?)));
    let hostile = |place: Place, name: &str, good: &str| {
        target
            .as_ref()
            .filter(|(f, _)| f.place == place && f.name == name)
            .map_or_else(|| good.as_bytes().to_vec(), |(_, v)| v.bytes(good))
    };
    let mut path = row.path.to_owned();
    for (name, good) in &prepared.path {
        let value = hostile(Place::Path, name, good);
        path = path.replace(&format!("{{{name}}}"), &percent(&value));
    }
    let query: Vec<String> = prepared
        .query
        .iter()
        .map(|(name, good)| {
            let value = hostile(Place::Query, name, good);
            format!("{}={}", percent(name.as_bytes()), percent(&value))
        })
        .collect();
    if !query.is_empty() {
        path = format!("{path}?{}", query.join("&"));
    }
    let mut headers = Vec::new();
    if let Some(good) = &prepared.bearer {
        let value = hostile(Place::Bearer, "authorization", good);
        headers.push(("authorization", [b"Bearer ".as_slice(), &value].concat()));
    }
    for (name, good) in &prepared.headers {
        headers.push((*name, hostile(Place::Header, name, good)));
    }
    let mut wire = Wire {
        method: row.method,
        target: path,
        headers,
        body: None,
    };
    if row.body == Body::None {
        return wire;
    }
    let case = attempt.map(|a| a.case);
    let (content_type, body) = match case {
        Some(Case::MalformedJson) => (
            "application/json",
            format!("{{\"name\": \"{MARKER}\", ").into_bytes(),
        ),
        Some(Case::DeepJson) => (
            "application/json",
            format!("{}{}", "[".repeat(5_000), "]".repeat(5_000)).into_bytes(),
        ),
        Some(Case::OversizedDeclared | Case::OversizedChunked) => {
            (own_type(row), padded(row, prepared))
        }
        _ => (own_type(row), body(row, prepared, attempt)),
    };
    match case {
        Some(Case::WrongContentType) => wire
            .headers
            .push(("content-type", b"text/plain; charset=utf-8".to_vec())),
        Some(Case::NoContentType) => {}
        _ => wire
            .headers
            .push(("content-type", content_type.as_bytes().to_vec())),
    }
    wire.body = Some(body);
    wire
}

fn own_type(row: &Row) -> &'static str {
    match row.body {
        Body::Json => "application/json",
        _ => "application/x-www-form-urlencoded",
    }
}

/// The body with the attempt's hostile value (or raw NUL) in place.
fn body(row: &Row, prepared: &Prepared, attempt: Option<&Attempt>) -> Vec<u8> {
    let target = attempt.and_then(|a| Some((a.field?, a.value.clone()?)));
    let target = target.filter(|(f, _)| f.place == Place::Body);
    match row.body {
        Body::Json => {
            let mut json = prepared.json.clone();
            let mut raw = None;
            if let Some((field, value)) = &target {
                let good = json
                    .pointer(field.name)
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let bytes = value.bytes(good);
                let text = match String::from_utf8(bytes.clone()) {
                    Ok(text) if !value.raw => text,
                    _ => {
                        raw = Some(bytes);
                        PLACEHOLDER.to_owned()
                    }
                };
                set_pointer(&mut json, field.name, Value::String(text));
                if let Some(id_type) = value.id_type {
                    set_pointer(&mut json, "/id_type", Value::String(id_type.to_owned()));
                }
            }
            let mut text = serde_json::to_vec(&json).unwrap();
            if attempt.is_some_and(|a| a.case == Case::RawNulInJson) {
                let rest = text.split_off(1);
                text.extend_from_slice(b"\"nul\":\"a\0b\"");
                if rest != b"}" {
                    text.push(b',');
                }
                text.extend_from_slice(&rest);
            }
            match raw {
                Some(bytes) => {
                    let escaped = serde_json::to_vec(&Value::String(PLACEHOLDER.into())).unwrap();
                    replace(&text, &escaped, &[b"\"".as_slice(), &bytes, b"\""].concat())
                }
                None => text,
            }
        }
        Body::Form | Body::None => {
            let mut pairs: Vec<(String, Vec<u8>)> = prepared
                .form
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
                .collect();
            if let Some((field, value)) = &target {
                let id_type = value.id_type.map(|t| t.as_bytes().to_vec());
                set_pair(&mut pairs, field.name, |good| value.bytes(good));
                if let Some(id_type) = id_type {
                    let name = if field.name.starts_with("card_") {
                        "card_id_type"
                    } else {
                        "id_type"
                    };
                    set_pair(&mut pairs, name, |_| id_type.clone());
                }
            }
            pairs
                .iter()
                .map(|(k, v)| format!("{}={}", percent(k.as_bytes()), percent(v)))
                .collect::<Vec<_>>()
                .join("&")
                .into_bytes()
        }
    }
}

/// The good body with a padding field that takes it over the limit.
fn padded(row: &Row, prepared: &Prepared) -> Vec<u8> {
    let mut body = body(row, prepared, None);
    let padding = "x".repeat(OVER_LIMIT);
    match row.body {
        Body::Json => {
            let mut json = prepared.json.clone();
            set_pointer(&mut json, "/padding", Value::String(padding));
            body = serde_json::to_vec(&json).unwrap();
        }
        _ => body.extend_from_slice(format!("&padding={padding}").as_bytes()),
    }
    body
}

/// Sets the first pair named `name` to `make(its value)`, or adds it.
fn set_pair(pairs: &mut Vec<(String, Vec<u8>)>, name: &str, make: impl Fn(&str) -> Vec<u8>) {
    match pairs.iter_mut().find(|(k, _)| k == name) {
        Some((_, v)) => *v = make(&String::from_utf8_lossy(v)),
        None => pairs.push((name.to_owned(), make(""))),
    }
}

/// Sets the member at `pointer` (`/payee/name`, `/questions/0/answer`), creating the
/// last step when it is missing.
fn set_pointer(json: &mut Value, pointer: &str, value: Value) {
    if let Some(slot) = json.pointer_mut(pointer) {
        *slot = value;
        return;
    }
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    if let Some(Value::Object(map)) = json.pointer_mut(parent) {
        map.insert(key.to_owned(), value);
    }
}

fn replace(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    match haystack.windows(needle.len()).position(|w| w == needle) {
        Some(at) => [&haystack[..at], with, &haystack[at + needle.len()..]].concat(),
        None => haystack.to_vec(),
    }
}

/// Percent-encodes everything but unreserved characters (as a form or path segment).
pub fn percent(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(*b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Sends `wire` as HTTP/1.1 by hand (no cookies), the body in chunks with no
/// `Content-Length` when `chunked`, and reads the answer.
pub async fn raw(app: &TestApp, wire: &Wire, ip: &str, chunked: bool) -> Received {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nhost: {}\r\nx-forwarded-for: {ip}\r\nconnection: close\r\n",
        wire.method, wire.target, app.addr
    )
    .into_bytes();
    for (name, value) in &wire.headers {
        head.extend_from_slice(format!("{name}: ").as_bytes());
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    let body = wire.body.clone().unwrap_or_default();
    if chunked {
        head.extend_from_slice(b"transfer-encoding: chunked\r\n");
    } else if wire.body.is_some() {
        head.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    // The server may answer and close before reading it all: write errors are the
    // answer's business.
    let _ = stream.write_all(&head).await;
    if chunked {
        for chunk in body.chunks(1024) {
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
            if stream.write_all(&framed).await.is_err() {
                break;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n").await;
    } else {
        let _ = stream.write_all(&body).await;
    }
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    exposure::report(&app.addr.to_string());
    parse_response(&raw)
}

/// Status, headers and (de-chunked) body of a raw HTTP/1.1 answer.
fn parse_response(raw: &[u8]) -> Received {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut rest = raw.get(split + 4..).unwrap_or_default().to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut headers = reqwest::header::HeaderMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && let (Ok(name), Ok(value)) = (
                reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()),
                reqwest::header::HeaderValue::from_str(value.trim()),
            )
        {
            headers.append(name, value);
        }
    }
    let chunked = headers
        .get("transfer-encoding")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"));
    if chunked {
        rest = dechunk(&rest);
    }
    Received {
        status,
        headers,
        body: String::from_utf8_lossy(&rest).into_owned(),
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&raw[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(raw.get(start..start + size).unwrap_or_default());
        raw = raw.get(start + size + 2..).unwrap_or_default();
    }
    out
}
