//! The audit trail as the auditor reads it in the console: newest first, a page at
//! a time. Reading is itself an audit event; nobody, by any role, edits or deletes.

use super::{ConsoleError, StaffAuth};
use crate::audit::{AuditRecord, Outcome};
use crate::portal::{Portal, RequestContext};
use crate::staff::StaffAction;

/// Events per page.
pub const AUDIT_PAGE: u32 = 50;

/// One page of the trail.
#[derive(Debug, Clone)]
pub struct AuditPage {
    /// Newest first.
    pub records: Vec<AuditRecord>,
    /// The `before` of the next (older) page, when there is one.
    pub older: Option<i64>,
}

impl Portal {
    /// The records before sequence number `before` (the newest when `None`).
    pub async fn staff_read_audit(
        &self,
        auth: &StaffAuth,
        before: Option<i64>,
        ctx: &RequestContext,
    ) -> Result<AuditPage, ConsoleError> {
        self.require(auth, StaffAction::ReadAudit, ctx).await?;
        let event = self.staff_event(
            auth,
            "staff.read_audit",
            Outcome::Success,
            None,
            serde_json::json!({"before": before}),
            ctx,
        );
        self.audit_only(event).await?;
        let head = self.store.head().await?.map_or(0, |(seq, _)| seq);
        let end = before.map_or(head + 1, |b| b.clamp(1, head + 1));
        let start = (end - 1 - i64::from(AUDIT_PAGE)).max(0);
        let mut records: Vec<AuditRecord> = self
            .store
            .records_after(start, AUDIT_PAGE)
            .await?
            .into_iter()
            .filter(|r| r.seq < end)
            .collect();
        records.reverse();
        let older = records.last().map(|r| r.seq).filter(|seq| *seq > 1);
        Ok(AuditPage { records, older })
    }
}
