//! A stand-in for Alibaba Cloud SMS `SendSms` (Dysmsapi 2017-05-25) that checks a
//! request as Alibaba documents its V3 signature: ACS3-HMAC-SHA256 recomputed here
//! from the raw query string, headers and body (with `hmac` and `sha2` directly),
//! `x-acs-content-sha256` against the body, `x-acs-date` within 15 minutes of its
//! clock, and `x-acs-signature-nonce` never seen before. Gateway refusals come with
//! HTTP 400/404, business errors with HTTP 200 and a `Code`; per-number counters
//! answer `isv.BUSINESS_LIMIT_CONTROL` (one code a minute, `daily` a day).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use fundpass_core::ports::Clock as _;
use fundpass_core::testing::FixedClock;
use fundpass_server::sms::signing::{percent_decode, percent_encode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ledger::{Ledger, header};
use super::{hex_hmac, sha256_hex};

pub const KEY_ID: &str = "LTAIfundpassTEST00000000";
pub const KEY_SECRET: &str = "alibaba-test-secret-0123456789abcdef";
/// Alibaba's allowance for `x-acs-date`.
const SKEW_SECONDS: i64 = 15 * 60;

/// A message the stand-in accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub phone: String,
    pub template_code: String,
    pub template_param: Value,
    pub out_id: String,
    pub biz_id: String,
}

#[derive(Default)]
struct Book {
    ledger: Ledger,
    accepted: Vec<Accepted>,
    nonces: HashSet<String>,
}

/// The stand-in's state; cheap to clone.
#[derive(Clone)]
pub struct AlibabaMock {
    clock: Arc<FixedClock>,
    daily_limit: u32,
    book: Arc<Mutex<Book>>,
    pub url: String,
}

impl AlibabaMock {
    /// Listens on 127.0.0.1; `daily_limit` texts per number and day.
    pub async fn start(clock: Arc<FixedClock>, daily_limit: u32) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mock = Self {
            clock,
            daily_limit,
            book: Arc::default(),
            url,
        };
        let app = axum::Router::new()
            .route("/", axum::routing::post(send_sms))
            .with_state(mock.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        mock
    }

    /// The next call answers with `status` and an empty body.
    pub fn fail_next_with(&self, status: StatusCode) {
        self.book.lock().unwrap().ledger.fail_next_with(status);
    }

    pub fn calls(&self) -> u32 {
        self.book.lock().unwrap().ledger.calls
    }

    pub fn accepted(&self) -> Vec<Accepted> {
        self.book.lock().unwrap().accepted.clone()
    }

    /// The error codes answered, in order.
    pub fn refusals(&self) -> Vec<String> {
        self.book.lock().unwrap().ledger.refusals.clone()
    }
}

fn answer(book: &mut Book, status: StatusCode, code: &str) -> Response {
    book.ledger.refusals.push(code.to_owned());
    let body = json!({"RequestId": "req", "Code": code, "Message": "refused"});
    (status, axum::Json(body)).into_response()
}

/// The query's parameters, decoded.
fn parameters(raw: &str) -> Option<Vec<(String, String)>> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(name)?, percent_decode(value)?))
        })
        .collect()
}

