//! `keygen`: the business system's own Ed25519 key pair. The private key stays with the
//! business system (PKCS#8 PEM, readable by its owner only); the public key goes to
//! fundpass's administrator as a JWK, who registers it with `fundpass clients add`.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, KeypairBytes};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{out, system};

/// The private key's file name in `--out`.
pub const PRIVATE_KEY_FILE: &str = "client.key.pem";
/// The public key's file name in `--out`.
pub const PUBLIC_JWK_FILE: &str = "client.jwk.json";

/// Options of `keygen`.
#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Folder to write `client.key.pem` and `client.jwk.json` to (created if missing).
    #[arg(long)]
    pub out: PathBuf,
}

/// Writes a new key pair; never overwrites an existing key.
pub fn command(args: &KeygenArgs) -> anyhow::Result<ExitCode> {
    let seed = Zeroizing::new(system::random_bytes::<32>()?);
    let key = SigningKey::from_bytes(&seed);
    let (private, public) = write_key_pair(&key, &args.out)?;
    let verifying = key.verifying_key();
    out::line(&format!(
        "private key: {} (mode 0600; keep it secret)",
        private.display()
    ));
    out::line(&format!("public key:  {}", public.display()));
    out::line(&format!(
        "thumbprint:  {} (RFC 7638)",
        thumbprint(&verifying)
    ));
    out::line("\nGive the public key to fundpass's administrator, who registers it:");
    out::line(&format!(
        "  fundpass clients add --name withdrawals \
         --scopes payments:authorize,holds:read,members:read,tokens:introspect \
         --public-key {}",
        public.display()
    ));
    Ok(ExitCode::SUCCESS)
}

/// Writes `key` into `dir`: the PKCS#8 PEM private key (mode 0600, created new) and
/// the public JWK. Returns both paths.
pub fn write_key_pair(key: &SigningKey, dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    let private = dir.join(PRIVATE_KEY_FILE);
    let public = dir.join(PUBLIC_JWK_FILE);
    for path in [&private, &public] {
        if path.exists() {
            anyhow::bail!(
                "{} already exists; a key is never overwritten (remove it, or choose another --out)",
                path.display()
            );
        }
    }
    let pem = pkcs8_v1(key)
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("cannot encode the private key as PKCS#8: {e}"))?;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&private)
        .with_context(|| format!("cannot create {}", private.display()))?;
    file.write_all(pem.as_bytes())
        .with_context(|| format!("cannot write {}", private.display()))?;
    let jwk = serde_json::to_string_pretty(&public_jwk(&key.verifying_key()))?;
    std::fs::write(&public, format!("{jwk}\n"))
        .with_context(|| format!("cannot write {}", public.display()))?;
    Ok((private, public))
}

/// The key as a PKCS#8 v1 document (RFC 8410 §7: the seed alone), the form
/// `openssl genpkey -algorithm ED25519` writes and every JOSE library reads. (The v2
/// form, with the public key inside, is refused by OpenSSL 3.0.)
pub fn pkcs8_v1(key: &SigningKey) -> KeypairBytes {
    KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    }
}

/// Reads the private key `keygen` wrote (any unencrypted PKCS#8 PEM Ed25519 key).
pub fn read_private_key(path: &Path) -> anyhow::Result<SigningKey> {
    warn_if_readable_by_others(path);
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the private key {}", path.display()))?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
        anyhow::anyhow!(
            "{} is not an unencrypted PKCS#8 PEM Ed25519 private key ({e})",
            path.display()
        )
    })
}

/// The public key as a JWK (RFC 8037), with its thumbprint as `kid`.
pub fn public_jwk(key: &VerifyingKey) -> serde_json::Value {
    serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": URL_SAFE_NO_PAD.encode(key.as_bytes()),
        "kid": thumbprint(key),
        "alg": "EdDSA",
        "use": "sig",
    })
}

/// The RFC 7638 thumbprint: SHA-256 over the required members in lexical order,
/// base64url. fundpass names registered keys the same way.
pub fn thumbprint(key: &VerifyingKey) -> String {
    let canonical = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(key.as_bytes())
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        eprintln!(
            "warning: {} can be read by other users; run `chmod 600` on it",
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_8037_example_key_has_the_published_thumbprint() {
        let x = URL_SAFE_NO_PAD
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .unwrap();
        let key = VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
        assert_eq!(
            thumbprint(&key),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn a_key_pair_is_written_private_and_read_back_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_bytes(&[7; 32]);
        let (private, public) = write_key_pair(&key, dir.path()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&private).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            read_private_key(&private).unwrap().to_bytes(),
            key.to_bytes()
        );
        let pem = std::fs::read_to_string(&private).unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        assert_eq!(
            der.len(),
            48,
            "PKCS#8 v1, as RFC 8410 §7 and OpenSSL write it"
        );
        let jwk: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&public).unwrap()).unwrap();
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert!(
            jwk.get("d").is_none(),
            "the public file holds no private part"
        );
        let again = write_key_pair(&SigningKey::from_bytes(&[8; 32]), dir.path());
        assert!(again.unwrap_err().to_string().contains("never overwritten"));
        assert_eq!(
            read_private_key(&private).unwrap().to_bytes(),
            key.to_bytes()
        );
    }
}
