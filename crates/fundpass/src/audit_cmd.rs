//! `fundpass audit verify`: recomputes the hash chain over every stored event.

use std::process::ExitCode;

use anyhow::Context as _;
use fundpass_core::audit::{ChainBreak, ChainVerifier};
use fundpass_core::ports::AuditStore;

use crate::config::Config;
use crate::context::open_store;

/// Events read per query while verifying.
const PAGE: u32 = 5_000;

/// Verifies the chain; exit code 0 when intact, 1 with the first broken link named.
pub async fn verify(config: &Config) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    match verify_chain(&store).await? {
        Ok(count) => {
            eprintln!("audit trail intact: {count} events verified");
            Ok(ExitCode::SUCCESS)
        }
        Err(broken) => {
            eprintln!("audit trail BROKEN: {broken}");
            Ok(ExitCode::from(1))
        }
    }
}

/// Verifies the chain as it stood when its head was read. The head is read first: a
/// running server keeps appending, and the head moves in the same transaction as the
/// event it names, so every event up to the head read is already stored, while
/// events appended after it belong to the next verification. (Reading the head last
/// would report events appended during the run as "newest records removed".)
async fn verify_chain(store: &dyn AuditStore) -> anyhow::Result<Result<i64, ChainBreak>> {
    let head = store
        .head()
        .await
        .context("cannot read the audit chain head")?;
    let end = head.map_or(0, |(seq, _)| seq);
    let mut verifier = ChainVerifier::new();
    let mut after = 0i64;
    while after < end {
        let page = store
            .records_after(after, PAGE)
            .await
            .context("cannot read the audit trail")?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for record in page.iter().take_while(|r| r.seq <= end) {
            if let Err(broken) = verifier.check(record) {
                return Ok(Err(broken));
            }
        }
    }
    Ok(verifier.finish(head))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use fundpass_core::audit::{
        Actor, ActorKind, AuditEvent, AuditRecord, Channel, GENESIS_HASH, Outcome,
    };
    use fundpass_core::ports::StoreError;

    use super::*;

    /// A trail that a running server appends to: `writes_at_head` more events are
    /// appended just before the head is first read, and one more whenever a page is.
    #[derive(Default)]
    struct Live {
        records: Mutex<Vec<AuditRecord>>,
        writes_at_head: Mutex<u32>,
        write_with_pages: bool,
    }

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
    }

    impl Live {
        fn with(n: i64) -> Self {
            let live = Self::default();
            for _ in 0..n {
                live.write();
            }
            live
        }

        fn write(&self) {
            let mut records = self.records.lock().unwrap();
            let (seq, hash) = records
                .last()
                .map_or((0, GENESIS_HASH), |r| (r.seq, r.hash));
            records.push(AuditRecord::chain(seq, hash, event(seq + 1)));
        }
    }

    #[async_trait]
    impl AuditStore for Live {
        async fn append(&self, _event: &AuditEvent) -> Result<AuditRecord, StoreError> {
            Err(StoreError::Backend("not used".into()))
        }

        async fn records_after(
            &self,
            after: i64,
            limit: u32,
        ) -> Result<Vec<AuditRecord>, StoreError> {
            if self.write_with_pages {
                self.write();
            }
            let records = self.records.lock().unwrap();
            Ok(records
                .iter()
                .filter(|r| r.seq > after)
                .take(limit as usize)
                .cloned()
                .collect())
        }

        async fn head(&self) -> Result<Option<(i64, [u8; 32])>, StoreError> {
            let pending = std::mem::take(&mut *self.writes_at_head.lock().unwrap());
            for _ in 0..pending {
                self.write();
            }
            Ok(self.records.lock().unwrap().last().map(|r| (r.seq, r.hash)))
        }
    }

    #[tokio::test]
    async fn events_appended_while_verifying_are_not_reported_as_removed() {
        let live = Live::with(7);
        *live.writes_at_head.lock().unwrap() = 2;
        assert_eq!(verify_chain(&live).await.unwrap(), Ok(9));
        let busy = Live {
            write_with_pages: true,
            ..Live::with(7)
        };
        assert_eq!(verify_chain(&busy).await.unwrap(), Ok(7));
    }

    #[tokio::test]
    async fn a_removed_newest_event_is_still_found() {
        let live = Live::with(5);
        let head = live.head().await.unwrap();
        live.records.lock().unwrap().pop();
        struct Stale<'a>(&'a Live, Option<(i64, [u8; 32])>);
        #[async_trait]
        impl AuditStore for Stale<'_> {
            async fn append(&self, e: &AuditEvent) -> Result<AuditRecord, StoreError> {
                self.0.append(e).await
            }
            async fn records_after(
                &self,
                after: i64,
                limit: u32,
            ) -> Result<Vec<AuditRecord>, StoreError> {
                self.0.records_after(after, limit).await
            }
            async fn head(&self) -> Result<Option<(i64, [u8; 32])>, StoreError> {
                Ok(self.1)
            }
        }
        assert_eq!(
            verify_chain(&Stale(&live, head)).await.unwrap(),
            Err(ChainBreak::Truncated { last: 4, head: 5 })
        );
        assert_eq!(verify_chain(&Live::default()).await.unwrap(), Ok(0));
    }
}
