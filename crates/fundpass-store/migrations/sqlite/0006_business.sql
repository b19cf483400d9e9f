-- fundpass business-system API, SQLite. Keep in step with
-- migrations/postgres/0006_business.sql.
--
-- No column holds a plaintext token or secret: access tokens and dev client secrets
-- are stored as their SHA-256, webhook secrets sealed (AEAD). Times are INTEGER
-- microseconds.

-- Business systems registered by an administrator. `public_jwk` is the key their
-- client assertions are checked with; `scopes` a space-separated list.
CREATE TABLE service_clients (
    id                 TEXT    PRIMARY KEY,
    description        TEXT    NOT NULL,
    scopes             TEXT    NOT NULL,
    public_jwk         TEXT    NOT NULL,
    secret_digest      BLOB    CHECK (secret_digest IS NULL OR length(secret_digest) = 32),
    webhook_url        TEXT,
    webhook_secret_enc BLOB,
    created_at         INTEGER NOT NULL,
    disabled_at        INTEGER,
    version            INTEGER NOT NULL
) STRICT;

-- Access tokens (5 minutes), by digest.
CREATE TABLE client_tokens (
    token_digest BLOB    PRIMARY KEY CHECK (length(token_digest) = 32),
    client_id    TEXT    NOT NULL REFERENCES service_clients (id),
    scopes       TEXT    NOT NULL,
    issued_at    INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX client_tokens_expiry_idx ON client_tokens (expires_at);

-- Client assertion ids already used: the primary key refuses a replay.
CREATE TABLE client_assertions (
    client_id  TEXT    NOT NULL REFERENCES service_clients (id),
    jti        TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
) STRICT;

CREATE INDEX client_assertions_expiry_idx ON client_assertions (expires_at);

-- Payment authorisations. `payee_account` is masked as the business system sends it.
CREATE TABLE payment_authorizations (
    id              TEXT    PRIMARY KEY,
    client_id       TEXT    NOT NULL REFERENCES service_clients (id),
    member_id       INTEGER NOT NULL REFERENCES members (id),
    account_no      TEXT    NOT NULL,
    amount_fen      INTEGER NOT NULL CHECK (amount_fen > 0),
    currency        TEXT    NOT NULL,
    payee_name      TEXT    NOT NULL,
    payee_account   TEXT    NOT NULL,
    purpose         TEXT    NOT NULL,
    business_ref    TEXT    NOT NULL,
    mode            TEXT    NOT NULL CHECK (mode IN ('confirm', 'direct')),
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'confirmed', 'declined', 'captured')),
    risk_flags      TEXT    NOT NULL,
    idempotency_key TEXT,
    request_digest  BLOB    NOT NULL CHECK (length(request_digest) = 32),
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    decided_at      INTEGER,
    channel         TEXT    CHECK (channel IN ('web', 'app', 'terminal')),
    captured_at     INTEGER,
    receipt         TEXT,
    version         INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX payment_authorizations_idempotency_key
    ON payment_authorizations (client_id, idempotency_key);
CREATE INDEX payment_authorizations_member_idx
    ON payment_authorizations (member_id, created_at);

-- One row per event and receiving client, delivered like the SMS outbox; `seq` keeps
-- the order the events were written in (times can tie).
CREATE TABLE webhook_outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    event_id        TEXT    NOT NULL,
    client_id       TEXT    NOT NULL REFERENCES service_clients (id),
    member_id       INTEGER REFERENCES members (id),
    kind            TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL CHECK (attempts >= 0),
    delivered_at    INTEGER,
    last_error      TEXT
) STRICT;

CREATE INDEX webhook_outbox_due_idx ON webhook_outbox (delivered_at, next_attempt_at);

-- When a hold's end was announced to business systems (`hold.ended`). Holds that had
-- already ended when this column arrived count as announced.
ALTER TABLE member_holds ADD COLUMN end_announced_at INTEGER;
UPDATE member_holds SET end_announced_at = until
    WHERE until <= CAST(strftime('%s', 'now') AS INTEGER) * 1000000;
CREATE INDEX member_holds_unannounced_idx ON member_holds (until)
    WHERE end_announced_at IS NULL;
