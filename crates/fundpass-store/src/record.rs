//! [`MemberEventStore`]: a member's audit events newest first through the
//! `(member_id, seq)` index, paged by key.

use async_trait::async_trait;
use fundpass_core::audit::{AuditRecord, Outcome};
use fundpass_core::ports::{MemberEventStore, MemberEventsQuery, StoreError};

use crate::audit::{AUDIT_COLUMNS, record_from_row};
use crate::connect::Store;
use crate::errors::db_error;

/// Up to this many actions are read as one branch each.
const BRANCHES_MAX: usize = 16;

#[async_trait]
impl MemberEventStore for Store {
    async fn member_events(
        &self,
        query: &MemberEventsQuery,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let actions = query.actions.as_deref().unwrap_or(&[]);
        if query.actions.is_some() && actions.is_empty() {
            return Ok(Vec::new());
        }
        // $1 member, $2 before, $3 limit, $4 outcome ('' for any), $5… the action codes.
        let outcome = " AND ($4 = '' OR outcome = $4)";
        let sql = match query.actions {
            // A kind's few actions: one range of (member_id, action, seq) each, newest
            // first, merged; never the member's whole history for a rare kind.
            Some(_) if actions.len() <= BRANCHES_MAX => {
                let branches: Vec<String> = (0..actions.len())
                    .map(|i| {
                        format!(
                            "SELECT {AUDIT_COLUMNS} FROM (SELECT {AUDIT_COLUMNS} FROM audit_events \
                             WHERE member_id = $1 AND action = ${} AND seq < $2{outcome} \
                             ORDER BY seq DESC LIMIT $3) AS b{i}",
                            i + 5
                        )
                    })
                    .collect();
                format!(
                    "{} ORDER BY seq DESC LIMIT $3",
                    branches.join(" UNION ALL ")
                )
            }
            Some(_) => {
                let marks: Vec<String> =
                    (0..actions.len()).map(|i| format!("${}", i + 5)).collect();
                format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE member_id = $1 AND seq < $2\
                     {outcome} AND action IN ({}) ORDER BY seq DESC LIMIT $3",
                    marks.join(", ")
                )
            }
            None => format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE member_id = $1 AND seq < $2\
                 {outcome} ORDER BY seq DESC LIMIT $3"
            ),
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(query.member.0)
            .bind(query.before.unwrap_or(i64::MAX))
            .bind(i64::from(query.limit))
            .bind(query.outcome.map(Outcome::code).unwrap_or(""));
        for action in actions {
            q = q.bind(*action);
        }
        let rows = q.fetch_all(&self.pool).await.map_err(db_error)?;
        rows.iter().map(record_from_row).collect()
    }
}
