//! [`QualificationStore`] over `benefits`, `qualification_attempts`,
//! `qualification_checks` and `qualification_reminders`; their unit-of-work writes;
//! and the benefit import's transaction.

use async_trait::async_trait;
use fundpass_core::crypto::TokenDigest;
use fundpass_core::member::{AccountNumber, MemberId};
use fundpass_core::ports::{BenefitImport, QualificationStore, StoreError};
use fundpass_core::qualification::{
    Attempt, AttemptState, Benefit, BenefitKind, CheckChannel, CheckRecord, DeceasedCheck,
    QualificationStatus, QualificationWrite, RelativeLink,
};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, AssertSqlSafe, Transaction};
use time::Date;
use time::format_description::well_known::Iso8601;

use crate::codec::{from_micros, from_opt_micros, hash32, micros, opt_micros};
use crate::connect::{Backend, Store};
use crate::errors::{bad_value, db_error};
use crate::import::Placeholders;
use crate::members::column;

const BENEFIT_COLUMNS: &str = "member_id, kind, start_date, cycle_months, due_date, status, \
                               suspended_since, last_check_at, last_check_channel, \
                               failed_attempts, deceased_on, version";

const ATTEMPT_COLUMNS: &str =
    "id_digest, member_id, started_by, channel, nonce, state, created_at, expires_at, version";

const CHECK_COLUMNS: &str = "member_id, checked_at, checked_on, channel, provider, by_member, similarity, \
                             due_before, due_after, gap_months, ip";

/// Rows per statement of the import (12 parameters each on upsert).
const IMPORT_ROWS_PER_STATEMENT: usize = 1_000;

/// The stored form of a China date.
fn date_text(date: Date) -> String {
    date.to_string()
}

fn parse_date(text: &str, what: &str) -> Result<Date, StoreError> {
    Date::parse(text, &Iso8601::DATE).map_err(|_| bad_value(what))
}

fn parse_opt_date(text: Option<String>, what: &str) -> Result<Option<Date>, StoreError> {
    text.map(|t| parse_date(&t, what)).transpose()
}

