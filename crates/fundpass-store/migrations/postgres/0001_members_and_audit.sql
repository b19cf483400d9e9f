-- fundpass schema, PostgreSQL. Keep in step with migrations/sqlite/0001_members_and_audit.sql:
-- the same tables, columns, constraint names and rules on both backends.
--
-- Times are BIGINT microseconds since the Unix epoch (UTC). Flags are INTEGER 0/1 (the
-- same encoding as SQLite, so one set of queries serves both).
-- Identity documents and phones are sealed (AEAD) and found through blind indexes.
-- Privileges for the application role: sql/postgres-app-role.sql.

CREATE TABLE members (
    id                       BIGSERIAL PRIMARY KEY,
    account_no               TEXT    NOT NULL,
    name                     TEXT    NOT NULL,
    id_type                  TEXT    NOT NULL,
    id_number_enc            BYTEA   NOT NULL,
    id_number_index          BYTEA   NOT NULL,
    phone_enc                BYTEA   NOT NULL,
    phone_index              BYTEA   NOT NULL,
    status                   TEXT    NOT NULL DEFAULT 'ordinary'
        CHECK (status IN ('ordinary', 'registered', 'frozen')),
    login_hash               TEXT,
    transaction_hash         TEXT,
    login_failures           INTEGER NOT NULL DEFAULT 0,
    login_lock_count         INTEGER NOT NULL DEFAULT 0,
    login_locked_until       BIGINT,
    transaction_failures     INTEGER NOT NULL DEFAULT 0,
    transaction_lock_count   INTEGER NOT NULL DEFAULT 0,
    transaction_locked_until BIGINT,
    transaction_disabled     INTEGER NOT NULL DEFAULT 0 CHECK (transaction_disabled IN (0, 1)),
    created_at               BIGINT  NOT NULL,
    updated_at               BIGINT  NOT NULL,
    version                  BIGINT  NOT NULL DEFAULT 1,
    CONSTRAINT members_account_no_key UNIQUE (account_no),
    CONSTRAINT members_document_key UNIQUE (id_type, id_number_index)
);

CREATE INDEX members_phone_index_idx ON members (phone_index);

-- Previous credential hashes, for the "not one of the last N" rules.
CREATE TABLE secret_history (
    id         BIGSERIAL PRIMARY KEY,
    member_id  BIGINT NOT NULL REFERENCES members (id),
    kind       TEXT   NOT NULL CHECK (kind IN ('login', 'transaction')),
    hash       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX secret_history_member_kind_created_idx
    ON secret_history (member_id, kind, created_at);

-- The audit trail. No foreign key to members: the trail must outlive anything it names.
-- `seq` is assigned by the appender (1, 2, 3… without gaps), never by the database.
CREATE TABLE audit_events (
    seq        BIGINT PRIMARY KEY CHECK (seq > 0),
    at         BIGINT NOT NULL,
    actor_kind TEXT   NOT NULL,
    actor_id   TEXT,
    action     TEXT   NOT NULL,
    member_id  BIGINT,
    channel    TEXT   NOT NULL,
    ip         TEXT,
    outcome    TEXT   NOT NULL,
    details    TEXT   NOT NULL,
    prev_hash  BYTEA  NOT NULL CHECK (length(prev_hash) = 32),
    hash       BYTEA  NOT NULL CHECK (length(hash) = 32)
);

-- A member's own security record and the anomaly reports read by member and by time.
CREATE INDEX audit_events_member_idx ON audit_events (member_id, seq);
CREATE INDEX audit_events_at_idx ON audit_events (at);

-- Defence in depth: nobody, the table owner included, changes or removes an audit row
-- without first dropping this trigger. The application role has no UPDATE, DELETE or
-- TRUNCATE privilege either. The hash chain is what detects tampering that bypasses both.
CREATE FUNCTION audit_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER audit_events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();

CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

-- The newest record's sequence number and hash: one row, moved forward by each append
-- in the same transaction as the insert, so removing the newest records is detectable.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL CHECK (seq >= 0),
    hash BYTEA  NOT NULL CHECK (length(hash) = 32)
);

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

CREATE FUNCTION audit_head_only_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.seq > OLD.seq AND NEW.id = OLD.id THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_head only moves forward: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER audit_head_only_forward
    BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_only_forward();

CREATE TRIGGER audit_head_no_truncate
    BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_head_only_forward();