async fn send_sms(
    State(mock): State<AlibabaMock>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = mock.clock.now();
    let mut book = mock.book.lock().unwrap();
    if let Some(status) = book.ledger.call() {
        return status.into_response();
    }
    let Some(params) = parameters(query.as_deref().unwrap_or_default()) else {
        return answer(&mut book, StatusCode::BAD_REQUEST, "InvalidParameter");
    };
    if let Err((status, code)) = authenticate(&mut book, &params, &headers, &body, now) {
        return answer(&mut book, status, code);
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if header(&headers, "x-acs-action") != "SendSms"
        || header(&headers, "x-acs-version") != "2017-05-25"
    {
        return answer(&mut book, StatusCode::BAD_REQUEST, "InvalidAction.NotFound");
    }
    if get("SignName").is_empty() {
        return answer(&mut book, StatusCode::OK, "isv.SMS_SIGNATURE_ILLEGAL");
    }
    let Ok(template_param) = serde_json::from_str::<Value>(&get("TemplateParam")) else {
        return answer(&mut book, StatusCode::OK, "isv.INVALID_JSON_PARAM");
    };
    let phone = get("PhoneNumbers");
    // One code a minute and `daily` a day per number, under one code.
    if book.ledger.take(&phone, now, 60, mock.daily_limit).is_err() {
        return answer(&mut book, StatusCode::OK, "isv.BUSINESS_LIMIT_CONTROL");
    }
    let biz_id = format!("90061974{:010}^0", book.ledger.calls);
    book.accepted.push(Accepted {
        phone,
        template_code: get("TemplateCode"),
        template_param,
        out_id: get("OutId"),
        biz_id: biz_id.clone(),
    });
    let body = json!({"RequestId": "req", "Code": "OK", "Message": "OK", "BizId": biz_id});
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Alibaba's checks of a V3 signature, from the raw request.
fn authenticate(
    book: &mut Book,
    params: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<(), (StatusCode, &'static str)> {
    let bad = (StatusCode::BAD_REQUEST, "SignatureDoesNotMatch");
    let rest = header(headers, "authorization")
        .strip_prefix("ACS3-HMAC-SHA256 Credential=")
        .ok_or((StatusCode::BAD_REQUEST, "IncompleteSignature"))?;
    let mut parts = rest.split(',');
    let key_id = parts.next().unwrap_or_default();
    let signed = parts
        .next()
        .and_then(|p| p.strip_prefix("SignedHeaders="))
        .ok_or(bad)?;
    let signature = parts
        .next()
        .and_then(|p| p.strip_prefix("Signature="))
        .ok_or(bad)?;
    if key_id != KEY_ID {
        return Err((StatusCode::NOT_FOUND, "InvalidAccessKeyId.NotFound"));
    }
    let date = OffsetDateTime::parse(header(headers, "x-acs-date"), &Rfc3339)
        .map_err(|_| (StatusCode::BAD_REQUEST, "InvalidTimeStamp.Format"))?;
    if (now - date).whole_seconds().abs() > SKEW_SECONDS {
        return Err((StatusCode::BAD_REQUEST, "InvalidTimeStamp.Expired"));
    }
    if header(headers, "x-acs-content-sha256") != sha256_hex(body) {
        return Err((StatusCode::BAD_REQUEST, "ContentSHA256NotMatch"));
    }
    let names: Vec<&str> = signed.split(';').collect();
    let required = [
        "host",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
    ];
    if !required.iter().all(|r| names.contains(r)) {
        return Err(bad);
    }
    let mut query: Vec<(String, String)> = params
        .iter()
        .map(|(n, v)| (percent_encode(n), percent_encode(v)))
        .collect();
    query.sort();
    let query: Vec<String> = query.iter().map(|(n, v)| format!("{n}={v}")).collect();
    let canonical_headers: String = names
        .iter()
        .map(|n| format!("{n}:{}\n", header(headers, n).trim()))
        .collect();
    let canonical = format!(
        "POST\n/\n{}\n{canonical_headers}\n{signed}\n{}",
        query.join("&"),
        sha256_hex(body)
    );
    let to_sign = format!("ACS3-HMAC-SHA256\n{}", sha256_hex(canonical.as_bytes()));
    if hex_hmac(KEY_SECRET.as_bytes(), to_sign.as_bytes()) != signature {
        return Err(bad);
    }
    let nonce = header(headers, "x-acs-signature-nonce").to_owned();
    if nonce.is_empty() || !book.nonces.insert(nonce) {
        return Err((StatusCode::BAD_REQUEST, "SignatureNonceUsed"));
    }
    Ok(())
}
