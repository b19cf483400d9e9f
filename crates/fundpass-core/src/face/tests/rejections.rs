//! Each rejection after the structural ones, produced by a result forged or altered in
//! one way. The token is otherwise valid and correctly signed, so it would be accepted if
//! the check under test were missing.

use super::*;

// Key and algorithm

#[test]
fn an_unknown_kid_is_an_unknown_key() {
    let stranger = FaceSigner::from_seed("someone-else", SEED);

    assert_rejected(&stranger.sign(&claims()), FaceRejection::UnknownKey);
}

#[test]
fn alg_none_is_an_algorithm_mismatch() {
    let token = signer().sign(&claims());
    let none = with_header(&token, &header_json("none", KID));
    let p = parts(&none);

    assert_rejected(&none, FaceRejection::AlgorithmMismatch);
    assert_rejected(
        &format!("{}.{}.", p[0], p[1]),
        FaceRejection::AlgorithmMismatch,
    );
}

#[test]
fn alg_hs256_keyed_with_the_public_key_is_an_algorithm_mismatch() {
    use hmac::{KeyInit as _, Mac as _};
    let public = URL_SAFE_NO_PAD.decode(signer().public_key_b64()).unwrap();
    let input = format!(
        "{}.{}",
        b64(header_json("HS256", KID).to_string()),
        b64(payload_json().to_string())
    );
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&public).unwrap();
    mac.update(input.as_bytes());
    let token = format!("{input}.{}", b64(mac.finalize().into_bytes()));

    assert_rejected(&token, FaceRejection::AlgorithmMismatch);
}

#[test]
fn alg_es256_on_an_ed25519_key_is_an_algorithm_mismatch() {
    let token = with_header(&signer().sign(&claims()), &header_json("ES256", KID));

    assert_rejected(&token, FaceRejection::AlgorithmMismatch);
}

#[test]
fn alg_eddsa_on_an_es256_key_is_an_algorithm_mismatch() {
    let policy = FacePolicy {
        keys: vec![es256_trusted(false)],
        ..FacePolicy::default()
    };
    let token = with_header(
        &es256_token(&payload_json()),
        &header_json("EdDSA", ES256_KID),
    );

    assert_eq!(
        policy.verify(&token, NONCE, &subject(), NOW),
        Err(FaceRejection::AlgorithmMismatch)
    );
}

#[test]
fn a_key_relabelled_after_parsing_accepts_neither_algorithm() {
    let mut key = signer().trusted_key(false);
    key.algorithm = FaceAlgorithm::Es256;
    let policy = FacePolicy {
        keys: vec![key],
        ..FacePolicy::default()
    };
    let token = signer().sign(&claims());

    for alg in ["ES256", "EdDSA"] {
        assert_eq!(
            policy.verify(
                &with_header(&token, &header_json(alg, KID)),
                NONCE,
                &subject(),
                NOW
            ),
            Err(FaceRejection::AlgorithmMismatch),
            "{alg}"
        );
    }
}

#[test]
fn a_dev_key_is_refused_unless_the_policy_accepts_dev_keys() {
    let policy = FacePolicy {
        keys: vec![signer().trusted_key(true)],
        ..FacePolicy::default()
    };

    assert_eq!(
        policy.verify(&signer().sign(&claims()), NONCE, &subject(), NOW),
        Err(FaceRejection::DevKeyRefused)
    );
}

// Signature

#[test]
fn a_flipped_signature_byte_is_a_bad_signature() {
    let token = signer().sign(&claims());
    for index in [0, 31, 32, 63] {
        assert_rejected(
            &with_flipped_signature_byte(&token, index),
            FaceRejection::BadSignature,
        );
    }
}

#[test]
fn a_flipped_es256_signature_byte_is_a_bad_signature() {
    let policy = FacePolicy {
        keys: vec![es256_trusted(true)],
        ..FacePolicy::default()
    };
    let token = es256_token(&payload_json());
    for index in [0, 40] {
        assert_eq!(
            policy.verify(
                &with_flipped_signature_byte(&token, index),
                NONCE,
                &subject(),
                NOW
            ),
            Err(FaceRejection::BadSignature)
        );
    }
}

#[test]
fn a_payload_edited_after_signing_is_a_bad_signature() {
    let token = signer().sign(&FaceClaims {
        score: 0.41,
        ..claims()
    });
    let mut payload = payload_json();
    payload["score"] = json!(0.99);
    let p = parts(&token);
    let edited = format!("{}.{}.{}", p[0], b64(payload.to_string()), p[2]);

    assert_rejected(&edited, FaceRejection::BadSignature);
}

