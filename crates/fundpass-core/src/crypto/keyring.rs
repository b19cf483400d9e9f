//! The keyring: data keys (AEAD), blind-index keys and password peppers, each by id.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::ports::SecretGenerator;

/// Which algorithms protect personal data and pepper passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum CipherSuite {
    /// AES-256-GCM with HMAC-SHA-256 blind indexes and pepper.
    #[default]
    #[serde(rename = "aes-256-gcm")]
    Aes256Gcm,
    /// SM4-GCM with HMAC-SM3 blind indexes and pepper (GB/T 39786).
    #[serde(rename = "sm4-gcm")]
    Sm4Gcm,
}

impl CipherSuite {
    /// Length in bytes of a data key for this suite.
    pub fn data_key_len(self) -> usize {
        match self {
            Self::Aes256Gcm => 32,
            Self::Sm4Gcm => 16,
        }
    }

    /// One-byte tag written into each sealed value.
    pub(crate) fn tag(self) -> u8 {
        match self {
            Self::Aes256Gcm => 1,
            Self::Sm4Gcm => 2,
        }
    }

    pub(crate) fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            1 => Some(Self::Aes256Gcm),
            2 => Some(Self::Sm4Gcm),
            _ => None,
        }
    }

    /// The configuration name (`aes-256-gcm`, `sm4-gcm`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Aes256Gcm => "aes-256-gcm",
            Self::Sm4Gcm => "sm4-gcm",
        }
    }
}

/// A key id: 1 to 32 characters of `[A-Za-z0-9_-]`, stored beside what the key
/// protected so the right key is found after a rotation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(pub(super) String);

