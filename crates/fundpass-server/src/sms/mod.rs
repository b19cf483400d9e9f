//! SMS delivery: the senders that stand behind the core's [`SmsSender`] port, and the
//! worker that drains the durable outbox through one of them.
//!
//! Messages are written to the outbox in the same transaction as the change that caused
//! them; [`OutboxWorker`] claims due messages, opens them with the keyring, and hands
//! them to a sender: [`WebhookSender`] in production, [`DevSender`] in development.
//!
//! [`SmsSender`]: fundpass_core::ports::SmsSender

mod dev;
mod scrub;
mod webhook;
mod worker;

pub use dev::DevSender;
pub use webhook::{
    IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookConfig, WebhookSender,
    WebhookSetupError, signature,
};
pub(crate) use worker::run_passes;
pub use worker::{DeliveryReport, OutboxWorker, WorkerConfig, backoff};
