//! `fundpass serve`: wires the store, the keyring, the portal and the HTTP layer
//! together (the internal API on a listener of its own when `server.internal_bind` is
//! set), starts the SMS and webhook outbox workers and housekeeping, and shuts down
//! cleanly on Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use fundpass_core::credentials::{HashParams, PasswordHasher};
use fundpass_core::crypto::Keyring;
use fundpass_core::portal::{Portal, PortalPolicy};
use fundpass_core::ports::{Clock, MemberStore};
use fundpass_server::hash_pool::HashPool;
use fundpass_server::sms::OutboxWorker;
use fundpass_server::state::{AppState, Mode as ServerMode, ServerSettings};
use fundpass_server::system::{OsSecrets, SystemClock};
use fundpass_server::webhooks::WebhookWorker;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, LogFormat, Mode, SmsSenderKind};
use crate::context::{Context, redact_url};
use crate::keys::{KEYRING_ENV, write_key_file};

/// Options of `fundpass serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Create the demo members first if the database has no members (dev mode only).
    #[arg(long)]
    pub demo: bool,
    /// Address to listen on (overrides server.bind and FUNDPASS_BIND).
    #[arg(long)]
    pub bind: Option<String>,
}

/// Refuses settings that must never reach production.
fn check_production(config: &Config) -> anyhow::Result<()> {
    if config.mode != Mode::Production {
        return Ok(());
    }
    if config.sms.sender == SmsSenderKind::Dev {
        bail!(
            "production mode cannot use the dev SMS sender: set sms.sender = \"tencent\", \
             \"alibaba\" or \"webhook\""
        );
    }
    if !config.server.secure_cookies {
        bail!("production mode needs server.secure_cookies = true (serve behind TLS)");
    }
    if !config.server.public_origin.starts_with("https://") {
        bail!("production mode needs server.public_origin to be the https:// origin members use");
    }
    Ok(())
}

/// Runs the service until Ctrl-C or SIGTERM.
pub async fn run(config: &Config, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    if config.server.log_format == LogFormat::Json {
        crate::system::log_as_json()?;
    }
    check_production(config)?;
    crate::serve_sms::check_templates(config)?;
    let dev = config.mode == Mode::Dev;
    // Settings are checked before anything is opened or listened on.
    let mut policy = config.portal.policy(dev)?;
    policy.face = config.face.policy()?;
    config.staff.apply(&mut policy)?;
    policy.payout = config.payouts.policy()?;
    policy.qualification = config.qualification.policy()?;
    config.webhooks.timeout()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let face_provider = crate::serve_face::face_provider(config, clock.clone())?;
    let Context {
        store, mut keyring, ..
    } = Context::open(config).await?;
    ensure_signing_key(config, &mut keyring)?;
    let keyring = Arc::new(keyring);
    if args.demo {
        offer_demo(config, &store).await?;
    }
    let receipts =
        crate::serve_sms::receipt_routes(config, Arc::new(store.clone()), clock.clone())?;
    let bind = args
        .bind
        .clone()
        .unwrap_or_else(|| config.server.bind.clone());
    let listener = listen(&bind).await?;
    let local = listener.local_addr()?;
    let internal = match config.server.internal_bind.trim() {
        "" => None,
        address => Some(listen(address).await?),
    };
    let internal_local = internal.as_ref().map(|l| l.local_addr()).transpose()?;
    let metrics = crate::serve_metrics::listener(&config.server.metrics_bind).await?;
    let metrics_local = metrics
        .as_ref()
        .map(|(l, _, _)| l.local_addr())
        .transpose()?;
    let settings = server_settings(config, local, internal.is_some());
    let internal_origin = match internal_local {
        Some(address) => format!("http://{address}"),
        None => settings.public_origin.clone(),
    };
    policy.clients = config.clients.policy(&internal_origin, dev)?;
    let token_endpoint = policy.clients.token_endpoint.clone();
    let face_simulator =
        dev.then(|| fundpass_server::state::dev_face_simulator(&mut policy, &OsSecrets));
    let mut portal = portal(config, &store, keyring.clone(), clock.clone(), policy)?;
    portal.face_provider = face_provider;
    use_redis(config, &mut portal).await?;
    let state = AppState {
        portal,
        settings: Arc::new(settings),
        face_simulator,
    };
    let shutdown = CancellationToken::new();
    let mut tasks = spawn_workers(config, &store, &keyring, &clock, &shutdown)?;
    tasks.push(tokio::spawn(announce_ended_holds(
        state.portal.clone(),
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(qualification_sweep(
        state.portal.clone(),
        shutdown.clone(),
    )));
    let metrics_app = metrics.map(|(listener, app, handle)| {
        tasks.push(tokio::spawn(crate::serve_metrics::sample(
            store.clone(),
            clock.clone(),
            handle,
            shutdown.clone(),
        )));
        (listener, app)
    });
    let addresses = Addresses {
        public: local,
        internal: internal_local,
        metrics: metrics_local,
        token_endpoint: &token_endpoint,
    };
    announce(config, &store, &addresses).await;
    let signal = {
        let stop = shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = wait_for_signal() => stop.cancel(),
                () = stop.cancelled() => {}
            }
        })
    };
    let internal_app = internal.map(|l| (l, fundpass_server::app::build_internal(state.clone())));
    let public_app = fundpass_server::app::build_with(state, receipts);
    let (public, internal, metrics) = tokio::join!(
        serve_until(listener, public_app, shutdown.clone()),
        serve_maybe(internal_app, shutdown.clone()),
        serve_maybe(metrics_app, shutdown.clone()),
    );
    shutdown.cancel();
    let _ = signal.await;
    for task in tasks {
        let _ = task.await;
    }
    public.and(internal).and(metrics)?;
    crate::system::say("fundpass stopped");
    Ok(ExitCode::SUCCESS)
}

