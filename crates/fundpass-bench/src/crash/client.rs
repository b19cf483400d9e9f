//! The fault harnesses' HTTP client of one fundpass server: a cookie jar (the web
//! forms' CSRF cookie, the console's session), no redirects followed, every request
//! optionally written down (when it was sent, how long it took, what came back) for
//! the outage report, and the two ways a step can fail: no answer at all, or an
//! answer that was not the one expected.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, RETRY_AFTER};

/// Longest wait a `Retry-After` is honoured for.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// Characters of an unexpected answer kept to show.
const BODY_SHOWN: usize = 300;

/// Why a step did not get the answer it wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fail {
    /// No answer: the server was killed, is restarting, or the connection broke. What
    /// the step did on the server is unknown.
    Down(String),
    /// An answer other than the one the step expects.
    Refused {
        /// The request, as labelled.
        label: &'static str,
        /// Its status.
        status: u16,
        /// The start of its body.
        body: String,
    },
}

impl std::fmt::Display for Fail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Down(why) => write!(f, "no answer ({why})"),
            Self::Refused {
                label,
                status,
                body,
            } => write!(f, "{label} answered {status}: {body}"),
        }
    }
}

impl std::error::Error for Fail {}

/// One answer, read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The request, as labelled.
    pub label: &'static str,
    pub status: StatusCode,
    /// `Retry-After`, when sent.
    pub retry_after: Option<Duration>,
    /// `Location`, when sent.
    pub location: Option<String>,
    pub body: String,
}

impl Answer {
    /// `Ok(self)` when the status is `expected`, else a [`Fail::Refused`].
    pub fn expect(self, expected: u16) -> Result<Self, Fail> {
        if self.status.as_u16() == expected {
            Ok(self)
        } else {
            Err(self.refused())
        }
    }

    /// This answer as a refusal.
    pub fn refused(&self) -> Fail {
        Fail::Refused {
            label: self.label,
            status: self.status.as_u16(),
            body: self.body.chars().take(BODY_SHOWN).collect(),
        }
    }

    /// A JSON body's string field.
    pub fn json_str(&self, field: &str) -> Result<String, Fail> {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v.get(field)?.as_str().map(str::to_owned))
            .ok_or_else(|| self.refused())
    }

    /// The `value` of the first input named `name` on an HTML page.
    pub fn field(&self, name: &str) -> Option<String> {
        let at = self.body.find(&format!("name=\"{name}\""))?;
        let tag_end = self.body[at..].find('>')? + at;
        let value = self.body[at..tag_end].split("value=\"").nth(1)?;
        Some(value.split('"').next()?.to_owned())
    }

    /// Whether the server refused for now and said when to come back.
    pub fn asks_to_wait(&self) -> bool {
        matches!(
            self.status,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
        ) && self.retry_after.is_some()
    }
}

/// One request as the outage report counts it.
#[derive(Debug, Clone)]
pub struct Sent {
    /// When it was sent.
    pub at: Instant,
    /// Until the whole answer was read, or the request failed.
    pub latency: Duration,
    /// The status, or `None` when no answer came.
    pub status: Option<u16>,
    /// Whether the answer carried `Retry-After`.
    pub retry_after: bool,
    /// The request, as labelled.
    pub label: &'static str,
}

/// Every request of the clients that share it, in the order they ended.
#[derive(Debug, Default)]
pub struct Recorder {
    sent: Mutex<Vec<Sent>>,
}

impl Recorder {
    fn push(&self, sent: Sent) {
        if let Ok(mut all) = self.sent.lock() {
            all.push(sent);
        }
    }

    /// A copy of everything recorded so far.
    pub fn all(&self) -> Vec<Sent> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// A client of one server with its own cookie jar.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    base: String,
    timeout: Duration,
    recorder: Option<Arc<Recorder>>,
    /// Tries of one request the server answers 503 or 429 with `Retry-After`.
    patience: u32,
}

impl Http {
    /// A client of `base` (`http://127.0.0.1:PORT`) that waits at most `timeout` for an
    /// answer and tries a refused-for-now request up to `patience` times.
    pub fn new(
        base: &str,
        timeout: Duration,
        patience: u32,
        recorder: Option<Arc<Recorder>>,
    ) -> anyhow::Result<Self> {
        Self::build(base, timeout, patience, recorder, None)
    }