#[test]
fn a_signature_of_the_wrong_length_is_a_bad_signature() {
    let p = parts(&signer().sign(&claims()));
    let mut signature = URL_SAFE_NO_PAD.decode(&p[2]).unwrap();
    signature.push(0);

    assert_rejected(
        &format!("{}.{}.{}", p[0], p[1], b64(&signature)),
        FaceRejection::BadSignature,
    );
    assert_rejected(&format!("{}.{}.", p[0], p[1]), FaceRejection::BadSignature);
}

#[test]
fn a_result_signed_by_another_key_under_the_same_kid_is_a_bad_signature() {
    let impostor = FaceSigner::from_seed(KID, [8; 32]);

    assert_rejected(&impostor.sign(&claims()), FaceRejection::BadSignature);
}

// Claims

#[test]
fn a_result_for_another_nonce_is_a_nonce_mismatch() {
    for nonce in ["n-4f2c9a7d1e8c", "n-4f2c9a7d1e8", "n-4f2c9a7d1e8bX"] {
        let token = signer().sign(&FaceClaims {
            nonce: nonce.to_owned(),
            ..claims()
        });
        assert_rejected(&token, FaceRejection::NonceMismatch);
    }
}

#[test]
fn a_result_dated_beyond_the_skew_is_issued_in_the_future() {
    let at = |issued_at| {
        signer().sign(&FaceClaims {
            issued_at,
            ..claims()
        })
    };

    assert_rejected(
        &at(NOW + Duration::seconds(31)),
        FaceRejection::IssuedInFuture,
    );
    assert!(verify(&at(NOW + Duration::seconds(30))).is_ok());
}

#[test]
fn a_result_older_than_max_age_is_stale_and_one_exactly_at_it_is_accepted() {
    let at = |issued_at| {
        signer().sign(&FaceClaims {
            issued_at,
            ..claims()
        })
    };

    assert_rejected(&at(NOW - Duration::minutes(10)), FaceRejection::Stale);
    assert_rejected(&at(NOW - Duration::seconds(301)), FaceRejection::Stale);
    assert!(verify(&at(NOW - Duration::minutes(5))).is_ok());
}

#[test]
fn a_result_for_another_person_is_the_wrong_subject() {
    let token = signer().sign(&FaceClaims {
        subject: subject_hash(IdType::ResidentId, "110105194912310029"),
        ..claims()
    });

    assert_rejected(&token, FaceRejection::WrongSubject);
}

#[test]
fn a_result_without_liveness_is_liveness_failed() {
    let token = signer().sign(&FaceClaims {
        liveness: false,
        ..claims()
    });

    assert_rejected(&token, FaceRejection::LivenessFailed);
}

#[test]
fn a_score_below_the_threshold_is_low_and_one_exactly_at_it_is_accepted() {
    let scored = |score| signer().sign(&FaceClaims { score, ..claims() });

    assert_rejected(&scored(0.79), FaceRejection::LowScore);
    assert_rejected(&scored(0.0), FaceRejection::LowScore);
    assert_eq!(verify(&scored(0.80)).unwrap().score, 0.80);
    assert!(verify(&scored(1.0)).is_ok());
}

#[test]
fn a_nan_threshold_refuses_every_score() {
    let policy = FacePolicy {
        min_score: f64::NAN,
        ..policy()
    };

    assert_eq!(
        policy.verify(&signer().sign(&claims()), NONCE, &subject(), NOW),
        Err(FaceRejection::LowScore)
    );
}

// Order

#[test]
fn the_first_failing_check_is_the_one_reported() {
    let dev_policy = FacePolicy {
        keys: vec![signer().trusted_key(true)],
        ..FacePolicy::default()
    };
    let everything_wrong = signer().sign(&FaceClaims {
        nonce: "other".to_owned(),
        subject: "other".to_owned(),
        liveness: false,
        score: 0.1,
        issued_at: NOW - Duration::hours(1),
        ..claims()
    });
    let forged = with_flipped_signature_byte(&everything_wrong, 0);

    assert_eq!(
        dev_policy.verify(&forged, NONCE, &subject(), NOW),
        Err(FaceRejection::DevKeyRefused)
    );
    assert_rejected(&forged, FaceRejection::BadSignature);
    assert_rejected(&everything_wrong, FaceRejection::NonceMismatch);
    let stale_and_wrong = signer().sign(&FaceClaims {
        subject: "other".to_owned(),
        liveness: false,
        issued_at: NOW - Duration::hours(1),
        ..claims()
    });
    assert_rejected(&stale_and_wrong, FaceRejection::Stale);
    let low_and_dead = signer().sign(&FaceClaims {
        liveness: false,
        score: 0.1,
        ..claims()
    });
    assert_rejected(&low_and_dead, FaceRejection::LivenessFailed);
}
