//! The development "gateway": nothing leaves the machine.

use async_trait::async_trait;
use fundpass_core::identity::Phone;
use fundpass_core::ports::{SmsError, SmsSender};

/// The sender used in development mode. It delivers nothing anywhere: the message stays
/// readable in the outbox table, where the dev outbox page and `fundpass outbox` show it,
/// so flows can be tried without an SMS contract and without texting real people.
#[derive(Debug, Default, Clone, Copy)]
pub struct DevSender;

#[async_trait]
impl SmsSender for DevSender {
    async fn send(&self, idempotency_key: &str, to: &Phone, _text: &str) -> Result<(), SmsError> {
        let masked = to.masked();
        tracing::info!(
            id = idempotency_key,
            "dev SMS to {masked} held in the outbox"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dev_sender_accepts_every_message() {
        let phone = Phone::parse("13812345678").unwrap();
        assert_eq!(DevSender.send("id-1", &phone, "code 123456").await, Ok(()));
    }
}
