//! Downloads of the security record that an office can check were not edited.
//!
//! Both formats carry the time of export and an integrity value: a compact JWS
//! (`alg` `EdDSA`, `typ` [`EXPORT_TYP`]) signed with the keyring's active signing key
//! (the one whose public half `/internal/v1/jwks.json` publishes) over the claims
//! `iss` (`fundpass`), `sub` (the account number), `iat` (the export time, Unix
//! seconds), `format` (`json` or `csv`), `entries` and `sha256` (hex SHA-256 of the
//! signed content).
//!
//! - JSON: `{"record":<content>,"integrity":"<jws>"}`; the content is the exact bytes
//!   of the `record` value.
//! - CSV: the content is every byte before the last line, which is
//!   `integrity,<jws>` (the file starts with a UTF-8 byte-order mark, part of the
//!   content).
//!
//! [`verify`] checks a file of either kind: one changed byte anywhere in the content
//! or in the JWS fails it.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{MAX_PAGE, RecordEntry};
use crate::audit::Outcome;
use crate::crypto::{JwsSigner, Keyring, PublicKey, jws};
use crate::payout::receipt::RECEIPT_ISSUER;
use crate::portal::{Authenticated, Portal, RequestContext};
use crate::ports::{ChangeSet, StoreError};

/// The JWS `typ` of a record download's integrity value.
pub const EXPORT_TYP: &str = "security-record+jwt";
/// The audit action of a download.
const ACTION: &str = "member.record_export";
/// The first field of the CSV line that holds the integrity value.
const CSV_MARK: &[u8] = b"integrity,";
/// The longest integrity value read.
const MAX_JWS: usize = 4096;

/// A download's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Csv,
}

impl ExportFormat {
    pub fn code(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
        }
    }
}

/// The whole record, ready to be written out in one format.
#[derive(Debug)]
pub struct RecordExport {
    pub account_no: String,
    pub exported_at: OffsetDateTime,
    /// Every entry, newest first.
    pub entries: Vec<RecordEntry>,
    format: ExportFormat,
}

impl RecordExport {
    /// An export of `entries` (newest first) of account `account_no`, made at
    /// `exported_at`, to be written out as `format`.
    pub fn new(
        account_no: String,
        exported_at: OffsetDateTime,
        entries: Vec<RecordEntry>,
        format: ExportFormat,
    ) -> Self {
        Self {
            account_no,
            exported_at,
            entries,
            format,
        }
    }

    pub fn format(&self) -> ExportFormat {
        self.format
    }
}

/// Why a download could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the keyring has no signing key")]
    NoSigningKey,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a good integrity value says about its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub account_no: String,
    pub exported_at: OffsetDateTime,
    pub format: String,
    pub entries: u64,
    /// The signing key's id.
    pub kid: String,
}

/// Why a file did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("this is not a fundpass security-record download (no integrity value found)")]
    NotAnExport,
    #[error("the integrity value is malformed")]
    Malformed,
    #[error("the integrity value was signed with key {0:?}, which is not among the known keys")]
    UnknownKey(String),
    #[error("the signature does not match: the integrity value was altered or made elsewhere")]
    BadSignature,
    #[error("the content was changed after export (its SHA-256 differs from the signed one)")]
    ContentChanged,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    iat: i64,
    format: String,
    entries: u64,
    sha256: String,
}

