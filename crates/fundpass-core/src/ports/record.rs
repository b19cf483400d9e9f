//! The member's own security record, read from the audit trail through its index by
//! member.

use async_trait::async_trait;

use super::StoreError;
use crate::audit::{AuditRecord, Outcome};
use crate::member::MemberId;

/// One page of a member's audit events, newest first, found by key (never OFFSET).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberEventsQuery {
    pub member: MemberId,
    /// Only events with `seq < before`; `None` starts at the newest.
    pub before: Option<i64>,
    /// Only these action codes; `None` means every action.
    pub actions: Option<Vec<&'static str>>,
    /// Only events with this outcome; `None` means any.
    pub outcome: Option<Outcome>,
    pub limit: u32,
}

/// Reads the audit trail by member.
#[async_trait]
pub trait MemberEventStore: Send + Sync {
    /// The member's events matching `query`, newest first.
    async fn member_events(
        &self,
        query: &MemberEventsQuery,
    ) -> Result<Vec<AuditRecord>, StoreError>;
}