impl KeyId {
    /// Checks the form of a key id.
    pub fn parse(raw: &str) -> Result<Self, KeyringError> {
        let ok = !raw.is_empty()
            && raw.len() <= 32
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(KeyringError::BadKeyId(raw.chars().take(40).collect()))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for KeyId {
    type Error = KeyringError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<KeyId> for String {
    fn from(value: KeyId) -> Self {
        value.0
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Secret key bytes, wiped from memory on drop and never printed.
#[derive(Clone)]
pub struct KeyMaterial(Zeroizing<Vec<u8>>);

impl KeyMaterial {
    /// Wraps key bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The key bytes, for the cipher that uses them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyMaterial([redacted; {}])", self.0.len())
    }
}

/// Why a keyring could not be built or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    #[error("key id {0:?} is not 1-32 characters of letters, digits, '-' or '_'")]
    BadKeyId(String),
    #[error("the {set} keys have no key with the active id {id}")]
    MissingActive { set: &'static str, id: String },
    #[error("{set} key {id} is not valid hex")]
    BadHex { set: &'static str, id: String },
    #[error("{set} key {id} has {actual} bytes, {expected} are required")]
    BadLength {
        set: &'static str,
        id: String,
        expected: usize,
        actual: usize,
    },
    #[error("no {set} key with id {id} is in the keyring")]
    UnknownKey { set: &'static str, id: String },
    #[error("pepper id {0:?} is longer than 8 characters (it is stored in every password hash)")]
    PepperIdTooLong(String),
    #[error("the keyring document is not valid: {0}")]
    Document(String),
}

/// One set of keys with an active id (used for new data) and older ids (still read).
#[derive(Debug, Clone)]
pub(crate) struct KeySet {
    pub(crate) active: KeyId,
    pub(crate) keys: BTreeMap<KeyId, KeyMaterial>,
}

impl KeySet {
    pub(crate) fn get(&self, set: &'static str, id: &KeyId) -> Result<&KeyMaterial, KeyringError> {
        self.keys.get(id).ok_or_else(|| KeyringError::UnknownKey {
            set,
            id: id.to_string(),
        })
    }

    pub(crate) fn active_key(&self) -> (&KeyId, &KeyMaterial) {
        // `Keyring::from_document` guarantees the active key exists; an empty slice
        // (no material) would make every MAC and seal fail loudly rather than silently.
        match self.keys.get(&self.active) {
            Some(k) => (&self.active, k),
            None => (&self.active, &EMPTY_KEY),
        }
    }
}

static EMPTY_KEY: std::sync::LazyLock<KeyMaterial> =
    std::sync::LazyLock::new(|| KeyMaterial::new(Vec::new()));

/// The serialised keyring: a JSON document kept in a 0600 file in development or
/// handed over in an environment variable in production. Keys are hex.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KeyringDocument {
    pub suite: CipherSuite,
    pub data: KeySetDocument,
    pub index: KeySetDocument,
    pub pepper: KeySetDocument,
    /// Ed25519 seeds fundpass signs payment receipts with (absent in key files made
    /// before receipts existed: `fundpass keys rotate-signing` adds one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing: Option<KeySetDocument>,
}

/// One key set in a [`KeyringDocument`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KeySetDocument {
    pub active: KeyId,
    pub keys: BTreeMap<KeyId, String>,
}

/// All keys fundpass holds, checked for consistency when built.
#[derive(Debug, Clone)]
pub struct Keyring {
    pub(crate) suite: CipherSuite,
    pub(crate) data: KeySet,
    pub(crate) index: KeySet,
    pub(crate) pepper: KeySet,
    pub(crate) signing: Option<KeySet>,
}

impl Keyring {
    /// Length of blind-index and pepper keys.
    pub const MAC_KEY_LEN: usize = 32;
    /// Longest pepper id: it is written into each password hash's PHC `keyid`
    /// field, which holds at most 8 bytes.
    pub const PEPPER_ID_MAX: usize = 8;
    /// Length of an Ed25519 signing seed.
    pub const SIGNING_SEED_LEN: usize = 32;

    /// A fresh keyring with one key of each kind (ids `d1`, `i1`, `p1`).
    pub fn generate(suite: CipherSuite, rng: &dyn SecretGenerator) -> Self {
        let one = |id: &str, len: usize| {
            let mut bytes = vec![0u8; len];
            rng.fill(&mut bytes);
            let id = KeyId(id.to_owned());
            KeySet {
                active: id.clone(),
                keys: BTreeMap::from([(id, KeyMaterial::new(bytes))]),
            }
        };
        Self {
            suite,
            data: one("d1", suite.data_key_len()),
            index: one("i1", Self::MAC_KEY_LEN),
            pepper: one("p1", Self::MAC_KEY_LEN),
            signing: Some(one("s1", Self::SIGNING_SEED_LEN)),
        }
    }

    /// Builds a keyring from its document, checking every key's length and that each
    /// active id names a key.
    pub fn from_document(doc: &KeyringDocument) -> Result<Self, KeyringError> {
        let set = |name: &'static str, d: &KeySetDocument, len: usize| {
            let mut keys = BTreeMap::new();
            for (id, hexkey) in &d.keys {
                let bytes = hex::decode(hexkey.trim()).map_err(|_| KeyringError::BadHex {
                    set: name,
                    id: id.to_string(),
                })?;
                if bytes.len() != len {
                    return Err(KeyringError::BadLength {
                        set: name,
                        id: id.to_string(),
                        expected: len,
                        actual: bytes.len(),
                    });
                }
                keys.insert(id.clone(), KeyMaterial::new(bytes));
            }
            if !keys.contains_key(&d.active) {
                return Err(KeyringError::MissingActive {
                    set: name,
                    id: d.active.to_string(),
                });
            }
            Ok(KeySet {
                active: d.active.clone(),
                keys,
            })
        };
        if let Some(long) = doc
            .pepper
            .keys
            .keys()
            .find(|id| id.as_str().len() > Self::PEPPER_ID_MAX)
        {
            return Err(KeyringError::PepperIdTooLong(long.to_string()));
        }
        Ok(Self {
            suite: doc.suite,
            data: set("data", &doc.data, doc.suite.data_key_len())?,
            index: set("index", &doc.index, Self::MAC_KEY_LEN)?,
            pepper: set("pepper", &doc.pepper, Self::MAC_KEY_LEN)?,
            signing: doc
                .signing
                .as_ref()
                .map(|d| set("signing", d, Self::SIGNING_SEED_LEN))
                .transpose()?,
        })
    }

    /// Parses a JSON keyring document.
    pub fn from_json(json: &str) -> Result<Self, KeyringError> {
        let doc: KeyringDocument =
            serde_json::from_str(json).map_err(|e| KeyringError::Document(e.to_string()))?;
        Self::from_document(&doc)
    }

    /// The document form, for writing the key file.
    pub fn to_document(&self) -> KeyringDocument {
        let set = |s: &KeySet| KeySetDocument {
            active: s.active.clone(),
            keys: s
                .keys
                .iter()
                .map(|(id, k)| (id.clone(), hex::encode(k.expose())))
                .collect(),
        };
        KeyringDocument {
            suite: self.suite,
            data: set(&self.data),
            index: set(&self.index),
            pepper: set(&self.pepper),
            signing: self.signing.as_ref().map(set),
        }
    }

    /// The algorithms in use.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// Id of the data key new values are sealed with.
    pub fn active_data_key(&self) -> &KeyId {
        &self.data.active
    }

    /// Id of the key blind indexes are computed with.
    pub fn active_index_key(&self) -> &KeyId {
        &self.index.active
    }

    /// Id of the pepper new password hashes use.
    pub fn active_pepper(&self) -> &KeyId {
        &self.pepper.active
    }

    /// Ids of all data keys, active one included.
    pub fn data_key_ids(&self) -> Vec<KeyId> {
        self.data.keys.keys().cloned().collect()
    }

    /// Adds a new data key and makes it active; older keys stay for reading until
    /// everything is re-sealed. Returns the new id.
    pub fn rotate_data_key(&mut self, rng: &dyn SecretGenerator) -> KeyId {
        let len = self.suite.data_key_len();
        rotate(&mut self.data, 'd', len, rng)
    }

    /// Adds a new pepper and makes it active; hashes made with older peppers are
    /// re-made at the member's next successful login.
    pub fn rotate_pepper(&mut self, rng: &dyn SecretGenerator) -> KeyId {
        rotate(&mut self.pepper, 'p', Self::MAC_KEY_LEN, rng)
    }

    /// Drops data keys other than the active one, once nothing is sealed with them.
    pub fn retire_old_data_keys(&mut self) -> Vec<KeyId> {
        let active = self.data.active.clone();
        let old: Vec<KeyId> = self
            .data
            .keys
            .keys()
            .filter(|k| **k != active)
            .cloned()
            .collect();
        for id in &old {
            self.data.keys.remove(id);
        }
        old
    }

    /// Keyed MAC of `input` under the pepper `id` (the active pepper when `None`):
    /// the value Argon2id hashes, so a stolen database alone cannot be brute-forced.
    pub fn pepper_mac(
        &self,
        id: Option<&KeyId>,
        input: &[u8],
    ) -> Result<(KeyId, [u8; 32]), KeyringError> {
        let (id, key) = match id {
            Some(id) => (id, self.pepper.get("pepper", id)?),
            None => self.pepper.active_key(),
        };
        Ok((
            id.clone(),
            super::mac::mac(self.suite, key.expose(), &[b"pepper", input]),
        ))
    }
}

pub(super) fn rotate(
    set: &mut KeySet,
    prefix: char,
    len: usize,
    rng: &dyn SecretGenerator,
) -> KeyId {
    // One past the highest number ever in the set (and past the active id), so a
    // retired id is never given to a new key: published ids (receipt keys) and ids in
    // stored values must keep naming one key.
    let number = |id: &KeyId| {
        id.as_str()
            .strip_prefix(prefix)
            .and_then(|n| n.parse::<usize>().ok())
    };
    let highest = set
        .keys
        .keys()
        .chain(std::iter::once(&set.active))
        .filter_map(number)
        .max()
        .unwrap_or(0);
    let mut n = highest.max(set.keys.len()) + 1;
    let id = loop {
        let candidate = KeyId(format!("{prefix}{n}"));
        if !set.keys.contains_key(&candidate) {
            break candidate;
        }
        n += 1;
    };
    let mut bytes = vec![0u8; len];
    rng.fill(&mut bytes);
    set.keys.insert(id.clone(), KeyMaterial::new(bytes));
    set.active = id.clone();
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::CountingRng;

    #[test]
    fn a_keyring_survives_its_document() {
        for suite in [CipherSuite::Aes256Gcm, CipherSuite::Sm4Gcm] {
            let ring = Keyring::generate(suite, &CountingRng::default());
            let json = serde_json::to_string(&ring.to_document()).unwrap();
            let back = Keyring::from_json(&json).unwrap();
            assert_eq!(back.to_document(), ring.to_document());
            assert_eq!(back.suite(), suite);
        }
    }

    #[test]
    fn a_document_with_a_short_key_or_missing_active_key_is_refused() {
        let ring = Keyring::generate(CipherSuite::Aes256Gcm, &CountingRng::default());
        let mut doc = ring.to_document();
        doc.data
            .keys
            .insert(KeyId::parse("d1").unwrap(), "abcd".into());
        assert!(matches!(
            Keyring::from_document(&doc),
            Err(KeyringError::BadLength {
                expected: 32,
                actual: 2,
                ..
            })
        ));
        let mut doc = ring.to_document();
        doc.pepper.active = KeyId::parse("p9").unwrap();
        assert!(matches!(
            Keyring::from_document(&doc),
            Err(KeyringError::MissingActive { .. })
        ));
    }

    #[test]
    fn debug_output_never_shows_key_bytes() {
        let ring = Keyring::generate(CipherSuite::Aes256Gcm, &CountingRng::default());
        let shown = format!("{ring:?}");
        let hexkey = hex::encode(ring.data.active_key().1.expose());
        assert!(!shown.contains(&hexkey));
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn rotation_adds_a_key_and_keeps_the_old_one_readable() {
        let rng = CountingRng::default();
        let mut ring = Keyring::generate(CipherSuite::Aes256Gcm, &rng);
        let new = ring.rotate_data_key(&rng);
        assert_eq!(new.as_str(), "d2");
        assert_eq!(ring.active_data_key(), &new);
        assert_eq!(ring.data_key_ids().len(), 2);
        assert_eq!(
            ring.retire_old_data_keys(),
            vec![KeyId::parse("d1").unwrap()]
        );
    }

    #[test]
    fn pepper_depends_on_the_key_id() {
        let rng = CountingRng::default();
        let mut ring = Keyring::generate(CipherSuite::Aes256Gcm, &rng);
        let (p1, a) = ring.pepper_mac(None, b"Secret123").unwrap();
        ring.rotate_pepper(&rng);
        let (p2, b) = ring.pepper_mac(None, b"Secret123").unwrap();
        assert_ne!(p1, p2);
        assert_ne!(a, b);
        assert_eq!(ring.pepper_mac(Some(&p1), b"Secret123").unwrap().1, a);
    }
}
