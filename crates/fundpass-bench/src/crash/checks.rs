//! What the harnesses check in the database itself, read in one snapshot: every
//! change is complete or absent (a registration with its notice and audit event; a
//! reset with its hold, notice, password history, audit event and every older session
//! ended; an issued ticket with its notice and audit event), the server kept every
//! change the client saw confirmed, and (at the end) exactly the changes the client
//! knows of.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::workload::Counts;

/// What one member's rows say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub account: String,
    pub registered: bool,
    pub login_hash: Option<String>,
    /// Audit events of successful changes, by action.
    pub events: HashMap<String, i64>,
    /// Outbox messages, by purpose.
    pub notices: HashMap<String, i64>,
    /// `login_reset` holds, and when the newest began.
    pub reset_holds: i64,
    pub last_reset_at: Option<i64>,
    /// Login-password history rows, and the newest hash.
    pub login_history: i64,
    pub last_login_hash: Option<String>,
    /// Sessions not ended that began before the newest reset.
    pub live_before_reset: i64,
    /// Cases with a ticket issued, and redeemed ones.
    pub issued: i64,
    pub redeemed: i64,
}

impl Facts {
    fn event(&self, action: &str) -> i64 {
        self.events.get(action).copied().unwrap_or(0)
    }

    fn notice(&self, purpose: &str) -> i64 {
        self.notices.get(purpose).copied().unwrap_or(0)
    }

    /// Resets of the login password through the app.
    pub fn app_resets(&self) -> i64 {
        self.event("recovery.login.complete")
    }

    /// Tickets redeemed.
    pub fn ticket_resets(&self) -> i64 {
        self.event("recovery.ticket.redeem")
    }

    /// Notices beyond one per completed change (a member told twice of one change).
    pub fn extra_notices(&self) -> i64 {
        let pairs = [
            (
                self.notice("registration_done"),
                self.event("registration.complete"),
            ),
            (
                self.notice("reset_notice"),
                self.app_resets() + self.ticket_resets(),
            ),
            (
                self.notice("ticket_issued") + self.notice("reset_ticket"),
                self.event("counter.issue_ticket"),
            ),
        ];
        pairs.iter().map(|(n, e)| (n - e).max(0)).sum()
    }

    /// What is wrong with this member's rows, if anything: a change found in part.
    pub fn broken(&self) -> Vec<String> {
        let mut wrong = Vec::new();
        let mut expect = |ok: bool, what: String| {
            if !ok {
                wrong.push(format!("member {}: {what}", self.account));
            }
        };
        let registrations = self.event("registration.complete");
        let done = self.notice("registration_done");
        expect(
            registrations == i64::from(self.registered) && done == registrations,
            format!(
                "registered {}, {registrations} registration events, {done} notices",
                self.registered
            ),
        );
        let resets = self.app_resets() + self.ticket_resets();
        let notices = self.notice("reset_notice");
        let history = self.login_history - registrations;
        expect(
            resets == self.reset_holds && resets == notices && resets == history,
            format!(
                "{resets} reset events, {} holds, {notices} notices, {history} new login hashes",
                self.reset_holds
            ),
        );
        expect(
            self.login_hash == self.last_login_hash,
            "the login password is not the newest in its history".into(),
        );
        expect(
            self.live_before_reset == 0,
            format!(
                "{} sessions from before the last reset not ended",
                self.live_before_reset
            ),
        );
        let issue_events = self.event("counter.issue_ticket");
        let issue_notices = self.notice("ticket_issued") + self.notice("reset_ticket");
        expect(
            self.issued == issue_events && self.issued == issue_notices,
            format!(
                "{} tickets issued, {issue_events} issue events, {issue_notices} notices",
                self.issued
            ),
        );
        expect(
            self.redeemed == self.ticket_resets(),
            format!(
                "{} cases redeemed, {} redeem events",
                self.redeemed,
                self.ticket_resets()
            ),
        );
        wrong
    }

    /// What the database lacks of the changes in `counts` (those the client saw
    /// confirmed); with `exact`, also what it has beyond the changes the client knows
    /// of (confirmed, or found made after a lost answer).
    pub fn against(&self, counts: &Counts, exact: bool) -> Vec<String> {
        let mut wrong = Vec::new();
        let pairs = [
            (
                "registrations",
                i64::from(counts.registered),
                i64::from(self.registered),
            ),
            ("app resets", i64::from(counts.resets), self.app_resets()),
            (
                "ticket redemptions",
                i64::from(counts.redeemed),
                self.ticket_resets(),
            ),
        ];
        for (what, known, stored) in pairs {
            if stored < known || (exact && stored != known) {
                wrong.push(format!(
                    "member {}: {stored} {what} stored, the client knows of {known}",
                    self.account
                ));
            }
        }
        let (sure, unsure) = (i64::from(counts.issued), i64::from(counts.issued_unsure));
        if self.issued < sure || (exact && self.issued > sure + unsure) {
            wrong.push(format!(
                "member {}: {} tickets issued, the client saw {sure} and lost {unsure} answers",
                self.account, self.issued
            ));
        }
        wrong
    }
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub member_id: Option<i64>,
    pub purpose: String,
    pub created_at: i64,
    pub delivered: bool,
    pub given_up: bool,
}

