//! Target `audit_chain`: the rows `fundpass audit verify` reads, as someone with write
//! access to the database might leave them.
//!
//! The input is decoded with `arbitrary` into an [`AuditCase`]: events, which are chained
//! and encoded into `audit_events` rows the way an append writes them, then edits to
//! those rows (any column set to any value, rows removed, rows' contents swapped, rows
//! duplicated) and the chain head to check against. The rows are read back in sequence
//! order through the store's own decoding and checked by the core's
//! [`ChainVerifier`], as the command does.
//!
//! Checked: the untouched rows read back as the records written (an empty actor id or
//! client address as none) and verify; and after the edits, the verifier accepts only
//! when what it read is what was written, or the newest rows were removed and the head
//! moved back to the last one left (which a keyless chain whose head is stored beside
//! it cannot detect).

use arbitrary::{Arbitrary, Unstructured};
use fundpass_core::audit::{
    Actor, ActorKind, AuditEvent, AuditRecord, ChainBreak, ChainVerifier, Channel, GENESIS_HASH,
    Outcome,
};
use fundpass_core::fuzz_ensure;
use fundpass_core::fuzzing::{Verdict, Violation};
use fundpass_core::member::MemberId;
use time::OffsetDateTime;

use crate::audit::StoredAuditRow;

/// Most events and edits read from one input, so that one input stays fast.
const MAX_EVENTS: usize = 12;
const MAX_EDITS: usize = 4;

/// One fuzzed audit trail and what is done to its rows.
#[derive(Debug, Arbitrary)]
pub struct AuditCase {
    events: Vec<EventCase>,
    edits: Vec<Edit>,
    head: Head,
}

#[derive(Debug, Arbitrary)]
struct EventCase {
    at_micros: i64,
    actor: u8,
    actor_id: Option<String>,
    action: String,
    member_id: Option<i64>,
    channel: u8,
    ip: Option<String>,
    outcome: u8,
    details: Details,
}

#[derive(Debug, Arbitrary)]
enum Details {
    Empty,
    /// JSON text (kept as a string field when it does not parse).
    Json(String),
    Fields(Vec<(String, Scalar)>),
}

#[derive(Debug, Arbitrary)]
enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Unsigned(u64),
    Float(f64),
    Text(String),
}

#[derive(Debug, Arbitrary)]
enum Edit {
    Column {
        row: u8,
        column: Column,
    },
    Remove {
        row: u8,
    },
    /// Swaps two rows' contents, each keeping its sequence number.
    Swap {
        a: u8,
        b: u8,
    },
    Duplicate {
        row: u8,
    },
}

#[derive(Debug, Arbitrary)]
enum Column {
    Seq(i64),
    At(i64),
    ActorKind(String),
    ActorId(Option<String>),
    Action(String),
    MemberId(Option<i64>),
    Channel(String),
    Ip(Option<String>),
    Outcome(String),
    Details(String),
    PrevHash(Vec<u8>),
    Hash(Vec<u8>),
}

/// The `audit_head` row the chain is checked against.
#[derive(Debug, Arbitrary)]
enum Head {
    /// The head the appends left.
    Written,
    /// No head (an empty trail).
    Empty,
    Given {
        seq: i64,
        hash: [u8; 32],
    },
}

/// Target `audit_chain`.
pub fn check_audit_chain(data: &[u8]) -> Verdict {
    let Ok(case) = AuditCase::arbitrary_take_rest(Unstructured::new(data)) else {
        return Ok(());
    };
    check_case(&case)
}

fn check_case(case: &AuditCase) -> Verdict {
    let mut records: Vec<AuditRecord> = Vec::new();
    for spec in case.events.iter().take(MAX_EVENTS) {
        let Some(event) = event(spec) else { continue };
        let (seq, hash) = records
            .last()
            .map_or((0, GENESIS_HASH), |r| (r.seq, r.hash));
        records.push(AuditRecord::chain(seq, hash, event));
    }
    let written_head = records.last().map(|r| (r.seq, r.hash));
    let mut rows = Vec::new();
    for record in &records {
        rows.push(
            StoredAuditRow::encode(record)
                .map_err(|e| Violation(format!("cannot encode {record:?}: {e}")))?,
        );
    }
    let read = match read_back(rows.clone()) {
        Some(read) => read,
        None => {
            return Err(Violation(format!(
                "written rows do not read back: {rows:?}"
            )));
        }
    };
    let written: Vec<AuditRecord> = records.iter().map(as_read).collect();
    fuzz_ensure!(
        read == written,
        "rows read back differ from the records written: {read:?} != {written:?}"
    );
    let verdict = verify(&read, written_head);
    fuzz_ensure!(
        verdict == Ok(read.len() as i64),
        "an untouched trail of {} records does not verify: {verdict:?}",
        read.len()
    );

    for edit in case.edits.iter().take(MAX_EDITS) {
        apply(edit, &mut rows);
    }
    rows.sort_by_key(|row| row.seq);
    let head = match case.head {
        Head::Written => written_head,
        Head::Empty => None,
        // The store reads a head at sequence 0 as no head, whatever its hash.
        Head::Given { seq, hash } => (seq != 0).then_some((seq, hash)),
    };
    let Some(edited) = read_back(rows) else {
        // A row the store cannot read stops `fundpass audit verify` with an error.
        return Ok(());
    };
    if let Ok(count) = verify(&edited, head) {
        // The head lives beside the rows and carries no key: newest rows removed together
        // with the head moved back to the last row left cannot be told from a trail that
        // was never longer. That is the one edit (short of recomputing every hash) the
        // chain lets through.
        let cut_with_head =
            read.starts_with(&edited) && head == edited.last().map(|r| (r.seq, r.hash));
        fuzz_ensure!(
            (edited == read && head == written_head) || cut_with_head,
            "the verifier accepted {count} edited records: read {edited:?} with head {head:?}, \
             written {read:?} with head {written_head:?}"
        );
    }
    Ok(())
}

