-- fundpass portal state, SQLite. Keep in step with migrations/postgres/0002_portal.sql.
--
-- No column holds a plaintext token, code, answer or phone: tokens and flow ids are
-- stored as their SHA-256 (`*_digest`), codes and captcha answers as keyed MACs, SMS
-- recipients and texts sealed (AEAD). Times are INTEGER microseconds since the Unix epoch.

-- Member sessions, web (cookie) and app (bearer token) alike.
CREATE TABLE sessions (
    token_digest BLOB    PRIMARY KEY CHECK (length(token_digest) = 32),
    member_id    INTEGER NOT NULL REFERENCES members (id),
    client       TEXT    NOT NULL CHECK (client IN ('web', 'app')),
    csrf         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ip           TEXT,
    user_agent   TEXT,
    revoked_at   INTEGER
) STRICT;

-- "Where am I logged in" and revoke-all read a member's sessions.
CREATE INDEX sessions_member_created_idx ON sessions (member_id, created_at);

-- Multi-step processes (registration…), with a version for optimistic concurrency.
-- `member_id` is NULL when the identify step matched nobody.
CREATE TABLE flows (
    id_digest       BLOB    PRIMARY KEY CHECK (length(id_digest) = 32),
    kind            TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    member_id       INTEGER REFERENCES members (id),
    code_mac        BLOB    NOT NULL,
    code_expires_at INTEGER NOT NULL,
    code_sent_at    INTEGER NOT NULL,
    wrong_codes     INTEGER NOT NULL,
    sends           INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL
) STRICT;

CREATE INDEX flows_expires_idx ON flows (expires_at);

-- Single-use image captchas. `dev_answer` is only ever set in dev mode.
CREATE TABLE captchas (
    id_digest  BLOB    PRIMARY KEY CHECK (length(id_digest) = 32),
    answer_mac BLOB    NOT NULL,
    expires_at INTEGER NOT NULL,
    dev_answer TEXT
) STRICT;

CREATE INDEX captchas_expires_idx ON captchas (expires_at);

-- Login failure counters of identifiers that match no member (keyed MAC of the
-- identifier), so unknown identifiers lock like real ones. `updated_at` is the
-- database's clock at the last write, for operators only.
CREATE TABLE login_throttles (
    key          BLOB    PRIMARY KEY,
    failures     INTEGER NOT NULL,
    lock_count   INTEGER NOT NULL,
    locked_until INTEGER,
    updated_at   INTEGER NOT NULL
        DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER))
) STRICT;

-- Fixed-window rate-limit counters shared by every instance.
CREATE TABLE rate_limits (
    key          TEXT    NOT NULL,
    window_start INTEGER NOT NULL,
    hits         INTEGER NOT NULL CHECK (hits > 0),
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
) STRICT;

CREATE INDEX rate_limits_expires_idx ON rate_limits (expires_at);

-- Outgoing SMS, written in the transaction of the change that caused them. A message
-- given up on keeps delivered_at NULL and gets next_attempt_at = 9999-12-31T23:59:59.999999Z
-- (253402300799999999), so no worker claims it again.
CREATE TABLE outbox (
    id              TEXT    PRIMARY KEY,
    member_id       INTEGER REFERENCES members (id),
    purpose         TEXT    NOT NULL,
    to_enc          BLOB    NOT NULL,
    body_enc        BLOB    NOT NULL,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL CHECK (attempts >= 0),
    delivered_at    INTEGER,
    last_error      TEXT
) STRICT;

-- The delivery worker's "undelivered and due" scan.
CREATE INDEX outbox_due_idx ON outbox (delivered_at, next_attempt_at);
-- The newest messages, for the dev viewer and the operator command.
CREATE INDEX outbox_created_idx ON outbox (created_at);
