//! A stand-in for Tencent Cloud SMS `SendSms` (API 3.0, 2021-01-11) that checks a
//! request as Tencent documents it: the TC3-HMAC-SHA256 signature recomputed from
//! the raw headers and body (`provider_mocks/signatures.rs`, not fundpass's signer),
//! the timestamp within 5 minutes of its clock, the credential scope's UTC date and
//! service, the action and version. It answers as Tencent does, HTTP 200
//! with `Response.Error` or a per-number `SendStatusSet`, and keeps per-number
//! counters to answer the documented limit codes.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use fundpass_core::ports::Clock as _;
use fundpass_core::testing::FixedClock;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::ledger::{Ledger, Limit, header};
use super::signatures::{Key, check_tc3};

pub const SECRET_ID: &str = "AKIDfundpassTEST0000000000000000";
pub const SECRET_KEY: &str = "tencent-test-secret-key-0123456789";
pub const APP_ID: &str = "1400000001";
const KEY: Key = Key {
    id: SECRET_ID,
    secret: SECRET_KEY,
};

/// A message the stand-in accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub phone: String,
    pub template_id: String,
    pub params: Vec<String>,
    pub serial_no: String,
    pub session_context: String,
}

#[derive(Default)]
struct Book {
    ledger: Ledger,
    accepted: Vec<Accepted>,
}

/// The stand-in's state; cheap to clone.
#[derive(Clone)]
pub struct TencentMock {
    clock: Arc<FixedClock>,
    daily_limit: u32,
    book: Arc<Mutex<Book>>,
    pub url: String,
}

impl TencentMock {
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

    /// The next call answers with `status` and an empty body, as an overloaded
    /// gateway would.
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

fn error(book: &mut Book, code: &str, message: &str) -> Response {
    book.ledger.refusals.push(code.to_owned());
    let body =
        json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "req"}});
    (StatusCode::OK, axum::Json(body)).into_response()
}

async fn send_sms(State(mock): State<TencentMock>, headers: HeaderMap, body: Bytes) -> Response {
    let now = mock.clock.now();
    let mut book = mock.book.lock().unwrap();
    if let Some(status) = book.ledger.call() {
        return status.into_response();
    }
    if let Err((code, message)) = check_tc3(KEY, "sms", &headers, &body, now) {
        return error(&mut book, code, message);
    }
    if header(&headers, "x-tc-action") != "SendSms"
        || header(&headers, "x-tc-version") != "2021-01-11"
        || header(&headers, "x-tc-region").is_empty()
    {
        return error(&mut book, "InvalidAction", "unknown action or version");
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(&mut book, "InvalidParameter", "body is not JSON");
    };
    if request["SmsSdkAppId"] != APP_ID || request["SignName"].as_str().is_none() {
        return error(
            &mut book,
            "FailedOperation.SignatureIncorrectOrUnapproved",
            "sign",
        );
    }
    let phone = request["PhoneNumberSet"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let code = limit(&mut book, &phone, now, mock.daily_limit);
    let serial_no = format!("2433:{:020}", book.ledger.calls);
    let status = match code {
        Some(code) => {
            book.ledger.refusals.push(code.to_owned());
            json!({"SerialNo": "", "PhoneNumber": phone, "Fee": 0, "Code": code, "Message": "limit"})
        }
        None => {
            book.accepted.push(Accepted {
                phone: phone.clone(),
                template_id: request["TemplateId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                params: request["TemplateParamSet"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                serial_no: serial_no.clone(),
                session_context: request["SessionContext"]
                    .as_str()
                    .unwrap_or_default()
                    .into(),
            });
            json!({"SerialNo": serial_no, "PhoneNumber": phone, "Fee": 1,
                   "SessionContext": request["SessionContext"], "Code": "Ok",
                   "Message": "send success", "IsoCode": "CN"})
        }
    };
    let answer = json!({"Response": {"SendStatusSet": [status], "RequestId": "req"}});
    (StatusCode::OK, axum::Json(answer)).into_response()
}

/// The per-number counters: one text per 30 seconds, `daily` a day.
fn limit(book: &mut Book, phone: &str, now: OffsetDateTime, daily: u32) -> Option<&'static str> {
    match book.ledger.take(phone, now, 30, daily) {
        Ok(()) => None,
        Err(Limit::Gap) => Some("LimitExceeded.PhoneNumberThirtySecondLimit"),
        Err(Limit::Daily) => Some("LimitExceeded.PhoneNumberDailyLimit"),
    }
}
