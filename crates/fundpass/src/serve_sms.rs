//! `fundpass serve`'s SMS wiring: the sender the configuration chooses (with its keys
//! from the environment), the outbox worker's pacing, the production checks on the
//! provider templates, and the delivery-report endpoints.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use fundpass_core::ports::{Clock, OutboxStore, SmsSender};
use fundpass_server::sms::receipts::{self, ReceiptSettings};
use fundpass_server::sms::{
    AlibabaConfig, AlibabaSender, DevSender, TencentConfig, TencentSender, WebhookConfig,
    WebhookSender, WorkerConfig,
};
use fundpass_server::state::AppState;
use fundpass_server::system::OsSecrets;
use secrecy::SecretString;

use crate::config::sms_providers::{
    ALIBABA_KEY_ID_ENV, ALIBABA_KEY_SECRET_ENV, RECEIPT_TOKEN_ENV, TENCENT_SECRET_ID_ENV,
    TENCENT_SECRET_KEY_ENV, template_set,
};
use crate::config::{Config, Mode, SmsSenderKind};

/// An environment variable holding a secret; empty when unset.
pub fn secret_from_env(name: &str) -> SecretString {
    SecretString::from(std::env::var(name).unwrap_or_default())
}

/// Refuses a provider configuration that could not send every purpose: in
/// production every purpose needs a template; in dev mode the gaps are only told.
pub fn check_templates(config: &Config) -> anyhow::Result<()> {
    let (section, templates) = match config.sms.sender {
        SmsSenderKind::Tencent => ("sms.tencent", &config.sms.tencent.templates),
        SmsSenderKind::Alibaba => ("sms.alibaba", &config.sms.alibaba.templates),
        SmsSenderKind::Dev | SmsSenderKind::Webhook => return Ok(()),
    };
    let missing: Vec<&str> = template_set(section, templates)?
        .missing()
        .iter()
        .map(|p| p.code())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(", ");
    if config.mode == Mode::Production {
        bail!("{section}.templates has no template id for: {list} (every purpose needs one)");
    }
    tracing::warn!(
        "{section}.templates has no template id for: {list}; those messages will be refused"
    );
    Ok(())
}

/// The sender `sms.sender` names.
pub fn sms_sender(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Arc<dyn SmsSender>> {
    let dev = config.mode == Mode::Dev;
    Ok(match config.sms.sender {
        SmsSenderKind::Dev => Arc::new(DevSender),
        SmsSenderKind::Webhook => {
            if config.sms.webhook_secret.is_empty() {
                bail!("sms.sender = \"webhook\" needs a secret (FUNDPASS_SMS_WEBHOOK_SECRET)");
            }
            let webhook = WebhookConfig {
                url: config.sms.webhook_url.clone(),
                secret: config.sms.webhook_secret.clone().into(),
                timeout: Duration::from_millis(config.sms.webhook_timeout_ms),
                sender_id: config.sms.sender_id.clone(),
                allow_http: dev,
            };
            Arc::new(WebhookSender::new(webhook, clock).context("invalid SMS webhook settings")?)
        }
        SmsSenderKind::Tencent => {
            let c = &config.sms.tencent;
            let tencent = TencentConfig {
                endpoint: c.endpoint.clone(),
                region: c.region.clone(),
                secret_id: secret_from_env(TENCENT_SECRET_ID_ENV),
                secret_key: secret_from_env(TENCENT_SECRET_KEY_ENV),
                sdk_app_id: c.sdk_app_id.clone(),
                sign_name: c.sign_name.clone(),
                templates: template_set("sms.tencent", &c.templates)?,
                timeout: Duration::from_millis(c.timeout_ms),
                allow_http: dev,
            };
            Arc::new(TencentSender::new(tencent, clock).context("invalid [sms.tencent] settings")?)
        }
        SmsSenderKind::Alibaba => {
            let c = &config.sms.alibaba;
            let alibaba = AlibabaConfig {
                endpoint: c.endpoint.clone(),
                access_key_id: secret_from_env(ALIBABA_KEY_ID_ENV),
                access_key_secret: secret_from_env(ALIBABA_KEY_SECRET_ENV),
                sign_name: c.sign_name.clone(),
                templates: template_set("sms.alibaba", &c.templates)?,
                timeout: Duration::from_millis(c.timeout_ms),
                allow_http: dev,
            };
            let sender = AlibabaSender::new(alibaba, clock, Arc::new(OsSecrets))
                .context("invalid [sms.alibaba] settings")?;
            Arc::new(sender)
        }
    })
}

/// The outbox worker's pacing, with the configured pause after an unknown outcome.
pub fn worker_config(config: &Config) -> WorkerConfig {
    WorkerConfig {
        uncertain_pause: time::Duration::seconds(config.sms.uncertain_retry_seconds.max(0)),
        ..WorkerConfig::default()
    }
}

/// The delivery-report endpoints when `sms.receipts.enabled`; no routes otherwise.
pub fn receipt_routes(
    config: &Config,
    store: Arc<dyn OutboxStore>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<axum::Router<AppState>> {
    if !config.sms.receipts.enabled {
        return Ok(axum::Router::new());
    }
    let settings = ReceiptSettings::new(
        secret_from_env(RECEIPT_TOKEN_ENV),
        &config.sms.receipts.allowed_networks,
        config.server.trust_forwarded_for,
    )
    .context("invalid [sms.receipts] settings")?;
    Ok(receipts::router(store, clock, settings))
}
