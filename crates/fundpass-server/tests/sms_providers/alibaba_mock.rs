//! A stand-in for Alibaba Cloud SMS `SendSms` (Dysmsapi 2017-05-25) that checks a
//! request as Alibaba documents its V3 signature: ACS3-HMAC-SHA256 recomputed from
//! the raw query string, headers and body (`provider_mocks/signatures.rs`),
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
use serde_json::{Value, json};

use super::ledger::{Ledger, header};
use super::signatures::{Key, check_acs3};

pub const KEY_ID: &str = "LTAIfundpassTEST00000000";
pub const KEY_SECRET: &str = "alibaba-test-secret-0123456789abcdef";
const KEY: Key = Key {
    id: KEY_ID,
    secret: KEY_SECRET,
};

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
    let query = query.as_deref().unwrap_or_default();
    let params = match check_acs3(KEY, &mut book.nonces, query, &headers, &body, now) {
        Ok(params) => params,
        Err((status, code)) => return answer(&mut book, status, code),
    };
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
