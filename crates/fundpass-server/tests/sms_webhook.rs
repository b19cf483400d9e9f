//! The webhook SMS sender against a local stand-in gateway that records what it gets
//! and answers as each test tells it to.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use fundpass_core::identity::Phone;
use fundpass_core::ports::{SmsContent, SmsError, SmsRequest, SmsSender};
use fundpass_core::testing::FixedClock;
use fundpass_server::sms::{WebhookConfig, WebhookSender, WebhookSetupError};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::SecretString;
use sha2::Sha256;
use time::macros::datetime;

const SECRET: &str = "gateway-shared-secret";
const PHONE: &str = "13812345678";
const TEXT: &str = "【公积金】验证码 482913，5分钟内有效";
const NOW: i64 = 1_767_603_600; // 2026-01-05 09:00 UTC

#[derive(Clone, Copy)]
enum Answer {
    Accept,
    Unavailable,
    BadRequest,
    Hang,
}

struct Received {
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone)]
struct Gateway {
    answer: Arc<Mutex<Answer>>,
    received: Arc<Mutex<Vec<Received>>>,
}

async fn hook(State(gw): State<Gateway>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    gw.received.lock().unwrap().push(Received {
        headers,
        body: body.clone(),
    });
    let answer = *gw.answer.lock().unwrap();
    // Error answers echo the request, as careless gateways do.
    let echo = String::from_utf8_lossy(&body).into_owned();
    match answer {
        Answer::Accept => (StatusCode::OK, r#"{"status":"queued"}"#.into()),
        Answer::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, echo),
        Answer::BadRequest => (StatusCode::BAD_REQUEST, echo),
        Answer::Hang => std::future::pending().await,
    }
}

struct TestGateway {
    gw: Gateway,
    url: String,
}

impl TestGateway {
    async fn start() -> Self {
        let gw = Gateway {
            answer: Arc::new(Mutex::new(Answer::Accept)),
            received: Arc::new(Mutex::new(Vec::new())),
        };
        let app = Router::new()
            .route("/sms", post(hook))
            .with_state(gw.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/sms", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { gw, url }
    }

    fn answer(&self, answer: Answer) {
        *self.gw.answer.lock().unwrap() = answer;
    }

    fn sender(&self) -> WebhookSender {
        sender_for(&self.url)
    }

    fn received(&self) -> Vec<(HeaderMap, Bytes)> {
        let received = self.gw.received.lock().unwrap();
        received
            .iter()
            .map(|r| (r.headers.clone(), r.body.clone()))
            .collect()
    }
}

fn config(url: &str) -> WebhookConfig {
    let mut config = WebhookConfig::new(url, SecretString::from(SECRET), "公积金中心");
    config.timeout = Duration::from_millis(300);
    config.allow_http = true;
    config
}

fn sender_for(url: &str) -> WebhookSender {
    let clock = Arc::new(FixedClock::at(datetime!(2026-01-05 09:00 UTC)));
    WebhookSender::new(config(url), clock).unwrap()
}

fn phone() -> Phone {
    Phone::parse(PHONE).unwrap()
}

async fn send(sender: &WebhookSender, key: &str) -> Result<(), SmsError> {
    let to = phone();
    let content = SmsContent {
        text: TEXT.into(),
        params: Vec::new(),
    };
    let request = SmsRequest {
        idempotency_key: key,
        purpose: "registration_code",
        to: &to,
        content: &content,
    };
    let sending = sender.send(&request);
    tokio::time::timeout(Duration::from_secs(30), sending)
        .await
        .expect("the sender returned")
        .map(|_| ())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).unwrap().to_str().unwrap()
}

