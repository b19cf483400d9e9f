//! Sealed (encrypted) personal data and blind indexes.
//!
//! A sealed value is `[version=1][suite][key-id length][key id][12-byte nonce][ciphertext
//! and tag]`. The field name and key id are bound in as associated data, so a phone
//! ciphertext pasted into the ID-number column does not decrypt.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm};
use serde::{Deserialize, Serialize};

use super::keyring::{CipherSuite, KeyId, Keyring};
use super::mac::mac;
use crate::ports::SecretGenerator;

type Sm4Gcm = AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>;

const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// Which personal-data field a value belongs to; part of the associated data and of
/// the blind-index input so values cannot be swapped between fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The identity document number (normalised).
    IdNumber,
    /// The mobile phone on file (11 digits).
    Phone,
    /// The text of an outgoing message (it may hold a one-time code).
    Message,
    /// A staff member's TOTP shared secret (base32), sealed so a copy of the database
    /// cannot mint second factors.
    TotpSecret,
    /// A business system's webhook signing secret: fundpass needs it back to sign
    /// each delivery, so it is sealed rather than hashed.
    WebhookSecret,
}

impl Field {
    fn label(self) -> &'static [u8] {
        match self {
            Self::IdNumber => b"id_number",
            Self::Phone => b"phone",
            Self::Message => b"message",
            Self::TotpSecret => b"totp_secret",
            Self::WebhookSecret => b"webhook_secret",
        }
    }
}

/// An encrypted value as stored, carrying the id of the key that sealed it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed(Vec<u8>);

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.key_id() {
            Ok(id) => write!(f, "Sealed(key={id}, {} bytes)", self.0.len()),
            Err(_) => write!(f, "Sealed(malformed, {} bytes)", self.0.len()),
        }
    }
}

/// A keyed MAC of a normalised value, for equality lookups without decrypting.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BlindIndex(Vec<u8>);

impl std::fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "BlindIndex({})",
            hex::encode(&self.0[..self.0.len().min(4)])
        )
    }
}

impl BlindIndex {
    /// Wraps stored bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Why a sealed value could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the sealed value is malformed")]
    Malformed,
    #[error("the sealed value uses an unknown algorithm")]
    UnknownSuite,
    #[error("no data key with id {0} is in the keyring")]
    UnknownKey(String),
    #[error("the sealed value failed authentication (wrong key, field or tampering)")]
    Authentication,
}

impl Sealed {
    /// Wraps stored bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The id of the key that sealed this value.
    pub fn key_id(&self) -> Result<KeyId, SealError> {
        Ok(self.parts()?.key_id)
    }

    fn parts(&self) -> Result<Parts<'_>, SealError> {
        let b = &self.0;
        if b.len() < 3 || b[0] != FORMAT_VERSION {
            return Err(SealError::Malformed);
        }
        let suite = CipherSuite::from_tag(b[1]).ok_or(SealError::UnknownSuite)?;
        let id_len = usize::from(b[2]);
        let id_end = 3 + id_len;
        if b.len() < id_end + NONCE_LEN + 16 {
            return Err(SealError::Malformed);
        }
        let id = std::str::from_utf8(&b[3..id_end]).map_err(|_| SealError::Malformed)?;
        let id = KeyId::parse(id).map_err(|_| SealError::Malformed)?;
        Ok(Parts {
            suite,
            key_id: id,
            nonce: &b[id_end..id_end + NONCE_LEN],
            ciphertext: &b[id_end + NONCE_LEN..],
        })
    }
}

/// The pieces of a sealed value's byte layout.
struct Parts<'a> {
    suite: CipherSuite,
    key_id: KeyId,
    nonce: &'a [u8],
    ciphertext: &'a [u8],
}

fn aad(field: Field, key_id: &KeyId) -> Vec<u8> {
    let mut v = Vec::with_capacity(48);
    v.extend_from_slice(b"fundpass/v1/");
    v.extend_from_slice(field.label());
    v.push(b'/');
    v.extend_from_slice(key_id.as_str().as_bytes());
    v
}

impl Keyring {
    /// Encrypts a normalised value with the active data key and a fresh random nonce.
    pub fn seal(&self, field: Field, plaintext: &str, rng: &dyn SecretGenerator) -> Sealed {
        let (id, key) = self.data.active_key();
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce);
        let aad = aad(field, id);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: &aad,
        };
        let ct = encrypt(self.suite, key.expose(), &nonce, payload);
        let mut out = Vec::with_capacity(3 + id.as_str().len() + NONCE_LEN + ct.len());
        out.push(FORMAT_VERSION);
        out.push(self.suite.tag());
        // Key ids are at most 32 bytes (checked by KeyId::parse), so this fits a u8.
        out.push(id.as_str().len() as u8);
        out.extend_from_slice(id.as_str().as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Sealed(out)
    }

    /// Decrypts a sealed value with the key its header names.
    pub fn open(&self, field: Field, sealed: &Sealed) -> Result<String, SealError> {
        let Parts {
            suite,
            key_id: id,
            nonce,
            ciphertext: ct,
        } = sealed.parts()?;
        if suite != self.suite {
            return Err(SealError::UnknownSuite);
        }
        let key = self
            .data
            .keys
            .get(&id)
            .ok_or_else(|| SealError::UnknownKey(id.to_string()))?;
        let aad = aad(field, &id);
        let plain = decrypt(suite, key.expose(), nonce, Payload { msg: ct, aad: &aad })
            .ok_or(SealError::Authentication)?;
        String::from_utf8(plain).map_err(|_| SealError::Malformed)
    }

    /// The blind index of a normalised value under the active index key.
    pub fn blind_index(&self, field: Field, normalised: &str) -> BlindIndex {
        let (_, key) = self.index.active_key();
        BlindIndex(
            mac(
                self.suite,
                key.expose(),
                &[field.label(), normalised.as_bytes()],
            )
            .to_vec(),
        )
    }
}

