-- Privileges of the role fundpass runs as on PostgreSQL.
--
-- Two roles:
--   * the OWNER role creates and migrates the schema (`fundpass migrate` with a URL that
--     logs in as the owner). It owns every table, so it is the only role that could
--     drop the audit triggers: keep its password offline.
--   * the APPLICATION role, `fundpass_app` below, is the one in the URL `fundpass serve`
--     uses. It reads and writes members and credential history, appends to the audit
--     trail and moves the chain head, keeps the portal's sessions, flows, captchas,
--     counters and SMS outbox, places holds and keeps security answers, and nothing
--     else: no UPDATE, DELETE or TRUNCATE on audit_events, no UPDATE or DELETE on
--     holds, DELETE only on short-lived portal rows and on security answers being
--     replaced, no DDL. It also creates, reads and updates staff accounts, staff
--     sessions, assisted cases and hotline checklists but never deletes them. Even a
--     compromised application server cannot rewrite history; the hash chain
--     (`fundpass audit verify`) detects a rewrite by anyone who gets past this.
--
-- Run as the owner in the fundpass database after `fundpass migrate`, and again after
-- any migration that adds a table or sequence:
--
--   psql "$OWNER_URL" -v ON_ERROR_STOP=1 -f crates/fundpass-store/sql/postgres-app-role.sql
--
-- Create the role once beforehand (as a superuser or a role with CREATEROLE), choosing
-- your own password, and let it connect:
--
--   CREATE ROLE fundpass_app LOGIN PASSWORD '…';
--   GRANT CONNECT ON DATABASE fundpass TO fundpass_app;
--
-- To use another role name, replace every `fundpass_app` in this file.

-- Start from nothing, so that running the file again leaves exactly these privileges.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM fundpass_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM fundpass_app;
-- Nobody but the owner creates objects (PostgreSQL 14 and older let everyone).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO fundpass_app;

-- The record of applied migrations: read, so that a dev-mode start can tell the
-- schema is current without trying to create anything.
GRANT SELECT ON _sqlx_migrations TO fundpass_app;

-- Members: imported (INSERT, UPDATE on re-import), read, credentials and counters
-- updated. Never deleted by the application.
GRANT SELECT, INSERT, UPDATE ON members TO fundpass_app;

-- Previous credential hashes for the reuse rules: appended and read.
GRANT SELECT, INSERT ON secret_history TO fundpass_app;

-- The audit trail: append and read only.
GRANT SELECT, INSERT ON audit_events TO fundpass_app;

-- The chain head: read (with FOR UPDATE, which needs UPDATE) and moved forward by each
-- append. A trigger refuses moving it backwards or removing it.
GRANT SELECT, UPDATE ON audit_head TO fundpass_app;

-- Sessions: created, touched and revoked (never deleted: they are a security record).
GRANT SELECT, INSERT, UPDATE ON sessions TO fundpass_app;

-- Flows: started and advanced; deleted a day after they expire.
GRANT SELECT, INSERT, UPDATE, DELETE ON flows TO fundpass_app;

-- Captchas: taken (DELETE … RETURNING) and purged.
GRANT SELECT, INSERT, DELETE ON captchas TO fundpass_app;

-- Failure counters of unknown login identifiers: upserted, never deleted.
GRANT SELECT, INSERT, UPDATE ON login_throttles TO fundpass_app;

-- Rate-limit windows: counted (upsert) and purged.
GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limits TO fundpass_app;

-- The SMS outbox: queued, claimed (FOR UPDATE needs UPDATE) and marked; kept.
GRANT SELECT, INSERT, UPDATE ON outbox TO fundpass_app;

-- Holds after credential and phone changes: placed and read, never lifted early or
-- removed (a hold ends when its time passes; the rows are the record of every hold).
-- Their ids come from an identity column, which needs no grant on its sequence.
GRANT SELECT, INSERT ON member_holds TO fundpass_app;
-- Only the mark that a hold's end was announced to business systems may change.
GRANT UPDATE (end_announced_at) ON member_holds TO fundpass_app;

-- Security questions: set, read, and replaced or removed as a whole by the member.
GRANT SELECT, INSERT, DELETE ON security_answers TO fundpass_app;

-- Staff accounts: created, read, and updated (password, second factor, lock, status).
-- Never deleted: audit events name them; an account leaves by being disabled. Ids come
-- from an identity column, which needs no grant on its sequence.
GRANT SELECT, INSERT, UPDATE ON staff TO fundpass_app;

-- Staff console sessions: created, touched and revoked (never deleted: they are a
-- security record, like member sessions).
GRANT SELECT, INSERT, UPDATE ON staff_sessions TO fundpass_app;

-- Assisted cases (counter and hotline): opened, approved, issued and redeemed by
-- optimistic updates. Never deleted: they are the record of every assisted reset.
GRANT SELECT, INSERT, UPDATE ON assisted_cases TO fundpass_app;

-- Hotline caller-verification checklists: run, read, and marked used. Never deleted.
GRANT SELECT, INSERT, UPDATE ON hotline_checks TO fundpass_app;

-- Ids of new members and history rows (BIGSERIAL).
GRANT USAGE ON SEQUENCE members_id_seq, secret_history_id_seq TO fundpass_app;

-- Business systems: registered and changed by the administrator's commands (which
-- run under this role too); never deleted, so a client's audit rows keep their name.
GRANT SELECT, INSERT, UPDATE ON service_clients TO fundpass_app;
-- Access tokens and used assertion ids: written once, purged when expired.
GRANT SELECT, INSERT, DELETE ON client_tokens TO fundpass_app;
GRANT SELECT, INSERT, DELETE ON client_assertions TO fundpass_app;
-- Payment authorisations move from pending to a decision and to captured.
GRANT SELECT, INSERT, UPDATE ON payment_authorizations TO fundpass_app;
-- Webhook deliveries: queued, leased and marked by the worker.
GRANT SELECT, INSERT, UPDATE ON webhook_outbox TO fundpass_app;
-- The qualification check: benefits come from the import and are moved on by checks
-- and the lapse sweep; face check attempts are purged when expired; passed checks
-- and reminders are written once.
GRANT SELECT, INSERT, UPDATE ON benefits TO fundpass_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON qualification_attempts TO fundpass_app;
GRANT SELECT, INSERT ON qualification_checks TO fundpass_app;
GRANT SELECT, INSERT ON qualification_reminders TO fundpass_app;
GRANT SELECT, INSERT ON qualification_relatives TO fundpass_app;
