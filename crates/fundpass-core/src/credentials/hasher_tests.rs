use crate::crypto::{CipherSuite, KeyId, Keyring, KeyringError};
use crate::testing::CountingRng;

use super::*;

const FAST: HashParams = HashParams {
    m_kib: 256,
    t: 1,
    p: 1,
};

fn fast() -> PasswordHasher {
    PasswordHasher::new(FAST).unwrap()
}

fn keyring(rng: &CountingRng) -> Keyring {
    Keyring::generate(CipherSuite::Aes256Gcm, rng)
}

#[test]
fn the_stored_string_says_argon2id_with_owasp_costs_and_a_16_byte_salt() {
    let rng = CountingRng::default();
    let ring = keyring(&rng);
    let hasher = PasswordHasher::new(HashParams::default()).unwrap();
    let phc = hasher.hash(&ring, "Tiger7Lily", &rng).unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1,"), "{phc}");
    let parsed = PasswordHash::new(&phc).unwrap();
    assert!(parsed.salt.unwrap().len() >= 16);
    assert_eq!(parsed.hash.unwrap().len(), 32);
    assert!(hasher.verify(&ring, "Tiger7Lily", &phc).unwrap());
    assert!(!hasher.needs_rehash(&ring, &phc));
}

#[test]
fn the_pepper_key_id_is_recorded_as_the_argon2_keyid_parameter() {
    let rng = CountingRng::default();
    let ring = keyring(&rng);
    let phc = fast().hash(&ring, "Tiger7Lily", &rng).unwrap();
    // "p1" in unpadded standard B64 is "cDE".
    assert!(phc.contains(",keyid=cDE$"), "{phc}");
    let parsed = PasswordHash::new(&phc).unwrap();
    assert_eq!(Params::try_from(&parsed).unwrap().keyid(), b"p1");
}

#[test]
fn the_right_password_verifies_and_a_wrong_one_does_not() {
    let rng = CountingRng::default();
    let ring = keyring(&rng);
    let hasher = fast();
    let phc = hasher.hash(&ring, "Tiger7Lily", &rng).unwrap();
    assert!(hasher.verify(&ring, "Tiger7Lily", &phc).unwrap());
    assert!(!hasher.verify(&ring, "Tiger7Lilz", &phc).unwrap());
    assert!(!hasher.verify(&ring, "", &phc).unwrap());
}

#[test]
fn two_hashes_of_one_password_differ_by_their_salt() {
    let rng = CountingRng::default();
    let ring = keyring(&rng);
    let hasher = fast();
    let a = hasher.hash(&ring, "839174", &rng).unwrap();
    let b = hasher.hash(&ring, "839174", &rng).unwrap();
    assert_ne!(a, b);
    assert!(hasher.verify(&ring, "839174", &a).unwrap());
    assert!(hasher.verify(&ring, "839174", &b).unwrap());
}

#[test]
fn passwords_differing_only_at_position_73_do_not_match() {
    let rng = CountingRng::default();
    let ring = keyring(&rng);
    let hasher = fast();
    let base = "k".repeat(72);
    let one = format!("{base}1-and-the-rest");
    let two = format!("{base}2-and-the-rest");
    let phc = hasher.hash(&ring, &one, &rng).unwrap();
    assert!(hasher.verify(&ring, &one, &phc).unwrap());
    assert!(!hasher.verify(&ring, &two, &phc).unwrap());
}

#[test]
fn a_hash_with_weaker_costs_needs_rehashing() {
    let rng = CountingRng::default();
    let ring = keyring(&rng);
    let weak = PasswordHasher::new(HashParams {
        m_kib: 8192,
        t: 2,
        p: 1,
    })
    .unwrap();
    let phc = weak.hash(&ring, "Tiger7Lily", &rng).unwrap();
    let strong = PasswordHasher::new(HashParams::default()).unwrap();
    assert!(strong.verify(&ring, "Tiger7Lily", &phc).unwrap());
    assert!(strong.needs_rehash(&ring, &phc));
    let again = strong.hash(&ring, "Tiger7Lily", &rng).unwrap();
    assert!(again.contains("m=19456"));
    assert!(!strong.needs_rehash(&ring, &again));
}

#[test]
fn a_hash_made_under_an_old_pepper_verifies_after_rotation_and_needs_rehashing() {
    let rng = CountingRng::default();
    let mut ring = keyring(&rng);
    let hasher = fast();
    let old = hasher.hash(&ring, "Tiger7Lily", &rng).unwrap();
    assert!(!hasher.needs_rehash(&ring, &old));
    let p2 = ring.rotate_pepper(&rng);
    assert!(hasher.verify(&ring, "Tiger7Lily", &old).unwrap());
    assert!(!hasher.verify(&ring, "Tiger7Lilz", &old).unwrap());
    assert!(hasher.needs_rehash(&ring, &old));
    let new = hasher.hash(&ring, "Tiger7Lily", &rng).unwrap();
    let parsed = PasswordHash::new(&new).unwrap();
    assert_eq!(
        Params::try_from(&parsed).unwrap().keyid(),
        p2.as_str().as_bytes()
    );
    assert!(!hasher.needs_rehash(&ring, &new));
}

