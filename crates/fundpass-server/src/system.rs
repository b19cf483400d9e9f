//! The real clock and the operating system's random source: the adapters the domain
//! receives through its `Clock` and `SecretGenerator` ports.

use fundpass_core::ports::{Clock, SecretGenerator};
use time::OffsetDateTime;

/// Wall-clock time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Random bytes from the operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsSecrets;

impl SecretGenerator for OsSecrets {
    #[allow(clippy::disallowed_methods)]
    fn fill(&self, buf: &mut [u8]) {
        if let Err(err) = getrandom::fill(buf) {
            // Without randomness no key, nonce, salt or token can be made safely;
            // stopping is the only correct answer.
            tracing::error!(error = %err, "the operating system's random source failed");
            std::process::abort();
        }
    }
}
