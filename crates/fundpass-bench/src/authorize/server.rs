//! The server under test: fundpass's real internal-API router and use cases, wired
//! as `fundpass serve` wires them (SQLite store, keyring, Argon2 pool, system clock),
//! on a loopback port of its own as with `server.internal_bind`, over a fresh
//! database in a temporary folder.
//!
//! It runs inside the benchmark's process, on a runtime of its own, because the
//! benchmark sets what the `fundpass` binary's configuration does not reach: the
//! business system's registration and key, the made-up members, and limits the
//! flood must not hit.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use fundpass_core::credentials::{HashParams, PasswordHasher};
use fundpass_core::crypto::{CipherSuite, JwsSigner, Keyring};
use fundpass_core::portal::{Portal, PortalPolicy, SmsTemplates};
use fundpass_core::ports::Clock as _;
use fundpass_server::hash_pool::HashPool;
use fundpass_server::state::{AppState, Mode, ServerSettings};
use fundpass_server::system::{OsSecrets, SystemClock};
use fundpass_store::Store;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::setup::{self, Member};

/// Calls per client per minute and payouts per member per hour: far above what any
/// run reaches, so the flood measures verification and not the limits.
const LIMIT_NOT_REACHED: u32 = 100_000_000;
/// Longest wait for in-flight requests at shutdown.
const STOP_WAIT: Duration = Duration::from_secs(15);

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
    shutdown: Option<oneshot::Sender<()>>,
    serving: JoinHandle<std::io::Result<()>>,
    /// Removed when the server is dropped.
    _dir: TempDir,
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
    /// serving. Call it on the runtime the server is to run on.
    pub async fn start(settings: &Settings) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("fundpass-bench-")
            .tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("fundpass.db").display());
        let store = Store::connect(&url)
            .await
            .context("cannot open the store")?;
        store.migrate().await.context("cannot migrate the store")?;
        let keyring = Arc::new(Keyring::generate(CipherSuite::Aes256Gcm, &OsSecrets));
        let hasher = Arc::new(PasswordHasher::new(settings.params)?);
        let clock = Arc::new(SystemClock);
        let now = clock.now();
        let members = setup::members(
            &store,
            &hasher,
            &keyring,
            settings.members,
            settings.hash_workers,
            now,
        )
        .await?;
        let signer = setup::client(&store, now).await?;
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("no free loopback port")?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let token_endpoint = format!("{base_url}/internal/oauth/token");
        let portal = Portal {
            store: Arc::new(store.clone()),
            limiter: Arc::new(store),
            pool: Arc::new(HashPool::new(settings.hash_workers, settings.hash_queue)),
            keyring,
            hasher,
            clock,
            rng: Arc::new(OsSecrets),
            policy: policy(&token_endpoint),
            templates: SmsTemplates::default(),
        };
        let state = AppState {
            portal,
            settings: Arc::new(ServerSettings {
                mode: Mode::Production,
                secure_cookies: false,
                public_origin: base_url.clone(),
                trust_forwarded_for: false,
                internal_listener: true,
            }),
            face_simulator: None,
        };
        let app = fundpass_server::app::build_internal(state);
        let (shutdown, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
        });
        Ok(Self {
            base_url,
            token_endpoint,
            members: Arc::from(members),
            signer,
            shutdown: Some(shutdown),
            serving,
            _dir: dir,
        })
    }

    /// Fails if the server stopped serving (it should serve until stopped).
    pub fn check_alive(&self) -> anyhow::Result<()> {
        if self.serving.is_finished() {
            bail!("the server stopped serving before it was asked to");
        }
        Ok(())
    }

    /// Stops accepting, lets requests in flight finish (up to 15 s), and reports how
    /// serving ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match tokio::time::timeout(STOP_WAIT, &mut self.serving).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(err))) => Err(err).context("the server failed"),
            Ok(Err(err)) => Err(err).context("the server's task failed"),
            Err(_) => {
                self.serving.abort();
                bail!("requests were still in flight 15 s after the server was asked to stop")
            }
        }
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
