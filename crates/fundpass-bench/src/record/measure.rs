//! The timed reads: [`Portal::security_record`], the use case behind the record page
//! and `GET /api/v1/security-record`, called as they call it. A walk follows
//! `next_before` from the newest page to the end and checks what it read, so the
//! numbers are those of pages that held what they should.

use std::time::{Duration, Instant};

use anyhow::bail;
use fundpass_core::portal::{Authenticated, Portal};
use fundpass_core::record::{RecordKind, RecordPage};

/// Every read of one walk, in order (newest page first), and what they held.
#[derive(Debug, Clone, Default)]
pub struct Walk {
    pub latencies: Vec<Duration>,
    pub entries: u64,
}

async fn timed(
    portal: &Portal,
    auth: &Authenticated,
    before: Option<i64>,
    kind: Option<RecordKind>,
    page: u32,
) -> anyhow::Result<(Duration, RecordPage)> {
    let started = Instant::now();
    let read = portal.security_record(auth, before, kind, page).await;
    let elapsed = started.elapsed();
    Ok((elapsed, read?))
}

/// The newest page, `repeats` times; fails unless it is `empty` as expected (a kind
/// the member has none of reads the member's whole index to find that out).
pub async fn first_page(
    portal: &Portal,
    auth: &Authenticated,
    kind: Option<RecordKind>,
    page: u32,
    repeats: u32,
    empty: bool,
) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(repeats as usize);
    for _ in 0..repeats {
        let (elapsed, read) = timed(portal, auth, None, kind, page).await?;
        if read.entries.is_empty() != empty {
            bail!(
                "the newest page of {kind:?} holds {} entries",
                read.entries.len()
            );
        }
        latencies.push(elapsed);
    }
    Ok(latencies)
}

/// From the newest page to the oldest, each read with the `before` the previous page
/// gave, up to and including the read that returns no `next_before`. Fails if a page
/// is out of order, overlaps the previous one or holds another kind.
pub async fn walk(
    portal: &Portal,
    auth: &Authenticated,
    kind: Option<RecordKind>,
    page: u32,
) -> anyhow::Result<Walk> {
    let mut walk = Walk::default();
    let mut before = None;
    loop {
        let (elapsed, read) = timed(portal, auth, before, kind, page).await?;
        walk.latencies.push(elapsed);
        let mut last = before.unwrap_or(i64::MAX);
        for entry in &read.entries {
            if entry.seq >= last {
                bail!("page {} is not newest first", walk.latencies.len());
            }
            if kind.is_some_and(|k| k != entry.kind) {
                bail!("a {:?} entry on a {kind:?} page", entry.kind);
            }
            last = entry.seq;
        }
        walk.entries += read.entries.len() as u64;
        match read.next_before {
            Some(next) => before = Some(next),
            None => return Ok(walk),
        }
    }
}
