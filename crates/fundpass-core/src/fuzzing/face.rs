//! Target `face_result`: face verification results as a member's app could post them.
//!
//! The input is decoded with `arbitrary` into a [`FaceCase`]: either any text at all, or
//! a result signed with one of four fixed test keys (two trusted, one marked as the
//! development simulator's, one nobody trusts) from fuzzed header and claims, possibly
//! changed after signing, or fuzzed header and payload JSON signed as they are. Because
//! the keys are fixed, the fuzzer reaches results with valid signatures.
//!
//! Checked:
//! - an accepted result is, read independently, signed by the pinned key with its pinned
//!   algorithm, made for this nonce and subject, fresh, live and scoring enough, and the
//!   claims returned are the ones in it;
//! - a result built from claims is refused with exactly the rejection the documented
//!   order of checks gives (or accepted when nothing is wrong);
//! - changing an accepted result in any way makes it refused.

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use time::{Duration, OffsetDateTime};

use super::{Verdict, Violation};
use crate::crypto::{JwsAlgorithm, JwsSigner};
use crate::face::{FACE_RESULT_TYP, FaceClaims, FacePolicy, FaceRejection, TrustedFaceKey};
use crate::fuzz_ensure;
use crate::identity::IdType;

mod model;

/// The moment every result is checked at (2026-03-01 09:00:00 UTC).
const NOW_UNIX: i64 = 1_772_355_600;
/// The nonce of the flow the results are checked for.
const NONCE: &str = "n-fuzz-4f2c9a7d";

/// One fuzzed face result and the policy it is checked under.
#[derive(Debug, Arbitrary)]
pub struct FaceCase {
    source: Source,
    accept_dev_keys: bool,
}

#[derive(Debug, Arbitrary)]
enum Source {
    /// Any text.
    Raw(String),
    /// A result made from claims, then perhaps changed.
    Built {
        key: Key,
        header: HeaderCase,
        claims: ClaimsCase,
        change: Option<Change>,
    },
    /// Header and payload JSON signed as they are.
    Json {
        key: Key,
        header: String,
        payload: String,
    },
}

/// The fixed test keys: the first three are pinned in the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
enum Key {
    Ed25519,
    Es256,
    DevSimulator,
    Untrusted,
}

#[derive(Debug, Arbitrary)]
struct HeaderCase {
    alg: Choice<JwsAlg>,
    kid: Choice<Key>,
    typ: Option<Choice<()>>,
    crit: bool,
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum JwsAlg {
    EdDsa,
    Es256,
}

/// The right value for the signing key, the value of another option, or any text.
#[derive(Debug, Arbitrary)]
enum Choice<T> {
    Own,
    Other(T),
    Text(String),
}

#[derive(Debug, Arbitrary)]
struct ClaimsCase {
    nonce: Choice<()>,
    subject: Choice<()>,
    liveness: bool,
    score: Score,
    issued: Issued,
    jti: Option<String>,
}

#[derive(Debug, Arbitrary)]
enum Score {
    /// Thousandths from 0 to 1000 (the value is taken modulo 1001).
    Thousandths(u16),
    /// Any number, out of range and not finite included.
    Any(f64),
}

#[derive(Debug, Arbitrary)]
enum Issued {
    /// Seconds before the check (negative: after it).
    SecondsAgo(i16),
    /// Any Unix time.
    At(i64),
}

/// A change made to a finished token.
#[derive(Debug, Arbitrary)]
enum Change {
    SetByte { at: u16, to: u8 },
    RemoveByte { at: u16 },
    InsertByte { at: u16, byte: u8 },
    SwapHeaderAndPayload,
    ReplacePart { part: u8, text: String },
    Append(String),
}

/// A fixed test key: its signing half, what the policy pins and its id.
struct Fixture {
    key: Key,
    kid: &'static str,
    algorithm: JwsAlgorithm,
    signer: Signer,
    verifier: Verifier,
}

/// The public half, checked with the signature crates directly rather than through
/// fundpass's own key types.
enum Verifier {
    Ed25519(ed25519_dalek::VerifyingKey),
    Es256(p256::ecdsa::VerifyingKey),
}

impl Verifier {
    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::Verifier as _;
        match self {
            Self::Ed25519(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|s| key.verify_strict(message, &s).is_ok()),
            Self::Es256(key) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|s| key.verify(message, &s).is_ok()),
        }
    }

    fn sec1_or_raw(&self) -> Vec<u8> {
        match self {
            Self::Ed25519(key) => key.as_bytes().to_vec(),
            Self::Es256(key) => key.to_sec1_point(true).as_bytes().to_vec(),
        }
    }
}

enum Signer {
    Ed25519(Box<JwsSigner>),
    Es256(Box<p256::ecdsa::SigningKey>),
}

/// Target `face_result`.
pub fn check_face_result(data: &[u8]) -> Verdict {
    let Ok(case) = FaceCase::arbitrary_take_rest(Unstructured::new(data)) else {
        return Ok(());
    };
    check_case(&case)
}