/// Starts the SMS and webhook outbox workers and housekeeping.
fn spawn_workers(
    config: &Config,
    store: &fundpass_store::Store,
    keyring: &Arc<Keyring>,
    clock: &Arc<dyn Clock>,
    shutdown: &CancellationToken,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let sms_worker = OutboxWorker::new(
        Arc::new(store.clone()),
        crate::serve_sms::sms_sender(config, clock.clone())?,
        keyring.clone(),
        clock.clone(),
        crate::serve_sms::worker_config(config),
    );
    let webhook_worker = WebhookWorker::new(
        Arc::new(store.clone()),
        keyring.clone(),
        clock.clone(),
        fundpass_server::webhooks::default_config(),
        config.webhooks.timeout()?,
    )
    .context("cannot set up the webhook client")?;
    Ok(vec![
        tokio::spawn(sms_worker.run(shutdown.clone())),
        tokio::spawn(webhook_worker.run(shutdown.clone())),
        tokio::spawn(housekeeping(store.clone(), clock.clone(), shutdown.clone())),
    ])
}

/// Where the service can be reached, for the start-up message.
struct Addresses<'a> {
    public: SocketAddr,
    internal: Option<SocketAddr>,
    metrics: Option<SocketAddr>,
    token_endpoint: &'a str,
}

/// Tells the operator where everything is ([`crate::system::say`]: log lines when the
/// log is JSON).
async fn announce(config: &Config, store: &fundpass_store::Store, at: &Addresses<'_>) {
    let say = |line: String| crate::system::say(line);
    let dev = config.mode == Mode::Dev;
    let local = at.public;
    say(format!(
        "fundpass listening on http://{local} ({} mode, database {})",
        if dev { "dev" } else { "production" },
        redact_url(&config.database_url())
    ));
    if let Some(address) = at.internal {
        say(format!(
            "internal API listening on http://{address} (business systems only)"
        ));
    }
    say(format!(
        "internal API token endpoint: {}",
        at.token_endpoint
    ));
    if let Some(address) = at.metrics {
        say(format!("metrics listening on http://{address}/metrics"));
    }
    if dev {
        say(format!("dev SMS outbox: http://{local}/dev/outbox"));
        say(format!(
            "dev face simulator: http://{local}/dev/face (never trusted in production)"
        ));
    }
    say(format!("staff console: http://{local}/staff/login"));
    if portal_has_no_staff(store).await {
        say(
            "no staff account exists yet: create one with `fundpass staff add --role counter …` \
             (see `fundpass staff add --help`)"
                .to_owned(),
        );
    }
}

async fn listen(address: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))
}

/// [`serve_until`] for a listener that may not be configured.
async fn serve_maybe(
    app: Option<(tokio::net::TcpListener, axum::Router)>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    match app {
        Some((listener, app)) => serve_until(listener, app, shutdown).await,
        None => Ok(()),
    }
}

/// Serves `app` on `listener` until `shutdown`; any listener ending stops them all.
async fn serve_until(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let stop = shutdown.clone();
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { stop.cancelled().await })
    .await;
    shutdown.cancel();
    served.context("the HTTP server failed")
}

fn server_settings(config: &Config, local: SocketAddr, internal_listener: bool) -> ServerSettings {
    ServerSettings {
        mode: if config.mode == Mode::Dev {
            ServerMode::Dev
        } else {
            ServerMode::Production
        },
        secure_cookies: config.server.secure_cookies,
        public_origin: if config.server.public_origin.is_empty() {
            format!("http://{local}")
        } else {
            config.server.public_origin.trim_end_matches('/').to_owned()
        },
        trust_forwarded_for: config.server.trust_forwarded_for,
        internal_listener,
    }
}

