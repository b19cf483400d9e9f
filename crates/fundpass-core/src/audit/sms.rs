//! Every text fundpass queues for a member is audited, with its purpose and never its
//! text or number, so the member's security record lists the SMS notices they were
//! sent (codes included) and the auditor's trail agrees with it.

use super::{Actor, ActorKind, AuditEvent, Channel, Outcome};
use crate::ports::OutboxMessage;

/// The audit action of a text queued for a member.
pub const SMS_ACTION: &str = "sms.queued";

/// The audit events of the texts in a change: one per message to a known member
/// (texts before registration, to a phone not yet tied to an account, are not about
/// an account).
pub fn sms_events(outbox: &[OutboxMessage]) -> Vec<AuditEvent> {
    outbox
        .iter()
        .filter_map(|m| {
            let member = m.member_id?;
            Some(
                AuditEvent::new(
                    m.created_at,
                    Actor {
                        kind: ActorKind::System,
                        id: None,
                    },
                    SMS_ACTION,
                    Channel::System,
                    Outcome::Success,
                )
                .member(member)
                .details(serde_json::json!({ "purpose": m.purpose })),
            )
        })
        .collect()
}
