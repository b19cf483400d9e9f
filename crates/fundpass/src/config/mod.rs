//! Configuration: built-in defaults, then an optional TOML file, then `FUNDPASS_*`
//! environment variables. Unknown keys are refused so a misspelt setting is noticed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use fundpass_core::crypto::CipherSuite;
use serde::{Deserialize, Serialize};

mod business;
pub mod face_providers;
mod qualification;
mod sections;
pub mod sms_providers;

pub use business::{ClientsConfig, PayoutsConfig, WebhooksConfig};
pub use qualification::QualificationConfig;
pub use sections::{
    FaceConfig, LogFormat, PortalConfig, ServerConfig, SmsConfig, SmsSenderKind, StaffConfig,
};

/// How fundpass runs: `dev` generates keys on first use; `production` refuses to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Dev,
    Production,
}

/// Every setting, with its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub mode: Mode,
    /// Folder for the SQLite file and the key file.
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub keys: KeysConfig,
    pub argon2: Argon2Config,
    pub server: ServerConfig,
    pub sms: SmsConfig,
    pub portal: PortalConfig,
    pub staff: StaffConfig,
    pub face: FaceConfig,
    pub clients: ClientsConfig,
    pub payouts: PayoutsConfig,
    pub webhooks: WebhooksConfig,
    pub qualification: QualificationConfig,
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`; empty means `DATA_DIR/fundpass.db`.
    pub url: String,
}

/// Where captchas and rate-limit windows live: Redis when a URL is set, so a login
/// writes no database row for them; otherwise the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    /// `redis://[:PASSWORD@]HOST:PORT/DB`; empty means the database keeps them.
    pub url: String,
}

/// Where the encryption keys come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// Algorithms for new key files: `aes-256-gcm` or `sm4-gcm`.
    pub suite: CipherSuite,
    /// Key file; a relative path is taken inside the data folder. The environment
    /// variable FUNDPASS_KEYRING (the key file's JSON) takes precedence over the file.
    pub file: PathBuf,
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self {
            suite: CipherSuite::Aes256Gcm,
            file: PathBuf::from("keys.json"),
        }
    }
}

/// Argon2id cost for login and transaction passwords (OWASP's minimum by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Argon2Config {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl Default for Argon2Config {
    fn default() -> Self {
        Self {
            m_kib: 19_456,
            t: 2,
            p: 1,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            mode: Mode::Dev,
            data_dir: PathBuf::from("fundpass-data"),
            database: DatabaseConfig::default(),
            redis: RedisConfig::default(),
            keys: KeysConfig::default(),
            argon2: Argon2Config::default(),
            server: ServerConfig::default(),
            sms: SmsConfig::default(),
            portal: PortalConfig::default(),
            staff: StaffConfig::default(),
            face: FaceConfig::default(),
            clients: ClientsConfig::default(),
            payouts: PayoutsConfig::default(),
            webhooks: WebhooksConfig::default(),
            qualification: QualificationConfig::default(),
        }
    }
}

/// The default configuration file, with a comment on every setting. A test keeps it
/// equal to `Config::default()`.
pub const DEFAULT_TOML: &str = include_str!("../../fundpass.example.toml");

impl Config {
    /// Loads defaults, then the file (if given), then the environment, then the
    /// `--data-dir` flag.
    pub fn load(file: Option<&Path>, data_dir: Option<&Path>) -> anyhow::Result<Self> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read configuration {}", path.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("configuration {} is not valid", path.display()))?
            }
            None => Config::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        if let Some(dir) = data_dir {
            config.data_dir = dir.to_path_buf();
        }
        Ok(config)
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        if let Some(mode) = get("FUNDPASS_MODE") {
            self.mode = match mode.as_str() {
                "dev" => Mode::Dev,
                "production" => Mode::Production,
                other => anyhow::bail!("FUNDPASS_MODE must be dev or production, not {other:?}"),
            };
        }
        if let Some(dir) = get("FUNDPASS_DATA_DIR") {
            self.data_dir = PathBuf::from(dir);
        }
        if let Some(url) = get("FUNDPASS_DATABASE_URL") {
            self.database.url = url;
        }
        if let Some(url) = get("FUNDPASS_REDIS_URL") {
            self.redis.url = url;
        }
        if let Some(file) = get("FUNDPASS_KEY_FILE") {
            self.keys.file = PathBuf::from(file);
        }
        if let Some(bind) = get("FUNDPASS_BIND") {
            self.server.bind = bind;
        }
        if let Some(secret) = get("FUNDPASS_SMS_WEBHOOK_SECRET") {
            self.sms.webhook_secret = secret;
        }
        if let Some(suite) = get("FUNDPASS_CIPHER_SUITE") {
            self.keys.suite = match suite.as_str() {
                "aes-256-gcm" => CipherSuite::Aes256Gcm,
                "sm4-gcm" => CipherSuite::Sm4Gcm,
                other => anyhow::bail!(
                    "FUNDPASS_CIPHER_SUITE must be aes-256-gcm or sm4-gcm, not {other:?}"
                ),
            };
        }
        Ok(())
    }

    /// The database URL, defaulting to the SQLite file in the data folder.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("fundpass.db").display())
        } else {
            self.database.url.clone()
        }
    }

    /// The key file path.
    pub fn key_file(&self) -> PathBuf {
        if self.keys.file.is_absolute() {
            self.keys.file.clone()
        } else {
            self.data_dir.join(&self.keys.file)
        }
    }
}