fn event(spec: &EventCase) -> Option<AuditEvent> {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(spec.at_micros) * 1_000).ok()?;
    let pick = |n: u8, len: usize| usize::from(n) % len;
    let actor = [
        ActorKind::Member,
        ActorKind::Staff,
        ActorKind::BusinessSystem,
        ActorKind::Operator,
        ActorKind::System,
    ][pick(spec.actor, 5)];
    let channel = [
        Channel::Web,
        Channel::App,
        Channel::Counter,
        Channel::Hotline,
        Channel::Internal,
        Channel::Cli,
        Channel::System,
    ][pick(spec.channel, 7)];
    let outcome = [Outcome::Success, Outcome::Failure, Outcome::Denied][pick(spec.outcome, 3)];
    let mut event = AuditEvent::new(
        at,
        Actor {
            kind: actor,
            id: spec.actor_id.clone(),
        },
        &spec.action,
        channel,
        outcome,
    )
    .details(details(&spec.details));
    event.member_id = spec.member_id.map(MemberId);
    event.ip = spec.ip.clone();
    Some(event)
}

fn details(spec: &Details) -> serde_json::Value {
    use serde_json::Value;
    match spec {
        Details::Empty => Value::Object(serde_json::Map::new()),
        Details::Json(text) => {
            serde_json::from_str(text).unwrap_or_else(|_| serde_json::json!({ "text": text }))
        }
        Details::Fields(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, value)| {
                    let value = match value {
                        Scalar::Null => Value::Null,
                        Scalar::Bool(b) => Value::from(*b),
                        Scalar::Int(i) => Value::from(*i),
                        Scalar::Unsigned(u) => Value::from(*u),
                        Scalar::Float(f) => Value::from(*f),
                        Scalar::Text(t) => Value::from(t.as_str()),
                    };
                    (name.clone(), value)
                })
                .collect(),
        ),
    }
}

fn apply(edit: &Edit, rows: &mut Vec<StoredAuditRow>) {
    if rows.is_empty() {
        return;
    }
    let index = |n: u8| usize::from(n) % rows.len();
    match edit {
        Edit::Column { row, column } => {
            let i = index(*row);
            set(&mut rows[i], column);
        }
        Edit::Remove { row } => {
            rows.remove(index(*row));
        }
        Edit::Swap { a, b } => {
            let (a, b) = (index(*a), index(*b));
            let (seq_a, seq_b) = (rows[a].seq, rows[b].seq);
            rows.swap(a, b);
            rows[a].seq = seq_a;
            rows[b].seq = seq_b;
        }
        Edit::Duplicate { row } => {
            let copy = rows[index(*row)].clone();
            rows.push(copy);
        }
    }
}

fn set(row: &mut StoredAuditRow, column: &Column) {
    match column {
        Column::Seq(v) => row.seq = *v,
        Column::At(v) => row.at = *v,
        Column::ActorKind(v) => row.actor_kind.clone_from(v),
        Column::ActorId(v) => row.actor_id.clone_from(v),
        Column::Action(v) => row.action.clone_from(v),
        Column::MemberId(v) => row.member_id = *v,
        Column::Channel(v) => row.channel.clone_from(v),
        Column::Ip(v) => row.ip.clone_from(v),
        Column::Outcome(v) => row.outcome.clone_from(v),
        Column::Details(v) => row.details.clone_from(v),
        Column::PrevHash(v) => row.prev_hash.clone_from(v),
        Column::Hash(v) => row.hash.clone_from(v),
    }
}

/// `record` as reading it back must give it: an empty actor id or client address is
/// none, since the chain hashes the two alike.
fn as_read(record: &AuditRecord) -> AuditRecord {
    let mut read = record.clone();
    read.event.actor.id = read.event.actor.id.filter(|id| !id.is_empty());
    read.event.ip = read.event.ip.filter(|ip| !ip.is_empty());
    read
}

/// The rows decoded as the store reads them; `None` when one cannot be.
fn read_back(rows: Vec<StoredAuditRow>) -> Option<Vec<AuditRecord>> {
    rows.into_iter().map(|row| row.decode().ok()).collect()
}

/// What `fundpass audit verify` concludes from `records` and `head`.
fn verify(records: &[AuditRecord], head: Option<(i64, [u8; 32])>) -> Result<i64, ChainBreak> {
    let mut verifier = ChainVerifier::new();
    for record in records {
        verifier.check(record)?;
    }
    verifier.finish(head)
}
