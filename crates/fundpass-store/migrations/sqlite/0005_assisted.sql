-- fundpass staff console and assisted recovery, SQLite. Keep in step with
-- migrations/postgres/0005_assisted.sql.
--
-- No column holds a plaintext token, ticket or phone: session tokens and redemption
-- ids are stored as their SHA-256 (`*_digest`), tickets as keyed MACs, new phone
-- numbers sealed (AEAD) with a blind index. Times are INTEGER microseconds.

-- Staff console sessions. `level` is 'password' until the TOTP code is accepted (a
-- new row of level 'mfa' then replaces it). `pending_totp_enc` holds the sealed
-- secret being enrolled at a first login.
CREATE TABLE staff_sessions (
    token_digest     BLOB    PRIMARY KEY CHECK (length(token_digest) = 32),
    staff_id         INTEGER NOT NULL REFERENCES staff (id),
    level            TEXT    NOT NULL CHECK (level IN ('password', 'mfa')),
    pending_totp_enc BLOB,
    csrf             TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    ip               TEXT,
    user_agent       TEXT,
    revoked_at       INTEGER
) STRICT;

CREATE INDEX staff_sessions_staff_idx ON staff_sessions (staff_id);

-- Counter visits and hotline calls that may end in a one-time reset ticket.
-- `scope` is NULL for a phone change alone. `check_json` is the masked record of the
-- in-person check; `risks_json` a JSON array of risk codes.
CREATE TABLE assisted_cases (
    id                TEXT    PRIMARY KEY,
    member_id         INTEGER NOT NULL REFERENCES members (id),
    channel           TEXT    NOT NULL CHECK (channel IN ('counter', 'hotline')),
    scope             TEXT    CHECK (scope IN ('login', 'transaction', 'both')),
    new_phone_enc     BLOB,
    new_phone_index   BLOB,
    staff_id          INTEGER NOT NULL REFERENCES staff (id),
    branch_id         TEXT    NOT NULL,
    reference         TEXT    NOT NULL,
    check_json        TEXT    NOT NULL,
    risks_json        TEXT    NOT NULL,
    status            TEXT    NOT NULL
        CHECK (status IN ('awaiting_approval', 'approved', 'issued', 'redeemed', 'closed')),
    approved_by       INTEGER REFERENCES staff (id),
    approved_at       INTEGER,
    ticket_mac        BLOB,
    ticket_expires_at INTEGER,
    issued_at         INTEGER,
    redeem_digest     BLOB,
    redeem_expires_at INTEGER,
    wrong_tries       INTEGER NOT NULL DEFAULT 0,
    redeemed_at       INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    version           INTEGER NOT NULL,
    CONSTRAINT assisted_cases_ticket_key UNIQUE (ticket_mac),
    CONSTRAINT assisted_cases_redeem_key UNIQUE (redeem_digest)
) STRICT;

CREATE INDEX assisted_cases_status_idx ON assisted_cases (status, created_at);
CREATE INDEX assisted_cases_member_idx ON assisted_cases (member_id, created_at);

-- Caller-verification checklists of the hotline. `items_json` is a JSON array of
-- [item, passed] pairs: never the stored values.
CREATE TABLE hotline_checks (
    id         TEXT    PRIMARY KEY,
    staff_id   INTEGER NOT NULL REFERENCES staff (id),
    call_id    TEXT    NOT NULL,
    member_id  INTEGER REFERENCES members (id),
    items_json TEXT    NOT NULL,
    passed     INTEGER NOT NULL CHECK (passed IN (0, 1)),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    version    INTEGER NOT NULL
) STRICT;

CREATE INDEX hotline_checks_staff_idx ON hotline_checks (staff_id, created_at);
