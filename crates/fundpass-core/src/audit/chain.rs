//! Computing and checking the hash chain.

use sha2::{Digest, Sha256};

use super::event::{AuditEvent, AuditRecord, micros};

/// The `prev_hash` of the first record.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// The hash of record `seq` holding `event`, chained to `prev_hash`.
///
/// Each field is length-prefixed so that no two different records share an encoding;
/// details are hashed in serde_json's canonical form (object keys sorted).
pub fn record_hash(seq: i64, event: &AuditEvent, prev_hash: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"fundpass-audit-v1");
    h.update(prev_hash);
    h.update(seq.to_be_bytes());
    h.update(micros(event.at).to_be_bytes());
    let member = event.member_id.map(|m| m.0.to_string()).unwrap_or_default();
    let details = event.details.to_string();
    for part in [
        event.actor.kind.code(),
        event.actor.id.as_deref().unwrap_or(""),
        event.action.as_str(),
        member.as_str(),
        event.channel.code(),
        event.ip.as_deref().unwrap_or(""),
        event.outcome.code(),
        details.as_str(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

impl AuditRecord {
    /// Chains `event` after a record with sequence `prev_seq` and hash `prev_hash`.
    pub fn chain(prev_seq: i64, prev_hash: [u8; 32], event: AuditEvent) -> Self {
        let seq = prev_seq + 1;
        let hash = record_hash(seq, &event, &prev_hash);
        Self {
            seq,
            event,
            prev_hash,
            hash,
        }
    }
}

/// Where the chain is broken, naming the first record that does not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// A record is missing or out of place: the sequence jumps.
    #[error(
        "record {found} follows record {previous}: records in between were removed or reordered"
    )]
    Gap { previous: i64, found: i64 },
    /// The record does not point at the record before it.
    #[error(
        "record {seq} does not link to the record before it (removed, inserted or reordered rows)"
    )]
    BrokenLink { seq: i64 },
    /// The record's content no longer matches its hash.
    #[error("record {seq} was modified after it was written")]
    Modified { seq: i64 },
    /// The newest records were removed: the head says the chain is longer.
    #[error(
        "the chain ends at record {last} but its head says {head}: newest records were removed"
    )]
    Truncated { last: i64, head: i64 },
    /// The head does not match the last record.
    #[error("the chain head does not match record {seq}")]
    HeadMismatch { seq: i64 },
}

/// Checks records one at a time, in sequence order, so a chain of any length is
/// verified in constant memory.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: [u8; 32],
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            last_seq: 0,
            last_hash: GENESIS_HASH,
        }
    }
}

impl ChainVerifier {
    /// A verifier expecting record 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next record.
    pub fn check(&mut self, record: &AuditRecord) -> Result<(), ChainBreak> {
        if record.seq != self.last_seq + 1 {
            return Err(ChainBreak::Gap {
                previous: self.last_seq,
                found: record.seq,
            });
        }
        if record.prev_hash != self.last_hash {
            return Err(ChainBreak::BrokenLink { seq: record.seq });
        }
        if record_hash(record.seq, &record.event, &record.prev_hash) != record.hash {
            return Err(ChainBreak::Modified { seq: record.seq });
        }
        self.last_seq = record.seq;
        self.last_hash = record.hash;
        Ok(())
    }

    /// Checks the end of the chain against the stored head; returns the number of
    /// records verified.
    pub fn finish(&self, head: Option<(i64, [u8; 32])>) -> Result<i64, ChainBreak> {
        let (head_seq, head_hash) = head.unwrap_or((0, GENESIS_HASH));
        if head_seq > self.last_seq {
            return Err(ChainBreak::Truncated {
                last: self.last_seq,
                head: head_seq,
            });
        }
        if head_seq != self.last_seq || head_hash != self.last_hash {
            return Err(ChainBreak::HeadMismatch { seq: self.last_seq });
        }
        Ok(self.last_seq)
    }
}

#[cfg(test)]
mod tests {
    use super::super::event::{Actor, ActorKind, Channel, Outcome};
    use super::*;
    use crate::member::MemberId;

    fn event(n: i64) -> AuditEvent {
        AuditEvent::new(
            time::OffsetDateTime::from_unix_timestamp(1_700_000_000 + n).unwrap(),
            Actor {
                kind: ActorKind::Operator,
                id: Some("root".into()),
            },
            "member.import",
            Channel::Cli,
            Outcome::Success,
        )
        .member(MemberId(n))
        .details(serde_json::json!({"rows": n}))
    }

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        for i in 1..=n {
            let (s, h) = out
                .last()
                .map(|r| (r.seq, r.hash))
                .unwrap_or((0, GENESIS_HASH));
            out.push(AuditRecord::chain(s, h, event(i)));
        }
        out
    }

    fn verify(records: &[AuditRecord], head: Option<(i64, [u8; 32])>) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::new();
        for r in records {
            v.check(r)?;
        }
        v.finish(head)
    }

    fn head(records: &[AuditRecord]) -> Option<(i64, [u8; 32])> {
        records.last().map(|r| (r.seq, r.hash))
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, head(&c)), Ok(5));
        assert_eq!(verify(&[], None), Ok(0));
    }

    #[test]
    fn an_edited_record_is_named() {
        let mut c = chain(5);
        let h = head(&c);
        c[2].event.outcome = Outcome::Failure;
        assert_eq!(verify(&c, h), Err(ChainBreak::Modified { seq: 3 }));
        let mut c = chain(5);
        c[1].event.details = serde_json::json!({"rows": 99});
        assert_eq!(verify(&c, h), Err(ChainBreak::Modified { seq: 2 }));
    }

    #[test]
    fn a_removed_record_is_found() {
        let mut c = chain(5);
        let h = head(&c);
        c.remove(2);
        assert_eq!(
            verify(&c, h),
            Err(ChainBreak::Gap {
                previous: 2,
                found: 4
            })
        );
    }

    #[test]
    fn renumbering_after_a_removal_still_breaks_the_link() {
        let mut c = chain(5);
        let h = head(&c);
        c.remove(2);
        for (i, r) in c.iter_mut().enumerate() {
            r.seq = i as i64 + 1;
        }
        assert_eq!(verify(&c, h), Err(ChainBreak::BrokenLink { seq: 3 }));
    }

    #[test]
    fn swapped_records_are_found() {
        let mut c = chain(5);
        let h = head(&c);
        c.swap(1, 2);
        let (a, b) = (c[1].seq, c[2].seq);
        c[1].seq = b;
        c[2].seq = a;
        assert_eq!(verify(&c, h), Err(ChainBreak::BrokenLink { seq: 2 }));
    }

    #[test]
    fn removing_the_newest_record_is_found_by_the_head() {
        let mut c = chain(5);
        let h = head(&c);
        c.pop();
        assert_eq!(
            verify(&c, h),
            Err(ChainBreak::Truncated { last: 4, head: 5 })
        );
    }
}