impl Config {
    /// The configuration as `fundpass config` prints it: passwords in the database and
    /// Redis URLs and the SMS webhook's key hidden.
    fn shown(mut self) -> Self {
        self.database.url = crate::context::redact_url(&self.database.url);
        self.redis.url = crate::context::redact_url(&self.redis.url);
        if !self.sms.webhook_secret.is_empty() {
            self.sms.webhook_secret = "(hidden)".into();
        }
        self
    }
}

/// `fundpass config`: prints the default file, or the effective configuration.
pub fn command(
    args: &crate::cli::ConfigArgs,
    file: Option<&Path>,
    data_dir: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let text = if args.print_default {
        DEFAULT_TOML.to_owned()
    } else {
        toml::to_string_pretty(&Config::load(file, data_dir)?.shown())?
    };
    #[allow(clippy::print_stdout)]
    {
        print!("{text}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_configuration_hides_passwords_and_keys() {
        let mut c = Config::default();
        c.database.url = "postgres://app:db-s3cret@db:5432/fp".into();
        c.redis.url = "redis://:redis-s3cret@127.0.0.1:6379/0".into();
        c.sms.webhook_secret = "hook-s3cret".into();
        let text = toml::to_string_pretty(&c.shown()).unwrap();
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("postgres://app:***@db:5432/fp"), "{text}");
        assert!(text.contains("redis://:***@127.0.0.1:6379/0"), "{text}");
    }

    #[test]
    fn the_printed_default_file_is_the_default_configuration() {
        let parsed: Config = toml::from_str(DEFAULT_TOML).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn unknown_settings_are_refused() {
        let err = toml::from_str::<Config>("mode = \"dev\"\nmodee = 1\n").unwrap_err();
        assert!(err.to_string().contains("modee"), "{err}");
        let err = toml::from_str::<Config>("[argon2]\nm = 1\n").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
        for section in ["clients", "payouts", "webhooks"] {
            let err = toml::from_str::<Config>(&format!("[{section}]\ntimeout = 1\n")).unwrap_err();
            assert!(
                err.to_string().contains("unknown field"),
                "{section}: {err}"
            );
        }
        let err = toml::from_str::<Config>("[server]\ninternal_bnd = \"\"\n").unwrap_err();
        assert!(err.to_string().contains("internal_bnd"), "{err}");
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let mut c = Config::default();
        c.apply_env(|k| match k {
            "FUNDPASS_DATABASE_URL" => Some("postgres://app@db/fundpass".into()),
            "FUNDPASS_CIPHER_SUITE" => Some("sm4-gcm".into()),
            "FUNDPASS_MODE" => Some("production".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.database_url(), "postgres://app@db/fundpass");
        assert_eq!(c.keys.suite, CipherSuite::Sm4Gcm);
        assert_eq!(c.mode, Mode::Production);
        assert!(
            c.apply_env(|k| (k == "FUNDPASS_MODE").then(|| "prod".into()))
                .is_err()
        );
    }

    #[test]
    fn the_default_database_is_a_file_in_the_data_folder() {
        let c = Config {
            data_dir: PathBuf::from("/srv/fp"),
            ..Config::default()
        };
        assert_eq!(c.database_url(), "sqlite:///srv/fp/fundpass.db");
        assert_eq!(c.key_file(), PathBuf::from("/srv/fp/keys.json"));
    }
}