impl Portal {
    /// Every entry of the signed-in member's record for a download, and the download
    /// audited (its format only) in the same step.
    pub async fn export_record(
        &self,
        auth: &Authenticated,
        format: ExportFormat,
        ctx: &RequestContext,
    ) -> Result<RecordExport, ExportError> {
        if self.keyring.receipt_signer().is_none() {
            return Err(ExportError::NoSigningKey);
        }
        let exported_at = self.clock.now();
        let mut entries = Vec::new();
        let mut before = None;
        loop {
            let page = self.security_record(auth, before, None, MAX_PAGE).await?;
            entries.extend(page.entries);
            match page.next_before {
                Some(next) => before = Some(next),
                None => break,
            }
        }
        let event = self
            .recovery_event(ACTION, Outcome::Success, Some(auth.member.id), ctx)
            .details(serde_json::json!({ "format": format.code(), "entries": entries.len() }));
        self.store
            .apply(ChangeSet {
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await?;
        Ok(RecordExport::new(
            auth.member.account_no.as_str().to_owned(),
            exported_at,
            entries,
            format,
        ))
    }

    /// The download file: `content` (the written-out export) sealed with its
    /// integrity value.
    pub fn seal_record(
        &self,
        export: &RecordExport,
        content: &[u8],
    ) -> Result<SealedExport, ExportError> {
        seal_with(&self.keyring, export, content)
    }
}

/// A download file and the integrity value it carries.
#[derive(Debug)]
pub struct SealedExport {
    pub file: Vec<u8>,
    /// The compact JWS.
    pub integrity: String,
}

/// `content` sealed with the keyring's active signing key.
pub fn seal_with(
    keyring: &Keyring,
    export: &RecordExport,
    content: &[u8],
) -> Result<SealedExport, ExportError> {
    let signer = keyring.receipt_signer().ok_or(ExportError::NoSigningKey)?;
    Ok(seal(&signer, export, content))
}

/// `content` and its integrity value, signed by `signer`, as one file.
fn seal(signer: &JwsSigner, export: &RecordExport, content: &[u8]) -> SealedExport {
    let claims = serde_json::json!({
        "iss": RECEIPT_ISSUER,
        "sub": export.account_no,
        "iat": export.exported_at.unix_timestamp(),
        "format": export.format.code(),
        "entries": export.entries.len(),
        "sha256": hex::encode(Sha256::digest(content)),
    });
    let token = signer.sign(EXPORT_TYP, &claims);
    let mut file = Vec::with_capacity(content.len() + token.len() + 32);
    match export.format {
        ExportFormat::Json => {
            file.extend_from_slice(b"{\"record\":");
            file.extend_from_slice(content);
            file.extend_from_slice(b",\"integrity\":\"");
            file.extend_from_slice(token.as_bytes());
            file.extend_from_slice(b"\"}\n");
        }
        ExportFormat::Csv => {
            file.extend_from_slice(content);
            file.extend_from_slice(CSV_MARK);
            file.extend_from_slice(token.as_bytes());
            file.extend_from_slice(b"\r\n");
        }
    }
    SealedExport {
        file,
        integrity: token,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonFile<'a> {
    #[serde(borrow)]
    record: &'a serde_json::value::RawValue,
    integrity: String,
}

/// Checks a download against `keys` (key id and public key: the keyring's signing
/// keys, or a published key set).
pub fn verify(file: &[u8], keys: &[(String, PublicKey)]) -> Result<Verified, VerifyError> {
    let (content, token) = split_file(file)?;
    let parts = jws::split(&token, MAX_JWS).ok_or(VerifyError::Malformed)?;
    let header: serde_json::Value =
        serde_json::from_slice(&parts.header).map_err(|_| VerifyError::Malformed)?;
    if header["alg"] != "EdDSA" || header["typ"] != EXPORT_TYP {
        return Err(VerifyError::Malformed);
    }
    let kid = header["kid"].as_str().ok_or(VerifyError::Malformed)?;
    let (_, key) = keys
        .iter()
        .find(|(id, _)| id == kid)
        .ok_or_else(|| VerifyError::UnknownKey(kid.to_owned()))?;
    if !key.verifies(parts.signing_input.as_bytes(), &parts.signature) {
        return Err(VerifyError::BadSignature);
    }
    let claims: Claims =
        serde_json::from_slice(&parts.payload).map_err(|_| VerifyError::Malformed)?;
    if claims.iss != RECEIPT_ISSUER {
        return Err(VerifyError::Malformed);
    }
    if hex::encode(Sha256::digest(content)) != claims.sha256 {
        return Err(VerifyError::ContentChanged);
    }
    Ok(Verified {
        account_no: claims.sub,
        exported_at: OffsetDateTime::from_unix_timestamp(claims.iat)
            .map_err(|_| VerifyError::Malformed)?,
        format: claims.format,
        entries: claims.entries,
        kid: kid.to_owned(),
    })
}

/// The signed content and the integrity value of a file.
fn split_file(file: &[u8]) -> Result<(&[u8], String), VerifyError> {
    if file.first() == Some(&b'{') {
        let parsed: JsonFile<'_> =
            serde_json::from_slice(file).map_err(|_| VerifyError::NotAnExport)?;
        let content = parsed.record.get().as_bytes();
        return Ok((content, parsed.integrity));
    }
    let body = file
        .strip_suffix(b"\r\n")
        .or_else(|| file.strip_suffix(b"\n"))
        .unwrap_or(file);
    let start = body.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let last = &body[start..];
    let token = last
        .strip_prefix(CSV_MARK)
        .ok_or(VerifyError::NotAnExport)?;
    let token = std::str::from_utf8(token).map_err(|_| VerifyError::Malformed)?;
    Ok((&file[..start], token.trim_end_matches('\r').to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::CountingRng;
    use time::macros::datetime;

    fn export(format: ExportFormat) -> RecordExport {
        RecordExport::new(
            "200300400501".into(),
            datetime!(2026-12-07 10:00 UTC),
            Vec::new(),
            format,
        )
    }

    fn keys(signer: &JwsSigner) -> Vec<(String, PublicKey)> {
        vec![(signer.kid().to_owned(), signer.public_key())]
    }

    #[test]
    fn a_sealed_file_verifies_and_one_changed_byte_anywhere_fails_it() {
        let signer = JwsSigner::generate("s1", &CountingRng::default());
        let csv = "\u{feff}时间,事件\r\n2026-12-07 18:00,登录\r\n".as_bytes();
        for (format, content) in [
            (
                ExportFormat::Json,
                br#"{"account_no":"200300400501","entries":[]}"#.as_slice(),
            ),
            (ExportFormat::Csv, csv),
        ] {
            let file = seal(&signer, &export(format), content).file;
            let ok = verify(&file, &keys(&signer)).unwrap();
            assert_eq!(ok.account_no, "200300400501");
            assert_eq!(ok.format, format.code());
            assert_eq!(ok.exported_at, datetime!(2026-12-07 10:00 UTC));
            for i in 0..file.len() {
                let mut edited = file.clone();
                edited[i] ^= 0x01;
                assert!(
                    verify(&edited, &keys(&signer)).is_err(),
                    "{format:?}: flipping byte {i} of {} went unnoticed",
                    file.len()
                );
            }
        }
    }

    #[test]
    fn a_file_signed_by_another_key_or_with_its_value_removed_fails() {
        let signer = JwsSigner::generate("s1", &CountingRng::default());
        let other = JwsSigner::from_seed("s1", &[7u8; 32]);
        let file = seal(&other, &export(ExportFormat::Csv), b"a,b\r\n").file;
        assert_eq!(
            verify(&file, &keys(&signer)),
            Err(VerifyError::BadSignature)
        );
        let stranger = JwsSigner::generate("s9", &CountingRng::default());
        let file = seal(&stranger, &export(ExportFormat::Csv), b"a,b\r\n").file;
        assert_eq!(
            verify(&file, &keys(&signer)),
            Err(VerifyError::UnknownKey("s9".into()))
        );
        assert_eq!(
            verify(b"a,b\r\n", &keys(&signer)),
            Err(VerifyError::NotAnExport)
        );
        assert_eq!(
            verify(b"{\"record\":{}}", &keys(&signer)),
            Err(VerifyError::NotAnExport)
        );
    }
}
