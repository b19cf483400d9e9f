-- fundpass SMS providers, SQLite. Keep in step with
-- migrations/postgres/0008_sms_providers.sql.
--
-- Template senders (Tencent Cloud, Alibaba Cloud SMS) fill an approved template with
-- the values the text was made from, so those values are kept beside the text, sealed
-- like it (they hold one-time codes). Each row also records the provider's id of the
-- accepted message, whether the provider refused it for a sending limit, and the
-- carrier's delivery report.
ALTER TABLE outbox ADD COLUMN params_enc BLOB;
ALTER TABLE outbox ADD COLUMN provider_ref TEXT;
ALTER TABLE outbox ADD COLUMN limit_hit INTEGER NOT NULL DEFAULT 0 CHECK (limit_hit IN (0, 1));
ALTER TABLE outbox ADD COLUMN receipt_state TEXT CHECK (receipt_state IN ('delivered', 'failed'));
ALTER TABLE outbox ADD COLUMN receipt_reason TEXT;
ALTER TABLE outbox ADD COLUMN receipt_at INTEGER;

-- Delivery reports name a message by the provider's id.
CREATE INDEX outbox_provider_ref_idx ON outbox (provider_ref) WHERE provider_ref IS NOT NULL;
-- The staff console's member page lists the member's newest texts.
CREATE INDEX outbox_member_created_idx ON outbox (member_id, created_at);
