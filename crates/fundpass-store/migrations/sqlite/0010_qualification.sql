-- fundpass benefit qualification check (待遇资格认证), SQLite. Keep in step with
-- migrations/postgres/0010_qualification.sql.
--
-- Dates are TEXT 'YYYY-MM-DD' (China dates, which sort as text); times are BIGINT
-- microseconds. No column holds an image, a document number or a secret: a passed
-- check keeps its channel, provider, similarity and the due dates it moved.

-- Members entitled to a benefit, from the benefit import, and where their check stands.
CREATE TABLE benefits (
    member_id          BIGINT  PRIMARY KEY REFERENCES members (id),
    kind               TEXT    NOT NULL,
    start_date         TEXT    NOT NULL,
    cycle_months       INTEGER NOT NULL CHECK (cycle_months BETWEEN 1 AND 24),
    due_date           TEXT    NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('qualified', 'suspended', 'ended')),
    suspended_since    TEXT,
    last_check_at      BIGINT,
    last_check_channel TEXT,
    failed_attempts    INTEGER NOT NULL,
    deceased_on        TEXT,
    version            BIGINT  NOT NULL
);

-- The sweeps look for lapsed and due members by status and due date.
CREATE INDEX benefits_due_idx ON benefits (status, due_date);

-- Face checks started; one nonce (or provider handle) is one check.
CREATE TABLE qualification_attempts (
    id_digest  BLOB    PRIMARY KEY CHECK (length(id_digest) = 32),
    member_id  BIGINT  NOT NULL REFERENCES members (id),
    started_by BIGINT  NOT NULL REFERENCES members (id),
    channel    TEXT    NOT NULL,
    nonce      TEXT    NOT NULL UNIQUE,
    state      TEXT    NOT NULL CHECK (state IN ('pending', 'passed', 'refused')),
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    version    BIGINT  NOT NULL
);

CREATE INDEX qualification_attempts_expiry_idx ON qualification_attempts (expires_at);

-- Passed checks, kept for the member, the benefit system and the auditor.
CREATE TABLE qualification_checks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id  BIGINT  NOT NULL REFERENCES members (id),
    checked_at BIGINT  NOT NULL,
    checked_on TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    provider   TEXT    NOT NULL,
    by_member  BIGINT  REFERENCES members (id),
    similarity REAL,
    due_before TEXT    NOT NULL,
    due_after  TEXT    NOT NULL,
    gap_months INTEGER NOT NULL CHECK (gap_months >= 0),
    ip         TEXT
);

CREATE INDEX qualification_checks_member_idx ON qualification_checks (member_id, checked_at);

-- The auditor's report looks for checks on or after a reported date of death.
CREATE INDEX benefits_deceased_idx ON benefits (deceased_on) WHERE deceased_on IS NOT NULL;

-- Reminders sent: one per member, due date and offset (the key refuses a second).
CREATE TABLE qualification_reminders (
    member_id   BIGINT  NOT NULL REFERENCES members (id),
    due_date    TEXT    NOT NULL,
    offset_days INTEGER NOT NULL,
    sent_at     BIGINT  NOT NULL,
    PRIMARY KEY (member_id, due_date, offset_days)
);

-- Relatives' service (亲情服务): the member may run the relative's check, with the
-- relative's face. Confirmed by the relative reading back a code, or at a counter.
CREATE TABLE qualification_relatives (
    member_id     BIGINT  NOT NULL REFERENCES members (id),
    relative_id   BIGINT  NOT NULL REFERENCES members (id),
    confirmed_at  BIGINT  NOT NULL,
    confirmed_via TEXT    NOT NULL CHECK (confirmed_via IN ('sms', 'counter')),
    PRIMARY KEY (member_id, relative_id),
    CHECK (member_id <> relative_id)
);

CREATE INDEX qualification_relatives_relative_idx ON qualification_relatives (relative_id);