#[async_trait]
impl QualificationStore for Store {
    async fn benefit(&self, member: MemberId) -> Result<Option<Benefit>, StoreError> {
        let sql = format!("SELECT {BENEFIT_COLUMNS} FROM benefits WHERE member_id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(member.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(benefit_from_row).transpose()
    }

    async fn qualification_attempt(&self, id: &TokenDigest) -> Result<Option<Attempt>, StoreError> {
        let sql =
            format!("SELECT {ATTEMPT_COLUMNS} FROM qualification_attempts WHERE id_digest = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.0.as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(attempt_from_row).transpose()
    }

    async fn recent_checks(
        &self,
        member: MemberId,
        limit: u32,
    ) -> Result<Vec<CheckRecord>, StoreError> {
        let sql = format!(
            "SELECT {CHECK_COLUMNS} FROM qualification_checks WHERE member_id = $1 \
             ORDER BY checked_at DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(member.0)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(check_from_row).collect()
    }

    async fn lapsed_benefits(&self, today: Date, limit: u32) -> Result<Vec<Benefit>, StoreError> {
        let sql = format!(
            "SELECT {BENEFIT_COLUMNS} FROM benefits WHERE status = 'qualified' \
             AND due_date < $1 ORDER BY due_date, member_id LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(date_text(today))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(benefit_from_row).collect()
    }

    async fn unreminded_benefits(
        &self,
        status: QualificationStatus,
        due_after: Date,
        due_until: Date,
        offset_days: i32,
        limit: u32,
    ) -> Result<Vec<Benefit>, StoreError> {
        let sql = format!(
            "SELECT {BENEFIT_COLUMNS} FROM benefits b WHERE status = $1 \
             AND due_date > $2 AND due_date <= $3 AND NOT EXISTS (\
             SELECT 1 FROM qualification_reminders r WHERE r.member_id = b.member_id \
             AND r.due_date = b.due_date AND r.offset_days = $4) \
             ORDER BY due_date, member_id LIMIT $5"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(status.code())
            .bind(date_text(due_after))
            .bind(date_text(due_until))
            .bind(offset_days)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(benefit_from_row).collect()
    }

    async fn relatives_of(&self, member: MemberId) -> Result<Vec<RelativeLink>, StoreError> {
        let rows = sqlx::query(
            "SELECT member_id, relative_id, confirmed_at, confirmed_via \
             FROM qualification_relatives WHERE member_id = $1 ORDER BY confirmed_at, relative_id",
        )
        .bind(member.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                let via: String = column(row, "confirmed_via")?;
                Ok(RelativeLink {
                    member_id: MemberId(column(row, "member_id")?),
                    relative_id: MemberId(column(row, "relative_id")?),
                    confirmed_at: from_micros(column(row, "confirmed_at")?)?,
                    confirmed_via: match via.as_str() {
                        "sms" => "sms",
                        "counter" => "counter",
                        _ => return Err(bad_value("confirmed via")),
                    },
                })
            })
            .collect()
    }

    async fn checks_after_death(&self, limit: u32) -> Result<Vec<DeceasedCheck>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.member_id, c.checked_at, c.channel, c.by_member, b.deceased_on \
             FROM qualification_checks c JOIN benefits b ON b.member_id = c.member_id \
             WHERE b.deceased_on IS NOT NULL AND c.checked_on >= b.deceased_on \
             ORDER BY c.checked_at DESC, c.id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                let channel: String = column(row, "channel")?;
                let by: Option<i64> = column(row, "by_member")?;
                Ok(DeceasedCheck {
                    member: MemberId(column(row, "member_id")?),
                    deceased_on: parse_date(&column::<String>(row, "deceased_on")?, "deceased on")?,
                    checked_at: from_micros(column(row, "checked_at")?)?,
                    channel: CheckChannel::from_code(&channel)
                        .ok_or_else(|| bad_value("check channel"))?,
                    by_member: by.map(MemberId),
                })
            })
            .collect()
    }

    async fn begin_benefit_import(&self) -> Result<Box<dyn BenefitImport>, StoreError> {
        Ok(Box::new(Import {
            tx: self.begin_write().await?,
            backend: self.backend,
        }))
    }
}

/// One qualification write inside a unit of work.
pub(crate) async fn write_qualification(
    conn: &mut AnyConnection,
    write: &QualificationWrite,
) -> Result<(), StoreError> {
    let done = match write {
        QualificationWrite::Benefit {
            record: b,
            expected_version,
        } => bind_benefit(
            sqlx::query(
                "UPDATE benefits SET kind = $2, start_date = $3, cycle_months = $4, \
                 due_date = $5, status = $6, suspended_since = $7, last_check_at = $8, \
                 last_check_channel = $9, failed_attempts = $10, deceased_on = $11, \
                 version = version + 1 WHERE member_id = $1 AND version = $12",
            ),
            b,
        )
        .bind(*expected_version)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?,
        QualificationWrite::NewAttempt(a) => sqlx::query(
            "INSERT INTO qualification_attempts (id_digest, member_id, started_by, channel, \
             nonce, state, created_at, expires_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(a.id.0.as_slice())
        .bind(a.member_id.0)
        .bind(a.started_by.0)
        .bind(a.channel.code())
        .bind(a.nonce.as_str())
        .bind(a.state.code())
        .bind(micros(a.created_at))
        .bind(micros(a.expires_at))
        .bind(a.version)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?,
        QualificationWrite::Attempt {
            record: a,
            expected_version,
        } => sqlx::query(
            "UPDATE qualification_attempts SET state = $1, version = version + 1 \
             WHERE id_digest = $2 AND version = $3",
        )
        .bind(a.state.code())
        .bind(a.id.0.as_slice())
        .bind(*expected_version)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?,
        QualificationWrite::Check(c) => insert_check(conn, c).await?,
        QualificationWrite::CountRefusal(member) => sqlx::query(
            "UPDATE benefits SET failed_attempts = failed_attempts + 1, \
             version = version + 1 WHERE member_id = $1",
        )
        .bind(member.0)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?,
        QualificationWrite::Relative(link) => sqlx::query(
            "INSERT INTO qualification_relatives (member_id, relative_id, confirmed_at, \
             confirmed_via) VALUES ($1, $2, $3, $4)",
        )
        .bind(link.member_id.0)
        .bind(link.relative_id.0)
        .bind(micros(link.confirmed_at))
        .bind(link.confirmed_via)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?,
        QualificationWrite::Reminder(r) => sqlx::query(
            "INSERT INTO qualification_reminders (member_id, due_date, offset_days, sent_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(r.member_id.0)
        .bind(date_text(r.due_date))
        .bind(r.offset_days)
        .bind(micros(r.sent_at))
        .execute(&mut *conn)
        .await
        .map_err(db_error)?,
    };
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

async fn insert_check(
    conn: &mut AnyConnection,
    c: &CheckRecord,
) -> Result<sqlx::any::AnyQueryResult, StoreError> {
    sqlx::query(
        "INSERT INTO qualification_checks (member_id, checked_at, checked_on, channel, \
         provider, by_member, similarity, due_before, due_after, gap_months, ip) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(c.member_id.0)
    .bind(micros(c.checked_at))
    .bind(date_text(c.checked_on))
    .bind(c.channel.code())
    .bind(c.provider.as_str())
    .bind(c.by_member.map(|m| m.0))
    .bind(c.similarity)
    .bind(date_text(c.due_before))
    .bind(date_text(c.due_after))
    .bind(i32::try_from(c.gap_months).unwrap_or(i32::MAX))
    .bind(c.ip.as_deref())
    .execute(&mut *conn)
    .await
    .map_err(db_error)
}

/// Binds a benefit's columns in the order of [`BENEFIT_COLUMNS`], `version` aside.
fn bind_benefit<'q>(
    query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    b: &Benefit,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    query
        .bind(b.member_id.0)
        .bind(b.kind.code())
        .bind(date_text(b.start_date))
        .bind(i32::from(b.cycle_months))
        .bind(date_text(b.due_date))
        .bind(b.status.code())
        .bind(b.suspended_since.map(date_text))
        .bind(opt_micros(b.last_check_at))
        .bind(b.last_check_channel.map(CheckChannel::code))
        .bind(b.failed_attempts)
        .bind(b.deceased_on.map(date_text))
}

fn benefit_from_row(row: &AnyRow) -> Result<Benefit, StoreError> {
    let kind: String = column(row, "kind")?;
    let status: String = column(row, "status")?;
    let channel: Option<String> = column(row, "last_check_channel")?;
    let cycle: i32 = column(row, "cycle_months")?;
    Ok(Benefit {
        member_id: MemberId(column(row, "member_id")?),
        kind: BenefitKind::from_code(&kind).ok_or_else(|| bad_value("benefit kind"))?,
        start_date: parse_date(&column::<String>(row, "start_date")?, "start date")?,
        cycle_months: u8::try_from(cycle).map_err(|_| bad_value("cycle"))?,
        due_date: parse_date(&column::<String>(row, "due_date")?, "due date")?,
        status: QualificationStatus::from_code(&status)
            .ok_or_else(|| bad_value("qualification status"))?,
        suspended_since: parse_opt_date(column(row, "suspended_since")?, "suspended since")?,
        last_check_at: from_opt_micros(column(row, "last_check_at")?)?,
        last_check_channel: channel
            .map(|c| CheckChannel::from_code(&c).ok_or_else(|| bad_value("check channel")))
            .transpose()?,
        failed_attempts: column(row, "failed_attempts")?,
        deceased_on: parse_opt_date(column(row, "deceased_on")?, "deceased on")?,
        version: column(row, "version")?,
    })
}

fn attempt_from_row(row: &AnyRow) -> Result<Attempt, StoreError> {
    let channel: String = column(row, "channel")?;
    let state: String = column(row, "state")?;
    Ok(Attempt {
        id: TokenDigest(hash32(column(row, "id_digest")?, "attempt id")?),
        member_id: MemberId(column(row, "member_id")?),
        started_by: MemberId(column(row, "started_by")?),
        channel: CheckChannel::from_code(&channel).ok_or_else(|| bad_value("check channel"))?,
        nonce: column(row, "nonce")?,
        state: AttemptState::from_code(&state).ok_or_else(|| bad_value("attempt state"))?,
        created_at: from_micros(column(row, "created_at")?)?,
        expires_at: from_micros(column(row, "expires_at")?)?,
        version: column(row, "version")?,
    })
}

fn check_from_row(row: &AnyRow) -> Result<CheckRecord, StoreError> {
    let channel: String = column(row, "channel")?;
    let by: Option<i64> = column(row, "by_member")?;
    let gap: i32 = column(row, "gap_months")?;
    Ok(CheckRecord {
        member_id: MemberId(column(row, "member_id")?),
        checked_at: from_micros(column(row, "checked_at")?)?,
        checked_on: parse_date(&column::<String>(row, "checked_on")?, "checked on")?,
        channel: CheckChannel::from_code(&channel).ok_or_else(|| bad_value("check channel"))?,
        provider: column(row, "provider")?,
        by_member: by.map(MemberId),
        similarity: column(row, "similarity")?,
        due_before: parse_date(&column::<String>(row, "due_before")?, "due before")?,
        due_after: parse_date(&column::<String>(row, "due_after")?, "due after")?,
        gap_months: u32::try_from(gap).map_err(|_| bad_value("gap months"))?,
        ip: column(row, "ip")?,
    })
}

/// A benefit import in progress: a transaction that commits on
/// [`BenefitImport::commit`] and rolls back when dropped.
struct Import {
    tx: Transaction<'static, Any>,
    backend: Backend,
}

#[async_trait]
impl BenefitImport for Import {
    async fn members_by_account(
        &mut self,
        accounts: &[AccountNumber],
    ) -> Result<Vec<(AccountNumber, MemberId)>, StoreError> {
        let mut found = Vec::new();
        for chunk in accounts.chunks(IMPORT_ROWS_PER_STATEMENT) {
            let mut sql = String::from("SELECT id, account_no FROM members WHERE account_no IN ");
            let mut placeholders = Placeholders::new(self.backend);
            placeholders.tuple(&mut sql, chunk.len());
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for account in chunk {
                query = query.bind(account.as_str());
            }
            for row in query.fetch_all(&mut *self.tx).await.map_err(db_error)? {
                let account: String = column(&row, "account_no")?;
                found.push((
                    AccountNumber::parse(&account).map_err(|_| bad_value("account number"))?,
                    MemberId(column(&row, "id")?),
                ));
            }
        }
        Ok(found)
    }

    async fn benefits_of(&mut self, members: &[MemberId]) -> Result<Vec<Benefit>, StoreError> {
        let mut found = Vec::new();
        for chunk in members.chunks(IMPORT_ROWS_PER_STATEMENT) {
            let mut sql = format!("SELECT {BENEFIT_COLUMNS} FROM benefits WHERE member_id IN ");
            let mut placeholders = Placeholders::new(self.backend);
            placeholders.tuple(&mut sql, chunk.len());
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for member in chunk {
                query = query.bind(member.0);
            }
            for row in query.fetch_all(&mut *self.tx).await.map_err(db_error)? {
                found.push(benefit_from_row(&row)?);
            }
        }
        Ok(found)
    }

    async fn upsert(&mut self, benefits: &[Benefit]) -> Result<(), StoreError> {
        for chunk in benefits.chunks(IMPORT_ROWS_PER_STATEMENT) {
            let mut sql = format!("INSERT INTO benefits ({BENEFIT_COLUMNS}) VALUES ");
            let mut placeholders = Placeholders::new(self.backend);
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push(',');
                }
                placeholders.tuple(&mut sql, 12);
            }
            sql.push_str(
                " ON CONFLICT (member_id) DO UPDATE SET kind = excluded.kind, \
                 start_date = excluded.start_date, cycle_months = excluded.cycle_months, \
                 status = CASE WHEN excluded.status = 'ended' THEN 'ended' \
                 ELSE benefits.status END, \
                 deceased_on = COALESCE(excluded.deceased_on, benefits.deceased_on), \
                 version = benefits.version + 1",
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for b in chunk {
                query = bind_benefit(query, b).bind(b.version.max(1));
            }
            query.execute(&mut *self.tx).await.map_err(db_error)?;
        }
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(db_error)
    }
}
