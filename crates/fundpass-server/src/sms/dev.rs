//! The development "gateway": nothing leaves the machine.

use async_trait::async_trait;
use fundpass_core::ports::{SmsAccepted, SmsError, SmsRequest, SmsSender};

/// The sender used in development mode. It delivers nothing anywhere: the message stays
/// readable in the outbox table, where the dev outbox page and `fundpass outbox` show it,
/// so flows can be tried without an SMS contract and without texting real people.
#[derive(Debug, Default, Clone, Copy)]
pub struct DevSender;

#[async_trait]
impl SmsSender for DevSender {
    fn provider(&self) -> &'static str {
        "dev"
    }

    async fn send(&self, request: &SmsRequest<'_>) -> Result<SmsAccepted, SmsError> {
        let masked = request.to.masked();
        tracing::info!(
            id = request.idempotency_key,
            "dev SMS to {masked} held in the outbox"
        );
        Ok(SmsAccepted::default())
    }
}

#[cfg(test)]
mod tests {
    use fundpass_core::identity::Phone;
    use fundpass_core::ports::SmsContent;

    use super::*;

    #[tokio::test]
    async fn dev_sender_accepts_every_message() {
        let phone = Phone::parse("13812345678").unwrap();
        let content = SmsContent {
            text: "code 123456".into(),
            params: Vec::new(),
        };
        let request = SmsRequest {
            idempotency_key: "id-1",
            purpose: "registration_code",
            to: &phone,
            content: &content,
        };
        assert_eq!(DevSender.send(&request).await, Ok(SmsAccepted::default()));
    }
}
