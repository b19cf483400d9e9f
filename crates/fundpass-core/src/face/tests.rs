//! Tests of face result verification. Shared fixtures live here; key parsing and the
//! rejections each have a file under `tests/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod keys;
mod malformed;
mod rejections;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use serde_json::{Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::testing::CountingRng;

const NOW: OffsetDateTime = datetime!(2026-03-01 09:00:00 UTC);
const NONCE: &str = "n-4f2c9a7d1e8b";
const KID: &str = "sim-2026.03_a";
const SEED: [u8; 32] = [7; 32];
const ES256_KID: &str = "provider-es256";
const ES256_SCALAR: [u8; 32] = [0x11; 32];

fn subject() -> String {
    subject_hash(IdType::ResidentId, "11010519491231002X")
}

fn signer() -> FaceSigner {
    FaceSigner::from_seed(KID, SEED)
}

/// A production-like policy trusting the simulator key (not marked as a dev key, so the
/// dev-key check does not hide the others).
fn policy() -> FacePolicy {
    FacePolicy {
        keys: vec![signer().trusted_key(false)],
        ..FacePolicy::default()
    }
}

fn claims() -> FaceClaims {
    FaceClaims {
        kid: KID.to_owned(),
        nonce: NONCE.to_owned(),
        subject: subject(),
        liveness: true,
        score: 0.93,
        issued_at: NOW - Duration::seconds(20),
        jti: Some("res-0001".to_owned()),
    }
}

fn verify(token: &str) -> Result<FaceClaims, FaceRejection> {
    policy().verify(token, NONCE, &subject(), NOW)
}

fn header_json(alg: &str, kid: &str) -> Value {
    json!({ "alg": alg, "kid": kid, "typ": FACE_RESULT_TYP })
}

fn payload_json() -> Value {
    json!({
        "nonce": NONCE,
        "sub": subject(),
        "liveness": true,
        "score": 0.93,
        "iat": (NOW - Duration::seconds(20)).unix_timestamp(),
    })
}

/// A correctly signed result whose payload is `payload_json()` with `edit` applied.
fn signed_with(edit: impl FnOnce(&mut Value)) -> String {
    let mut payload = payload_json();
    edit(&mut payload);
    signer().sign_parts(&header_json("EdDSA", KID).to_string(), &payload.to_string())
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn es256_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&ES256_SCALAR).unwrap()
}

fn es256_trusted(compressed: bool) -> TrustedFaceKey {
    let point = es256_key().verifying_key().to_sec1_point(compressed);
    TrustedFaceKey::parse(ES256_KID, "ES256", &b64(point.as_bytes())).unwrap()
}

/// An ES256 result over `payload` as a provider would make it: raw `r || s`.
fn es256_token(payload: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(header_json("ES256", ES256_KID).to_string()),
        b64(payload.to_string())
    );
    let signature: p256::ecdsa::Signature = es256_key().sign(input.as_bytes());
    format!("{input}.{}", b64(signature.to_bytes()))
}

