//! The portal's ports: the unit of work, sessions, flows, captchas, throttles, rate
//! limits, the SMS outbox, holds and security questions. Shared builders here; the
//! tests in the files below.

mod apply;
mod concurrency;
mod ephemeral;
mod holds;
mod outbox;
mod questions;
mod recovery;
mod roles;
mod secrecy;
mod sessions;
mod sms_receipts;

use fundpass_core::audit::{Actor, ActorKind, AuditEvent, ChainVerifier, Channel, Outcome};
use fundpass_core::crypto::{CipherSuite, Field, Keyring, TokenDigest};
use fundpass_core::flow::{FlowKind, FlowPolicy, FlowRecord};
use fundpass_core::member::{Hold, HoldReason, MemberId, MemberRecord, SecurityAnswer};
use fundpass_core::ports::{AuditStore, MemberStore, OutboxMessage};
use fundpass_core::session::{ClientKind, SessionRecord, SessionScope};
use fundpass_core::testing::CountingRng;
use fundpass_store::Store;
use time::OffsetDateTime;

use crate::support::{account, at, bytes, import, member};

/// A keyring for sealing test values (deterministic: never a real key).
pub fn keyring() -> Keyring {
    Keyring::generate(CipherSuite::Aes256Gcm, &CountingRng::default())
}

/// The digest of test token `n` (a session token, flow id or captcha id).
pub fn digest(n: u64) -> TokenDigest {
    TokenDigest(bytes(n, 9, 32).try_into().unwrap())
}

/// Imports synthetic members `1..=count` and returns them.
pub async fn members(store: &Store, count: u64) -> Vec<MemberRecord> {
    let rows: Vec<_> = (1..=count).map(member).collect();
    import(store, &rows, at(0)).await;
    let mut found = Vec::new();
    for n in 1..=count {
        found.push(store.member_by_account(&account(n)).await.unwrap().unwrap());
    }
    found
}

/// A registration flow `n` of `member`, started at `at(0)`.
pub fn flow(n: u64, member: Option<MemberId>) -> FlowRecord {
    FlowRecord::start(
        digest(n),
        FlowKind::Registration,
        member,
        bytes(n, 10, 32),
        at(0),
        &FlowPolicy::default(),
    )
}

/// A live, full web session `n` of `member`, created at `created`.
pub fn session(n: u64, member: MemberId, created: OffsetDateTime) -> SessionRecord {
    SessionRecord {
        token: digest(n),
        member_id: member,
        client: ClientKind::Web,
        scope: SessionScope::Full,
        csrf: format!("csrf-{n}"),
        created_at: created,
        last_seen_at: created,
        ip: Some("203.0.113.9".into()),
        user_agent: Some("Mozilla/5.0 测试".into()),
        revoked_at: None,
    }
}

/// A hold on `member` for a login password reset on the web, from `created` to `until`.
pub fn hold(member: MemberId, created: OffsetDateTime, until: OffsetDateTime) -> Hold {
    Hold {
        member_id: member,
        reason: HoldReason::LoginReset,
        channel: Channel::Web,
        created_at: created,
        until,
    }
}

/// `member`'s answers to `questions`, in slot order, with MAC-sized stand-ins seeded
/// by `seed`.
pub fn answers(member: MemberId, questions: &[&str], seed: u64) -> Vec<SecurityAnswer> {
    questions
        .iter()
        .zip(1..)
        .map(|(question, slot)| SecurityAnswer {
            member_id: member,
            slot,
            question: (*question).to_owned(),
            answer_mac: bytes(seed, 12 + u64::try_from(slot).unwrap(), 32),
        })
        .collect()
}

/// An undelivered message `n` to `phone` saying `text`, due at `due`.
pub fn message(
    ring: &Keyring,
    n: u64,
    member: Option<MemberId>,
    phone: &str,
    text: &str,
    due: OffsetDateTime,
) -> OutboxMessage {
    let rng = CountingRng::default();
    OutboxMessage {
        id: format!("msg-{n:04}"),
        member_id: member,
        purpose: "registration_code".into(),
        to: ring.seal(Field::Phone, phone, &rng),
        body: ring.seal(Field::Message, text, &rng),
        params: Some(ring.seal(Field::Message, r#"{"code":"482913"}"#, &rng)),
        created_at: due,
        next_attempt_at: due,
        attempts: 0,
        delivered_at: None,
        last_error: None,
        given_up: false,
        limit_hit: false,
        provider_ref: None,
        receipt: None,
    }
}

/// A member action worth recording, at `at(n)`.
pub fn event(n: i64, member: MemberId) -> AuditEvent {
    let actor = Actor {
        kind: ActorKind::Member,
        id: Some(member.0.to_string()),
    };
    AuditEvent::new(
        at(n),
        actor,
        "registration.code_sent",
        Channel::Web,
        Outcome::Success,
    )
    .member(member)
    .details(serde_json::json!({"step": n, "网点": "线上"}))
}

/// Verifies the whole audit chain against its head; returns its length.
pub async fn verified_chain_length(store: &Store) -> i64 {
    let mut verifier = ChainVerifier::new();
    let mut after = 0;
    loop {
        let page = store.records_after(after, 50).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        for record in &page {
            verifier.check(record).unwrap();
        }
    }
    verifier.finish(store.head().await.unwrap()).unwrap()
}
