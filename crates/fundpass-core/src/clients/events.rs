//! Signed events to business systems: a credential reset, a phone change, a hold
//! placed, an authorisation confirmed or declined. Each event is written in the same
//! transaction as the change it reports and fanned out to every subscribed client (or
//! to the one client it concerns), then delivered by a worker with retries; the
//! receiver de-duplicates on the event id.
//!
//! # Signature
//!
//! `Fundpass-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
//! the body being the exact bytes posted. A receiver recomputes the MAC over the
//! timestamp it was given and the raw body, compares in constant time, and refuses a
//! timestamp more than 5 minutes from its clock (replay window).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::member::{Hold, HoldReason, MemberId, MemberRecord};
use crate::ports::SecretGenerator;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A login or transaction password was reset (not changed by the member).
    CredentialReset,
    /// The phone on file changed.
    PhoneChanged,
    /// A hold was placed; payouts may be refused until it ends.
    HoldPlaced,
    /// The member confirmed a payment authorisation.
    AuthorizationConfirmed,
    /// The member declined a payment authorisation.
    AuthorizationDeclined,
    /// A hold's time passed: payouts are no longer refused for it.
    HoldEnded,
    /// The fund froze the member's account: nothing online works, payouts included.
    AccountFrozen,
    /// The fund lifted the freeze.
    AccountUnfrozen,
    /// A benefit recipient passed the qualification check on time: the due date moved.
    QualificationChecked,
    /// A benefit recipient's due date passed without a check: suspend payment.
    QualificationSuspended,
    /// A suspended recipient passed a late check: resume payment and pay back the
    /// months between (`gap_months`).
    QualificationRestored,
}

impl EventKind {
    /// The event's `type`.
    pub fn code(self) -> &'static str {
        match self {
            Self::CredentialReset => "credential.reset",
            Self::PhoneChanged => "phone.changed",
            Self::HoldPlaced => "hold.placed",
            Self::AuthorizationConfirmed => "authorization.confirmed",
            Self::AuthorizationDeclined => "authorization.declined",
            Self::HoldEnded => "hold.ended",
            Self::AccountFrozen => "account.frozen",
            Self::AccountUnfrozen => "account.unfrozen",
            Self::QualificationChecked => "qualification.checked",
            Self::QualificationSuspended => "qualification.suspended",
            Self::QualificationRestored => "qualification.restored",
        }
    }

    /// The scope a client must hold to receive events of this kind: a benefit
    /// recipient's standing goes only to systems allowed to read it.
    pub fn required_scope(self) -> Option<super::Scope> {
        match self {
            Self::QualificationChecked
            | Self::QualificationSuspended
            | Self::QualificationRestored => Some(super::Scope::QualificationRead),
            Self::CredentialReset
            | Self::PhoneChanged
            | Self::HoldPlaced
            | Self::AuthorizationConfirmed
            | Self::AuthorizationDeclined
            | Self::HoldEnded
            | Self::AccountFrozen
            | Self::AccountUnfrozen => None,
        }
    }
}

/// One event, before it is fanned out to clients.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessEvent {
    /// `evt_` and 128 random bits: the receiver's de-duplication key.
    pub id: String,
    pub kind: EventKind,
    /// The one client it concerns (an authorisation's owner), or every subscriber.
    pub audience: Option<String>,
    pub member_id: Option<MemberId>,
    pub created_at: OffsetDateTime,
    /// The event's facts; never a document number, a phone or a secret.
    pub data: serde_json::Value,
}

