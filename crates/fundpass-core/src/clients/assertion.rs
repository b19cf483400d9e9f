//! Client assertions (RFC 7523 §2.2, `private_key_jwt` of OpenID Connect Core §9): a
//! short JWT the business system signs with its own key to prove who it is at the
//! token endpoint.
//!
//! Accepted: a compact JWS signed with the algorithm of the client's registered key
//! (`EdDSA` or `ES256`; the header's `alg` never picks how it is checked), `typ`
//! absent or one of [`ASSERTION_TYP_ACCEPTED`], no `crit`; claims `iss` = `sub` = the
//! client id, `aud` naming the token endpoint (a string, or an array holding it),
//! `exp` in the future and at most the policy's maximum (5 minutes) ahead, `iat` and
//! `nbf` (when given) not in the future beyond the clock skew, and a `jti` of 1 to 128
//! characters that the caller must then record as used.

use serde::Deserialize;
use time::OffsetDateTime;

use super::{ClientPolicy, ServiceClient};
use crate::crypto::jws;

/// The `typ` values a client assertion may carry.
pub const ASSERTION_TYP_ACCEPTED: [&str; 2] = ["JWT", "client-authentication+jwt"];

/// The longest assertion read, in bytes.
const MAX_ASSERTION_BYTES: usize = 4096;

/// Why an assertion was refused. The token endpoint answers every one of them with
/// `invalid_client`; the variant goes to the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    #[error("the assertion is not a well-formed JWT")]
    Malformed,
    #[error("the assertion names a client that does not exist")]
    UnknownClient,
    #[error("the client is disabled")]
    DisabledClient,
    #[error("the assertion's algorithm is not the one of the client's key")]
    AlgorithmMismatch,
    #[error("the assertion's signature does not verify under the client's key")]
    BadSignature,
    #[error("iss and sub must both be the client id")]
    WrongIssuer,
    #[error("aud does not name the token endpoint")]
    WrongAudience,
    #[error("the assertion has expired")]
    Expired,
    #[error("the assertion's exp is too far ahead")]
    TooLong,
    #[error("the assertion is dated in the future")]
    NotYetValid,
    #[error("the assertion's jti was already used")]
    Replayed,
}

impl AssertionError {
    /// A stable code for the audit trail.
    pub fn code(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::UnknownClient => "unknown_client",
            Self::DisabledClient => "disabled_client",
            Self::AlgorithmMismatch => "algorithm_mismatch",
            Self::BadSignature => "bad_signature",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::Expired => "expired",
            Self::TooLong => "too_long",
            Self::NotYetValid => "not_yet_valid",
            Self::Replayed => "replayed",
        }
    }
}

/// What a valid assertion says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionClaims {
    pub client_id: String,
    pub jti: String,
    pub expires_at: OffsetDateTime,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: i64,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    nbf: Option<i64>,
    jti: String,
}

/// The `iss` an assertion claims, read without checking anything else: which client's
/// key to check it with.
pub fn claimed_client(token: &str) -> Option<String> {
    let compact = jws::split(token, MAX_ASSERTION_BYTES)?;
    let claims: Claims = serde_json::from_slice(&compact.payload).ok()?;
    Some(claims.iss)
}

