//! `fundpass audit verify`: recomputes the hash chain over every stored event.

use std::process::ExitCode;

use anyhow::Context as _;
use fundpass_core::audit::ChainVerifier;
use fundpass_core::ports::AuditStore;

use crate::config::Config;
use crate::context::open_store;

/// Events read per query while verifying.
const PAGE: u32 = 5_000;

/// Verifies the chain; exit code 0 when intact, 1 with the first broken link named.
pub async fn verify(config: &Config) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let mut verifier = ChainVerifier::new();
    let mut after = 0i64;
    loop {
        let page = store
            .records_after(after, PAGE)
            .await
            .context("cannot read the audit trail")?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for record in &page {
            if let Err(broken) = verifier.check(record) {
                eprintln!("audit trail BROKEN: {broken}");
                return Ok(ExitCode::from(1));
            }
        }
    }
    let head = store
        .head()
        .await
        .context("cannot read the audit chain head")?;
    match verifier.finish(head) {
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
