//! The server under test: fundpass's real internal-API router and use cases, served
//! in-process ([`crate::harness::inproc`]) on a loopback port of its own as with
//! `server.internal_bind`.
//!
//! It runs inside the benchmark's process, on a runtime of its own, because the
//! benchmark sets what the `fundpass` binary's configuration does not reach: the
//! business system's registration and key, the made-up members, and limits the
//! flood must not hit.

use std::sync::Arc;

use fundpass_core::credentials::HashParams;
use fundpass_core::crypto::JwsSigner;
use fundpass_core::portal::PortalPolicy;
use fundpass_core::ports::Clock as _;
use fundpass_server::state::Mode;
use fundpass_server::system::SystemClock;

use super::setup::{self, Member};
use crate::harness::inproc::{self, Backend, Presentation, Serving};

/// Calls per client per minute and payouts per member per hour: far above what any
/// run reaches, so the flood measures verification and not the limits.
const LIMIT_NOT_REACHED: u32 = 100_000_000;

/// What the benchmark varies.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Argon2 workers of the server's pool.
    pub hash_workers: usize,
    /// Requests waiting for a worker before the pool answers busy.
    pub hash_queue: usize,
    /// The Argon2 costs members' hashes are made and checked with.
    pub params: HashParams,
    /// Registered members to spread the verifications over.
    pub members: usize,
}

/// A serving fundpass; stop it with [`Server::stop`] (dropping its runtime also ends it).
#[derive(Debug)]
pub struct Server {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    /// The URL client assertions must name in `aud`.
    pub token_endpoint: String,
    /// The registered members and their transaction passwords.
    pub members: Arc<[Member]>,
    /// The business system's signing key.
    pub signer: Arc<JwsSigner>,
    serving: Serving,
}

/// The default rules with the token endpoint at this server and the limits lifted.
fn policy(token_endpoint: &str) -> PortalPolicy {
    let mut policy = PortalPolicy::default();
    policy.clients.token_endpoint = token_endpoint.to_owned();
    policy.clients.calls_per_minute = LIMIT_NOT_REACHED;
    policy.payout.per_member_per_hour = LIMIT_NOT_REACHED;
    policy
}

impl Server {
    /// Sets up the database (migrations, members, the business system) and starts
    /// serving the internal API, as on its own listener. Call it on the runtime the
    /// server is to run on.
    pub async fn start(settings: &Settings) -> anyhow::Result<Self> {
        let backend = Backend::open(settings.params).await?;
        let now = SystemClock.now();
        let members = setup::members(
            &backend.store,
            &backend.hasher,
            &backend.keyring,
            settings.members,
            settings.hash_workers,
            now,
        )
        .await?;
        let signer = setup::client(&backend.store, now).await?;
        let (listener, base_url) = inproc::listen().await?;
        let token_endpoint = format!("{base_url}/internal/oauth/token");
        let portal = backend.portal(
            policy(&token_endpoint),
            settings.hash_workers,
            settings.hash_queue,
        );
        let presentation = Presentation {
            mode: Mode::Production,
            trust_forwarded_for: false,
            internal_listener: true,
        };
        let serving = Serving::start(
            backend,
            portal,
            presentation,
            listener,
            base_url.clone(),
            fundpass_server::app::build_internal,
        );
        Ok(Self {
            base_url,
            token_endpoint,
            members: Arc::from(members),
            signer,
            serving,
        })
    }

    /// Fails if the server stopped serving (it should serve until stopped).
    pub fn check_alive(&self) -> anyhow::Result<()> {
        self.serving.check_alive()
    }

    /// Stops accepting, lets requests in flight finish (up to 15 s), and reports how
    /// serving ended.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.serving.stop().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_name_this_server_and_lift_only_the_rate_limits() {
        let policy = policy("http://127.0.0.1:4000/internal/oauth/token");
        let defaults = PortalPolicy::default();
        assert_eq!(
            policy.clients.token_endpoint,
            "http://127.0.0.1:4000/internal/oauth/token"
        );
        assert_eq!(policy.clients.calls_per_minute, LIMIT_NOT_REACHED);
        assert_eq!(policy.payout.per_member_per_hour, LIMIT_NOT_REACHED);
        assert_eq!(policy.payout.direct_max_fen, defaults.payout.direct_max_fen);
        assert_eq!(
            policy.transaction_lock.lock_after,
            defaults.transaction_lock.lock_after
        );
    }
}
