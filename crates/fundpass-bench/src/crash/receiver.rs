//! The SMS gateway the harnesses run in place of a real one: an axum server that
//! takes the outbox worker's signed webhook deliveries (`fundpass_server::sms` says
//! what they look like), checks the signature, and keeps every message it accepted,
//! in order of arrival. It stands for the members' phones too: the registration
//! codes the harnesses type in are read from it. It can refuse everything with 503
//! or stop listening, to play a gateway that is down.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use fundpass_server::sms::{IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature};
use secrecy::SecretString;
use serde::Deserialize;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// One accepted delivery.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The outbox's idempotency key.
    pub key: String,
    /// The 11 digits of the recipient.
    pub phone: String,
    pub text: String,
    /// When it arrived.
    pub at: Instant,
}

/// What the gateway has seen.
#[derive(Debug, Default)]
pub struct Inbox {
    /// Accepted deliveries in order of arrival, a key again each time it was resent.
    deliveries: Mutex<Vec<Delivery>>,
    refusing: AtomicBool,
    refused: AtomicU64,
    bad: AtomicU64,
}

impl Inbox {
    /// A copy of every accepted delivery, in order of arrival.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }

    /// How many deliveries were accepted so far (a mark to look for newer ones from).
    pub fn mark(&self) -> usize {
        self.deliveries.lock().map(|d| d.len()).unwrap_or(0)
    }

    /// Deliveries answered 503 while refusing.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Deliveries refused for a wrong signature, a timestamp far off or a body that
    /// does not match its headers (a fundpass defect if ever more than 0).
    pub fn bad(&self) -> u64 {
        self.bad.load(Ordering::Relaxed)
    }

