//! A fundpass served inside the benchmark's process: the real routers and use cases
//! wired as `fundpass serve` wires them (SQLite store, keyring, Argon2 pool, system
//! clock) over a fresh database in a temporary folder, on a loopback port of its own.
//! Benchmarks that must set what the binary's configuration does not reach (made-up
//! members, a business system's key, limits a run must not hit) use it.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::Router;
use fundpass_core::credentials::{HashParams, PasswordHasher};
use fundpass_core::crypto::{CipherSuite, Keyring};
use fundpass_core::portal::{Portal, PortalPolicy, SmsTemplates};
use fundpass_server::hash_pool::HashPool;
use fundpass_server::state::{AppState, Mode, ServerSettings};
use fundpass_server::system::{OsSecrets, SystemClock};
use fundpass_store::Store;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Longest wait for in-flight requests at shutdown.
const STOP_WAIT: Duration = Duration::from_secs(15);

/// The migrated database and the secrets a server over it uses; set it up (members,
/// clients) before serving.
pub struct Backend {
    /// The store, SQLite in the temporary folder.
    pub store: Store,
    /// A new keyring for this run.
    pub keyring: Arc<Keyring>,
    /// The hasher with the run's Argon2 costs.
    pub hasher: Arc<PasswordHasher>,
    /// Removed when the backend (or the server made from it) is dropped.
    dir: TempDir,
}

impl Backend {
    /// A fresh, migrated database and a new keyring.
    pub async fn open(params: HashParams) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("fundpass-bench-")
            .tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("fundpass.db").display());
        let store = Store::connect(&url)
            .await
            .context("cannot open the store")?;
        store.migrate().await.context("cannot migrate the store")?;
        Ok(Self {
            store,
            keyring: Arc::new(Keyring::generate(CipherSuite::Aes256Gcm, &OsSecrets)),
            hasher: Arc::new(PasswordHasher::new(params)?),
            dir,
        })
    }

    /// The use cases over this backend with `policy` and an Argon2 pool of `workers`
    /// threads and `queue` places.
    pub fn portal(&self, policy: PortalPolicy, workers: usize, queue: usize) -> Portal {
        Portal {
            store: Arc::new(self.store.clone()),
            captchas: Arc::new(self.store.clone()),
            limiter: Arc::new(self.store.clone()),
            pool: Arc::new(HashPool::new(workers, queue)),
            keyring: self.keyring.clone(),
            hasher: self.hasher.clone(),
            clock: Arc::new(SystemClock),
            rng: Arc::new(OsSecrets),
            policy,
            templates: SmsTemplates::default(),
            face_provider: None,
        }
    }
}

/// How the server presents itself: the mode, whether it believes `X-Forwarded-For`,
/// and whether the internal API has a listener of its own.
#[derive(Debug, Clone, Copy)]
pub struct Presentation {
    pub mode: Mode,
    pub trust_forwarded_for: bool,
    pub internal_listener: bool,
}

/// A router serving on a loopback port; stop it with [`Serving::stop`] (dropping the
/// runtime it runs on also ends it).
#[derive(Debug)]
pub struct Serving {
    shutdown: Option<oneshot::Sender<()>>,
    serving: JoinHandle<std::io::Result<()>>,
    _dir: TempDir,
}

/// A loopback listener on a free port and its base URL, bound before the portal is
/// built so the rules can name the server's own address.
pub async fn listen() -> anyhow::Result<(TcpListener, String)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .context("no free loopback port")?;
    let base_url = format!("http://{}", listener.local_addr()?);
    Ok((listener, base_url))
}

impl Serving {
    /// Serves `portal` on `listener` (whose address is `base_url`) through the
    /// router `build` makes of its state. Call it on the runtime the server is to
    /// run on.
    pub fn start(
        backend: Backend,
        portal: Portal,
        presentation: Presentation,
        listener: TcpListener,
        base_url: String,
        build: fn(AppState) -> Router,
    ) -> Self {
        let state = AppState {
            portal,
            settings: Arc::new(ServerSettings {
                mode: presentation.mode,
                secure_cookies: false,
                public_origin: base_url,
                trust_forwarded_for: presentation.trust_forwarded_for,
                internal_listener: presentation.internal_listener,
            }),
            face_simulator: None,
        };
        let app = build(state);
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
        Self {
            shutdown: Some(shutdown),
            serving,
            _dir: backend.dir,
        }
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