impl BusinessEvent {
    /// A new event with a fresh id.
    pub fn new(
        kind: EventKind,
        data: serde_json::Value,
        created_at: OffsetDateTime,
        rng: &dyn SecretGenerator,
    ) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes);
        Self {
            id: format!("evt_{}", URL_SAFE_NO_PAD.encode(bytes)),
            kind,
            audience: None,
            member_id: None,
            created_at,
            data,
        }
    }

    /// The JSON body posted to the receiver.
    pub fn body(&self) -> String {
        serde_json::json!({
            "id": self.id,
            "type": self.kind.code(),
            "created_at": self.created_at.format(&Rfc3339).unwrap_or_default(),
            "data": self.data,
        })
        .to_string()
    }

    /// The events a set of new holds on `member` announces: each hold, and the reset
    /// or phone change that caused it.
    pub fn for_holds(
        member: &MemberRecord,
        holds: &[Hold],
        rng: &dyn SecretGenerator,
    ) -> Vec<BusinessEvent> {
        let account = member.account_no.as_str();
        let mut events = Vec::new();
        let mut reset: Vec<&str> = Vec::new();
        let mut reset_channel = None;
        for hold in holds {
            let at = hold.created_at;
            let fmt = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
            events.push(BusinessEvent::new(
                EventKind::HoldPlaced,
                serde_json::json!({
                    "account_no": account, "reason": hold.reason.code(),
                    "channel": hold.channel.code(), "since": fmt(at), "until": fmt(hold.until),
                }),
                at,
                rng,
            ));
            match hold.reason {
                HoldReason::LoginReset => reset.push("login"),
                HoldReason::TransactionReset => reset.push("transaction"),
                HoldReason::PhoneChange => events.push(BusinessEvent::new(
                    EventKind::PhoneChanged,
                    serde_json::json!({"account_no": account, "channel": hold.channel.code()}),
                    at,
                    rng,
                )),
                HoldReason::ReportedByMember => {}
            }
            if matches!(
                hold.reason,
                HoldReason::LoginReset | HoldReason::TransactionReset
            ) {
                reset_channel = Some((hold.channel, at));
            }
        }
        if let Some((channel, at)) = reset_channel {
            events.push(BusinessEvent::new(
                EventKind::CredentialReset,
                serde_json::json!({"account_no": account, "secrets": reset, "channel": channel.code()}),
                at,
                rng,
            ));
        }
        for e in &mut events {
            e.member_id = Some(member.id);
        }
        events
    }
}

/// The time as events write it.
fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

impl BusinessEvent {
    /// `hold.ended` for a hold whose time has passed.
    pub fn hold_ended(ended: &crate::ports::EndedHold, rng: &dyn SecretGenerator) -> Self {
        let hold = &ended.hold;
        let mut event = Self::new(
            EventKind::HoldEnded,
            serde_json::json!({
                "account_no": ended.account_no, "reason": hold.reason.code(),
                "channel": hold.channel.code(), "since": rfc3339(hold.created_at),
                "until": rfc3339(hold.until),
            }),
            hold.until,
            rng,
        );
        event.member_id = Some(hold.member_id);
        event
    }

    /// `account.frozen` or `account.unfrozen` for `member` at `at`.
    pub fn freeze(
        member: &MemberRecord,
        frozen: bool,
        at: OffsetDateTime,
        rng: &dyn SecretGenerator,
    ) -> Self {
        let kind = if frozen {
            EventKind::AccountFrozen
        } else {
            EventKind::AccountUnfrozen
        };
        let mut event = Self::new(
            kind,
            serde_json::json!({"account_no": member.account_no.as_str()}),
            at,
            rng,
        );
        event.member_id = Some(member.id);
        event
    }
}

/// One event on its way to one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// The order deliveries were written in.
    pub seq: i64,
    /// `<event id>.<client id>`: unique per event and receiver.
    pub id: String,
    pub event_id: String,
    pub client_id: String,
    pub kind: String,
    pub body: String,
    pub created_at: OffsetDateTime,
    pub next_attempt_at: OffsetDateTime,
    /// Tries that have failed so far.
    pub attempts: i32,
    pub delivered_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
}

/// The `Fundpass-Signature` header value for `body` sent at `timestamp`.
pub fn webhook_signature(secret: &[u8], timestamp: i64, body: &str) -> String {
    format!(
        "t={timestamp},v1={}",
        signed_hex(secret, timestamp, body.as_bytes())
    )
}

/// Lower-case hex of HMAC-SHA256(`secret`, `"<timestamp>.<body>"`): the signature of
/// every webhook fundpass sends (business events and the SMS gateway's).
pub fn signed_hex(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, body))
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length.
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_the_timestamp_and_the_body() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
        let sig = webhook_signature(b"secret", 1_700_000_000, r#"{"a":1}"#);
        assert_eq!(
            sig,
            "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
        assert_ne!(
            sig,
            webhook_signature(b"secret", 1_700_000_001, r#"{"a":1}"#)
        );
        assert_ne!(
            sig,
            webhook_signature(b"other", 1_700_000_000, r#"{"a":1}"#)
        );
    }
}