/// The database's side of a check: every member with a change, and the outbox.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub members: HashMap<i64, Facts>,
    pub outbox: Vec<Message>,
}

/// The facts of member `id`, new if none yet.
fn facts(members: &mut HashMap<i64, Facts>, id: i64) -> &mut Facts {
    members.entry(id).or_default()
}

fn int(row: &AnyRow, i: usize) -> Result<i64, sqlx::Error> {
    row.try_get::<i64, _>(i)
}

/// Reads the snapshot in one read transaction (`REPEATABLE READ` on PostgreSQL; a
/// read transaction of SQLite's WAL sees one state too).
pub async fn read(conn: &mut AnyConnection, postgres: bool) -> anyhow::Result<Snapshot> {
    let begin = if postgres {
        "BEGIN ISOLATION LEVEL REPEATABLE READ"
    } else {
        "BEGIN"
    };
    sqlx::raw_sql(begin).execute(&mut *conn).await?;
    let read = read_in(conn).await;
    sqlx::raw_sql("COMMIT").execute(&mut *conn).await?;
    read
}

async fn read_in(conn: &mut AnyConnection) -> anyhow::Result<Snapshot> {
    let mut members: HashMap<i64, Facts> = HashMap::new();
    let rows = sqlx::query("SELECT id, account_no, status, login_hash FROM members")
        .fetch_all(&mut *conn)
        .await?;
    for row in &rows {
        members.insert(
            int(row, 0)?,
            Facts {
                account: row.try_get(1)?,
                registered: row.try_get::<String, _>(2)? == "registered",
                login_hash: row.try_get(3)?,
                ..Facts::default()
            },
        );
    }
    for row in &sqlx::query(
        "SELECT member_id, action, COUNT(*) FROM audit_events \
         WHERE member_id IS NOT NULL AND outcome = 'success' GROUP BY member_id, action",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        facts(&mut members, int(row, 0)?)
            .events
            .insert(row.try_get(1)?, int(row, 2)?);
    }
    for row in &sqlx::query(
        "SELECT member_id, purpose, COUNT(*) FROM outbox \
         WHERE member_id IS NOT NULL GROUP BY member_id, purpose",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        facts(&mut members, int(row, 0)?)
            .notices
            .insert(row.try_get(1)?, int(row, 2)?);
    }
    for row in &sqlx::query(
        "SELECT member_id, COUNT(*), MAX(created_at) FROM member_holds \
         WHERE reason = 'login_reset' GROUP BY member_id",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let f = facts(&mut members, int(row, 0)?);
        f.reset_holds = int(row, 1)?;
        f.last_reset_at = row.try_get(2)?;
    }
    for row in
        &sqlx::query("SELECT member_id, hash FROM secret_history WHERE kind = 'login' ORDER BY id")
            .fetch_all(&mut *conn)
            .await?
    {
        let f = facts(&mut members, int(row, 0)?);
        f.login_history += 1;
        f.last_login_hash = Some(row.try_get(1)?);
    }
    for row in &sqlx::query("SELECT member_id, status, issued_at FROM assisted_cases")
        .fetch_all(&mut *conn)
        .await?
    {
        let f = facts(&mut members, int(row, 0)?);
        f.issued += i64::from(row.try_get::<Option<i64>, _>(2)?.is_some());
        f.redeemed += i64::from(row.try_get::<String, _>(1)? == "redeemed");
    }
    let live = sqlx::query("SELECT member_id, created_at FROM sessions WHERE revoked_at IS NULL")
        .fetch_all(&mut *conn)
        .await?;
    for row in &live {
        let f = facts(&mut members, int(row, 0)?);
        if f.last_reset_at
            .is_some_and(|at| int(row, 1).is_ok_and(|c| c < at))
        {
            f.live_before_reset += 1;
        }
    }
    let given_up = fundpass_store::OUTBOX_GIVEN_UP.unix_timestamp_nanos() / 1000;
    let mut outbox = Vec::new();
    for row in &sqlx::query(
        "SELECT id, member_id, purpose, created_at, delivered_at, next_attempt_at FROM outbox",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let delivered = row.try_get::<Option<i64>, _>(4)?.is_some();
        outbox.push(Message {
            id: row.try_get(0)?,
            member_id: row.try_get(1)?,
            purpose: row.try_get(2)?,
            created_at: int(row, 3)?,
            delivered,
            given_up: !delivered && i128::from(int(row, 5)?) == given_up,
        });
    }
    Ok(Snapshot { members, outbox })
}

