//! A small client of fundpass's internal API: access tokens from the token endpoint
//! (renewed before they expire, and once more if one is refused), JSON calls with the
//! bearer token, and refusals read from the error envelope
//! `{"error": {"code", "message", "details"}}` into [`Refusal`].

use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::assertion::{AssertionClaims, ClientKey};
use crate::system;

/// The assertion type of RFC 7523 §2.2.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Renew a token this long before fundpass says it expires.
const RENEW_MARGIN: Duration = Duration::from_secs(30);

/// Who we are at the token endpoint.
#[derive(Debug)]
pub struct Credentials {
    pub client_id: String,
    /// The token endpoint's URL: where we post, and the assertion's `aud`.
    pub token_endpoint: String,
    pub key: ClientKey,
}

/// A token endpoint's answer (RFC 6749 §5.1).
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
    #[serde(default)]
    pub scope: String,
}

/// A refusal by fundpass, from its error envelope (or the token endpoint's RFC 6749
/// §5.2 body). Callers branch on `code`.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// What was called, e.g. `POST /internal/v1/authorizations`.
    pub call: String,
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub details: Option<serde_json::Value>,
    /// Seconds from `Retry-After`, when sent (429, 503).
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fundpass refused {} with {} {}: {}",
            self.call,
            self.status.as_u16(),
            self.code,
            self.message
        )?;
        if let Some(details) = &self.details {
            write!(f, " (details: {details})")?;
        }
        if let Some(secs) = self.retry_after {
            write!(f, " (retry after {secs} s)")?;
        }
        Ok(())
    }
}

impl std::error::Error for Refusal {}

/// The code of `error` if it is a refusal by fundpass.
pub fn refusal_code(error: &anyhow::Error) -> Option<&str> {
    error.downcast_ref::<Refusal>().map(|r| r.code.as_str())
}

/// A connection to one fundpass server as one client.
#[derive(Debug)]
pub struct Fundpass {
    http: reqwest::Client,
    server: String,
    credentials: Credentials,
    token: Option<(String, Instant)>,
}

impl Fundpass {
    /// A client of the server at `server` (e.g. `http://127.0.0.1:8080`).
    pub fn new(server: &str, credentials: Credentials) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            http,
            server: server.trim_end_matches('/').to_owned(),
            credentials,
            token: None,
        })
    }

    /// The client id we act as.
    pub fn client_id(&self) -> &str {
        &self.credentials.client_id
    }

    /// The claims of a new assertion, at this machine's clock with a fresh `jti`.
    pub fn new_assertion(&self) -> anyhow::Result<AssertionClaims> {
        Ok(AssertionClaims::new(
            &self.credentials.client_id,
            &self.credentials.token_endpoint,
            system::now_unix()?,
            &system::random_bytes::<16>()?,
        ))
    }

    /// Trades a signed assertion for an access token and keeps it for later calls.
    pub async fn fetch_token(&mut self, claims: &AssertionClaims) -> anyhow::Result<TokenResponse> {
        let assertion = self.credentials.key.sign(claims)?;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion.as_str()),
        ];
        let endpoint = self.credentials.token_endpoint.clone();
        let response = self
            .http
            .post(&endpoint)
            .form(&form)
            .send()
            .await
            .map_err(|e| unreachable(&endpoint, &e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(token_refusal(&endpoint, status, response).await.into());
        }
        let token: TokenResponse = response
            .json()
            .await
            .map_err(|e| anyhow::anyhow!("the token endpoint's answer is not a token: {e}"))?;
        if !token.token_type.eq_ignore_ascii_case("bearer") {
            anyhow::bail!(
                "the token endpoint issued a {} token, not Bearer",
                token.token_type
            );
        }
        let lifetime = Duration::from_secs(token.expires_in).saturating_sub(RENEW_MARGIN);
        self.token = Some((token.access_token.clone(), Instant::now() + lifetime));
        Ok(token)
    }

    /// A live access token: the kept one, or a new one.
    async fn bearer(&mut self) -> anyhow::Result<String> {
        if let Some((token, renew_at)) = &self.token
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let claims = self.new_assertion()?;
        Ok(self.fetch_token(&claims).await?.access_token)
    }

    /// `GET path` with the bearer token.
    pub async fn get<T: DeserializeOwned>(&mut self, path: &str) -> anyhow::Result<T> {
        self.call(Method::GET, path, |r| r).await
    }

    /// `POST path` with a JSON body (or none) and an optional `Idempotency-Key`.
    pub async fn post<T: DeserializeOwned>(
        &mut self,
        path: &str,
        body: Option<&serde_json::Value>,
        idempotency_key: Option<&str>,
    ) -> anyhow::Result<T> {
        self.call(Method::POST, path, |mut r| {
            if let Some(body) = body {
                r = r.json(body);
            }
            if let Some(key) = idempotency_key {
                r = r.header("Idempotency-Key", key);
            }
            r
        })
        .await
    }

    /// Sends a call; when the token is refused (`invalid_token`: expired, or the
    /// server restarted), gets a new one and tries once more.
    async fn call<T: DeserializeOwned>(
        &mut self,
        method: Method,
        path: &str,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> anyhow::Result<T> {
        let url = format!("{}{path}", self.server);
        let name = format!("{method} {path}");
        for attempt in 0..2 {
            let token = self.bearer().await?;
            let request = build(self.http.request(method.clone(), &url).bearer_auth(token));
            let response = request.send().await.map_err(|e| unreachable(&url, &e))?;
            if response.status().is_success() {
                return response
                    .json()
                    .await
                    .map_err(|e| anyhow::anyhow!("{name} answered with unexpected JSON: {e}"));
            }
            let refusal = refusal(&name, response).await;
            if refusal.code == "invalid_token" && attempt == 0 {
                self.token = None;
                continue;
            }
            return Err(refusal.into());
        }
        anyhow::bail!("{name}: the access token was refused twice")
    }

    /// fundpass's receipt keys (public: no token).
    pub async fn jwks(&self) -> anyhow::Result<jsonwebtoken::jwk::JwkSet> {
        let url = format!("{}/internal/v1/jwks.json", self.server);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| unreachable(&url, &e))?;
        if !response.status().is_success() {
            return Err(refusal("GET /internal/v1/jwks.json", response).await.into());
        }
        response
            .json()
            .await
            .map_err(|e| anyhow::anyhow!("the key set is not a JWK Set: {e}"))
    }
}

