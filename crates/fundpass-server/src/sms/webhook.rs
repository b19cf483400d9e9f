//! The production SMS gateway adapter: a signed JSON webhook.
//!
//! # Request
//!
//! `POST <url>` with `Content-Type: application/json` and the body
//!
//! ```json
//! {"id":"<idempotency key>","to":"+8613812345678","text":"…","sender":"<sender id>","timestamp":1767225600}
//! ```
//!
//! and the headers
//!
//! - `Idempotency-Key: <id>`: the same value as `id`. A retry after a lost
//!   acknowledgement carries the same key; the gateway must deliver it at most once.
//! - `X-Fundpass-Timestamp: <unix seconds>`: the same value as `timestamp`.
//! - `X-Fundpass-Signature: v1=<hex>`: lower-case hex of
//!   `HMAC-SHA256(key = the shared secret's UTF-8 bytes, message = timestamp + "." + body)`,
//!   where `timestamp` is the header value and `body` the raw request bytes as received.
//!
//! # Verifying on the gateway side
//!
//! 1. Read the raw body before parsing it.
//! 2. Compute the HMAC above and compare it with the `v1=` value in constant time.
//! 3. Refuse timestamps more than a few minutes from the gateway's clock (replay).
//! 4. Deduplicate on `Idempotency-Key`.
//!
//! # Answers
//!
//! 2xx means accepted. 408, 425, 429 and 5xx (and timeouts and connection failures) are
//! retried later with the same key; any other status is a permanent refusal. Redirects
//! are not followed, and count as permanent: the configured URL is wrong.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use fundpass_core::ports::{Clock, SmsAccepted, SmsError, SmsRequest, SmsSender};
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use secrecy::{ExposeSecret, SecretString};

/// Header carrying the idempotency key (also in the body as `id`).
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// Header carrying the unix-seconds timestamp that is signed with the body.
pub const TIMESTAMP_HEADER: &str = "X-Fundpass-Timestamp";
/// Header carrying `v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "X-Fundpass-Signature";

/// How the service reaches its SMS gateway; read from configuration at start-up.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Where messages are POSTed. Must be `https://` unless `allow_http` is set.
    pub url: String,
    /// The shared HMAC key the gateway verifies signatures with.
    pub secret: SecretString,
    /// Whole-request timeout; past it the message is retried later.
    pub timeout: Duration,
    /// Sender name or sign (短信签名) the gateway shows the recipient.
    pub sender_id: String,
    /// Permits `http://`, for tests and a gateway on the same host only: over a network
    /// the text (one-time codes) and phone numbers would travel in clear.
    pub allow_http: bool,
}

impl WebhookConfig {
    /// The default timeout: long enough for a slow gateway, short enough that a stuck
    /// one does not hold a worker for long.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

    /// A configuration with the default timeout and `https://` required.
    pub fn new(url: impl Into<String>, secret: SecretString, sender_id: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            secret,
            timeout: Self::DEFAULT_TIMEOUT,
            sender_id: sender_id.into(),
            allow_http: false,
        }
    }
}

/// Why a [`WebhookSender`] could not be built; reported at start-up so a misconfigured
/// gateway stops the service instead of failing every message.
#[derive(Debug, thiserror::Error)]
pub enum WebhookSetupError {
    /// The URL does not parse.
    #[error("the SMS gateway URL is not a valid URL: {0}")]
    BadUrl(String),
    /// The URL is not `https://` (and `allow_http` is not set), or not HTTP at all.
    #[error(
        "the SMS gateway URL must start with https:// (got {scheme}://); \
         http:// is allowed only with allow_http, for tests and local gateways"
    )]
    InsecureUrl {
        /// The scheme that was configured.
        scheme: String,
    },
    /// The HMAC secret is empty, so signatures would prove nothing.
    #[error("the SMS gateway secret is empty")]
    EmptySecret,
    /// The HTTP client could not be created (TLS set-up).
    #[error("cannot create the HTTP client for the SMS gateway: {0}")]
    Client(String),
}

/// Sends SMS through the signed webhook described in this module's documentation.
#[derive(Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    url: reqwest::Url,
    secret: SecretString,
    sender_id: String,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for WebhookSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSender")
            .field("url", &self.url.as_str())
            .field("sender_id", &self.sender_id)
            .finish_non_exhaustive()
    }
}