/// The database as it is now, read in one snapshot through a connection of the
/// harness's own (the SQLite file, or the PostgreSQL URL when given).
pub async fn snapshot(
    sqlite_path: Option<&std::path::Path>,
    postgres_url: Option<&str>,
) -> anyhow::Result<Snapshot> {
    let mut conn = super::database::reader(sqlite_path, postgres_url).await?;
    let snapshot = read(&mut conn, postgres_url.is_some()).await;
    let _ = sqlx::Connection::close(conn).await;
    snapshot
}

/// Reads snapshots with `read` until the outbox has nothing waiting or `within` has
/// passed; the last one read.
pub async fn drained<F, Fut>(read: F, within: std::time::Duration) -> anyhow::Result<Snapshot>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Snapshot>>,
{
    let deadline = std::time::Instant::now() + within;
    loop {
        let snapshot = read().await?;
        if snapshot.waiting() == 0 || std::time::Instant::now() >= deadline {
            return Ok(snapshot);
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

impl Snapshot {
    /// Outbox messages neither delivered nor given up.
    pub fn waiting(&self) -> usize {
        self.outbox
            .iter()
            .filter(|m| !m.delivered && !m.given_up)
            .count()
    }

    /// Every change found in part.
    pub fn broken(&self) -> Vec<String> {
        let mut all: Vec<String> = self.members.values().flat_map(Facts::broken).collect();
        all.sort();
        all
    }

    /// Every change the client knows of that the database lacks (and, with `exact`,
    /// every change beyond them).
    pub fn against(&self, ledger: &HashMap<String, Counts>, exact: bool) -> Vec<String> {
        let by_account: HashMap<&str, &Facts> = self
            .members
            .values()
            .map(|f| (f.account.as_str(), f))
            .collect();
        let mut all = Vec::new();
        for (account, counts) in ledger {
            match by_account.get(account.as_str()) {
                Some(facts) => all.extend(facts.against(counts, exact)),
                None => all.push(format!("member {account}: not in the database")),
            }
        }
        all.sort();
        all
    }

    /// Notices beyond one per completed change, over every member.
    pub fn extra_notices(&self) -> i64 {
        self.members.values().map(Facts::extra_notices).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reset_once() -> Facts {
        Facts {
            account: "a1".into(),
            registered: true,
            login_hash: Some("h2".into()),
            events: [
                ("registration.complete".to_owned(), 1),
                ("recovery.login.complete".to_owned(), 1),
            ]
            .into(),
            notices: [
                ("registration_done".to_owned(), 1),
                ("reset_notice".to_owned(), 1),
            ]
            .into(),
            reset_holds: 1,
            last_reset_at: Some(10),
            login_history: 2,
            last_login_hash: Some("h2".into()),
            ..Facts::default()
        }
    }

    #[test]
    fn a_complete_reset_is_not_broken() {
        assert!(reset_once().broken().is_empty());
    }

    #[test]
    fn a_reset_without_its_notice_hold_or_session_end_is_found() {
        let mut no_notice = reset_once();
        no_notice.notices.insert("reset_notice".into(), 0);
        assert_eq!(no_notice.broken().len(), 1);
        let mut no_hold = reset_once();
        no_hold.reset_holds = 0;
        assert!(no_hold.broken()[0].contains("0 holds"));
        let mut live = reset_once();
        live.live_before_reset = 1;
        assert!(live.broken()[0].contains("not ended"));
        let mut stale = reset_once();
        stale.login_hash = Some("h1".into());
        assert!(stale.broken()[0].contains("newest"));
    }

    #[test]
    fn confirmed_changes_must_be_stored_and_at_the_end_nothing_more() {
        let facts = reset_once();
        let known = Counts {
            registered: true,
            resets: 1,
            ..Counts::default()
        };
        assert!(facts.against(&known, true).is_empty());
        let more = Counts { resets: 2, ..known };
        assert_eq!(facts.against(&more, false).len(), 1);
        let fewer = Counts { resets: 0, ..known };
        assert!(facts.against(&fewer, false).is_empty());
        assert_eq!(facts.against(&fewer, true).len(), 1);
    }
}
