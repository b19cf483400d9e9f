-- fundpass business-system API, PostgreSQL. Keep in step with
-- migrations/sqlite/0006_business.sql.
--
-- No column holds a plaintext token or secret: access tokens and dev client secrets
-- are stored as their SHA-256, webhook secrets sealed (AEAD). Times are BIGINT
-- microseconds.

-- Business systems registered by an administrator. `public_jwk` is the key their
-- client assertions are checked with; `scopes` a space-separated list.
CREATE TABLE service_clients (
    id                 TEXT    PRIMARY KEY,
    description        TEXT    NOT NULL,
    scopes             TEXT    NOT NULL,
    public_jwk         TEXT    NOT NULL,
    secret_digest      BYTEA    CHECK (secret_digest IS NULL OR length(secret_digest) = 32),
    webhook_url        TEXT,
    webhook_secret_enc BYTEA,
    created_at         BIGINT  NOT NULL,
    disabled_at        BIGINT,
    version            BIGINT  NOT NULL
);

-- Access tokens (5 minutes), by digest.
CREATE TABLE client_tokens (
    token_digest BYTEA    PRIMARY KEY CHECK (length(token_digest) = 32),
    client_id    TEXT    NOT NULL REFERENCES service_clients (id),
    scopes       TEXT    NOT NULL,
    issued_at    BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL
);

CREATE INDEX client_tokens_expiry_idx ON client_tokens (expires_at);

-- Client assertion ids already used: the primary key refuses a replay.
CREATE TABLE client_assertions (
    client_id  TEXT    NOT NULL REFERENCES service_clients (id),
    jti        TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL,
    PRIMARY KEY (client_id, jti)
);

CREATE INDEX client_assertions_expiry_idx ON client_assertions (expires_at);

-- Payment authorisations. `payee_account` is masked as the business system sends it.
CREATE TABLE payment_authorizations (
    id              TEXT    PRIMARY KEY,
    client_id       TEXT    NOT NULL REFERENCES service_clients (id),
    member_id       BIGINT  NOT NULL REFERENCES members (id),
    account_no      TEXT    NOT NULL,
    amount_fen      BIGINT  NOT NULL CHECK (amount_fen > 0),
    currency        TEXT    NOT NULL,
    payee_name      TEXT    NOT NULL,
    payee_account   TEXT    NOT NULL,
    purpose         TEXT    NOT NULL,
    business_ref    TEXT    NOT NULL,
    mode            TEXT    NOT NULL CHECK (mode IN ('confirm', 'direct')),
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'confirmed', 'declined', 'captured')),
    risk_flags      TEXT    NOT NULL,
    idempotency_key TEXT,
    request_digest  BYTEA    NOT NULL CHECK (length(request_digest) = 32),
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL,
    decided_at      BIGINT,
    channel         TEXT    CHECK (channel IN ('web', 'app', 'terminal')),
    captured_at     BIGINT,
    receipt         TEXT,
    version         BIGINT  NOT NULL
);

CREATE UNIQUE INDEX payment_authorizations_idempotency_key
    ON payment_authorizations (client_id, idempotency_key);
CREATE INDEX payment_authorizations_member_idx
    ON payment_authorizations (member_id, created_at);

-- One row per event and receiving client, delivered like the SMS outbox; `seq` keeps
-- the order the events were written in (times can tie).
CREATE TABLE webhook_outbox (
    seq             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    event_id        TEXT    NOT NULL,
    client_id       TEXT    NOT NULL REFERENCES service_clients (id),
    member_id       BIGINT  REFERENCES members (id),
    kind            TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    next_attempt_at BIGINT  NOT NULL,
    attempts        BIGINT  NOT NULL CHECK (attempts >= 0),
    delivered_at    BIGINT,
    last_error      TEXT
);

CREATE INDEX webhook_outbox_due_idx ON webhook_outbox (delivered_at, next_attempt_at);

-- When a hold's end was announced to business systems (`hold.ended`). Holds that had
-- already ended when this column arrived count as announced.
ALTER TABLE member_holds ADD COLUMN end_announced_at BIGINT;
UPDATE member_holds SET end_announced_at = until
    WHERE until <= CAST(EXTRACT(EPOCH FROM now()) * 1000000 AS BIGINT);
CREATE INDEX member_holds_unannounced_idx ON member_holds (until)
    WHERE end_announced_at IS NULL;