    fn build(
        base: &str,
        timeout: Duration,
        patience: u32,
        recorder: Option<Arc<Recorder>>,
        address: Option<&str>,
    ) -> anyhow::Result<Self> {
        let mut headers = HeaderMap::new();
        if let Some(address) = address {
            headers.insert("x-forwarded-for", HeaderValue::from_str(address)?);
        }
        let client = reqwest::Client::builder()
            .no_proxy()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(2))
            .default_headers(headers)
            .build()?;
        Ok(Self {
            client,
            base: base.to_owned(),
            timeout,
            recorder,
            patience: patience.max(1),
        })
    }

    /// The same server, timeout, patience and recorder with an empty cookie jar (a
    /// browser of its own), sending from `address` when given (the server is set to
    /// trust `X-Forwarded-For`, as behind a proxy): a counter's PIN pad has an
    /// address of its own.
    pub fn fresh(&self, address: Option<&str>) -> anyhow::Result<Self> {
        Self::build(
            &self.base,
            self.timeout,
            self.patience,
            self.recorder.clone(),
            address,
        )
    }

    /// How many times a request refused for now is tried.
    pub fn patience(&self) -> u32 {
        self.patience
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path`.
    pub async fn get(&self, label: &'static str, path: &str) -> Result<Answer, Fail> {
        self.call(label, || self.client.get(self.url(path))).await
    }

    /// `GET path` with a bearer token.
    pub async fn get_as(
        &self,
        label: &'static str,
        token: &str,
        path: &str,
    ) -> Result<Answer, Fail> {
        self.call(label, || self.client.get(self.url(path)).bearer_auth(token))
            .await
    }

    /// `POST path` with a JSON body, again after the wait the server asks for while
    /// it refuses for now: only for requests that change nothing a retry could
    /// repeat (a captcha drawn).
    pub async fn post_json(
        &self,
        label: &'static str,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<Answer, Fail> {
        self.call(label, || self.client.post(self.url(path)).json(body))
            .await
    }

    /// `POST path` with a JSON body, once: a refusal comes back as it is. A step that
    /// changes something is never sent twice by the client on its own, because a 503
    /// may come after part of the change was made (a read after the commit failed);
    /// the operation decides what to do.
    pub async fn post_json_once(
        &self,
        label: &'static str,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<Answer, Fail> {
        self.send(label, self.client.post(self.url(path)).json(body))
            .await
    }

    /// `POST path` with a form body, once (forms change something; see
    /// [`Self::post_json_once`]).
    pub async fn post_form(
        &self,
        label: &'static str,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<Answer, Fail> {
        let request = self
            .client
            .post(self.url(path))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(encode_form(form));
        self.send(label, request).await
    }

    /// Sends the request `make` builds, again after the wait the server asks for while
    /// it answers 503 or 429 with `Retry-After`, up to `patience` times.
    async fn call(
        &self,
        label: &'static str,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Answer, Fail> {
        let mut tries = 0;
        loop {
            tries += 1;
            let answer = self.send(label, make()).await?;
            match answer.retry_after {
                Some(wait) if answer.asks_to_wait() && tries < self.patience => {
                    tokio::time::sleep(wait.min(MAX_BACKOFF)).await;
                }
                _ => return Ok(answer),
            }
        }
    }

    async fn send(
        &self,
        label: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, Fail> {
        let at = Instant::now();
        let result = match request.send().await {
            Ok(response) => {
                let status = response.status();
                let header = |name| {
                    response
                        .headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let retry_after = header(RETRY_AFTER)
                    .and_then(|v| v.trim().parse().ok())
                    .map(Duration::from_secs);
                let location = header(LOCATION);
                match response.text().await {
                    Ok(body) => Ok(Answer {
                        label,
                        status,
                        retry_after,
                        location,
                        body,
                    }),
                    Err(e) => Err(Fail::Down(e.without_url().to_string())),
                }
            }
            Err(e) => Err(Fail::Down(e.without_url().to_string())),
        };
        if let Some(recorder) = &self.recorder {
            let (status, retry_after) = match &result {
                Ok(a) => (Some(a.status.as_u16()), a.retry_after.is_some()),
                Err(_) => (None, false),
            };
            recorder.push(Sent {
                at,
                latency: at.elapsed(),
                status,
                retry_after,
                label,
            });
        }
        result
    }
}

/// `application/x-www-form-urlencoded`, as a browser sends a form.
fn encode_form(form: &[(&str, &str)]) -> String {
    let encode = |text: &str| {
        let mut out = String::new();
        for byte in text.bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    out.push(char::from(byte));
                }
                b' ' => out.push('+'),
                other => out.push_str(&format!("%{other:02X}")),
            }
        }
        out
    };
    form.iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &str) -> Answer {
        Answer {
            label: "page",
            status: StatusCode::OK,
            retry_after: None,
            location: None,
            body: body.to_owned(),
        }
    }

    #[test]
    fn form_fields_are_read_from_the_first_input_of_that_name() {
        let answer = page(
            r#"<input type="hidden" name="csrf" value="abc"><input name="case_id" value="c1">"#,
        );
        assert_eq!(answer.field("csrf").as_deref(), Some("abc"));
        assert_eq!(answer.field("case_id").as_deref(), Some("c1"));
        assert_eq!(answer.field("ticket"), None);
    }

    #[test]
    fn an_unexpected_status_is_a_refusal_with_the_start_of_the_body() {
        let refused = page(&"x".repeat(1000)).expect(201).unwrap_err();
        match refused {
            Fail::Refused { status, body, .. } => {
                assert_eq!(status, 200);
                assert_eq!(body.len(), BODY_SHOWN);
            }
            Fail::Down(_) => panic!("not a refusal"),
        }
        assert!(page("{}").expect(200).is_ok());
    }

    #[test]
    fn forms_are_encoded_as_a_browser_does() {
        assert_eq!(
            encode_form(&[("csrf", "a b"), ("ticket", "AB-C&D=é")]),
            "csrf=a+b&ticket=AB-C%26D%3D%C3%A9"
        );
    }

    #[test]
    fn json_fields_are_read_or_refused() {
        let answer = page(r#"{"flow":"f1"}"#);
        assert_eq!(answer.json_str("flow").unwrap(), "f1");
        assert!(answer.json_str("token").is_err());
    }
}
