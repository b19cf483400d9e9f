-- fundpass member account centre, PostgreSQL. Keep in step with
-- migrations/sqlite/0007_account_centre.sql.
--
-- A member may report an event on their security record as not theirs ("this was
-- not me"); the hold that follows has its own reason.
ALTER TABLE member_holds DROP CONSTRAINT member_holds_reason_check;
ALTER TABLE member_holds ADD CONSTRAINT member_holds_reason_check
    CHECK (reason IN ('login_reset', 'transaction_reset', 'phone_change',
                      'reported_by_member'));

-- "This member's events of these actions, newest first": the security record filtered
-- by kind reads one range per action instead of the member's whole history.
CREATE INDEX audit_events_member_action_idx ON audit_events (member_id, action, seq);
