//! What the audit trail keeps of a payout step: the client, the business reference
//! and the masked payee; never the transaction password.

use time::OffsetDateTime;

use super::Authorization;
use crate::audit::{AuditEvent, Outcome};
use crate::clients::ClientCaller;
use crate::member::MemberRecord;
use crate::portal::RequestContext;

/// An audit event about one authorisation: the client, the business reference and
/// the masked payee; never the transaction password.
pub(crate) fn payout_event(
    caller: &ClientCaller,
    auth: &Authorization,
    at: OffsetDateTime,
    action: &str,
    outcome: Outcome,
    ctx: &RequestContext,
) -> AuditEvent {
    caller
        .event(at, action, outcome, ctx)
        .member(auth.member_id)
        .details(audit_details(auth))
}

/// `event` with `extra` added to its details.
pub(crate) fn with_details(mut event: AuditEvent, extra: serde_json::Value) -> AuditEvent {
    if let (Some(details), serde_json::Value::Object(more)) = (event.details.as_object_mut(), extra)
    {
        details.extend(more);
    }
    event
}

/// A step the member took on a client's authorisation (confirming it in the app or on
/// the page) is the member's act; the internal API's steps stay the client's.
pub(crate) fn by_member(
    mut event: AuditEvent,
    ctx: &RequestContext,
    member: &MemberRecord,
) -> AuditEvent {
    if ctx.channel != crate::audit::Channel::Internal {
        event.actor = crate::audit::Actor {
            kind: crate::audit::ActorKind::Member,
            id: Some(member.id.0.to_string()),
        };
    }
    event
}

/// The facts of an authorisation an audit row keeps.
pub(crate) fn audit_details(auth: &Authorization) -> serde_json::Value {
    serde_json::json!({
        "authorization_id": auth.id,
        "client": auth.client_id,
        "business_ref": auth.payment.business_ref,
        "payee_account": auth.payment.payee_account,
        "amount_fen": auth.payment.amount_fen,
        "purpose": auth.payment.purpose.code(),
        "mode": auth.mode.code(),
        "state": auth.state.code(),
    })
}
