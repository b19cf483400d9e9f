//! The keyring's receipt-signing keys: the Ed25519 seeds fundpass signs payment
//! receipts with, rotated like the other key sets and published (public halves) for
//! business systems to verify offline.

use std::collections::BTreeMap;

use super::keyring::{KeySet, Keyring, rotate};
use super::{JwsSigner, KeyId, PublicKey};
use crate::ports::SecretGenerator;

impl Keyring {
    /// Adds a new receipt-signing key and makes it active; older ones stay published
    /// so receipts signed with them still verify. Returns the new id.
    pub fn rotate_signing_key(&mut self, rng: &dyn SecretGenerator) -> KeyId {
        match &mut self.signing {
            Some(set) => rotate(set, 's', Self::SIGNING_SEED_LEN, rng),
            None => {
                let mut set = KeySet {
                    active: KeyId("s0".to_owned()),
                    keys: BTreeMap::new(),
                };
                let id = rotate(&mut set, 's', Self::SIGNING_SEED_LEN, rng);
                self.signing = Some(set);
                id
            }
        }
    }

    /// Drops receipt-signing keys other than the active one (after every receipt
    /// signed with them has been captured or has expired).
    pub fn retire_old_signing_keys(&mut self) -> Vec<KeyId> {
        let Some(set) = &mut self.signing else {
            return Vec::new();
        };
        let old: Vec<KeyId> = set
            .keys
            .keys()
            .filter(|k| **k != set.active)
            .cloned()
            .collect();
        for id in &old {
            set.keys.remove(id);
        }
        old
    }

    /// The active receipt-signing key, if the keyring has one.
    pub fn receipt_signer(&self) -> Option<JwsSigner> {
        let set = self.signing.as_ref()?;
        let seed: &[u8; 32] = set.keys.get(&set.active)?.expose().try_into().ok()?;
        Some(JwsSigner::from_seed(set.active.as_str(), seed))
    }

    /// Every receipt-signing public key with its id, active one included, for the
    /// published key set.
    pub fn receipt_keys(&self) -> Vec<(KeyId, PublicKey)> {
        let Some(set) = &self.signing else {
            return Vec::new();
        };
        set.keys
            .iter()
            .filter_map(|(id, k)| {
                let seed: &[u8; 32] = k.expose().try_into().ok()?;
                Some((
                    id.clone(),
                    JwsSigner::from_seed(id.as_str(), seed).public_key(),
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CipherSuite;
    use crate::testing::CountingRng;

    #[test]
    fn a_retired_signing_key_id_is_never_given_to_a_new_key() {
        let rng = CountingRng::default();
        let mut ring = Keyring::generate(CipherSuite::Aes256Gcm, &rng);
        ring.rotate_signing_key(&rng);
        let s3 = ring.rotate_signing_key(&rng);
        assert_eq!(s3.as_str(), "s3");
        ring.retire_old_signing_keys();
        assert_eq!(ring.rotate_signing_key(&rng).as_str(), "s4");
        let ids: Vec<String> = ring
            .receipt_keys()
            .into_iter()
            .map(|(id, _)| id.as_str().to_owned())
            .collect();
        assert_eq!(ids, ["s3", "s4"]);
        assert_eq!(
            ring.receipt_signer().map(|s| s.kid().to_owned()),
            Some("s4".into())
        );
    }
}
