//! SMS delivery: the senders that stand behind the core's [`SmsSender`] port, the
//! worker that drains the durable outbox through one of them, and the endpoints the
//! providers report delivery to.
//!
//! Messages are written to the outbox in the same transaction as the change that caused
//! them; [`OutboxWorker`] claims due messages, opens them with the keyring, and hands
//! them to a sender: [`TencentSender`] or [`AlibabaSender`] (a provider template per
//! purpose, see [`TemplateSet`]) or [`WebhookSender`] (a gateway of the fund's own) in
//! production, [`DevSender`] in development. The providers' delivery reports arrive
//! at [`receipts`] and are recorded on the message.
//!
//! [`SmsSender`]: fundpass_core::ports::SmsSender

pub mod alibaba;
mod dev;
pub(crate) mod provider_http;
pub mod receipts;
mod scrub;
pub mod signing;
mod templates;
pub mod tencent;
mod webhook;
mod worker;

pub use alibaba::{AlibabaConfig, AlibabaSender};
pub use dev::DevSender;
pub use provider_http::ProviderSetupError;
pub use templates::{SmsTemplate, TemplateError, TemplateSet};
pub use tencent::{TencentConfig, TencentSender};
pub use webhook::{
    IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookConfig, WebhookSender,
    WebhookSetupError, signature,
};
pub(crate) use worker::run_passes;
pub use worker::{DeliveryReport, OutboxWorker, WorkerConfig, backoff};
