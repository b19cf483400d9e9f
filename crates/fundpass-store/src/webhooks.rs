//! [`WebhookStore`] over `webhook_outbox`: events for business systems, fanned out to
//! their receivers in the transaction of the change they report and delivered with the
//! SMS outbox's mechanics (lease, retries, give-up marker).

use async_trait::async_trait;
use fundpass_core::clients::{BusinessEvent, WebhookDelivery};
use fundpass_core::ports::{StoreError, WebhookStore};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::codec::{from_micros, from_opt_micros, micros};
use crate::connect::Store;
use crate::errors::db_error;
use crate::members::column;
use crate::outbox::{Claim, claim, mark_delivered, mark_failed};

const COLUMNS: &str = "seq, id, event_id, client_id, kind, body, created_at, next_attempt_at, \
                       attempts, delivered_at, last_error";

#[async_trait]
impl WebhookStore for Store {
    async fn claim_webhooks(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let rows = claim(
            self,
            Claim {
                table: "webhook_outbox",
                order: "seq",
                columns: COLUMNS,
                only: "",
            },
            now,
            lease_until,
            limit,
        )
        .await?;
        let mut claimed = rows
            .iter()
            .map(delivery_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        // In the order they were written, so a receiver sees one member's events in order.
        claimed.sort_by_key(|d| d.seq);
        Ok(claimed)
    }

    async fn mark_webhook_delivered(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        mark_delivered(self, "webhook_outbox", id, at).await
    }

    async fn mark_webhook_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        mark_failed(self, "webhook_outbox", id, error, retry_at).await
    }
}

impl Store {
    /// Queues again every undelivered event of `client_id` (given up or waiting), due
    /// at `now` with a fresh count of tries; returns how many. For an operator after a
    /// receiver's long outage.
    pub async fn requeue_webhooks(
        &self,
        client_id: &str,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE webhook_outbox SET next_attempt_at = $1, attempts = 0 \
             WHERE client_id = $2 AND delivered_at IS NULL",
        )
        .bind(micros(now))
        .bind(client_id)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected())
    }
}

/// Queues `event` for its receivers inside a unit of work: the one client it names,
/// or every enabled client with a webhook address (holding the scope the event's kind
/// needs, when it needs one).
pub(crate) async fn fan_out(
    conn: &mut AnyConnection,
    event: &BusinessEvent,
) -> Result<(), StoreError> {
    let body = event.body();
    let at = micros(event.created_at);
    sqlx::query(
        "INSERT INTO webhook_outbox (id, event_id, client_id, member_id, kind, body, \
         created_at, next_attempt_at, attempts) \
         SELECT CAST($1 AS TEXT) || '.' || id, $1, id, $2, $3, $4, $5, $5, 0 \
         FROM service_clients WHERE webhook_url IS NOT NULL AND disabled_at IS NULL \
         AND (CAST($6 AS TEXT) IS NULL OR id = CAST($6 AS TEXT)) \
         AND (CAST($7 AS TEXT) IS NULL \
              OR (' ' || scopes || ' ') LIKE ('% ' || CAST($7 AS TEXT) || ' %'))",
    )
    .bind(event.id.as_str())
    .bind(event.member_id.map(|m| m.0))
    .bind(event.kind.code())
    .bind(body)
    .bind(at)
    .bind(event.audience.as_deref())
    .bind(event.kind.required_scope().map(|s| s.code()))
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

fn delivery_from_row(row: &AnyRow) -> Result<WebhookDelivery, StoreError> {
    Ok(WebhookDelivery {
        seq: column(row, "seq")?,
        id: column(row, "id")?,
        event_id: column(row, "event_id")?,
        client_id: column(row, "client_id")?,
        kind: column(row, "kind")?,
        body: column(row, "body")?,
        created_at: from_micros(column(row, "created_at")?)?,
        next_attempt_at: from_micros(column(row, "next_attempt_at")?)?,
        attempts: column(row, "attempts")?,
        delivered_at: from_opt_micros(column(row, "delivered_at")?)?,
        last_error: column(row, "last_error")?,
    })
}
