//! `fundpass serve`: wires the store, the keyring, the portal and the HTTP layer
//! together, starts the outbox worker and housekeeping, and shuts down cleanly on
//! Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use fundpass_core::credentials::{HashParams, PasswordHasher};
use fundpass_core::portal::Portal;
use fundpass_core::ports::{Clock, MemberStore, SmsSender};
use fundpass_server::hash_pool::HashPool;
use fundpass_server::sms::{DevSender, OutboxWorker, WebhookConfig, WebhookSender, WorkerConfig};
use fundpass_server::state::{AppState, Mode as ServerMode, ServerSettings};
use fundpass_server::system::{OsSecrets, SystemClock};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Mode, SmsSenderKind};
use crate::context::{Context, redact_url};

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
        bail!("production mode cannot use the dev SMS sender: set sms.sender = \"webhook\"");
    }
    if !config.server.secure_cookies {
        bail!("production mode needs server.secure_cookies = true (serve behind TLS)");
    }
    if !config.server.public_origin.starts_with("https://") {
        bail!("production mode needs server.public_origin to be the https:// origin members use");
    }
    Ok(())
}

fn sms_sender(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Arc<dyn SmsSender>> {
    Ok(match config.sms.sender {
        SmsSenderKind::Dev => Arc::new(DevSender),
        SmsSenderKind::Webhook => {
            if config.sms.webhook_secret.is_empty() {
                bail!("sms.sender = \"webhook\" needs a secret (FUNDPASS_SMS_WEBHOOK_SECRET)");
            }
            let webhook = WebhookConfig {
                url: config.sms.webhook_url.clone(),
                secret: config.sms.webhook_secret.clone().into(),
                timeout: std::time::Duration::from_millis(config.sms.webhook_timeout_ms),
                sender_id: config.sms.sender_id.clone(),
                allow_http: config.mode == Mode::Dev,
            };
            Arc::new(WebhookSender::new(webhook, clock).context("invalid SMS webhook settings")?)
        }
    })
}

/// Runs the service until Ctrl-C or SIGTERM.
pub async fn run(config: &Config, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    check_production(config)?;
    let Context { store, keyring, .. } = Context::open(config).await?;
    let keyring = Arc::new(keyring);
    if args.demo {
        offer_demo(config, &store).await?;
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
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
    let mut policy = config.portal.policy(config.mode == Mode::Dev)?;
    policy.face = config.face.policy()?;
    config.staff.apply(&mut policy)?;
    let face_simulator = (config.mode == Mode::Dev)
        .then(|| fundpass_server::state::dev_face_simulator(&mut policy, &OsSecrets));
    let portal = Portal {
        store: Arc::new(store.clone()),
        limiter: Arc::new(store.clone()),
        pool: Arc::new(HashPool::new(workers, queue)),
        keyring: keyring.clone(),
        hasher: Arc::new(PasswordHasher::new(params).context("invalid Argon2 settings")?),
        clock: clock.clone(),
        rng: Arc::new(OsSecrets),
        policy,
        templates: config.sms.templates(),
    };
    let bind = args
        .bind
        .clone()
        .unwrap_or_else(|| config.server.bind.clone());
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let local = listener.local_addr()?;
    let settings = ServerSettings {
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
    };
    let shutdown = CancellationToken::new();
    let worker = OutboxWorker::new(
        Arc::new(store.clone()),
        sms_sender(config, clock.clone())?,
        keyring.clone(),
        clock.clone(),
        WorkerConfig::default(),
    );
    let worker_task = tokio::spawn(worker.run(shutdown.clone()));
    let housekeeping = tokio::spawn(housekeeping(store.clone(), clock.clone(), shutdown.clone()));
    let app = fundpass_server::app::build(AppState {
        portal,
        settings: Arc::new(settings),
        face_simulator,
    });
    eprintln!(
        "fundpass listening on http://{local} ({} mode, database {})",
        if config.mode == Mode::Dev {
            "dev"
        } else {
            "production"
        },
        redact_url(&config.database_url())
    );
    if config.mode == Mode::Dev {
        eprintln!("dev SMS outbox: http://{local}/dev/outbox");
        eprintln!("dev face simulator: http://{local}/dev/face (never trusted in production)");
    }
    eprintln!("staff console: http://{local}/staff/login");
    if portal_has_no_staff(&store).await {
        eprintln!(
            "no staff account exists yet: create one with `fundpass staff add --role counter …` \
             (see `fundpass staff add --help`)"
        );
    }
    let stop = shutdown.clone();
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        wait_for_signal().await;
        stop.cancel();
    })
    .await
    .context("the HTTP server failed")?;
    shutdown.cancel();
    let _ = worker_task.await;
    let _ = housekeeping.await;
    eprintln!("fundpass stopped");
    Ok(ExitCode::SUCCESS)
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
        eprintln!(
            "members already exist; demo members not added (run `fundpass demo` to refresh them)"
        );
    }
    Ok(())
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