impl WebhookSender {
    /// Checks the configuration and builds the client. The clock supplies the signed
    /// timestamp, so tests can pin it.
    pub fn new(config: WebhookConfig, clock: Arc<dyn Clock>) -> Result<Self, WebhookSetupError> {
        let url = reqwest::Url::parse(&config.url)
            .map_err(|e| WebhookSetupError::BadUrl(e.to_string()))?;
        let scheme_ok = match url.scheme() {
            "https" => true,
            "http" => config.allow_http,
            _ => false,
        };
        if !scheme_ok {
            return Err(WebhookSetupError::InsecureUrl {
                scheme: url.scheme().to_owned(),
            });
        }
        if config.secret.expose_secret().is_empty() {
            return Err(WebhookSetupError::EmptySecret);
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!config.allow_http)
            .build()
            .map_err(|e| WebhookSetupError::Client(e.without_url().to_string()))?;
        Ok(Self {
            client,
            url,
            secret: config.secret,
            sender_id: config.sender_id,
            clock,
        })
    }
}

/// The `v1=<hex>` signature value for `timestamp` and `body`, as the gateway must
/// recompute it; public so gateway stubs and tests share one definition.
pub fn signature(secret: &SecretString, timestamp: i64, body: &[u8]) -> String {
    let key = secret.expose_secret().as_bytes();
    format!(
        "v1={}",
        fundpass_core::clients::signed_hex(key, timestamp, body)
    )
}

#[async_trait]
impl SmsSender for WebhookSender {
    fn provider(&self) -> &'static str {
        "webhook"
    }

    async fn send(&self, request: &SmsRequest<'_>) -> Result<SmsAccepted, SmsError> {
        let SmsRequest {
            idempotency_key,
            to,
            content,
            ..
        } = *request;
        let text = content.text.as_str();
        let masked = to.masked();
        let timestamp = self.clock.now().unix_timestamp();
        let body = serde_json::json!({
            "id": idempotency_key,
            "to": format!("+86{}", to.normalised()),
            "text": text,
            "sender": self.sender_id,
            "timestamp": timestamp,
        });
        let body = serde_json::to_vec(&body)
            .map_err(|_| SmsError::Permanent(format!("cannot encode the message to {masked}")))?;
        let signature = signature(&self.secret, timestamp, &body);
        let response = self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(IDEMPOTENCY_HEADER, idempotency_key)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await
            .map_err(|e| transport_error(&e, &masked))?;
        classify(response.status(), &masked).map(|()| SmsAccepted::default())
    }
}

/// Any failure to get an answer is temporary: the gateway may or may not have the
/// message, and the idempotency key makes a retry safe either way.
fn transport_error(error: &reqwest::Error, masked: &str) -> SmsError {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "transport failure"
    };
    SmsError::Temporary(format!("SMS gateway {what} sending to {masked}"))
}

/// Maps the gateway's status; the response body is ignored because a gateway may echo
/// the text back.
fn classify(status: StatusCode, masked: &str) -> Result<(), SmsError> {
    if status.is_success() {
        return Ok(());
    }
    let message = format!("SMS gateway answered {} for {masked}", status.as_u16());
    let retry = matches!(status.as_u16(), 408 | 425 | 429) || status.is_server_error();
    if retry {
        Err(SmsError::Temporary(message))
    } else {
        Err(SmsError::Permanent(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(status: u16) -> Result<(), SmsError> {
        classify(StatusCode::from_u16(status).unwrap(), "138****5678")
    }

    #[test]
    fn statuses_map_to_retry_or_refusal() {
        for ok in [200, 202, 204] {
            assert_eq!(code(ok), Ok(()), "{ok}");
        }
        for temporary in [408, 425, 429, 500, 502, 503, 504] {
            assert!(
                matches!(code(temporary), Err(SmsError::Temporary(_))),
                "{temporary}"
            );
        }
        for permanent in [301, 400, 401, 403, 404, 422] {
            assert!(
                matches!(code(permanent), Err(SmsError::Permanent(_))),
                "{permanent}"
            );
        }
    }

    #[test]
    fn signature_depends_on_secret_timestamp_and_body() {
        let a = SecretString::from("secret-a");
        let b = SecretString::from("secret-b");
        let base = signature(&a, 1_700_000_000, b"{}");
        assert!(base.starts_with("v1=") && base.len() == 3 + 64, "{base}");
        assert_ne!(base, signature(&b, 1_700_000_000, b"{}"));
        assert_ne!(base, signature(&a, 1_700_000_001, b"{}"));
        assert_ne!(base, signature(&a, 1_700_000_000, b"{ }"));
    }
}
