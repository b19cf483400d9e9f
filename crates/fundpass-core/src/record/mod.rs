//! The member's security record: every event about their own account, read from the
//! audit trail through its index by member and told as the member reads it (channel,
//! branch, masked address, masked facts), never naming a member of staff.

mod export;
mod kind;
mod not_me;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use serde::Serialize;
use time::OffsetDateTime;

pub use export::{
    EXPORT_TYP, ExportError, ExportFormat, RecordExport, SealedExport, Verified, VerifyError,
    seal_with, verify,
};
pub use kind::{ACTIONS, Mapping, RecordKind, kind_of, member_facing_actions};
pub use not_me::{NotMeError, NotMeReport, REPORTABLE, reportable, reported_at};

/// The audit action of a "this was not me" report.
pub const NOT_ME_ACTION: &str = not_me::ACTION;

use crate::audit::{ActorKind, AuditRecord, Channel, Outcome};
use crate::portal::{Authenticated, Portal, mask_address};
use crate::ports::{MemberEventsQuery, StoreError};
use crate::staff::StaffId;

/// The most entries one page may hold.
pub const MAX_PAGE: u32 = 100;

/// Where an event came from, as the member reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RecordChannel {
    Online,
    App,
    /// At a counter of the named branch.
    Counter {
        branch: Option<String>,
    },
    /// On the hotline, by staff of the named branch.
    Hotline {
        branch: Option<String>,
    },
    /// A business system of the fund.
    BusinessSystem,
    /// fundpass itself or an operator.
    System,
}

/// One event on the record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordEntry {
    /// The event's place in the audit trail: what `before` takes to page on.
    pub seq: i64,
    pub at: OffsetDateTime,
    pub kind: RecordKind,
    pub channel: RecordChannel,
    /// The staff member's role when staff acted, never their name.
    pub staff_role: Option<String>,
    pub outcome: Outcome,
    /// The client address with its last part masked.
    pub address: Option<String>,
    /// Kind-specific facts, already masked in the trail.
    pub facts: serde_json::Map<String, serde_json::Value>,
    /// Whether the member may report this event as not theirs.
    pub reportable: bool,
}

/// One page of the record, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordPage {
    pub entries: Vec<RecordEntry>,
    /// `before` for the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
}

/// Facts a member may read, by key; anything else in the details stays in the trail.
const FACT_KEYS: &[&str] = &[
    "reason",
    "scope",
    "new_phone",
    "to",
    "phone",
    "count",
    "amount_fen",
    "purpose",
    "state",
    "id_number",
    "format",
    "reported_kind",
    "hold_until",
];

impl Portal {
    /// A page of the signed-in member's security record: events about their own
    /// account only, with `seq < before`, of `kind` when given.
    pub async fn security_record(
        &self,
        auth: &Authenticated,
        before: Option<i64>,
        kind: Option<RecordKind>,
        limit: u32,
    ) -> Result<RecordPage, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let actions = match kind {
            Some(k) => k.actions(),
            None => member_facing_actions(),
        };
        let records = self
            .store
            .member_events(&MemberEventsQuery {
                member: auth.member.id,
                before,
                actions: Some(actions),
                outcome: kind.and_then(RecordKind::outcome),
                limit,
            })
            .await?;
        let next_before = if records.len() == limit as usize {
            records.last().map(|r| r.seq)
        } else {
            None
        };
        let mut branches = HashMap::new();
        let mut entries = Vec::with_capacity(records.len());
        for record in &records {
            if record.event.member_id != Some(auth.member.id) {
                continue;
            }
            let Some(entry) = self.entry(record, &mut branches).await? else {
                continue;
            };
            if kind.is_none_or(|k| k == entry.kind) {
                entries.push(entry);
            }
        }
        Ok(RecordPage {
            entries,
            next_before,
        })
    }

    async fn entry(
        &self,
        record: &AuditRecord,
        branches: &mut HashMap<i64, Option<String>>,
    ) -> Result<Option<RecordEntry>, StoreError> {
        let event = &record.event;
        let Some(kind) = kind_of(&event.action, event.outcome) else {
            return Ok(None);
        };
        let details = event.details.as_object();
        let staff = event.actor.kind == ActorKind::Staff;
        let branch = match details
            .and_then(|d| d.get("staff_id"))
            .and_then(|v| v.as_i64())
        {
            Some(id) if staff => self.branch_name(id, details, branches).await?,
            _ => None,
        };
        let channel = match event.channel {
            Channel::Web => RecordChannel::Online,
            Channel::App => RecordChannel::App,
            Channel::Counter => RecordChannel::Counter { branch },
            Channel::Hotline => RecordChannel::Hotline { branch },
            Channel::Internal => RecordChannel::BusinessSystem,
            Channel::Cli | Channel::System => RecordChannel::System,
        };
        let staff_role = details
            .filter(|_| staff)
            .and_then(|d| d.get("role"))
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let mut facts = serde_json::Map::new();
        if let Some(d) = details {
            for key in FACT_KEYS {
                if let Some(v) = d.get(*key) {
                    facts.insert((*key).to_owned(), v.clone());
                }
            }
            if let Some(payee) = d.get("payee_account").and_then(|v| v.as_str()) {
                facts.insert("payee_account".into(), mask_account(payee).into());
            }
        }
        Ok(Some(RecordEntry {
            seq: record.seq,
            at: event.at,
            kind,
            channel,
            staff_role,
            outcome: event.outcome,
            address: event.ip.as_deref().and_then(mask_address),
            facts,
            reportable: reportable(kind, event.outcome),
        }))
    }

    /// The name of the branch the acting staff member belonged to when the event was
    /// written (the staff account's branch, when it is still that one).
    async fn branch_name(
        &self,
        staff_id: i64,
        details: Option<&serde_json::Map<String, serde_json::Value>>,
        cache: &mut HashMap<i64, Option<String>>,
    ) -> Result<Option<String>, StoreError> {
        if let Some(name) = cache.get(&staff_id) {
            return Ok(name.clone());
        }
        let branch_id = details
            .and_then(|d| d.get("branch_id"))
            .and_then(|v| v.as_str());
        let name = self
            .store
            .staff_by_id(StaffId(staff_id))
            .await?
            .map(|s| s.branch)
            .map(|b| match branch_id {
                Some(id) if id != b.id => id.to_owned(),
                _ => b.name,
            });
        cache.insert(staff_id, name.clone());
        Ok(name)
    }
}

/// A payee account with all but its last four characters hidden.
fn mask_account(account: &str) -> String {
    let chars: Vec<char> = account.chars().collect();
    let keep = chars.len().saturating_sub(4);
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < keep { '*' } else { *c })
        .collect()
}
