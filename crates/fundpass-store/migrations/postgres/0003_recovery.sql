-- fundpass recovery state, PostgreSQL. Keep in step with migrations/sqlite/0003_recovery.sql.
--
-- Forgotten passwords, face login and security questions. As in 0002, nothing here is a
-- plaintext secret: a flow's subject is a keyed MAC of what the member typed, answers are
-- keyed MACs of the normalised answer. Times are BIGINT microseconds since the Unix epoch.
-- Privileges for the application role: sql/postgres-app-role.sql.

-- A flow remembers who the identify step named (`subject_key`, a keyed MAC, NULL for
-- registration flows) and, for face login, the nonce the provider's result must carry
-- (not a secret: it travels to the provider and back).
ALTER TABLE flows ADD COLUMN subject_key BYTEA;
ALTER TABLE flows ADD COLUMN nonce TEXT;

-- What a session may do: 'full' after a password login, 'recovery' after a face login
-- (the forgotten-transaction-password flow only). Existing sessions are full logins.
ALTER TABLE sessions ADD COLUMN scope TEXT NOT NULL DEFAULT 'full'
    CHECK (scope IN ('full', 'recovery'));

-- Holds placed after a credential or phone change, read by business systems before they
-- pay money out. Appended only: a hold ends by its `until` passing, never by an update,
-- so the table is also the record of every hold ever placed.
CREATE TABLE member_holds (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id  BIGINT NOT NULL REFERENCES members (id),
    reason     TEXT   NOT NULL
        CHECK (reason IN ('login_reset', 'transaction_reset', 'phone_change')),
    channel    TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    until      BIGINT NOT NULL
);

-- "Holds of this member still in force".
CREATE INDEX member_holds_member_until_idx ON member_holds (member_id, until);

-- Up to three security questions per member (question codes from a fixed list), each
-- answer stored only as a keyed MAC. Replaced as a whole when the member changes them.
CREATE TABLE security_answers (
    member_id  BIGINT  NOT NULL REFERENCES members (id),
    slot       INTEGER NOT NULL CHECK (slot BETWEEN 1 AND 3),
    question   TEXT    NOT NULL,
    answer_mac BYTEA   NOT NULL,
    CONSTRAINT security_answers_pkey PRIMARY KEY (member_id, slot),
    CONSTRAINT security_answers_question_key UNIQUE (member_id, question)
);