fn encrypt(suite: CipherSuite, key: &[u8], nonce: &[u8], payload: Payload<'_, '_>) -> Vec<u8> {
    let result = match suite {
        CipherSuite::Aes256Gcm => Aes256Gcm::new_from_slice(key)
            .ok()
            .and_then(|c| c.encrypt(nonce.try_into().ok()?, payload).ok()),
        CipherSuite::Sm4Gcm => Sm4Gcm::new_from_slice(key)
            .ok()
            .and_then(|c| c.encrypt(nonce.try_into().ok()?, payload).ok()),
    };
    // Key lengths are checked when the keyring is built and the nonce is fixed-size, so
    // encryption cannot fail; an empty vector would fail to open rather than leak.
    result.unwrap_or_default()
}

fn decrypt(
    suite: CipherSuite,
    key: &[u8],
    nonce: &[u8],
    payload: Payload<'_, '_>,
) -> Option<Vec<u8>> {
    match suite {
        CipherSuite::Aes256Gcm => Aes256Gcm::new_from_slice(key)
            .ok()?
            .decrypt(nonce.try_into().ok()?, payload)
            .ok(),
        CipherSuite::Sm4Gcm => Sm4Gcm::new_from_slice(key)
            .ok()?
            .decrypt(nonce.try_into().ok()?, payload)
            .ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::CountingRng;

    fn rings() -> Vec<Keyring> {
        let rng = CountingRng::default();
        vec![
            Keyring::generate(CipherSuite::Aes256Gcm, &rng),
            Keyring::generate(CipherSuite::Sm4Gcm, &rng),
        ]
    }

    #[test]
    fn sealed_values_open_again_and_hide_the_plaintext() {
        let rng = CountingRng::default();
        for ring in rings() {
            let s = ring.seal(Field::IdNumber, "11010519491231002X", &rng);
            assert!(!s.as_bytes().windows(18).any(|w| w == b"11010519491231002X"));
            assert_eq!(
                ring.open(Field::IdNumber, &s).unwrap(),
                "11010519491231002X"
            );
            assert_eq!(s.key_id().unwrap().as_str(), "d1");
        }
    }

    #[test]
    fn a_value_sealed_for_one_field_does_not_open_as_another() {
        let rng = CountingRng::default();
        for ring in rings() {
            let s = ring.seal(Field::Phone, "13812345678", &rng);
            assert_eq!(
                ring.open(Field::IdNumber, &s),
                Err(SealError::Authentication)
            );
        }
    }

    #[test]
    fn a_tampered_value_is_refused() {
        let rng = CountingRng::default();
        let ring = Keyring::generate(CipherSuite::Aes256Gcm, &rng);
        let mut bytes = ring
            .seal(Field::Phone, "13812345678", &rng)
            .as_bytes()
            .to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            ring.open(Field::Phone, &Sealed::from_bytes(bytes)),
            Err(SealError::Authentication)
        );
        assert_eq!(
            ring.open(Field::Phone, &Sealed::from_bytes(vec![1, 1])),
            Err(SealError::Malformed)
        );
    }

    #[test]
    fn values_sealed_before_a_rotation_still_open() {
        let rng = CountingRng::default();
        let mut ring = Keyring::generate(CipherSuite::Sm4Gcm, &rng);
        let old = ring.seal(Field::Phone, "13812345678", &rng);
        ring.rotate_data_key(&rng);
        let new = ring.seal(Field::Phone, "13812345678", &rng);
        assert_eq!(new.key_id().unwrap().as_str(), "d2");
        assert_eq!(ring.open(Field::Phone, &old).unwrap(), "13812345678");
        ring.retire_old_data_keys();
        assert_eq!(
            ring.open(Field::Phone, &old),
            Err(SealError::UnknownKey("d1".into()))
        );
    }

    #[test]
    fn blind_indexes_are_stable_keyed_and_per_field() {
        let rng = CountingRng::default();
        let a = Keyring::generate(CipherSuite::Aes256Gcm, &rng);
        let b = Keyring::generate(CipherSuite::Aes256Gcm, &rng);
        assert_eq!(
            a.blind_index(Field::Phone, "13812345678"),
            a.blind_index(Field::Phone, "13812345678")
        );
        assert_ne!(
            a.blind_index(Field::Phone, "13812345678"),
            b.blind_index(Field::Phone, "13812345678")
        );
        assert_ne!(
            a.blind_index(Field::Phone, "13812345678"),
            a.blind_index(Field::IdNumber, "13812345678")
        );
    }
}
