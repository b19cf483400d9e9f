//! What the Tencent Cloud and Alibaba Cloud callers (SMS and face verification) share: checking the endpoint and
//! credentials at start-up, the HTTP client, and what a failure to get an answer
//! means for the message.

use std::time::Duration;

use fundpass_core::ports::SmsError;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};

/// Why a provider sender could not be built; reported at start-up so that a
/// misconfigured provider stops the service instead of failing every message.
#[derive(Debug, thiserror::Error)]
pub enum ProviderSetupError {
    /// The endpoint does not parse or has no host.
    #[error("the {provider} endpoint is not a valid URL: {reason}")]
    BadUrl {
        provider: &'static str,
        reason: String,
    },
    /// The endpoint is not `https://` (and plain HTTP is not allowed).
    #[error(
        "the {provider} endpoint must start with https:// (got {scheme}://); http:// is \
         allowed in dev mode only, for a local stand-in"
    )]
    InsecureUrl {
        provider: &'static str,
        scheme: String,
    },
    /// A credential is empty.
    #[error("the {provider} credential {name} is empty (set {variable})")]
    MissingCredential {
        provider: &'static str,
        name: &'static str,
        variable: &'static str,
    },
    /// A setting the provider requires is empty.
    #[error("the {provider} setting {name} is empty")]
    MissingSetting {
        provider: &'static str,
        name: &'static str,
    },
    /// The HTTP client could not be created (TLS set-up).
    #[error("cannot create the HTTP client for {provider}: {reason}")]
    Client {
        provider: &'static str,
        reason: String,
    },
}

/// A checked endpoint and the client that calls it.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub url: reqwest::Url,
    /// The `Host` header as the client sends it (`host` or `host:port`), which
    /// both providers sign.
    pub host: String,
    pub client: reqwest::Client,
}

impl Endpoint {
    /// Parses and checks `url` and builds a client with `timeout` that follows no
    /// redirects and, unless `allow_http`, speaks only HTTPS.
    pub fn new(
        provider: &'static str,
        url: &str,
        timeout: Duration,
        allow_http: bool,
    ) -> Result<Self, ProviderSetupError> {
        let bad = |reason: String| ProviderSetupError::BadUrl { provider, reason };
        let url = reqwest::Url::parse(url).map_err(|e| bad(e.to_string()))?;
        let scheme_ok = match url.scheme() {
            "https" => true,
            "http" => allow_http,
            _ => false,
        };
        if !scheme_ok {
            return Err(ProviderSetupError::InsecureUrl {
                provider,
                scheme: url.scheme().to_owned(),
            });
        }
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => return Err(bad("it has no host".into())),
        };
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!allow_http)
            .build()
            .map_err(|e| ProviderSetupError::Client {
                provider,
                reason: e.without_url().to_string(),
            })?;
        Ok(Self { url, host, client })
    }
}

/// A credential as configured: its name at the provider, the environment variable it
/// comes from, and its value.
pub(crate) type Credential<'a> = (&'static str, &'static str, &'a SecretString);

/// Refuses an empty credential (naming the environment variable it comes from) or an
/// empty setting, so that a misconfigured provider stops the service at start-up.
pub(crate) fn check_settings(
    provider: &'static str,
    credentials: &[Credential<'_>],
    settings: &[(&'static str, &str)],
) -> Result<(), ProviderSetupError> {
    for (name, variable, value) in credentials {
        if value.expose_secret().trim().is_empty() {
            return Err(ProviderSetupError::MissingCredential {
                provider,
                name,
                variable,
            });
        }
    }
    for (name, value) in settings {
        if value.trim().is_empty() {
            return Err(ProviderSetupError::MissingSetting { provider, name });
        }
    }
    Ok(())
}

/// A failure to get an answer. A refused connection sent nothing and is retried; a
/// timeout or a broken connection after the request went out may have left the
/// provider with the message, so the outcome is unknown (see [`SmsError::Uncertain`]).
/// The error never carries the URL (Alibaba's has the parameters in it).
pub(crate) fn transport_error(provider: &str, error: &reqwest::Error, masked: &str) -> SmsError {
    if error.is_connect() {
        return SmsError::Temporary(format!("{provider} SMS: could not connect ({masked})"));
    }
    let what = if error.is_timeout() {
        "timed out"
    } else {
        "connection failed"
    };
    SmsError::Uncertain(format!(
        "{provider} SMS {what} after the request was sent ({masked})"
    ))
}

/// A status that settles the message before the body is read: `None` for 2xx (and
/// for statuses whose body tells more), a server error or overload is retried.
pub(crate) fn status_failure(provider: &str, status: StatusCode, masked: &str) -> Option<SmsError> {
    let code = status.as_u16();
    let message = format!("{provider} SMS answered HTTP {code} ({masked})");
    if status.is_server_error() || matches!(code, 408 | 425 | 429) {
        return Some(SmsError::Temporary(message));
    }
    None
}

/// A provider's message cut to a length fit for a log line and the outbox row.
pub(crate) fn short(message: &str) -> String {
    message.chars().take(120).collect()
}
