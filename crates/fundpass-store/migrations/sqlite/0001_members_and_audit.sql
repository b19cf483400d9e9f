-- fundpass schema, SQLite. Keep in step with migrations/postgres/0001_members_and_audit.sql:
-- the same tables, columns, constraint names and rules on both backends.
--
-- Times are BIGINT microseconds since the Unix epoch (UTC). Flags are INTEGER 0/1.
-- Identity documents and phones are sealed (AEAD) and found through blind indexes.

CREATE TABLE members (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    account_no               TEXT    NOT NULL,
    name                     TEXT    NOT NULL,
    id_type                  TEXT    NOT NULL,
    id_number_enc            BLOB    NOT NULL,
    id_number_index          BLOB    NOT NULL,
    phone_enc                BLOB    NOT NULL,
    phone_index              BLOB    NOT NULL,
    status                   TEXT    NOT NULL DEFAULT 'ordinary'
        CHECK (status IN ('ordinary', 'registered', 'frozen')),
    login_hash               TEXT,
    transaction_hash         TEXT,
    login_failures           INTEGER NOT NULL DEFAULT 0,
    login_lock_count         INTEGER NOT NULL DEFAULT 0,
    login_locked_until       INTEGER,
    transaction_failures     INTEGER NOT NULL DEFAULT 0,
    transaction_lock_count   INTEGER NOT NULL DEFAULT 0,
    transaction_locked_until INTEGER,
    transaction_disabled     INTEGER NOT NULL DEFAULT 0 CHECK (transaction_disabled IN (0, 1)),
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL,
    version                  INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT members_account_no_key UNIQUE (account_no),
    CONSTRAINT members_document_key UNIQUE (id_type, id_number_index)
) STRICT;

CREATE INDEX members_phone_index_idx ON members (phone_index);

-- Previous credential hashes, for the "not one of the last N" rules.
CREATE TABLE secret_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id  INTEGER NOT NULL REFERENCES members (id),
    kind       TEXT    NOT NULL CHECK (kind IN ('login', 'transaction')),
    hash       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX secret_history_member_kind_created_idx
    ON secret_history (member_id, kind, created_at);

-- The audit trail. No foreign key to members: the trail must outlive anything it names.
-- `seq` is assigned by the appender (1, 2, 3… without gaps), never by the database.
CREATE TABLE audit_events (
    seq        INTEGER PRIMARY KEY CHECK (seq > 0),
    at         INTEGER NOT NULL,
    actor_kind TEXT    NOT NULL,
    actor_id   TEXT,
    action     TEXT    NOT NULL,
    member_id  INTEGER,
    channel    TEXT    NOT NULL,
    ip         TEXT,
    outcome    TEXT    NOT NULL,
    details    TEXT    NOT NULL,
    prev_hash  BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    hash       BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;

-- A member's own security record and the anomaly reports read by member and by time.
CREATE INDEX audit_events_member_idx ON audit_events (member_id, seq);
CREATE INDEX audit_events_at_idx ON audit_events (at);

-- Defence in depth: the application never changes or removes an audit row. The hash
-- chain is what detects tampering by someone who bypasses these triggers.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused');
END;

-- The newest record's sequence number and hash: one row, moved forward by each append
-- in the same transaction as the insert, so removing the newest records is detectable.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL CHECK (seq >= 0),
    hash BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));

CREATE TRIGGER audit_head_only_forward BEFORE UPDATE ON audit_head
WHEN NEW.seq <= OLD.seq OR NEW.id <> OLD.id
BEGIN
    SELECT RAISE(ABORT, 'audit_head only moves forward: UPDATE refused');
END;

CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'audit_head only moves forward: DELETE refused');
END;