#[test]
fn a_hash_naming_a_pepper_the_keyring_lacks_is_an_error_not_a_mismatch() {
    let rng = CountingRng::default();
    let old_ring = keyring(&rng);
    let mut new_ring = old_ring.clone();
    new_ring.rotate_pepper(&rng);
    let hasher = fast();
    let phc = hasher.hash(&new_ring, "Tiger7Lily", &rng).unwrap();
    assert!(matches!(
        hasher.verify(&old_ring, "Tiger7Lily", &phc),
        Err(HashError::Keyring(KeyringError::UnknownKey { .. }))
    ));
}

#[test]
fn a_pepper_id_too_long_for_a_phc_keyid_is_refused_when_the_keyring_loads() {
    let rng = CountingRng::default();
    let mut doc = keyring(&rng).to_document();
    let long = KeyId::parse("pepper-2025-q3").unwrap();
    doc.pepper.keys.insert(long.clone(), "ab".repeat(32));
    doc.pepper.active = long;
    assert!(matches!(
        Keyring::from_document(&doc),
        Err(KeyringError::PepperIdTooLong(id)) if id == "pepper-2025-q3"
    ));
}

#[test]
fn a_megabyte_secret_is_refused_with_the_length_error() {
    let rng = CountingRng::default();
    let ring = keyring(&rng);
    // Default costs: the refusal must come before any Argon2 work.
    let hasher = PasswordHasher::new(HashParams::default()).unwrap();
    let huge = "a".repeat(1024 * 1024);
    assert!(matches!(
        hasher.hash(&ring, &huge, &rng),
        Err(HashError::TooLong { max: 1024 })
    ));
    let phc = fast().hash(&ring, "Tiger7Lily", &rng).unwrap();
    assert!(matches!(
        hasher.verify(&ring, &huge, &phc),
        Err(HashError::TooLong { .. })
    ));
    let at_limit = "a".repeat(MAX_SECRET_BYTES);
    assert!(fast().hash(&ring, &at_limit, &rng).is_ok());
}

#[test]
fn malformed_or_foreign_strings_are_errors_and_need_rehashing() {
    let rng = CountingRng::default();
    let ring = keyring(&rng);
    let hasher = fast();
    let unpeppered = "$argon2id$v=19$m=256,t=1,p=1$AAECAwQFBgcICQoLDA0ODw$\
                      AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    let argon2i = unpeppered.replace("argon2id", "argon2i");
    for bad in [
        "",
        "plain-text",
        "$2b$12$abcdefghijklmnopqrstuv",
        unpeppered,
        &argon2i,
    ] {
        assert!(
            matches!(hasher.verify(&ring, "x", bad), Err(HashError::Malformed(_))),
            "{bad}"
        );
        assert!(hasher.needs_rehash(&ring, bad), "{bad}");
    }
}

#[test]
fn reuse_is_found_among_previous_hashes_only() {
    let rng = CountingRng::default();
    let ring = keyring(&rng);
    let hasher = fast();
    let history: Vec<String> = ["Tiger7Lily", "Maple9Road", "839174"]
        .iter()
        .map(|pw| hasher.hash(&ring, pw, &rng).unwrap())
        .chain(["not a hash".to_owned()])
        .collect();
    assert!(reused(&hasher, &ring, "Maple9Road", &history));
    assert!(reused(&hasher, &ring, "839174", &history));
    assert!(!reused(&hasher, &ring, "Cedar4Lane", &history));
    assert!(!reused(&hasher, &ring, "Maple9Road", &[]));
}

#[test]
fn impossible_costs_are_refused_when_the_hasher_is_built() {
    assert!(matches!(
        PasswordHasher::new(HashParams {
            m_kib: 1,
            t: 1,
            p: 1
        }),
        Err(HashError::Params(_))
    ));
    assert!(matches!(
        PasswordHasher::new(HashParams {
            m_kib: 256,
            t: 0,
            p: 1
        }),
        Err(HashError::Params(_))
    ));
}

#[test]
fn owasp_equivalent_costs_are_recognised() {
    assert!(HashParams::default().meets_owasp_minimum());
    assert!(
        HashParams {
            m_kib: 47_104,
            t: 1,
            p: 1
        }
        .meets_owasp_minimum()
    );
    assert!(
        !HashParams {
            m_kib: 8192,
            t: 2,
            p: 1
        }
        .meets_owasp_minimum()
    );
    assert!(!FAST.meets_owasp_minimum());
}