    /// The six-digit code in the newest message to `phone` that arrived after `mark`
    /// and contains `needle`, with its place in the arrivals; waits up to `wait` for
    /// one.
    pub async fn code_after(
        &self,
        phone: &str,
        mark: usize,
        needle: &str,
        wait: Duration,
    ) -> Option<(usize, String)> {
        let deadline = Instant::now() + wait;
        loop {
            let found = self.deliveries.lock().ok().and_then(|d| {
                d.iter()
                    .enumerate()
                    .skip(mark)
                    .rev()
                    .filter(|(_, m)| m.phone == phone && m.text.contains(needle))
                    .find_map(|(i, m)| Some((i, six_digit_code(&m.text)?)))
            });
            if found.is_some() || Instant::now() >= deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The gateway: its inbox and, while it listens, its server.
#[derive(Debug)]
pub struct Receiver {
    pub inbox: Arc<Inbox>,
    secret: String,
    port: u16,
    running: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

#[derive(Clone)]
struct Shared {
    inbox: Arc<Inbox>,
    secret: SecretString,
}

impl Receiver {
    /// Starts listening on a free loopback port, accepting, with `secret` as the
    /// shared HMAC key.
    pub async fn start(secret: &str) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let port = listener.local_addr()?.port();
        let mut receiver = Self {
            inbox: Arc::new(Inbox::default()),
            secret: secret.to_owned(),
            port,
            running: None,
        };
        receiver.serve(listener);
        Ok(receiver)
    }

    /// The URL the server's `[sms] webhook_url` names.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/sms", self.port)
    }

    /// Answers every delivery 503 (`true`) or accepts again (`false`).
    pub fn refuse(&self, refusing: bool) {
        self.inbox.refusing.store(refusing, Ordering::Relaxed);
    }

    /// Stops listening: the port refuses connections until [`Receiver::listen`].
    pub async fn close(&mut self) {
        if let Some((stop, task)) = self.running.take() {
            let _ = stop.send(());
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    pub async fn listen(&mut self) -> anyhow::Result<()> {
        if self.running.is_some() {
            return Ok(());
        }
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address} again"))?;
        self.serve(listener);
        Ok(())
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let shared = Shared {
            inbox: self.inbox.clone(),
            secret: SecretString::from(self.secret.clone()),
        };
        let app = Router::new()
            .route("/sms", post(deliver))
            .with_state(shared);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        self.running = Some((stop, task));
    }
}

#[derive(Deserialize)]
struct Message {
    id: String,
    to: String,
    text: String,
    timestamp: i64,
}

/// One webhook delivery: refused while the gateway plays down, checked, kept.
async fn deliver(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let inbox = &shared.inbox;
    if inbox.refusing.load(Ordering::Relaxed) {
        inbox.refused.fetch_add(1, Ordering::Relaxed);
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let checked = (|| {
        let timestamp: i64 = header(TIMESTAMP_HEADER)?.parse().ok()?;
        let signed = header(SIGNATURE_HEADER)? == signature(&shared.secret, timestamp, &body);
        let message: Message = serde_json::from_slice(&body).ok()?;
        let key = header(IDEMPOTENCY_HEADER)?;
        let phone = message.to.strip_prefix("+86")?;
        (signed && key == message.id && timestamp == message.timestamp).then(|| Delivery {
            key: message.id.clone(),
            phone: phone.to_owned(),
            text: message.text.clone(),
            at: Instant::now(),
        })
    })();
    match checked {
        Some(delivery) => {
            if let Ok(mut all) = inbox.deliveries.lock() {
                all.push(delivery);
            }
            StatusCode::OK
        }
        None => {
            inbox.bad.fetch_add(1, Ordering::Relaxed);
            StatusCode::BAD_REQUEST
        }
    }
}

/// The first run of exactly six digits in a text.
fn six_digit_code(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 6)
        .map(str::to_owned)
}

/// Accepted deliveries by key: how many times each key arrived.
pub fn arrivals_by_key(deliveries: &[Delivery]) -> HashMap<&str, u32> {
    let mut counts = HashMap::new();
    for d in deliveries {
        *counts.entry(d.key.as_str()).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_is_the_six_digit_number_of_the_text() {
        let text =
            "【公积金】您正在注册个人网上业务，验证码482913，5分钟内有效。请勿将验证码告诉任何人。";
        assert_eq!(six_digit_code(text).as_deref(), Some("482913"));
        assert_eq!(six_digit_code("call 12329"), None);
    }

    #[tokio::test]
    async fn signed_deliveries_are_kept_and_refusals_and_forgeries_counted() {
        let mut receiver = Receiver::start("s3cret").await.unwrap();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let url = receiver.url();
        let post = |secret: &'static str, id: &'static str| {
            let body = serde_json::json!({
                "id": id, "to": "+8613900000001", "text": "验证码 123456", "sender": "x",
                "timestamp": 1_700_000_000,
            })
            .to_string();
            let sig = signature(&SecretString::from(secret), 1_700_000_000, body.as_bytes());
            client
                .post(&url)
                .header(IDEMPOTENCY_HEADER, id)
                .header(TIMESTAMP_HEADER, "1700000000")
                .header(SIGNATURE_HEADER, sig)
                .body(body)
                .send()
        };
        assert_eq!(post("s3cret", "k1").await.unwrap().status(), 200);
        assert_eq!(post("wrong", "k2").await.unwrap().status(), 400);
        receiver.refuse(true);
        assert_eq!(post("s3cret", "k3").await.unwrap().status(), 503);
        receiver.refuse(false);
        let inbox = receiver.inbox.clone();
        assert_eq!((inbox.mark(), inbox.bad(), inbox.refused()), (1, 1, 1));
        let code = inbox
            .code_after("13900000001", 0, "验证码", Duration::ZERO)
            .await;
        assert_eq!(code, Some((0, "123456".to_owned())));
        receiver.close().await;
        assert!(post("s3cret", "k4").await.is_err(), "not listening");
        receiver.listen().await.unwrap();
        assert_eq!(post("s3cret", "k5").await.unwrap().status(), 200);
        assert_eq!(arrivals_by_key(&inbox.deliveries()).len(), 2);
        receiver.close().await;
    }
}
