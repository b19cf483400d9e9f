//! Business systems (withdrawals, loans, benefit payments) as OAuth 2.0 clients of
//! fundpass's internal API: registered by an administrator with the scopes they may
//! use and the public key they sign their client assertions with (RFC 7523
//! `private_key_jwt`); short-lived opaque access tokens; the signed events they
//! subscribe to by webhook.

mod announce;
mod assertion;
mod events;
mod service;

pub use assertion::{
    ASSERTION_TYP_ACCEPTED, AssertionClaims, AssertionError, check_assertion, claimed_client,
};
pub use events::{BusinessEvent, EventKind, WebhookDelivery, signed_hex, webhook_signature};
pub use service::{ClientAuth, ClientCaller, ClientError, Introspection, TokenIssued};

use time::{Duration, OffsetDateTime};

use crate::crypto::{PublicKey, Sealed, TokenDigest};

/// What a client may do; checked on every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Create, read and capture payment authorisations; verify transaction passwords.
    PaymentsAuthorize,
    /// Read a member's holds.
    HoldsRead,
    /// Read a member's status and transaction-password lock.
    MembersRead,
    /// Introspect members' app tokens (RFC 7662).
    TokensIntrospect,
    /// Read a member's benefit qualification status.
    QualificationRead,
}

impl Scope {
    /// Every scope, in a stable order.
    pub const ALL: [Scope; 5] = [
        Self::PaymentsAuthorize,
        Self::HoldsRead,
        Self::MembersRead,
        Self::TokensIntrospect,
        Self::QualificationRead,
    ];

    /// The scope's name, as OAuth writes it.
    pub fn code(self) -> &'static str {
        match self {
            Self::PaymentsAuthorize => "payments:authorize",
            Self::HoldsRead => "holds:read",
            Self::MembersRead => "members:read",
            Self::TokensIntrospect => "tokens:introspect",
            Self::QualificationRead => "qualification:read",
        }
    }

    /// Parses a scope name.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Parses a list separated by spaces or commas (OAuth uses spaces; a command line,
    /// commas). An unknown name is returned as the error; duplicates are dropped.
    pub fn parse_list(text: &str) -> Result<Vec<Scope>, String> {
        let mut scopes = Vec::new();
        for name in text.split([' ', ',']).filter(|s| !s.is_empty()) {
            let scope = Self::from_code(name).ok_or_else(|| name.to_owned())?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        scopes.sort();
        Ok(scopes)
    }

    /// A list as OAuth writes it: names separated by single spaces.
    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.code())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Why a client id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a client id is 3 to 64 characters of lower-case letters, digits, '.', '_' or '-'")]
pub struct BadClientId;

/// Checks a client id: it appears in tokens, URLs of the audit trail and log lines.
pub fn parse_client_id(raw: &str) -> Result<String, BadClientId> {
    let ok = (3..=64).contains(&raw.len())
        && raw.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(BadClientId)
    }
}

/// A registered business system.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceClient {
    /// The client id (also its name on the command line).
    pub id: String,
    /// What the system is, for people reading lists and the audit trail.
    pub description: String,
    pub scopes: Vec<Scope>,
    /// The key its client assertions must be signed with.
    pub public_key: PublicKey,
    /// SHA-256 of a client secret, for `client_secret_basic` (honoured in dev mode only).
    pub secret_digest: Option<TokenDigest>,
    /// Where signed events go, if the system subscribes.
    pub webhook_url: Option<String>,
    /// The HMAC key of its webhooks, sealed.
    pub webhook_secret: Option<Sealed>,
    pub created_at: OffsetDateTime,
    pub disabled_at: Option<OffsetDateTime>,
    pub version: i64,
}

impl ServiceClient {
    /// Whether the client may still act.
    pub fn enabled(&self) -> bool {
        self.disabled_at.is_none()
    }

    /// Whether the client holds `scope`.
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// An access token as stored: only its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenRecord {
    pub digest: TokenDigest,
    pub client_id: String,
    pub scopes: Vec<Scope>,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A client assertion's `jti`, kept until the assertion would have expired so that it
/// can never be used twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsedAssertion {
    pub client_id: String,
    pub jti: String,
    pub expires_at: OffsetDateTime,
}

/// A client write inside a unit of work.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientWrite {
    Insert(ServiceClient),
    /// Lands only if the stored version is still `expected_version`.
    Update {
        record: ServiceClient,
        expected_version: i64,
    },
}

/// Lifetimes and limits of the internal API, defaults as the issue asks.
#[derive(Debug, Clone)]
pub struct ClientPolicy {
    /// Access tokens live 5 minutes.
    pub token_lifetime: Duration,
    /// A client assertion may expire at most this far ahead (5 minutes).
    pub assertion_max_lifetime: Duration,
    /// Clock skew allowed on `iat`/`nbf`.
    pub clock_skew: Duration,
    /// Calls per client per minute, across every endpoint.
    pub calls_per_minute: u32,
    /// The token endpoint's URL, which assertions must name in `aud`.
    pub token_endpoint: String,
    /// Whether `client_secret_basic` is accepted (dev mode only).
    pub allow_client_secret: bool,
}

impl Default for ClientPolicy {
    fn default() -> Self {
        Self {
            token_lifetime: Duration::minutes(5),
            assertion_max_lifetime: Duration::minutes(5),
            clock_skew: Duration::seconds(30),
            calls_per_minute: 600,
            token_endpoint: "http://127.0.0.1:8080/internal/oauth/token".to_owned(),
            allow_client_secret: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_lists_parse_with_spaces_or_commas_and_refuse_unknown_names() {
        assert_eq!(
            Scope::parse_list("holds:read,payments:authorize holds:read").unwrap(),
            vec![Scope::PaymentsAuthorize, Scope::HoldsRead]
        );
        assert_eq!(Scope::parse_list("admin").unwrap_err(), "admin");
        for s in Scope::ALL {
            assert_eq!(Scope::from_code(s.code()), Some(s));
        }
    }

    #[test]
    fn client_ids_are_short_lower_case_names() {
        assert!(parse_client_id("withdrawals").is_ok());
        assert!(parse_client_id("loan-svc.v2").is_ok());
        for bad in ["ab", "Withdrawals", "a b c", "x/y", &"a".repeat(65)] {
            assert_eq!(parse_client_id(bad), Err(BadClientId), "{bad}");
        }
    }
}
