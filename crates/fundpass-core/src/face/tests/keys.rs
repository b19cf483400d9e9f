//! Parsing provider keys from configuration.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};

use super::*;

/// A simulator key whose base64 has characters that differ between the two alphabets,
/// so that accepting "either alphabet" is really tested.
fn key_with_alphabet_specific_chars() -> FaceSigner {
    (0u8..=255)
        .map(|n| FaceSigner::from_seed(KID, [n; 32]))
        .find(|s| s.public_key_b64().contains(['-', '_']))
        .unwrap()
}

fn ed25519_error(public_key_b64: &str) -> FaceKeyError {
    TrustedFaceKey::parse(KID, "EdDSA", public_key_b64).unwrap_err()
}

fn es256_error(public_key_b64: &str) -> FaceKeyError {
    TrustedFaceKey::parse(KID, "ES256", public_key_b64).unwrap_err()
}

#[test]
fn an_ed25519_key_parses_from_either_alphabet_with_or_without_padding() {
    let signer = key_with_alphabet_specific_chars();
    let raw = URL_SAFE_NO_PAD.decode(signer.public_key_b64()).unwrap();
    let token = signer.sign(&claims());

    for encoded in [
        URL_SAFE_NO_PAD.encode(&raw),
        URL_SAFE.encode(&raw),
        STANDARD.encode(&raw),
        STANDARD_NO_PAD.encode(&raw),
        format!(" {}\n", STANDARD.encode(&raw)),
    ] {
        let key = TrustedFaceKey::parse(KID, "EdDSA", &encoded).unwrap();
        assert_eq!(key.kid, KID);
        assert_eq!(key.algorithm, FaceAlgorithm::Ed25519);
        assert!(!key.dev_simulator);
        let policy = FacePolicy {
            keys: vec![key],
            ..FacePolicy::default()
        };
        assert!(
            policy.verify(&token, NONCE, &subject(), NOW).is_ok(),
            "{encoded}"
        );
    }
}

#[test]
fn a_p256_key_parses_compressed_and_uncompressed() {
    assert_eq!(es256_trusted(true).algorithm, FaceAlgorithm::Es256);
    assert_eq!(es256_trusted(false).algorithm, FaceAlgorithm::Es256);
}

#[test]
fn a_kid_outside_the_allowed_characters_or_length_is_refused() {
    let public = signer().public_key_b64();
    let too_long = "k".repeat(65);
    for kid in [
        "",
        "has space",
        "slash/kid",
        "quote\"",
        "ключ",
        " lead",
        too_long.as_str(),
    ] {
        assert_eq!(
            TrustedFaceKey::parse(kid, "EdDSA", &public).unwrap_err(),
            FaceKeyError::InvalidKid,
            "{kid:?}"
        );
    }
    assert!(TrustedFaceKey::parse(&"k".repeat(64), "EdDSA", &public).is_ok());
    assert!(TrustedFaceKey::parse("A-z_0.9", "EdDSA", &public).is_ok());
}

#[test]
fn an_algorithm_other_than_eddsa_or_es256_is_refused() {
    let public = signer().public_key_b64();
    for alg in ["none", "HS256", "RS256", "eddsa", "Ed25519", ""] {
        assert_eq!(
            TrustedFaceKey::parse(KID, alg, &public).unwrap_err(),
            FaceKeyError::UnsupportedAlgorithm(alg.to_owned()),
            "{alg:?}"
        );
    }
}

#[test]
fn a_public_key_that_is_not_base64_is_refused() {
    for text in ["not base64!", "AAAA*AAA", "", "A"] {
        let err = ed25519_error(text);
        // An empty string is valid base64 of nothing: the length check catches it.
        if text.is_empty() {
            assert!(
                matches!(err, FaceKeyError::WrongLength { actual: 0, .. }),
                "{err:?}"
            );
        } else {
            assert_eq!(err, FaceKeyError::NotBase64, "{text:?}");
        }
    }
}

#[test]
fn an_ed25519_key_of_the_wrong_length_is_refused() {
    for len in [31, 33, 64] {
        assert_eq!(
            ed25519_error(&URL_SAFE_NO_PAD.encode(vec![9u8; len])),
            FaceKeyError::WrongLength {
                algorithm: "EdDSA",
                expected: "32",
                actual: len
            }
        );
    }
}

#[test]
fn a_p256_key_of_the_wrong_length_is_refused() {
    // 32 bytes is what an Ed25519 key looks like: a likely configuration mistake.
    for len in [32, 64, 66] {
        let err = es256_error(&URL_SAFE_NO_PAD.encode(vec![4u8; len]));
        assert!(
            matches!(err, FaceKeyError::WrongLength { algorithm: "ES256", actual, .. } if actual == len),
            "{err:?}"
        );
    }
}

#[test]
fn a_p256_key_that_is_not_a_curve_point_is_refused() {
    let mut x_too_big = vec![0x02];
    x_too_big.extend([0xff; 32]);
    let mut not_on_curve = vec![0x04];
    not_on_curve.extend([0x01; 64]);
    let mut bad_tag = vec![0x05];
    bad_tag.extend([0x01; 32]);

    for bytes in [x_too_big, not_on_curve, bad_tag] {
        assert_eq!(
            es256_error(&URL_SAFE_NO_PAD.encode(&bytes)),
            FaceKeyError::InvalidPoint("P-256")
        );
    }
}

#[test]
fn an_ed25519_key_that_is_not_a_curve_point_is_refused() {
    // y = 2 has no x on edwards25519.
    let mut bytes = [0u8; 32];
    bytes[0] = 2;

    assert_eq!(
        ed25519_error(&URL_SAFE_NO_PAD.encode(bytes)),
        FaceKeyError::InvalidPoint("Ed25519")
    );
}

#[test]
fn a_small_order_ed25519_key_is_refused() {
    // The identity point (y = 1): every "signature" with R = identity and s = 0 verifies
    // under it in a lax verifier.
    let mut identity = [0u8; 32];
    identity[0] = 1;

    assert_eq!(
        ed25519_error(&URL_SAFE_NO_PAD.encode(identity)),
        FaceKeyError::WeakKey
    );
}

#[test]
fn key_debug_shows_kid_and_algorithm() {
    let shown = format!("{:?}", signer().trusted_key(true));

    assert!(
        shown.contains(KID) && shown.contains("Ed25519") && shown.contains("dev_simulator: true")
    );
}