fn check_case(case: &FaceCase) -> Verdict {
    let fixtures = fixtures()?;
    let policy = policy(fixtures, case.accept_dev_keys)?;
    let now = now()?;
    let subject = expected_subject();
    let verify = |token: &str| policy.verify(token, NONCE, &subject, now);
    match &case.source {
        Source::Raw(token) => check_verdict(token, verify(token), case, fixtures),
        Source::Json {
            key,
            header,
            payload,
        } => {
            let token = sign(fixture(fixtures, *key)?, header, payload);
            check_verdict(&token, verify(&token), case, fixtures)
        }
        Source::Built {
            key,
            header,
            claims,
            change,
        } => {
            let signing = fixture(fixtures, *key)?;
            let built = model::Resolved::new(signing, fixtures, header, claims)?;
            let (header_json, payload_json) = (built.header_json(), built.payload_json());
            let token = sign(signing, &header_json, &payload_json);
            let verdict = verify(&token);
            check_verdict(&token, verdict.clone(), case, fixtures)?;
            let expected = built.expected(signing, &token, case.accept_dev_keys, fixtures);
            fuzz_ensure!(
                verdict.as_ref().map(|_| ()).map_err(|r| *r) == expected,
                "{header_json} {payload_json} signed by {key:?}: {verdict:?}, expected {expected:?}"
            );
            let Some(change) = change else {
                return Ok(());
            };
            let changed = apply(change, &token);
            if verdict.is_ok() && changed != token {
                let again = verify(&changed);
                fuzz_ensure!(
                    again.is_err(),
                    "the accepted result {token:?} was accepted again after changing it to {changed:?}"
                );
            }
            check_verdict(&changed, verify(&changed), case, fixtures)
        }
    }
}

/// Whatever was accepted must hold up when read independently of the verifier.
fn check_verdict(
    token: &str,
    verdict: Result<FaceClaims, FaceRejection>,
    case: &FaceCase,
    fixtures: &[Fixture],
) -> Verdict {
    let Ok(claims) = verdict else {
        return Ok(());
    };
    let parts: Vec<&str> = token.split('.').collect();
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).ok();
    let (Some(header), Some(payload), Some(signature)) = (
        parts.first().and_then(|p| decode(p)),
        parts.get(1).and_then(|p| decode(p)),
        parts.get(2).and_then(|p| decode(p)),
    ) else {
        return Err(Violation(format!(
            "accepted {token:?}, which is not three base64url parts"
        )));
    };
    fuzz_ensure!(parts.len() == 3, "accepted {token:?} with extra parts");
    let header: serde_json::Value = serde_json::from_slice(&header)
        .map_err(|_| Violation(format!("accepted {token:?} with a header that is not JSON")))?;
    let payload: serde_json::Value = serde_json::from_slice(&payload).map_err(|_| {
        Violation(format!(
            "accepted {token:?} with a payload that is not JSON"
        ))
    })?;
    let kid = header["kid"].as_str().unwrap_or_default();
    let Some(pinned) = fixtures
        .iter()
        .find(|f| f.kid == kid && f.key != Key::Untrusted)
    else {
        return Err(Violation(format!(
            "accepted {token:?} under key id {kid:?}"
        )));
    };
    fuzz_ensure!(
        header["alg"] == pinned.algorithm.code(),
        "accepted {token:?} with alg {} for a key pinned to {}",
        header["alg"],
        pinned.algorithm.code()
    );
    fuzz_ensure!(
        header.get("crit").is_none()
            && header
                .get("typ")
                .is_none_or(|typ| typ.as_str() == Some(FACE_RESULT_TYP)),
        "accepted {token:?} with header {header}"
    );
    fuzz_ensure!(
        pinned.key != Key::DevSimulator || case.accept_dev_keys,
        "accepted a development simulator result under a policy that refuses them"
    );
    let signing_input = token
        .get(..parts[0].len() + 1 + parts[1].len())
        .unwrap_or("");
    fuzz_ensure!(
        pinned
            .verifier
            .verifies(signing_input.as_bytes(), &signature),
        "accepted {token:?}, whose signature does not verify under {kid:?}"
    );
    check_claims(&claims, &payload, kid)
}

fn check_claims(claims: &FaceClaims, payload: &serde_json::Value, kid: &str) -> Verdict {
    let subject = expected_subject();
    let iat = payload["iat"].as_i64();
    let age = iat.map(|iat| NOW_UNIX - iat);
    fuzz_ensure!(
        payload["nonce"] == NONCE
            && payload["sub"] == subject.as_str()
            && payload["liveness"] == true
            && payload["score"]
                .as_f64()
                .is_some_and(|score| (0.8..=1.0).contains(&score))
            && age.is_some_and(|age| (-30..=300).contains(&age)),
        "accepted the claims {payload}"
    );
    let returned = (
        claims.kid.as_str(),
        claims.nonce.as_str(),
        claims.subject.as_str(),
        claims.liveness,
        Some(claims.score),
        Some(claims.issued_at.unix_timestamp()),
        claims.jti.as_deref(),
    );
    let read = (
        kid,
        NONCE,
        subject.as_str(),
        true,
        payload["score"].as_f64(),
        iat,
        payload["jti"].as_str(),
    );
    fuzz_ensure!(
        returned == read,
        "returned {returned:?} for the claims {payload}"
    );
    Ok(())
}

