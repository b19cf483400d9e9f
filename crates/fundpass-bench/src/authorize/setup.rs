//! The state the verification flood needs, written straight into the store before the
//! server answers anything: registered members, each with a transaction password of
//! its own (hashed with the server's Argon2 costs and pepper), and one business system
//! registered with the public key of the signer the benchmark keeps.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use fundpass_core::clients::{ClientWrite, Scope, ServiceClient};
use fundpass_core::credentials::{PasswordHasher, PolicyContext, TransactionPassword};
use fundpass_core::crypto::{JwsSigner, Keyring};
use fundpass_core::member::{
    AccountNumber, CredentialUpdate, ImportRow, MemberStatus, SecretKind, ValidRow,
};
use fundpass_core::ports::{
    ChangeSet, MemberStore as _, MemberWrite, SecretHistoryEntry, UnitOfWork as _,
};
use fundpass_server::system::OsSecrets;
use fundpass_store::Store;
use time::OffsetDateTime;

/// The business system the benchmark plays.
pub const CLIENT_ID: &str = "bench-payments";
/// Login password of every member (the flood never logs in; registered members have one).
const LOGIN_PASSWORD: &str = "Bench2026pass";

/// A registered member and the transaction password typed on the PIN pad for them.
#[derive(Debug, Clone)]
pub struct Member {
    /// 个人账号, as the business system sends it.
    pub account_no: String,
    /// Six digits that meet the rules for this member.
    pub transaction_password: String,
}

/// The `index`-th made-up member as the fund's core system would export it.
pub fn row(index: usize) -> ImportRow {
    let n = index + 1;
    ImportRow {
        account_no: format!("9{n:011}"),
        name: format!("Bench Member {n}"),
        id_type: "passport".to_owned(),
        id_number: format!("E{n:08}"),
        phone: format!("139{n:08}"),
    }
}

/// A transaction password of the member's own that the rules accept for them: the
/// first of a sequence of candidates spread over all six-digit values.
fn transaction_password(index: usize, row: &ImportRow) -> anyhow::Result<String> {
    let ctx = PolicyContext {
        id_number: Some(&row.id_number),
        phone: Some(&row.phone),
        birth_date: None,
        account_no: Some(&row.account_no),
        name: Some(&row.name),
    };
    for attempt in 0..1000_usize {
        let pin = format!(
            "{:06}",
            (index * 7919 + attempt * 104_729 + 135_792) % 1_000_000
        );
        if TransactionPassword::parse(&pin, &ctx).is_ok() {
            return Ok(pin);
        }
    }
    bail!("no acceptable transaction password for member {index}")
}

/// A member ready to write: the sealed row and both password hashes.
struct Prepared {
    row: ValidRow,
    member: Member,
    login_hash: String,
    transaction_hash: String,
}

/// Validates and hashes `count` members on `threads` threads (two Argon2 hashes each,
/// as registration makes them).
fn prepare(
    count: usize,
    threads: usize,
    hasher: &PasswordHasher,
    keyring: &Keyring,
    now: OffsetDateTime,
) -> anyhow::Result<Vec<Prepared>> {
    let one = |index: usize| -> anyhow::Result<Prepared> {
        let raw = row(index);
        let valid = raw.validate(now.date()).map_err(|problems| {
            anyhow::anyhow!("made-up member {index} is invalid: {problems:?}")
        })?;
        let password = transaction_password(index, &raw)?;
        Ok(Prepared {
            login_hash: hasher.hash(keyring, LOGIN_PASSWORD, &OsSecrets)?,
            transaction_hash: hasher.hash(keyring, &password, &OsSecrets)?,
            row: valid,
            member: Member {
                account_no: raw.account_no,
                transaction_password: password,
            },
        })
    };
    let threads = threads.clamp(1, count.max(1));
    let results: Vec<Vec<anyhow::Result<Prepared>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| scope.spawn(move || (t..count).step_by(threads).map(one).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut all: Vec<Prepared> = results.into_iter().flatten().collect::<Result<_, _>>()?;
    if all.len() != count {
        bail!("a hashing thread failed");
    }
    all.sort_by(|a, b| a.member.account_no.cmp(&b.member.account_no));
    Ok(all)
}

/// Imports `count` members as `fundpass import` does, then registers each (status,
/// both hashes, history) in one unit of work, as registration's last step writes it.
pub async fn members(
    store: &Store,
    hasher: &PasswordHasher,
    keyring: &Keyring,
    count: usize,
    threads: usize,
    now: OffsetDateTime,
) -> anyhow::Result<Vec<Member>> {
    let prepared = prepare(count, threads, hasher, keyring, now)?;
    let rows: Vec<&ValidRow> = prepared.iter().map(|p| &p.row).collect();
    import(store, keyring, &rows, now).await?;
    let mut change = ChangeSet::default();
    for p in &prepared {
        let account = AccountNumber::parse(&p.member.account_no)?;
        let record = store
            .member_by_account(&account)
            .await?
            .with_context(|| format!("member {} was not imported", p.member.account_no))?;
        let mut update = CredentialUpdate::from_record(&record, now);
        update.status = MemberStatus::Registered;
        update.login_hash = Some(p.login_hash.clone());
        update.transaction_hash = Some(p.transaction_hash.clone());
        change.members.push(MemberWrite {
            id: record.id,
            expected_version: record.version,
            update,
        });
        for (kind, hash) in [
            (SecretKind::Login, &p.login_hash),
            (SecretKind::Transaction, &p.transaction_hash),
        ] {
            change.history.push(SecretHistoryEntry {
                member_id: record.id,
                kind,
                hash: hash.clone(),
                at: now,
            });
        }
    }
    store.apply(change).await?;
    Ok(prepared.into_iter().map(|p| p.member).collect())
}

/// Imports validated rows in one all-or-nothing import, as `fundpass import` does;
/// the members stay ordinary (not registered).
pub async fn import(
    store: &Store,
    keyring: &Keyring,
    rows: &[&ValidRow],
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    let sealed: Vec<_> = rows.iter().map(|r| r.seal(keyring, &OsSecrets)).collect();
    let mut import = store.begin_import().await?;
    import.upsert(&sealed, now).await?;
    import.commit().await?;
    Ok(())
}

/// Registers the benchmark's business system with a new Ed25519 key and the scopes
/// the flood and the probe use; returns the key it signs its assertions with.
pub async fn client(store: &Store, now: OffsetDateTime) -> anyhow::Result<Arc<JwsSigner>> {
    let signer = JwsSigner::generate("bench", &OsSecrets);
    let client = ServiceClient {
        id: CLIENT_ID.to_owned(),
        description: "fundpass-bench: direct verification flood".to_owned(),
        scopes: vec![Scope::PaymentsAuthorize, Scope::HoldsRead],
        public_key: signer.public_key(),
        secret_digest: None,
        webhook_url: None,
        webhook_secret: None,
        created_at: now,
        disabled_at: None,
        version: 1,
    };
    store
        .apply(ChangeSet {
            clients: vec![ClientWrite::Insert(client)],
            ..ChangeSet::default()
        })
        .await?;
    Ok(Arc::new(signer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_members_are_valid_and_each_gets_an_acceptable_password() {
        let today = time::macros::date!(2026 - 12 - 07);
        let mut passwords = std::collections::BTreeSet::new();
        for index in 0..200 {
            let raw = row(index);
            assert!(raw.validate(today).is_ok(), "member {index}");
            passwords.insert(transaction_password(index, &raw).unwrap());
        }
        assert!(passwords.len() > 190, "passwords are mostly distinct");
    }
}