fn parts(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

/// `token` with its signature's byte `index` flipped (re-encoded, so still base64url).
fn with_flipped_signature_byte(token: &str, index: usize) -> String {
    let p = parts(token);
    let mut signature = URL_SAFE_NO_PAD.decode(&p[2]).unwrap();
    signature[index] ^= 0x01;
    format!("{}.{}.{}", p[0], p[1], b64(signature))
}

/// `token` with its header replaced by `header`, keeping payload and signature.
fn with_header(token: &str, header: &Value) -> String {
    let p = parts(token);
    format!("{}.{}.{}", b64(header.to_string()), p[1], p[2])
}

fn assert_rejected(token: &str, expected: FaceRejection) {
    assert_eq!(verify(token), Err(expected));
}

#[test]
fn a_valid_ed25519_result_is_accepted_with_its_claims() {
    let token = signer().sign(&claims());

    let accepted = verify(&token).unwrap();

    assert_eq!(accepted, claims());
}

#[test]
fn a_result_without_typ_or_jti_and_with_unknown_fields_is_accepted() {
    let mut payload = payload_json();
    payload["provider_trace"] = json!({ "device": "x" });
    let header = json!({ "alg": "EdDSA", "kid": KID, "x5t": "ignored" });
    let token = signer().sign_parts(&header.to_string(), &payload.to_string());

    let accepted = verify(&token).unwrap();

    assert_eq!(accepted.jti, None);
    assert_eq!(accepted.kid, KID);
}

#[test]
fn a_valid_es256_result_is_accepted_with_either_point_encoding() {
    for compressed in [false, true] {
        let policy = FacePolicy {
            keys: vec![es256_trusted(compressed)],
            ..FacePolicy::default()
        };

        let accepted = policy
            .verify(&es256_token(&payload_json()), NONCE, &subject(), NOW)
            .unwrap();

        assert_eq!(accepted.kid, ES256_KID);
        assert_eq!(accepted.score, 0.93);
        assert_eq!(accepted.issued_at, NOW - Duration::seconds(20));
    }
}

#[test]
fn the_right_key_is_chosen_by_kid_among_several() {
    let other = FaceSigner::from_seed("other", [9; 32]);
    let policy = FacePolicy {
        keys: vec![
            other.trusted_key(false),
            es256_trusted(false),
            signer().trusted_key(false),
        ],
        ..FacePolicy::default()
    };

    assert!(
        policy
            .verify(&signer().sign(&claims()), NONCE, &subject(), NOW)
            .is_ok()
    );
    assert!(
        policy
            .verify(&es256_token(&payload_json()), NONCE, &subject(), NOW)
            .is_ok()
    );
}

#[test]
fn a_dev_key_is_accepted_when_the_policy_allows_dev_keys() {
    let policy = FacePolicy {
        keys: vec![signer().trusted_key(true)],
        accept_dev_keys: true,
        ..FacePolicy::default()
    };

    assert!(
        policy
            .verify(&signer().sign(&claims()), NONCE, &subject(), NOW)
            .is_ok()
    );
}

#[test]
fn the_policy_defaults_are_five_minutes_thirty_seconds_and_080_without_dev_keys() {
    let policy = FacePolicy::default();

    assert_eq!(policy.max_age, Duration::minutes(5));
    assert_eq!(policy.max_skew, Duration::seconds(30));
    assert_eq!(policy.min_score, 0.80);
    assert!(!policy.accept_dev_keys);
    assert!(policy.keys.is_empty());
}

#[test]
fn the_subject_hash_is_base64url_sha256_of_type_code_and_number() {
    // Computed independently: sha256("resident_id:11010519491231002X"), base64url, no pad.
    assert_eq!(subject(), "f95ryFVi3y8PBvekl_3h7PNPakeqeuz-xaMQwr3zyg8");
    assert_ne!(
        subject_hash(IdType::Passport, "11010519491231002X"),
        subject()
    );
}

#[test]
fn a_signer_round_trips_through_its_seed_and_public_key() {
    let original = FaceSigner::generate(KID, &CountingRng::default());
    let expected_seed: [u8; 32] = std::array::from_fn(|i| i as u8);
    assert_eq!(original.seed(), expected_seed);

    let restored = FaceSigner::from_seed(original.kid(), original.seed());
    let pinned = TrustedFaceKey::parse(KID, "EdDSA", &restored.public_key_b64()).unwrap();
    let policy = FacePolicy {
        keys: vec![pinned],
        ..FacePolicy::default()
    };

    assert_eq!(restored.public_key_b64(), original.public_key_b64());
    assert!(
        policy
            .verify(&original.sign(&claims()), NONCE, &subject(), NOW)
            .is_ok()
    );
}

#[test]
fn signer_debug_shows_the_kid_but_no_secret() {
    let signer = signer();
    let seed = signer.seed();

    let shown = format!("{signer:?}");

    assert!(shown.contains(KID), "{shown}");
    for secret in [hex::encode(seed), b64(seed), format!("{seed:?}")] {
        assert!(!shown.contains(&secret), "{shown}");
    }
    assert!(!shown.contains("SigningKey"), "{shown}");
}

#[test]
fn rejection_codes_are_distinct_snake_case() {
    let all = [
        FaceRejection::Malformed,
        FaceRejection::UnknownKey,
        FaceRejection::AlgorithmMismatch,
        FaceRejection::BadSignature,
        FaceRejection::DevKeyRefused,
        FaceRejection::NonceMismatch,
        FaceRejection::IssuedInFuture,
        FaceRejection::Stale,
        FaceRejection::WrongSubject,
        FaceRejection::LivenessFailed,
        FaceRejection::LowScore,
    ];
    let codes: std::collections::BTreeSet<_> = all.iter().map(|r| r.code()).collect();

    assert_eq!(codes.len(), all.len());
    assert_eq!(FaceRejection::BadSignature.code(), "bad_signature");
    for code in codes {
        assert!(
            code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{code}"
        );
    }
}

#[test]
fn algorithm_codes_are_the_jws_names() {
    for alg in [FaceAlgorithm::Ed25519, FaceAlgorithm::Es256] {
        assert_eq!(FaceAlgorithm::from_code(alg.code()), Some(alg));
    }
    assert_eq!(FaceAlgorithm::Ed25519.code(), "EdDSA");
    assert_eq!(FaceAlgorithm::Es256.code(), "ES256");
    for other in ["none", "HS256", "eddsa", "es256", "RS256", ""] {
        assert_eq!(FaceAlgorithm::from_code(other), None, "{other}");
    }
}
