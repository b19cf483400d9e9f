//! The new secret of a change: the rules of its kind with every violation, typed
//! twice, not the current one nor one of the recent ones; hashed on the CPU pool.

use super::{PasswordChangeError, stored};
use crate::audit::Outcome;
use crate::credentials::{PolicyViolation, reused};
use crate::member::{MemberRecord, SecretKind};
use crate::portal::recovery::check_new_secret;
use crate::portal::{Portal, RequestContext};
use crate::ports::{ChangeSet, StoreError, run_on_pool};

impl Portal {
    /// Checks the new secret (the rules of its kind with every violation, typed
    /// twice, not one of the recent ones) and hashes it on the CPU pool. A refusal
    /// is audited with the rules broken, never the secret.
    pub(super) async fn hash_changed_secret(
        &self,
        member: &MemberRecord,
        kind: SecretKind,
        new: &str,
        again: &str,
        ctx: &RequestContext,
    ) -> Result<String, PasswordChangeError> {
        let facts = self.member_facts(member)?;
        let checked = match check_new_secret(self, kind, new, again, &facts) {
            Ok(secret) => self.hash_unless_recent(member, kind, secret).await?,
            Err(refused) => Err(refused),
        };
        match checked {
            Ok(hash) => Ok(hash),
            Err((violations, mismatch)) => {
                let codes: Vec<&str> = violations.iter().map(|v| v.code()).collect();
                let event = self
                    .password_change_event(member, kind, Outcome::Failure, ctx)
                    .details(serde_json::json!({ "reasons": codes, "mismatch": mismatch }));
                self.store
                    .apply(ChangeSet {
                        audit: vec![event],
                        ..ChangeSet::default()
                    })
                    .await?;
                Err(PasswordChangeError::NewSecret {
                    violations,
                    mismatch,
                })
            }
        }
    }

    /// The hash of `secret`, or the reuse refusal when it is the current secret or
    /// one of the recent ones (the login policy's history; for the transaction
    /// password as many as a reset compares).
    async fn hash_unless_recent(
        &self,
        member: &MemberRecord,
        kind: SecretKind,
        secret: String,
    ) -> Result<Result<String, (Vec<PolicyViolation>, bool)>, PasswordChangeError> {
        let history = self.reuse_history(kind);
        let mut previous = self
            .store
            .recent_secret_hashes(member.id, kind, history)
            .await?;
        if let Some(current) = stored(member, kind).filter(|c| !previous.contains(c)) {
            previous.insert(0, current.clone());
            previous.truncate(usize::try_from(history).unwrap_or(0).max(1));
        }
        let (hasher, keyring, rng) = (self.hasher.clone(), self.keyring.clone(), self.rng.clone());
        let secret = secrecy::SecretString::from(secret);
        let hashed = run_on_pool(self.pool.as_ref(), move || {
            use secrecy::ExposeSecret as _;
            let secret = secret.expose_secret();
            if reused(&hasher, &keyring, secret, &previous) {
                return Err(previous.len());
            }
            Ok(hasher.hash(&keyring, secret, rng.as_ref()))
        })
        .await?;
        Ok(match hashed {
            Err(last) => Err((vec![PolicyViolation::Reused { last }], false)),
            Ok(Ok(hash)) => Ok(hash),
            Ok(Err(e)) => return Err(StoreError::Backend(e.to_string()).into()),
        })
    }
}
