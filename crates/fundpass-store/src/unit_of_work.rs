//! [`UnitOfWork`]: one [`ChangeSet`] as one database transaction, plus the readiness
//! ping and the housekeeping purge of short-lived rows.

use async_trait::async_trait;
use fundpass_core::assisted::{CaseWrite, CheckWrite};
use fundpass_core::crypto::TokenDigest;
use fundpass_core::flow::FlowState;
use fundpass_core::member::MemberId;
use fundpass_core::ports::{
    ChangeSet, FlowWrite, Health, SecretHistoryEntry, StoreError, UnitOfWork,
};
use sqlx::AnyConnection;
use time::{Duration, OffsetDateTime};

use crate::audit::append_in;
use crate::authorizations::write_authorization;
use crate::cases::write_case;
use crate::clients::{insert_assertion, insert_token, write_client};
use crate::codec::micros;
use crate::connect::Store;
use crate::errors::db_error;
use crate::flows::write_flow;
use crate::holds::{insert_hold, mark_announced};
use crate::hotline_checks::write_check;
use crate::members::{write_credentials, write_pii};
use crate::outbox::insert_message;
use crate::qualification::write_qualification;
use crate::questions::{clear_questions, insert_answer};
use crate::sessions::write_session;
use crate::staff::write_staff;
use crate::staff_sessions::write_staff_session;
use crate::throttles::write_throttle;
use crate::webhooks::fan_out;

/// How long a finished or abandoned flow is kept after it expired, for support staff
/// looking into a complaint the same day.
const FLOW_RETENTION: Duration = Duration::days(1);

