//! The calls the benchmark makes as a business system: an access token for a signed
//! client assertion (RFC 7523), direct verification of a transaction password typed
//! on a PIN pad, and a read of a member's holds.

use std::time::Duration;

use anyhow::{Context as _, bail};
use fundpass_core::crypto::{JwsSigner, OpaqueToken};
use fundpass_core::ports::Clock as _;
use fundpass_server::system::{OsSecrets, SystemClock};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::Deserialize;
use serde_json::json;

use super::setup::{CLIENT_ID, Member};
use crate::harness::flood::Reply;

/// The assertion type of RFC 7523 §2.2, form-encoded.
const JWT_BEARER_ENCODED: &str = "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer";
/// How far ahead an assertion expires (the server takes at most 5 minutes).
const ASSERTION_SECONDS: i64 = 120;
/// What is paid: a rent withdrawal well under the direct-verification threshold.
const AMOUNT_FEN: i64 = 250_000;

/// A business system's client of one fundpass server.
#[derive(Debug, Clone)]
pub struct BusinessApi {
    client: reqwest::Client,
    base: String,
    /// `Bearer …`, once a token was issued.
    bearer: String,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
}

/// A compact JWS proving the benchmark is [`CLIENT_ID`] to `token_endpoint`: `iss` =
/// `sub` = the client id, `aud` the endpoint, a fresh `jti`, two minutes to live.
pub fn assertion(signer: &JwsSigner, token_endpoint: &str) -> String {
    let now = SystemClock.now().unix_timestamp();
    let jti = OpaqueToken::generate(&OsSecrets);
    let claims = json!({
        "iss": CLIENT_ID, "sub": CLIENT_ID, "aud": token_endpoint,
        "iat": now, "exp": now + ASSERTION_SECONDS, "jti": jti.expose(),
    });
    signer.sign("JWT", &claims)
}

impl BusinessApi {
    /// A client of `base_url` (loopback, plain HTTP, never through a proxy) keeping up
    /// to `connections` idle connections, authenticated with a token from the token
    /// endpoint for a new assertion signed by `signer`.
    pub async fn connect(
        base_url: &str,
        connections: usize,
        signer: &JwsSigner,
        token_endpoint: &str,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(connections)
            .build()
            .context("cannot build the HTTP client")?;
        let body = format!(
            "grant_type=client_credentials&client_assertion_type={JWT_BEARER_ENCODED}&client_assertion={}",
            assertion(signer, token_endpoint)
        );
        let response = client
            .post(format!("{base_url}/internal/oauth/token"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        if status != StatusCode::OK {
            bail!("the token endpoint answered {status}: {text}");
        }
        let token: TokenResponse = serde_json::from_str(&text)
            .with_context(|| format!("unexpected answer from the token endpoint: {text}"))?;
        Ok(Self {
            client,
            base: base_url.to_owned(),
            bearer: format!("Bearer {}", token.access_token),
        })
    }

    /// One direct verification for `member` with their own transaction password:
    /// 201 confirmed, 503 pool full, 429 rate-limited. `reference` is the business
    /// system's reference and idempotency key: a new one per payment.
    pub async fn verify(&self, member: &Member, reference: &str) -> anyhow::Result<Reply> {
        let body = json!({
            "account_no": member.account_no, "amount_fen": AMOUNT_FEN, "currency": "CNY",
            "payee": {"name": "Bench Landlord", "account": "6222********1234"},
            "purpose": "withdrawal.rent", "business_ref": reference,
            "transaction_password": member.transaction_password,
        });
        let response = self
            .client
            .post(format!(
                "{}/internal/v1/transaction-password/verify",
                self.base
            ))
            .header(AUTHORIZATION, &self.bearer)
            .header("idempotency-key", reference)
            .json(&body)
            .send()
            .await?;
        let expected = [
            StatusCode::CREATED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::SERVICE_UNAVAILABLE,
        ];
        Ok(Reply::read(response, &expected).await)
    }

    /// The status of `GET /internal/v1/members/{account_no}/holds`, body read whole.
    pub async fn holds(&self, account_no: &str) -> anyhow::Result<StatusCode> {
        let response = self
            .client
            .get(format!(
                "{}/internal/v1/members/{account_no}/holds",
                self.base
            ))
            .header(AUTHORIZATION, &self.bearer)
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fundpass_core::clients::{ClientPolicy, Scope, ServiceClient, check_assertion};

    #[test]
    fn the_assertion_passes_the_servers_own_check() {
        let signer = JwsSigner::generate("bench", &OsSecrets);
        let policy = ClientPolicy {
            token_endpoint: "http://127.0.0.1:4000/internal/oauth/token".into(),
            ..ClientPolicy::default()
        };
        let now = SystemClock.now();
        let client = ServiceClient {
            id: CLIENT_ID.into(),
            description: "bench".into(),
            scopes: vec![Scope::PaymentsAuthorize],
            public_key: signer.public_key(),
            secret_digest: None,
            webhook_url: None,
            webhook_secret: None,
            created_at: now,
            disabled_at: None,
            version: 1,
        };
        let token = assertion(&signer, &policy.token_endpoint);
        let claims = check_assertion(&token, &client, &policy, now).unwrap();
        assert_eq!(claims.client_id, CLIENT_ID);
        assert_ne!(
            assertion(&signer, &policy.token_endpoint),
            token,
            "each assertion has its own jti"
        );
    }
}
