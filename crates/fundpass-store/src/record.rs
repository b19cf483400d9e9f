//! [`MemberEventStore`]: a member's audit events newest first through the
//! `(member_id, seq)` index, paged by key.

use async_trait::async_trait;
use fundpass_core::audit::{AuditRecord, Outcome};
use fundpass_core::ports::{MemberEventStore, MemberEventsQuery, StoreError};

use crate::audit::{AUDIT_COLUMNS, record_from_row};
use crate::connect::Store;
use crate::errors::db_error;

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
        let mut filter = String::from(" AND ($4 = '' OR outcome = $4)");
        if query.actions.is_some() {
            let marks: Vec<String> = (0..actions.len()).map(|i| format!("${}", i + 5)).collect();
            filter.push_str(&format!(" AND action IN ({})", marks.join(", ")));
        }
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE member_id = $1 AND seq < $2{filter} \
             ORDER BY seq DESC LIMIT $3"
        );
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