fn apply(change: &Change, token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let at = |at: u16, len: usize| usize::from(at) % len.max(1);
    match change {
        Change::SetByte { at: i, to } if !bytes.is_empty() => {
            let i = at(*i, bytes.len());
            bytes[i] = *to;
        }
        Change::RemoveByte { at: i } if !bytes.is_empty() => {
            bytes.remove(at(*i, bytes.len()));
        }
        Change::InsertByte { at: i, byte } => {
            bytes.insert(at(*i, bytes.len() + 1), *byte);
        }
        Change::SwapHeaderAndPayload => {
            let parts: Vec<&str> = token.split('.').collect();
            if let [header, payload, signature] = parts.as_slice() {
                return format!("{payload}.{header}.{signature}");
            }
        }
        Change::ReplacePart { part, text } => {
            let mut parts: Vec<&str> = token.split('.').collect();
            let index = usize::from(*part) % parts.len().max(1);
            if let Some(slot) = parts.get_mut(index) {
                *slot = text;
            }
            return parts.join(".");
        }
        Change::Append(text) => bytes.extend_from_slice(text.as_bytes()),
        _ => {}
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn sign(fixture: &Fixture, header_json: &str, payload_json: &str) -> String {
    match &fixture.signer {
        Signer::Ed25519(signer) => signer.sign_parts(header_json, payload_json),
        Signer::Es256(key) => {
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header_json),
                URL_SAFE_NO_PAD.encode(payload_json)
            );
            let signature: p256::ecdsa::Signature = key.sign(input.as_bytes());
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
        }
    }
}

fn expected_subject() -> String {
    crate::face::subject_hash(IdType::ResidentId, "11010519491231002X")
}

fn now() -> Result<OffsetDateTime, Violation> {
    OffsetDateTime::from_unix_timestamp(NOW_UNIX)
        .map_err(|e| Violation(format!("fixture time: {e}")))
}

fn fixture(fixtures: &[Fixture], key: Key) -> Result<&Fixture, Violation> {
    fixtures
        .iter()
        .find(|f| f.key == key)
        .ok_or_else(|| Violation(format!("no fixture key {key:?}")))
}

fn policy(fixtures: &[Fixture], accept_dev_keys: bool) -> Result<FacePolicy, Violation> {
    let mut keys = Vec::new();
    for f in fixtures.iter().filter(|f| f.key != Key::Untrusted) {
        let public = URL_SAFE_NO_PAD.encode(f.verifier.sec1_or_raw());
        let mut pinned = TrustedFaceKey::parse(f.kid, f.algorithm.code(), &public)
            .map_err(|e| Violation(format!("fixture key {}: {e}", f.kid)))?;
        pinned.dev_simulator = f.key == Key::DevSimulator;
        keys.push(pinned);
    }
    Ok(FacePolicy {
        keys,
        max_age: Duration::minutes(5),
        max_skew: Duration::seconds(30),
        min_score: 0.80,
        accept_dev_keys,
    })
}

fn fixtures() -> Result<&'static [Fixture], Violation> {
    static FIXTURES: OnceLock<Option<Vec<Fixture>>> = OnceLock::new();
    FIXTURES
        .get_or_init(make_fixtures)
        .as_deref()
        .ok_or_else(|| Violation("the fixed test keys cannot be made".to_owned()))
}

fn make_fixtures() -> Option<Vec<Fixture>> {
    let ed25519 = |key, kid: &'static str, seed: u8| Fixture {
        key,
        kid,
        algorithm: JwsAlgorithm::Ed25519,
        verifier: Verifier::Ed25519(
            ed25519_dalek::SigningKey::from_bytes(&[seed; 32]).verifying_key(),
        ),
        signer: Signer::Ed25519(Box::new(JwsSigner::from_seed(kid, &[seed; 32]))),
    };
    let es256 = p256::ecdsa::SigningKey::from_slice(&[0x11; 32]).ok()?;
    Some(vec![
        ed25519(Key::Ed25519, "fz-ed", 7),
        Fixture {
            key: Key::Es256,
            kid: "fz-es",
            algorithm: JwsAlgorithm::Es256,
            verifier: Verifier::Es256(*es256.verifying_key()),
            signer: Signer::Es256(Box::new(es256)),
        },
        ed25519(Key::DevSimulator, "fz-dev", 9),
        ed25519(Key::Untrusted, "fz-untrusted", 5),
    ])
}
