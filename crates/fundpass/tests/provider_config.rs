//! The SMS and face verification provider settings as an operator meets them: every
//! setting in `fundpass config --print-default`, production refusing to start while
//! an SMS purpose has no template or a face provider has no keys, and the provider
//! keys, which come from the environment, never shown by `fundpass config`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

fn fundpass(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fundpass"));
    cmd.arg("--data-dir").arg(dir.join("data")).args(args);
    for name in [
        "FUNDPASS_KEYRING",
        "FUNDPASS_CONFIG",
        "FUNDPASS_MODE",
        "FUNDPASS_DATABASE_URL",
    ] {
        cmd.env_remove(name);
    }
    cmd.envs(env.iter().copied());
    cmd.output().unwrap()
}

/// `fundpass --config <file> serve` with `file` holding `config`: the start-up checks
/// run, and nothing is left running (the tests give settings it refuses).
fn serve_with(dir: &Path, config: &str, env: &[(&str, &str)]) -> Output {
    let file = dir.join("fundpass.toml");
    std::fs::write(&file, config).unwrap();
    let args = [
        "--config",
        file.to_str().unwrap(),
        "serve",
        "--bind",
        "127.0.0.1:0",
    ];
    fundpass(dir, &args, env)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const PRODUCTION: &str = "mode = \"production\"\n\
    [server]\nsecure_cookies = true\npublic_origin = \"https://gjj.example.gov.cn\"\n";

#[test]
fn the_default_file_lists_every_provider_setting_and_template() {
    let dir = tempfile::tempdir().unwrap();
    let out = fundpass(dir.path(), &["config", "--print-default"], &[]);
    assert!(out.status.success());
    let printed = text(&out.stdout);
    for section in ["[sms.tencent]", "[sms.alibaba]", "[sms.receipts]"] {
        assert!(printed.contains(section), "{section}");
    }
    for purpose in [
        "registration_code",
        "recovery_code",
        "reset_notice",
        "phone_changed",
        "transaction_disabled",
    ] {
        for provider in ["tencent", "alibaba"] {
            let table = format!("[sms.{provider}.templates.{purpose}]");
            assert!(printed.contains(&table), "{table}");
        }
    }
    for section in ["[face.tencent]", "[face.alibaba]"] {
        assert!(printed.contains(section), "{section}");
    }
    for setting in [
        "sdk_app_id",
        "sign_name",
        "uncertain_retry_seconds",
        "allowed_networks",
        "provider = \"signed\"",
        "rule_id",
        "scene_id",
        "product_code = \"ID_PRO\"",
        "handle_lifetime_seconds",
    ] {
        assert!(printed.contains(setting), "{setting}");
    }
}

#[test]
fn production_does_not_start_while_a_purpose_has_no_template() {
    let dir = tempfile::tempdir().unwrap();
    let templates = "[sms.tencent.templates.registration_code]\nid = \"2012345\"\n\
                     params = [\"code\", \"minutes\"]\n";
    let file = format!("{PRODUCTION}[sms]\nsender = \"tencent\"\n{templates}");
    let out = serve_with(dir.path(), &file, &[]);
    assert_eq!(out.status.code(), Some(1));
    let error = text(&out.stderr);
    assert!(
        error.contains("sms.tencent.templates has no template id for"),
        "{error}"
    );
    assert!(
        error.contains("recovery_code") && !error.contains("registration_code,"),
        "{error}"
    );
    assert!(
        !dir.path().join("data/keys.json").exists(),
        "nothing was started"
    );

    let wrong = format!(
        "{PRODUCTION}[sms]\nsender = \"alibaba\"\n\
         [sms.alibaba.templates.not_me]\nid = \"SMS_1\"\nparams = [\"code\"]\n"
    );
    let out = serve_with(dir.path(), &wrong, &[]);
    let error = text(&out.stderr);
    assert!(
        error.contains("\"code\" is not a value of this purpose"),
        "{error}"
    );
}

#[test]
fn provider_keys_never_appear_in_the_effective_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = [
        (
            "FUNDPASS_SMS_TENCENT_SECRET_KEY",
            "tencent-key-must-not-show",
        ),
        (
            "FUNDPASS_SMS_ALIBABA_ACCESS_KEY_SECRET",
            "alibaba-secret-must-not-show",
        ),
        (
            "FUNDPASS_SMS_RECEIPT_TOKEN",
            "receipt-token-must-not-show-0123456789",
        ),
        (
            "FUNDPASS_FACE_TENCENT_SECRET_KEY",
            "face-tencent-key-must-not-show",
        ),
        (
            "FUNDPASS_FACE_ALIBABA_ACCESS_KEY_SECRET",
            "face-alibaba-secret-must-not-show",
        ),
    ];
    let out = fundpass(dir.path(), &["config"], &secrets);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(printed.contains("[sms.tencent]"));
    for (_, value) in secrets {
        assert!(!printed.contains(value), "{value}");
    }
}

#[test]
fn a_face_provider_without_its_keys_or_scene_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = serve_with(dir.path(), "[face]\nprovider = \"tencent\"\n", &[]);
    assert_eq!(out.status.code(), Some(1));
    let error = text(&out.stderr);
    assert!(error.contains("[face.tencent]"), "{error}");
    assert!(error.contains("FUNDPASS_FACE_TENCENT_SECRET_ID"), "{error}");

    let keys = [
        ("FUNDPASS_FACE_ALIBABA_ACCESS_KEY_ID", "LTAI-id"),
        ("FUNDPASS_FACE_ALIBABA_ACCESS_KEY_SECRET", "secret"),
    ];
    let out = serve_with(dir.path(), "[face]\nprovider = \"alibaba\"\n", &keys);
    assert_eq!(out.status.code(), Some(1));
    let error = text(&out.stderr);
    assert!(error.contains("scene_id is empty"), "{error}");
    assert!(
        !dir.path().join("data/keys.json").exists(),
        "nothing was started"
    );
}
