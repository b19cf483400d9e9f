//! Ports of the business-system API: registered clients and their access tokens,
//! payment authorisations, and the webhook outbox.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::clients::{AccessTokenRecord, ServiceClient, WebhookDelivery};
use crate::crypto::TokenDigest;
use crate::member::MemberId;
use crate::payout::Authorization;

/// Registered business systems and their access tokens.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// The client with this id, enabled or not.
    async fn client(&self, id: &str) -> Result<Option<ServiceClient>, StoreError>;
    /// Every client, by id.
    async fn clients(&self) -> Result<Vec<ServiceClient>, StoreError>;
    /// The access token with this digest, expired or not.
    async fn access_token(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<AccessTokenRecord>, StoreError>;
}

/// Payment authorisations.
#[async_trait]
pub trait AuthorizationStore: Send + Sync {
    /// The authorisation with this id.
    async fn authorization(&self, id: &str) -> Result<Option<Authorization>, StoreError>;
    /// The authorisation a client made under an idempotency key.
    async fn authorization_by_key(
        &self,
        client_id: &str,
        key: &str,
    ) -> Result<Option<Authorization>, StoreError>;
    /// A member's newest authorisations, at most `limit`, newest first.
    async fn member_authorizations(
        &self,
        member: MemberId,
        limit: u32,
    ) -> Result<Vec<Authorization>, StoreError>;
}

/// Signed events on their way to business systems, delivered like SMS: claimed with a
/// lease so several instances share the work, retried with backoff.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Takes up to `limit` undelivered deliveries due at `now`, hiding them from other
    /// workers until `lease_until`.
    async fn claim_webhooks(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, StoreError>;
    /// Records a delivery.
    async fn mark_webhook_delivered(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError>;
    /// Records a failed try and when to try again (`None`: give up).
    async fn mark_webhook_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError>;
}