/// The portal with its hashing pool sized from the configuration (and no face
/// provider: `serve` adds the one configured).
pub(crate) fn portal(
    config: &Config,
    store: &fundpass_store::Store,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    policy: PortalPolicy,
) -> anyhow::Result<Portal> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let workers = if config.server.hash_workers == 0 {
        cores
    } else {
        config.server.hash_workers
    };
    let queue = if config.server.hash_queue == 0 {
        workers * 4
    } else {
        config.server.hash_queue
    };
    let params = HashParams {
        m_kib: config.argon2.m_kib,
        t: config.argon2.t,
        p: config.argon2.p,
    };
    if !params.meets_owasp_minimum() {
        tracing::warn!(?params, "Argon2 costs are below OWASP's minimum");
    }
    // One store behind the three handles (`/readyz` pings it once).
    let store = Arc::new(store.clone());
    Ok(Portal {
        store: store.clone(),
        captchas: store.clone(),
        limiter: store,
        pool: Arc::new(HashPool::new(workers, queue)),
        keyring,
        hasher: Arc::new(PasswordHasher::new(params).context("invalid Argon2 settings")?),
        clock,
        rng: Arc::new(OsSecrets),
        policy,
        templates: config.sms.templates(),
        face_provider: None,
    })
}

/// Payment receipts are signed with a key from the keyring; key files made before
/// receipts existed have none. A dev key file gets one here; otherwise the operator is
/// told how to add one.
fn ensure_signing_key(config: &Config, keyring: &mut Keyring) -> anyhow::Result<()> {
    if keyring.receipt_signer().is_some() {
        return Ok(());
    }
    if std::env::var_os(KEYRING_ENV).is_some() {
        bail!(
            "the keys in {KEYRING_ENV} have no receipt-signing key: add one where that \
             document is kept (`fundpass keys rotate-signing` on a copy of it as a key file)"
        );
    }
    let path = config.key_file();
    if config.mode == Mode::Production {
        bail!(
            "the key file {} has no receipt-signing key: run `fundpass keys rotate-signing` \
             first",
            path.display()
        );
    }
    let id = keyring.rotate_signing_key(&OsSecrets);
    write_key_file(&path, keyring, false)?;
    crate::system::say(format!(
        "added receipt-signing key {id} to the key file {}",
        path.display()
    ));
    Ok(())
}

/// Moves captchas and rate-limit windows to Redis when `[redis] url` is set; refuses
/// to start if Redis does not answer.
async fn use_redis(config: &Config, portal: &mut Portal) -> anyhow::Result<()> {
    let url = config.redis.url.trim();
    if url.is_empty() {
        return Ok(());
    }
    let redis = fundpass_store::RedisState::connect(url, fundpass_store::RedisTimeouts::default())
        .await
        .with_context(|| format!("cannot reach Redis at {}", redact_url(url)))?;
    tracing::info!(redis = %redact_url(url), "captchas and rate limits are kept in Redis");
    let redis = Arc::new(redis);
    portal.captchas = redis.clone();
    portal.limiter = redis;
    Ok(())
}

/// Whether no staff account exists (a hint for the first run).
async fn portal_has_no_staff(store: &fundpass_store::Store) -> bool {
    use fundpass_core::ports::StaffStore as _;
    store.list_staff().await.is_ok_and(|s| s.is_empty())
}

async fn offer_demo(config: &Config, store: &fundpass_store::Store) -> anyhow::Result<()> {
    if config.mode != Mode::Dev {
        bail!("--demo is for dev mode only");
    }
    if store.member_count().await? == 0 {
        crate::demo::command(config).await?;
    } else {
        crate::system::say(
            "members already exist; demo members not added (run `fundpass demo` to refresh them)",
        );
    }
    Ok(())
}

/// Tells business systems of holds that ended (`hold.ended`), every 15 seconds.
async fn announce_ended_holds(portal: Portal, shutdown: CancellationToken) {
    loop {
        match portal.announce_ended_holds(200).await {
            Ok(n) if n > 0 => tracing::info!(holds = n, "ended holds announced"),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "announcing ended holds failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(std::time::Duration::from_secs(15)) => {}
        }
    }
}

/// Suspends members whose qualification check is overdue and queues reminder texts,
/// every minute.
async fn qualification_sweep(portal: Portal, shutdown: CancellationToken) {
    loop {
        match portal.qualification_sweep(500).await {
            Ok(done) if done.suspended > 0 || done.reminded > 0 => tracing::info!(
                suspended = done.suspended,
                reminded = done.reminded,
                "qualification sweep"
            ),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "qualification sweep failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
        }
    }
}

/// Deletes expired captchas, rate-limit windows and old flows every few minutes.
async fn housekeeping(
    store: fundpass_store::Store,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
) {
    loop {
        match store.purge_expired(clock.now()).await {
            Ok(n) if n > 0 => tracing::info!(rows = n, "expired rows purged"),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "housekeeping failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(std::time::Duration::from_secs(300)) => {}
        }
    }
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
