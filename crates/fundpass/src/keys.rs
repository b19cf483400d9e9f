//! The key file and `fundpass keys`: loading, first-run creation, listing and rotation.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use fundpass_core::audit::Outcome;
use fundpass_core::crypto::{Field, KeyId, Keyring};
use fundpass_core::member::{MemberId, PiiUpdate};
use fundpass_core::ports::{Clock, MemberStore, SecretGenerator, StoreError};
use serde_json::json;

use crate::cli::{KeysCommand, RotateArgs};
use crate::config::{Config, Mode};
use crate::context::Context;

/// Environment variable holding the whole keyring document (production).
pub const KEYRING_ENV: &str = "FUNDPASS_KEYRING";

/// Loads the keyring from FUNDPASS_KEYRING, else from the key file; in dev mode a
/// missing key file is created (mode 0600).
pub fn load_or_create_keyring(
    config: &Config,
    rng: &dyn SecretGenerator,
) -> anyhow::Result<Keyring> {
    if let Ok(json) = std::env::var(KEYRING_ENV) {
        return Keyring::from_json(&json)
            .with_context(|| format!("{KEYRING_ENV} is not a valid keyring"));
    }
    let path = config.key_file();
    match std::fs::read_to_string(&path) {
        Ok(json) => Keyring::from_json(&json)
            .with_context(|| format!("key file {} is not a valid keyring", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            if config.mode == Mode::Production {
                bail!(
                    "no keys: production mode needs {KEYRING_ENV} or the key file {}",
                    path.display()
                );
            }
            let ring = Keyring::generate(config.keys.suite, rng);
            write_key_file(&path, &ring, true)?;
            crate::system::say(format!(
                "created a new key file {} (keep a backup: without it the personal data cannot be read)",
                path.display()
            ));
            Ok(ring)
        }
        Err(err) => Err(err).with_context(|| format!("cannot read key file {}", path.display())),
    }
}

/// Writes the key file with owner-only permissions: to a temporary file first, then
/// renamed, so a crash never leaves a half-written key file.
pub fn write_key_file(path: &Path, ring: &Keyring, create_new: bool) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(&ring.to_document())?;
    let tmp = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(json.as_bytes())?;
    file.sync_all()?;
    if create_new && path.exists() {
        let _ = std::fs::remove_file(&tmp);
        bail!(
            "key file {} appeared while a new one was being made; not overwritten",
            path.display()
        );
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// `fundpass keys …`.
pub async fn command(config: &Config, cmd: &KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::List | KeysCommand::Init => {
            let ring = load_or_create_keyring(config, &crate::system::OsSecrets)?;
            let doc = ring.to_document();
            eprintln!("suite:  {}", ring.suite().name());
            for (name, set) in [
                ("data", &doc.data),
                ("index", &doc.index),
                ("pepper", &doc.pepper),
            ] {
                eprintln!("{name:7} {}", key_ids(&set.active, &set.keys));
            }
            match &doc.signing {
                Some(set) => eprintln!("signing {}", key_ids(&set.active, &set.keys)),
                None => eprintln!(
                    "signing none: payment receipts cannot be signed (run `fundpass keys \
                     rotate-signing`)"
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Rotate(args) => rotate_data_key(config, args).await,
        KeysCommand::RotatePepper => {
            let mut ctx = writable_context(config).await?;
            let id = ctx.keyring.rotate_pepper(&ctx.rng);
            write_key_file(&config.key_file(), &ctx.keyring, false)?;
            ctx.audit_operator(
                "keys.rotate_pepper",
                Outcome::Success,
                json!({"new_pepper": id.as_str()}),
            )
            .await?;
            eprintln!("new pepper {id} is active; hashes move to it at each member's next login");
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::RotateSigning => rotate_signing_key(config).await,
        KeysCommand::RetireSigning => retire_signing_keys(config).await,
    }
}

/// Adds a receipt-signing key and makes it active; the old ones stay in the published
/// key set so that receipts they signed still verify.
async fn rotate_signing_key(config: &Config) -> anyhow::Result<ExitCode> {
    let mut ctx = writable_context(config).await?;
    let id = ctx.keyring.rotate_signing_key(&ctx.rng);
    write_key_file(&config.key_file(), &ctx.keyring, false)?;
    let published: Vec<String> = ctx
        .keyring
        .receipt_keys()
        .into_iter()
        .map(|(kid, _)| kid.to_string())
        .collect();
    ctx.audit_operator(
        "keys.rotate_signing",
        Outcome::Success,
        json!({"new_key": id.as_str(), "published": published}),
    )
    .await?;
    eprintln!(
        "new receipt-signing key {id} is active (published: {}); restart `fundpass serve` to \
         sign with it, and run `fundpass keys retire-signing` once receipts signed with the \
         old keys are captured or expired",
        published.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Drops the receipt-signing keys other than the active one.
async fn retire_signing_keys(config: &Config) -> anyhow::Result<ExitCode> {
    let mut ctx = writable_context(config).await?;
    if ctx.keyring.receipt_signer().is_none() {
        bail!("the keys have no receipt-signing key: add one with `fundpass keys rotate-signing`");
    }
    let retired = ctx.keyring.retire_old_signing_keys();
    if !retired.is_empty() {
        write_key_file(&config.key_file(), &ctx.keyring, false)?;
    }
    let retired: Vec<&str> = retired.iter().map(|k| k.as_str()).collect();
    ctx.audit_operator(
        "keys.retire_signing",
        Outcome::Success,
        json!({"retired": retired}),
    )
    .await?;
    if retired.is_empty() {
        eprintln!("no old receipt-signing keys to retire");
    } else {
        eprintln!(
            "retired receipt-signing keys {}; restart `fundpass serve` to stop publishing them",
            retired.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A key set's ids, the active one marked.
fn key_ids<V>(active: &KeyId, keys: &std::collections::BTreeMap<KeyId, V>) -> String {
    let ids: Vec<String> = keys
        .keys()
        .map(|id| {
            if id == active {
                format!("{id} (active)")
            } else {
                id.to_string()
            }
        })
        .collect();
    ids.join(", ")
}

async fn writable_context(config: &Config) -> anyhow::Result<Context> {
    if std::env::var_os(KEYRING_ENV).is_some() {
        bail!(
            "the keys come from {KEYRING_ENV}: rotate them where that document is kept, then \
             run this command with a key file"
        );
    }
    Context::open(config).await
}

/// Adds a data key, saves it, re-seals every member with it in batches, then retires
/// the old keys. Safe to run again after an interruption: members already sealed with
/// the active key are skipped.
async fn rotate_data_key(config: &Config, args: &RotateArgs) -> anyhow::Result<ExitCode> {
    let mut ctx = writable_context(config).await?;
    let path = config.key_file();
    let new_id = ctx.keyring.rotate_data_key(&ctx.rng);
    write_key_file(&path, &ctx.keyring, false)?;
    eprintln!("new data key {new_id} is active; re-encrypting members…");
    let total = ctx.store.member_count().await?;
    let bar = crate::import::progress_bar(total, false);
    let mut after = MemberId(0);
    let mut resealed = 0u64;
    loop {
        let batch = ctx.store.members_after(after, args.batch_size).await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        for member in &batch {
            if reseal(&ctx, member).await? {
                resealed += 1;
            }
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let staff_resealed = crate::staff_cmd::reseal_totp_secrets(&ctx).await?;
    let retired = ctx.keyring.retire_old_data_keys();
    write_key_file(&path, &ctx.keyring, false)?;
    let retired: Vec<&str> = retired.iter().map(|k| k.as_str()).collect();
    ctx.audit_operator(
        "keys.rotate_data",
        Outcome::Success,
        json!({
            "new_key": new_id.as_str(),
            "retired": retired,
            "members_resealed": resealed,
            "staff_resealed": staff_resealed,
        }),
    )
    .await?;
    eprintln!(
        "re-encrypted {resealed} members with {new_id}; retired {}",
        retired.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Re-seals one member if it is not under the active key; retries once if the row
/// changed in between.
async fn reseal(
    ctx: &Context,
    member: &fundpass_core::member::MemberRecord,
) -> anyhow::Result<bool> {
    let active = ctx.keyring.active_data_key();
    let mut current = member.clone();
    for _ in 0..3 {
        let id_key = current.id_number.key_id()?;
        let phone_key = current.phone.key_id()?;
        if &id_key == active && &phone_key == active {
            return Ok(false);
        }
        let id = ctx.keyring.open(Field::IdNumber, &current.id_number)?;
        let phone = ctx.keyring.open(Field::Phone, &current.phone)?;
        let update = PiiUpdate {
            id_number: ctx.keyring.seal(Field::IdNumber, &id, &ctx.rng),
            id_number_index: ctx.keyring.blind_index(Field::IdNumber, &id),
            phone: ctx.keyring.seal(Field::Phone, &phone, &ctx.rng),
            phone_index: ctx.keyring.blind_index(Field::Phone, &phone),
            at: ctx.clock.now(),
        };
        match ctx
            .store
            .update_pii(current.id, current.version, &update)
            .await
        {
            Ok(()) => return Ok(true),
            Err(StoreError::Conflict) => {
                current = match ctx.store.member_by_id(current.id).await? {
                    Some(m) => m,
                    None => return Ok(false),
                };
            }
            Err(StoreError::NotFound) => return Ok(false),
            Err(err) => return Err(err.into()),
        }
    }
    bail!(
        "member {} kept changing during key rotation; run the rotation again",
        current.id.0
    )
}
