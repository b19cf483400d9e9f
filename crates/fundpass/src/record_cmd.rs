//! `fundpass record verify FILE`: checks a member's security-record download (CSV or
//! JSON) against fundpass's signing keys, so an office can tell whether the file was
//! edited after export.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use fundpass_core::crypto::{Keyring, PublicKey};
use fundpass_core::record::verify;

use crate::cli::RecordVerifyArgs;
use crate::config::Config;
use crate::keys::KEYRING_ENV;

/// Largest file read (a record of some hundred thousand events).
const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Verifies the file; exit code 0 when it is intact, 1 with the reason otherwise. The
/// verdict is the command's output, on standard output.
#[allow(clippy::print_stdout)]
pub fn verify_file(config: &Config, args: &RecordVerifyArgs) -> anyhow::Result<ExitCode> {
    let keys = match &args.jwks {
        Some(path) => keys_from_jwks(path)?,
        None => keys_from_keyring(config)?,
    };
    let size = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?
        .len();
    if size > MAX_FILE_BYTES {
        bail!(
            "{} is larger than {MAX_FILE_BYTES} bytes",
            args.file.display()
        );
    }
    let file = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    match verify(&file, &keys) {
        Ok(ok) => {
            println!(
                "intact: security record of account {}, exported {} ({}, {} events), signed with key {}",
                ok.account_no,
                ok.exported_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                ok.format,
                ok.entries,
                ok.kid
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            println!("NOT VALID: {err}");
            Ok(ExitCode::from(1))
        }
    }
}

/// The signing keys of this installation's keyring (never creating one).
fn keys_from_keyring(config: &Config) -> anyhow::Result<Vec<(String, PublicKey)>> {
    let json = match std::env::var(KEYRING_ENV) {
        Ok(json) => json,
        Err(_) => {
            let path = config.key_file();
            std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "cannot read the key file {} (or give the published key set with --jwks)",
                    path.display()
                )
            })?
        }
    };
    let ring = Keyring::from_json(&json).context("the keyring is not valid")?;
    let keys: Vec<_> = ring
        .receipt_keys()
        .into_iter()
        .map(|(id, key)| (id.as_str().to_owned(), key))
        .collect();
    if keys.is_empty() {
        bail!("the keyring has no signing key");
    }
    Ok(keys)
}

/// The keys of a published JWK set (`/internal/v1/jwks.json`, saved to a file).
fn keys_from_jwks(path: &Path) -> anyhow::Result<Vec<(String, PublicKey)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let set: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let Some(list) = set["keys"].as_array() else {
        bail!("{} is not a JWK set (no \"keys\" array)", path.display());
    };
    let mut keys = Vec::new();
    for jwk in list {
        let Some(kid) = jwk["kid"].as_str() else {
            continue;
        };
        let key = PublicKey::from_jwk(&jwk.to_string())
            .with_context(|| format!("key {kid:?} of {} is not valid", path.display()))?;
        keys.push((kid.to_owned(), key));
    }
    if keys.is_empty() {
        bail!("{} holds no key with a \"kid\"", path.display());
    }
    Ok(keys)
}