/// Checks `token` as an assertion of `client` at `now`. The caller still has to
/// record the `jti` (atomically, refusing one already there).
pub fn check_assertion(
    token: &str,
    client: &ServiceClient,
    policy: &ClientPolicy,
    now: OffsetDateTime,
) -> Result<AssertionClaims, AssertionError> {
    let compact = jws::split(token, MAX_ASSERTION_BYTES).ok_or(AssertionError::Malformed)?;
    let header: Header =
        serde_json::from_slice(&compact.header).map_err(|_| AssertionError::Malformed)?;
    let claims: Claims =
        serde_json::from_slice(&compact.payload).map_err(|_| AssertionError::Malformed)?;
    if header.crit.is_some()
        || header
            .typ
            .as_deref()
            .is_some_and(|t| !ASSERTION_TYP_ACCEPTED.contains(&t))
        || claims.jti.is_empty()
        || claims.jti.chars().count() > 128
    {
        return Err(AssertionError::Malformed);
    }
    if claims.iss != client.id || claims.sub != client.id {
        return Err(AssertionError::WrongIssuer);
    }
    if !client.enabled() {
        return Err(AssertionError::DisabledClient);
    }
    if header.alg != client.public_key.algorithm().code() {
        return Err(AssertionError::AlgorithmMismatch);
    }
    if !client
        .public_key
        .verifies(compact.signing_input.as_bytes(), &compact.signature)
    {
        return Err(AssertionError::BadSignature);
    }
    let names_endpoint = match &claims.aud {
        Audience::One(a) => *a == policy.token_endpoint,
        Audience::Many(list) => list.contains(&policy.token_endpoint),
    };
    if !names_endpoint {
        return Err(AssertionError::WrongAudience);
    }
    let at = |secs: i64| {
        OffsetDateTime::from_unix_timestamp(secs).map_err(|_| AssertionError::Malformed)
    };
    let expires_at = at(claims.exp)?;
    if expires_at <= now - policy.clock_skew {
        return Err(AssertionError::Expired);
    }
    if expires_at - now > policy.assertion_max_lifetime + policy.clock_skew {
        return Err(AssertionError::TooLong);
    }
    for start in [claims.iat, claims.nbf].into_iter().flatten() {
        if at(start)? - now > policy.clock_skew {
            return Err(AssertionError::NotYetValid);
        }
    }
    Ok(AssertionClaims {
        client_id: client.id.clone(),
        jti: claims.jti,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::Scope;
    use crate::crypto::JwsSigner;
    use crate::testing::CountingRng;
    use time::Duration;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-07 08:00 UTC);

    fn setup() -> (JwsSigner, ServiceClient, ClientPolicy) {
        let signer = JwsSigner::generate("k", &CountingRng::default());
        let client = ServiceClient {
            id: "withdrawals".into(),
            description: "提取".into(),
            scopes: vec![Scope::PaymentsAuthorize],
            public_key: signer.public_key(),
            secret_digest: None,
            webhook_url: None,
            webhook_secret: None,
            created_at: NOW,
            disabled_at: None,
            version: 1,
        };
        (signer, client, ClientPolicy::default())
    }

    fn claims(policy: &ClientPolicy) -> serde_json::Value {
        serde_json::json!({
            "iss": "withdrawals", "sub": "withdrawals", "aud": policy.token_endpoint,
            "exp": (NOW + Duration::minutes(2)).unix_timestamp(),
            "iat": NOW.unix_timestamp(), "jti": "a1",
        })
    }

    fn check_with(
        edit: impl FnOnce(&mut serde_json::Value),
    ) -> Result<AssertionClaims, AssertionError> {
        let (signer, client, policy) = setup();
        let mut c = claims(&policy);
        edit(&mut c);
        check_assertion(&signer.sign("JWT", &c), &client, &policy, NOW)
    }

    #[test]
    fn a_good_assertion_passes_and_each_broken_claim_has_its_reason() {
        assert_eq!(check_with(|_| {}).unwrap().jti, "a1");
        type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
        let cases: Vec<(AssertionError, Edit)> = vec![
            (
                AssertionError::WrongIssuer,
                Box::new(|c| c["sub"] = "loans".into()),
            ),
            (
                AssertionError::WrongAudience,
                Box::new(|c| c["aud"] = "https://elsewhere/token".into()),
            ),
            (
                AssertionError::Expired,
                Box::new(|c| c["exp"] = (NOW - Duration::minutes(1)).unix_timestamp().into()),
            ),
            (
                AssertionError::TooLong,
                Box::new(|c| c["exp"] = (NOW + Duration::minutes(30)).unix_timestamp().into()),
            ),
            (
                AssertionError::NotYetValid,
                Box::new(|c| c["iat"] = (NOW + Duration::minutes(3)).unix_timestamp().into()),
            ),
            (
                AssertionError::Malformed,
                Box::new(|c| c["jti"] = "".into()),
            ),
        ];
        for (want, edit) in cases {
            assert_eq!(check_with(edit), Err(want));
        }
        let (_, _, policy) = setup();
        let listed = check_with(|c| c["aud"] = serde_json::json!(["x", policy.token_endpoint]));
        assert!(listed.is_ok(), "an audience array naming the endpoint");
    }

    #[test]
    fn another_key_or_another_algorithm_never_verifies() {
        let (_, client, policy) = setup();
        let stranger = JwsSigner::from_seed("k", &[9; 32]);
        let token = stranger.sign("JWT", &claims(&policy));
        assert_eq!(
            check_assertion(&token, &client, &policy, NOW),
            Err(AssertionError::BadSignature)
        );
        let (signer, ..) = setup();
        let hs = signer.sign_parts(r#"{"alg":"HS256"}"#, &claims(&policy).to_string());
        assert_eq!(
            check_assertion(&hs, &client, &policy, NOW),
            Err(AssertionError::AlgorithmMismatch)
        );
        let none = signer.sign_parts(r#"{"alg":"none"}"#, &claims(&policy).to_string());
        assert_eq!(
            check_assertion(&none, &client, &policy, NOW),
            Err(AssertionError::AlgorithmMismatch)
        );
    }

    #[test]
    fn a_disabled_client_is_refused_even_with_a_good_signature() {
        let (signer, mut client, policy) = setup();
        client.disabled_at = Some(NOW);
        let token = signer.sign("JWT", &claims(&policy));
        assert_eq!(
            check_assertion(&token, &client, &policy, NOW),
            Err(AssertionError::DisabledClient)
        );
        assert_eq!(claimed_client(&token).as_deref(), Some("withdrawals"));
    }
}