#[async_trait]
impl UnitOfWork for Store {
    /// Writes members, members' personal data, history, flows, sessions, staff
    /// accounts, staff sessions, assisted cases, hotline checks, throttles, outbox,
    /// holds, security questions, business clients, their tokens and used assertions,
    /// payment authorisations, webhook events and audit events, in that order, in one writing
    /// transaction. The first failure (an optimistic check: `Conflict`; a vanished
    /// member, flow, staff account, case or check: `NotFound`) rolls everything back.
    ///
    /// Personal data lands after credentials: a change writing both for one member
    /// expects, in its `PiiWrite`, the version the credential update left.
    ///
    /// A member's questions are replaced as a whole: those of every member named in
    /// `clear_questions` or in `security_answers` are deleted before the new answers
    /// are inserted.
    ///
    /// Members, personal data, flows, staff accounts, cases, checks, throttles and
    /// questions are written in key order, so two changes touching the same rows lock
    /// them in the same order and cannot deadlock; the audit head is locked last, so
    /// the chain is held only for the final statements.
    ///
    /// Every outbox message to a member also writes the audit event
    /// [`fundpass_core::audit::sms_events`] makes of it, after the change's own events.
    async fn apply(&self, change: ChangeSet) -> Result<(), StoreError> {
        if change == ChangeSet::default() {
            return Ok(());
        }
        let ChangeSet {
            mut members,
            mut pii,
            history,
            mut flows,
            sessions,
            mut staff,
            staff_sessions,
            mut cases,
            mut checks,
            mut throttles,
            outbox,
            holds,
            mut security_answers,
            clear_questions: cleared,
            clients,
            client_tokens,
            used_assertions,
            authorizations,
            announced_holds,
            events,
            mut qualification,
            mut audit,
        } = change;
        // Each text queued for a member leaves its own audit row (purpose only).
        audit.extend(fundpass_core::audit::sms_events(&outbox));
        // Stable sorts: writes to one key keep their order.
        members.sort_by_key(|m| m.id.0);
        pii.sort_by_key(|p| p.id.0);
        flows.sort_by_key(|f| flow_key(f).0);
        staff.sort_by_key(|s| s.record.id.0);
        cases.sort_by(|a, b| case_key(a).cmp(case_key(b)));
        checks.sort_by(|a, b| check_key(a).cmp(check_key(b)));
        throttles.sort_by(|a, b| a.key.cmp(&b.key));
        security_answers.sort_by_key(|a| (a.member_id.0, a.slot));
        qualification.sort_by_key(qualification_key);
        let mut cleared: Vec<i64> = cleared
            .iter()
            .chain(security_answers.iter().map(|a| &a.member_id))
            .map(|m| m.0)
            .collect();
        cleared.sort_unstable();
        cleared.dedup();

        let mut tx = self.begin_write().await?;
        for m in &members {
            let rows = write_credentials(&mut *tx, m.id, m.expected_version, &m.update).await?;
            if rows != 1 {
                return Err(missing_or_moved(&mut tx, m.id).await?);
            }
        }
        for p in &pii {
            let rows = write_pii(&mut *tx, p.id, p.expected_version, &p.update).await?;
            if rows != 1 {
                return Err(missing_or_moved(&mut tx, p.id).await?);
            }
        }
        for entry in &history {
            insert_history(&mut tx, entry).await?;
        }
        for f in &flows {
            write_flow(&mut tx, f).await?;
        }
        for s in &sessions {
            write_session(&mut tx, s).await?;
        }
        for s in &staff {
            write_staff(&mut tx, s.expected_version, &s.record).await?;
        }
        for s in &staff_sessions {
            write_staff_session(&mut tx, s).await?;
        }
        for c in &cases {
            write_case(&mut tx, c).await?;
        }
        for c in &checks {
            write_check(&mut tx, c).await?;
        }
        for write in &throttles {
            write_throttle(&mut tx, write).await?;
        }
        for message in &outbox {
            insert_message(&mut tx, message).await?;
        }
        for hold in &holds {
            insert_hold(&mut tx, hold).await?;
        }
        for member in cleared {
            clear_questions(&mut tx, MemberId(member)).await?;
        }
        for answer in &security_answers {
            insert_answer(&mut tx, answer).await?;
        }
        for c in &clients {
            write_client(&mut tx, c).await?;
        }
        for t in &client_tokens {
            insert_token(&mut tx, t).await?;
        }
        for a in &used_assertions {
            insert_assertion(&mut tx, a).await?;
        }
        for a in &authorizations {
            write_authorization(&mut tx, a).await?;
        }
        for mark in &announced_holds {
            mark_announced(&mut tx, mark).await?;
        }
        for write in &qualification {
            write_qualification(&mut tx, write).await?;
        }
        for e in &events {
            fan_out(&mut tx, e).await?;
        }
        for event in &audit {
            append_in(&mut tx, self.backend, event).await?;
        }
        tx.commit().await.map_err(db_error)?;
        for write in &flows {
            match write {
                FlowWrite::Insert(f) => fundpass_core::metrics::flow_started(f.kind),
                FlowWrite::Update { record: f, .. } if f.state == FlowState::Completed => {
                    fundpass_core::metrics::flow_completed(f.kind);
                }
                FlowWrite::Update { .. } => {}
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Health for Store {
    async fn ping(&self) -> Result<(), StoreError> {
        Store::ping(self).await
    }
}

impl Store {
    /// Deletes what nobody can use any more: captchas and rate-limit windows that
    /// ended before `now`, and flows that expired more than a day before it. Meant for
    /// a periodic housekeeping task; returns how many rows went. Sessions, throttles,
    /// outbox messages, holds, security answers, staff sessions, assisted cases, hotline
    /// checks and the audit trail are kept.
    pub async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let at = micros(now);
        let mut purged = 0;
        for (sql, before) in [
            ("DELETE FROM captchas WHERE expires_at < $1", at),
            ("DELETE FROM rate_limits WHERE expires_at < $1", at),
            ("DELETE FROM client_tokens WHERE expires_at < $1", at),
            ("DELETE FROM client_assertions WHERE expires_at < $1", at),
            (
                "DELETE FROM qualification_attempts WHERE expires_at < $1",
                micros(now - FLOW_RETENTION),
            ),
            (
                "DELETE FROM flows WHERE expires_at < $1",
                micros(now - FLOW_RETENTION),
            ),
        ] {
            let done = sqlx::query(sql)
                .bind(before)
                .execute(&self.pool)
                .await
                .map_err(db_error)?;
            purged += done.rows_affected();
        }
        Ok(purged)
    }
}

/// The digest a flow write is keyed by.
fn flow_key(write: &FlowWrite) -> TokenDigest {
    match write {
        FlowWrite::Insert(f) | FlowWrite::Update { record: f, .. } => f.id,
    }
}

/// The order qualification writes land in: benefits by member first (the rows two
/// changes may both update), then attempts, checks and reminders, each in the order
/// given.
fn qualification_key(write: &fundpass_core::qualification::QualificationWrite) -> (u8, i64) {
    use fundpass_core::qualification::QualificationWrite as W;
    match write {
        W::Benefit { record, .. } => (0, record.member_id.0),
        W::CountRefusal(member) => (0, member.0),
        W::NewAttempt(_) | W::Attempt { .. } => (1, 0),
        W::Check(_) => (2, 0),
        W::Reminder(_) => (3, 0),
        W::Relative(_) => (4, 0),
    }
}

/// The id a case write is keyed by.
fn case_key(write: &CaseWrite) -> &str {
    match write {
        CaseWrite::Insert(c) | CaseWrite::Update { record: c, .. } => &c.id,
    }
}

/// The id a hotline-check write is keyed by.
fn check_key(write: &CheckWrite) -> &str {
    match write {
        CheckWrite::Insert(c) | CheckWrite::Update { record: c, .. } => &c.id,
    }
}

/// Why an optimistic member update changed nothing: the member is gone or its version
/// moved on.
async fn missing_or_moved(
    conn: &mut AnyConnection,
    id: MemberId,
) -> Result<StoreError, StoreError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM members WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(match found {
        Some(_) => StoreError::Conflict,
        None => StoreError::NotFound,
    })
}

/// Remembers a credential hash, guarded by the member's existence as
/// `MemberStore::push_secret_history` is, so an unknown member is `NotFound` on both
/// backends.
async fn insert_history(
    conn: &mut AnyConnection,
    entry: &SecretHistoryEntry,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "INSERT INTO secret_history (member_id, kind, hash, created_at) \
         SELECT id, $2, $3, $4 FROM members WHERE id = $1",
    )
    .bind(entry.member_id.0)
    .bind(entry.kind.code())
    .bind(entry.hash.as_str())
    .bind(micros(entry.at))
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
