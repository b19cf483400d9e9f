//! The members whose events fill the trail, imported as `fundpass import` writes
//! them, and the signed-in session the record is read through: a session row stored
//! as a login stores it, checked by [`Portal::authenticate`] as every page is.

use std::sync::Arc;

use anyhow::Context as _;
use fundpass_core::credentials::{HashParams, PasswordHasher};
use fundpass_core::crypto::{CipherSuite, Keyring, OpaqueToken};
use fundpass_core::member::{AccountNumber, ImportRow, MemberId};
use fundpass_core::portal::{Authenticated, Portal, PortalPolicy, SmsTemplates};
use fundpass_core::ports::{ChangeSet, MemberStore as _, SessionWrite, UnitOfWork as _};
use fundpass_core::session::{ClientKind, SessionRecord, SessionScope};
use fundpass_server::hash_pool::HashPool;
use fundpass_server::system::{OsSecrets, SystemClock};
use fundpass_store::Store;

/// The `index`-th made-up member (0 is the one whose record is read).
fn row(index: u64) -> ImportRow {
    let n = index + 1;
    ImportRow {
        account_no: format!("8{n:011}"),
        name: format!("Record Member {n}"),
        id_type: "passport".to_owned(),
        id_number: format!("R{n:08}"),
        phone: format!("138{n:08}"),
    }
}

/// The portal over `store`, wired as `fundpass serve` wires it (system clock, the
/// operating system's randomness, default rules). The record read hashes nothing, so
/// the Argon2 pool is the smallest there is.
pub fn portal(store: &Store) -> anyhow::Result<Portal> {
    Ok(Portal {
        store: Arc::new(store.clone()),
        captchas: Arc::new(store.clone()),
        limiter: Arc::new(store.clone()),
        pool: Arc::new(HashPool::new(1, 4)),
        keyring: Arc::new(Keyring::generate(CipherSuite::Aes256Gcm, &OsSecrets)),
        hasher: Arc::new(PasswordHasher::new(HashParams::default())?),
        clock: Arc::new(SystemClock),
        rng: Arc::new(OsSecrets),
        policy: PortalPolicy::default(),
        templates: SmsTemplates::default(),
        face_provider: None,
    })
}

/// Imports `1 + others` members in one import; returns their ids, the reader first.
pub async fn import(portal: &Portal, store: &Store, others: u64) -> anyhow::Result<Vec<MemberId>> {
    let now = portal.clock.now();
    let rows: Vec<ImportRow> = (0..=others).map(row).collect();
    let mut sealed = Vec::with_capacity(rows.len());
    for (index, raw) in rows.iter().enumerate() {
        let valid = raw.validate(now.date()).map_err(|problems| {
            anyhow::anyhow!("made-up member {index} is invalid: {problems:?}")
        })?;
        sealed.push(valid.seal(&portal.keyring, &OsSecrets));
    }
    let mut import = store.begin_import().await?;
    import.upsert(&sealed, now).await?;
    import.commit().await?;
    let mut ids = Vec::with_capacity(rows.len());
    for raw in &rows {
        let account = AccountNumber::parse(&raw.account_no)?;
        let member = store
            .member_by_account(&account)
            .await?
            .with_context(|| format!("member {} was not imported", raw.account_no))?;
        ids.push(member.id);
    }
    Ok(ids)
}

/// Stores a full web session for `member` and authenticates its token, as the
/// record page does before it reads.
pub async fn sign_in(
    portal: &Portal,
    store: &Store,
    member: MemberId,
) -> anyhow::Result<Authenticated> {
    let now = portal.clock.now();
    let token = OpaqueToken::generate(&OsSecrets);
    let csrf = OpaqueToken::generate(&OsSecrets).expose().to_owned();
    let session = SessionRecord {
        token: token.digest(),
        member_id: member,
        client: ClientKind::Web,
        scope: SessionScope::Full,
        csrf,
        created_at: now,
        last_seen_at: now,
        ip: Some("203.0.113.7".to_owned()),
        user_agent: Some("fundpass-bench".to_owned()),
        revoked_at: None,
    };
    store
        .apply(ChangeSet {
            sessions: vec![SessionWrite::Insert(session)],
            ..ChangeSet::default()
        })
        .await?;
    portal
        .authenticate(token.expose(), ClientKind::Web)
        .await
        .map_err(|e| anyhow::anyhow!("the benchmark's session did not authenticate: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_members_are_valid() {
        let today = time::macros::date!(2026 - 12 - 07);
        for index in [0, 1, 999, 1000, 99_999] {
            assert!(row(index).validate(today).is_ok(), "member {index}");
        }
    }
}