fn unreachable(url: &str, error: &reqwest::Error) -> anyhow::Error {
    anyhow::anyhow!("cannot reach {url}: {error} (is fundpass running there?)")
}

fn retry_after(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

#[derive(Deserialize)]
struct Envelope {
    error: EnvelopeError,
}

#[derive(Deserialize)]
struct EnvelopeError {
    code: String,
    message: String,
    #[serde(default)]
    details: Option<serde_json::Value>,
}

/// Reads the internal API's error envelope.
async fn refusal(call: &str, response: reqwest::Response) -> Refusal {
    let status = response.status();
    let retry_after = retry_after(&response);
    let text = response.text().await.unwrap_or_default();
    let (code, message, details) = match serde_json::from_str::<Envelope>(&text) {
        Ok(Envelope { error }) => (error.code, error.message, error.details),
        Err(_) => (
            "unexpected_answer".to_owned(),
            format!(
                "the answer is not fundpass's error envelope: {}",
                text.chars().take(200).collect::<String>()
            ),
            None,
        ),
    };
    Refusal {
        call: call.to_owned(),
        status,
        code,
        message,
        details,
        retry_after,
    }
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Reads the token endpoint's RFC 6749 §5.2 error, with a hint for `invalid_client`.
async fn token_refusal(endpoint: &str, status: StatusCode, response: reqwest::Response) -> Refusal {
    let retry_after = retry_after(&response);
    let text = response.text().await.unwrap_or_default();
    let (code, mut message) = match serde_json::from_str::<OAuthError>(&text) {
        Ok(e) => (e.error, e.error_description),
        Err(_) => (
            "unexpected_answer".to_owned(),
            format!(
                "not an OAuth error: {}",
                text.chars().take(200).collect::<String>()
            ),
        ),
    };
    if code == "invalid_client" {
        message.push_str(&format!(
            ". Hint: fundpass does not say why, on purpose; check that the client is \
             registered and enabled (`fundpass clients list`), that --key is the private half \
             of the public key registered for it, that this machine's clock is right, and that \
             the assertion's aud ({endpoint}) is exactly fundpass's token endpoint (it prints \
             it at start-up: `clients.token_endpoint`, by default \
             http://<server.bind>/internal/oauth/token, and 127.0.0.1 and localhost are \
             different audiences); pass --token-endpoint if not"
        ));
    }
    Refusal {
        call: format!("POST {endpoint}"),
        status,
        code,
        message,
        details: None,
        retry_after,
    }
}
