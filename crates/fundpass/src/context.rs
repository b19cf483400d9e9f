//! What every subcommand needs: the store, the keyring, the clock and randomness.

use std::process::ExitCode;

use anyhow::Context as _;
use fundpass_core::audit::{Actor, ActorKind, AuditEvent, Channel, Outcome};
use fundpass_core::crypto::Keyring;
use fundpass_core::ports::{AuditStore, Clock};
use fundpass_store::Store;

use crate::config::{Config, Mode};
use crate::keys::load_or_create_keyring;
use crate::system::{OsSecrets, SystemClock, operator_name};

/// An opened fundpass installation.
#[derive(Debug)]
pub struct Context {
    pub store: Store,
    pub keyring: Keyring,
    pub clock: SystemClock,
    pub rng: OsSecrets,
}

impl Context {
    /// Opens the database (creating the data folder and, in dev, migrating) and the
    /// keyring (creating a key file in dev when there is none).
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        let store = open_store(config).await?;
        // Dev mode makes or upgrades the schema when it is behind; an installation
        // whose serving role has no DDL rights (postgres-app-role.sql) is left alone
        // once its owner has migrated it.
        if config.mode == Mode::Dev && !store.schema_is_current().await {
            store
                .migrate()
                .await
                .context("cannot migrate the database")?;
        }
        let keyring = load_or_create_keyring(config, &OsSecrets)?;
        Ok(Self {
            store,
            keyring,
            clock: SystemClock,
            rng: OsSecrets,
        })
    }

    /// Records an operator action in the audit trail.
    pub async fn audit_operator(
        &self,
        action: &str,
        outcome: Outcome,
        details: serde_json::Value,
    ) -> anyhow::Result<()> {
        let event = self.operator_event(action, outcome, details);
        self.store
            .append(&event)
            .await
            .context("cannot write the audit event")?;
        Ok(())
    }

    /// An operator action's audit event, for a command that writes it in the same
    /// unit of work as the change it records.
    pub fn operator_event(
        &self,
        action: &str,
        outcome: Outcome,
        details: serde_json::Value,
    ) -> AuditEvent {
        let actor = Actor {
            kind: ActorKind::Operator,
            id: Some(operator_name()),
        };
        AuditEvent::new(self.clock.now(), actor, action, Channel::Cli, outcome).details(details)
    }
}

/// Why an operator command refused before writing anything: `code` goes into the
/// audit event, `message` to the operator.
#[derive(Debug)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Audit details with the reason a command refused or did nothing.
pub fn with_reason(details: &serde_json::Value, reason: &str) -> serde_json::Value {
    let mut details = details.clone();
    details["reason"] = serde_json::json!(reason);
    details
}

/// Connects to the configured database, creating the data folder for SQLite.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let url = config.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!(
                "cannot create the data folder {}",
                config.data_dir.display()
            )
        })?;
    }
    Store::connect(&url)
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(&url)))
}

/// `fundpass migrate`.
pub async fn migrate(config: &Config) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    store.migrate().await.context("migration failed")?;
    eprintln!(
        "database schema is up to date ({})",
        redact_url(&config.database_url())
    );
    Ok(ExitCode::SUCCESS)
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_database_urls_are_hidden() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/fp"),
            "postgres://app:***@db:5432/fp"
        );
        assert_eq!(redact_url("postgres://app@db/fp"), "postgres://app@db/fp");
        assert_eq!(
            redact_url("sqlite://fundpass-data/fundpass.db"),
            "sqlite://fundpass-data/fundpass.db"
        );
    }
}