/// The check a gateway performs, written from the documented scheme.
fn signature_verifies(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let timestamp = header(headers, "x-fundpass-timestamp");
    let Some(hex_sig) = header(headers, "x-fundpass-signature").strip_prefix("v1=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

fn assert_clean(error: &SmsError) {
    let text = error.to_string();
    assert!(!text.contains(PHONE), "{text}");
    assert!(!text.contains(TEXT), "{text}");
    assert!(!text.contains("482913"), "{text}");
}

#[tokio::test]
async fn an_accepted_message_is_posted_as_signed_json() {
    let gateway = TestGateway::start().await;
    assert_eq!(send(&gateway.sender(), "msg-42").await, Ok(()));

    let received = gateway.received();
    assert_eq!(received.len(), 1);
    let (headers, body) = &received[0];
    let json: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "id": "msg-42",
            "to": "+8613812345678",
            "text": TEXT,
            "sender": "公积金中心",
            "timestamp": NOW,
        })
    );
    assert_eq!(header(headers, "idempotency-key"), "msg-42");
    assert_eq!(header(headers, "x-fundpass-timestamp"), NOW.to_string());
    assert_eq!(header(headers, "content-type"), "application/json");
    assert!(signature_verifies(SECRET, headers, body));
    assert!(!signature_verifies("another-secret", headers, body));
}

#[tokio::test]
async fn a_retry_carries_the_same_idempotency_key() {
    let gateway = TestGateway::start().await;
    gateway.answer(Answer::Unavailable);
    let sender = gateway.sender();
    assert!(matches!(
        send(&sender, "msg-7").await,
        Err(SmsError::Temporary(_))
    ));
    gateway.answer(Answer::Accept);
    assert_eq!(send(&sender, "msg-7").await, Ok(()));

    let keys: Vec<String> = gateway
        .received()
        .iter()
        .map(|(h, _)| header(h, "idempotency-key").to_owned())
        .collect();
    assert_eq!(keys, ["msg-7", "msg-7"]);
}

#[tokio::test]
async fn service_unavailable_is_temporary_and_says_nothing_personal() {
    let gateway = TestGateway::start().await;
    gateway.answer(Answer::Unavailable);
    let error = send(&gateway.sender(), "msg-1").await.unwrap_err();
    assert!(matches!(error, SmsError::Temporary(_)), "{error:?}");
    assert!(error.to_string().contains("503"), "{error}");
    assert!(error.to_string().contains("138****5678"), "{error}");
    assert_clean(&error);
}

#[tokio::test]
async fn bad_request_is_permanent_and_says_nothing_personal() {
    let gateway = TestGateway::start().await;
    gateway.answer(Answer::BadRequest);
    let error = send(&gateway.sender(), "msg-1").await.unwrap_err();
    assert!(matches!(error, SmsError::Permanent(_)), "{error:?}");
    assert_clean(&error);
}

#[tokio::test]
async fn a_hanging_gateway_times_out_as_temporary() {
    let gateway = TestGateway::start().await;
    gateway.answer(Answer::Hang);
    let error = send(&gateway.sender(), "msg-1").await.unwrap_err();
    assert!(matches!(error, SmsError::Temporary(_)), "{error:?}");
    assert!(error.to_string().contains("timed out"), "{error}");
    assert_clean(&error);
}

#[tokio::test]
async fn an_unreachable_gateway_is_temporary() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    drop(listener);
    let error = send(&sender_for(&url), "msg-1").await.unwrap_err();
    assert!(matches!(error, SmsError::Temporary(_)), "{error:?}");
    assert_clean(&error);
}

#[test]
fn plain_http_is_refused_unless_allowed() {
    let clock = Arc::new(FixedClock::at(datetime!(2026-01-05 09:00 UTC)));
    let mut insecure = config("http://sms.example.cn/send");
    insecure.allow_http = false;
    let refused = WebhookSender::new(insecure, clock.clone()).unwrap_err();
    assert!(
        matches!(refused, WebhookSetupError::InsecureUrl { .. }),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("https://"), "{refused}");

    let mut secure = config("https://sms.example.cn/send");
    secure.allow_http = false;
    assert!(WebhookSender::new(secure, clock.clone()).is_ok());

    let ftp = config("ftp://sms.example.cn/send");
    assert!(matches!(
        WebhookSender::new(ftp, clock.clone()),
        Err(WebhookSetupError::InsecureUrl { .. })
    ));
    let mut no_secret = config("https://sms.example.cn/send");
    no_secret.secret = SecretString::from("");
    assert!(matches!(
        WebhookSender::new(no_secret, clock),
        Err(WebhookSetupError::EmptySecret)
    ));
}
