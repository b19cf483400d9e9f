-- fundpass member account centre, SQLite. Keep in step with
-- migrations/postgres/0007_account_centre.sql.
--
-- A member may report an event on their security record as not theirs ("this was
-- not me"); the hold that follows has its own reason. SQLite cannot change a CHECK
-- constraint in place, so the table is rebuilt with its rows, ids and indexes.
CREATE TABLE member_holds_next (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id        INTEGER NOT NULL REFERENCES members (id),
    reason           TEXT    NOT NULL
        CHECK (reason IN ('login_reset', 'transaction_reset', 'phone_change',
                          'reported_by_member')),
    channel          TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    until            INTEGER NOT NULL,
    end_announced_at INTEGER
) STRICT;

INSERT INTO member_holds_next (id, member_id, reason, channel, created_at, until, end_announced_at)
    SELECT id, member_id, reason, channel, created_at, until, end_announced_at FROM member_holds;

DROP TABLE member_holds;
ALTER TABLE member_holds_next RENAME TO member_holds;

CREATE INDEX member_holds_member_until_idx ON member_holds (member_id, until);
CREATE INDEX member_holds_unannounced_idx ON member_holds (until)
    WHERE end_announced_at IS NULL;

-- "This member's events of these actions, newest first": the security record filtered
-- by kind reads one range per action instead of the member's whole history.
CREATE INDEX audit_events_member_action_idx ON audit_events (member_id, action, seq);
