//! `fundpass record verify`: a security-record download sealed with this
//! installation's signing key passes; the same file with one byte changed, or checked
//! against another key set, fails with exit code 1.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use fundpass_core::crypto::Keyring;
use fundpass_core::record::{ExportFormat, RecordExport, seal_with};

fn fundpass(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fundpass"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("FUNDPASS_KEYRING")
        .env_remove("FUNDPASS_CONFIG")
        .env_remove("FUNDPASS_MODE")
        .env_remove("FUNDPASS_DATABASE_URL")
        .output()
        .unwrap()
}

fn sealed(keyring: &Keyring, format: ExportFormat, content: &[u8]) -> Vec<u8> {
    let export = RecordExport::new(
        "200300400501".into(),
        time::macros::datetime!(2026-12-07 10:00 UTC),
        Vec::new(),
        format,
    );
    seal_with(keyring, &export, content).unwrap().file
}

#[test]
fn a_download_verifies_and_fails_after_a_one_byte_edit_or_against_other_keys() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rotated = fundpass(&data, &["keys", "rotate-signing"]);
    assert!(rotated.status.success(), "{rotated:?}");
    let keyring =
        Keyring::from_json(&std::fs::read_to_string(data.join("keys.json")).unwrap()).unwrap();

    let csv =
        "\u{feff}个人账号,导出时间（北京时间）\r\n200300400501,2026-12-07 18:00\r\n".as_bytes();
    let json =
        br#"{"account_no":"200300400501","exported_at":"2026-12-07T10:00:00Z","entries":[]}"#;
    for (name, format, content) in [
        ("record.csv", ExportFormat::Csv, csv),
        ("record.json", ExportFormat::Json, json.as_slice()),
    ] {
        let file = sealed(&keyring, format, content);
        let path = dir.path().join(name);
        std::fs::write(&path, &file).unwrap();
        let ok = fundpass(&data, &["record", "verify", path.to_str().unwrap()]);
        let out = String::from_utf8_lossy(&ok.stdout);
        assert!(ok.status.success(), "{name}: {out}");
        assert!(
            out.contains("intact") && out.contains("200300400501"),
            "{out}"
        );

        let mut edited = file.clone();
        edited[content.len() / 2 + 12] ^= 0x01;
        std::fs::write(&path, &edited).unwrap();
        let bad = fundpass(&data, &["record", "verify", path.to_str().unwrap()]);
        assert_eq!(
            bad.status.code(),
            Some(1),
            "{name}: a changed byte went unnoticed"
        );
        assert!(String::from_utf8_lossy(&bad.stdout).contains("NOT VALID"));

        // The published key set of another installation does not vouch for it.
        std::fs::write(&path, &file).unwrap();
        let other = dir.path().join("other");
        assert!(
            fundpass(&other, &["keys", "rotate-signing"])
                .status
                .success()
        );
        let other_ring =
            Keyring::from_json(&std::fs::read_to_string(other.join("keys.json")).unwrap()).unwrap();
        let jwks = serde_json::json!({
            "keys": other_ring
                .receipt_keys()
                .into_iter()
                .map(|(kid, key)| {
                    let mut jwk = key.to_jwk();
                    jwk["kid"] = kid.as_str().into();
                    jwk
                })
                .collect::<Vec<_>>()
        });
        let jwks_path = dir.path().join("jwks.json");
        std::fs::write(&jwks_path, jwks.to_string()).unwrap();
        let foreign = fundpass(
            &data,
            &[
                "record",
                "verify",
                "--jwks",
                jwks_path.to_str().unwrap(),
                path.to_str().unwrap(),
            ],
        );
        assert_eq!(foreign.status.code(), Some(1), "{name}");
    }
}
