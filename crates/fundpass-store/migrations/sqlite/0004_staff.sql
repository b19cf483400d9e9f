-- fundpass staff accounts, SQLite. Keep in step with migrations/postgres/0004_staff.sql.
--
-- Counter, hotline, supervisor, auditor and admin accounts. None exists after install:
-- the first admin is created with `fundpass staff add`. Rows are never deleted (audit
-- events name them); an account leaves by being disabled. Nothing here is a plaintext
-- secret: the password is an Argon2id PHC string over a peppered MAC, the TOTP secret
-- is sealed (AEAD, key id inside), the own-member link is a blind index.

CREATE TABLE staff (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    username            TEXT    NOT NULL,
    display_name        TEXT    NOT NULL,
    role                TEXT    NOT NULL
        CHECK (role IN ('counter', 'hotline', 'supervisor', 'auditor', 'admin')),
    branch_id           TEXT    NOT NULL,
    branch_name         TEXT    NOT NULL,
    password_hash       TEXT    NOT NULL,
    password_changed_at INTEGER NOT NULL,
    -- NULL until the second factor is enrolled at the first login (or after a reset).
    totp_secret_enc     BLOB,
    -- The step of the last accepted code: a code of this step or older is a replay.
    totp_last_step      INTEGER,
    status              TEXT    NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'disabled')),
    login_failures      INTEGER NOT NULL DEFAULT 0,
    login_lock_count    INTEGER NOT NULL DEFAULT 0,
    login_locked_until  INTEGER,
    -- Blind index of the staff member's own document number, to refuse them on it.
    member_index        BLOB,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    version             INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT staff_username_key UNIQUE (username)
) STRICT;

-- "Is the member a staff member is about to act on that staff member?"
CREATE INDEX staff_member_index_idx ON staff (member_index);
