//! The server the identify benchmark times: the public router (portal and app API)
//! served in-process over a database with made-up members, in dev mode for the
//! captcha answers, believing `X-Forwarded-For` so that every request can come from
//! an address of its own and no per-address limit is reached.

use std::sync::Arc;

use fundpass_core::credentials::HashParams;
use fundpass_core::member::ImportRow;
use fundpass_core::portal::PortalPolicy;
use fundpass_core::ports::Clock as _;
use fundpass_server::state::Mode;
use fundpass_server::system::SystemClock;
use time::Duration;

use crate::authorize::setup;
use crate::harness::inproc::{self, Backend, Presentation, Serving};

/// Texts per hour and per day: far above what any run sends.
const LIMIT_NOT_REACHED: u32 = 100_000_000;

/// A serving fundpass and who is in its registry.
#[derive(Debug)]
pub struct Server {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    /// Registered members.
    pub registered: Arc<[ImportRow]>,
    /// Members imported but not registered: registration's matching case.
    pub ordinary: Arc<[ImportRow]>,
    serving: Serving,
}

/// The default rules in dev mode (captcha answers for the client) with the given
/// identify floor and the text limits lifted; the per-phone pause between codes is a millisecond, so a phone can
/// be used again in the next pair.
fn policy(identify_floor: Duration) -> PortalPolicy {
    let mut policy = PortalPolicy {
        dev_mode: true,
        identify_floor,
        ..PortalPolicy::default()
    };
    policy.sms.phone_cooldown = Duration::milliseconds(1);
    policy.sms.phone_daily = LIMIT_NOT_REACHED;
    policy.sms.ip_hourly = LIMIT_NOT_REACHED;
    policy.sms.global_hourly = LIMIT_NOT_REACHED;
    policy
}

impl Server {
    /// Registers `registered` made-up members, imports `ordinary` more, and starts
    /// serving with the given identify floor. Call it on the runtime the server is to
    /// run on.
    pub async fn start(
        registered: usize,
        ordinary: usize,
        identify_floor: Duration,
    ) -> anyhow::Result<Self> {
        let params = HashParams::default();
        let backend = Backend::open(params).await?;
        let now = SystemClock.now();
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        setup::members(
            &backend.store,
            &backend.hasher,
            &backend.keyring,
            registered,
            threads,
            now,
        )
        .await?;
        let extra: Vec<ImportRow> = (registered..registered + ordinary)
            .map(setup::row)
            .collect();
        let valid = extra
            .iter()
            .map(|r| {
                r.validate(now.date())
                    .map_err(|problems| anyhow::anyhow!("made-up member invalid: {problems:?}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        setup::import(
            &backend.store,
            &backend.keyring,
            &valid.iter().collect::<Vec<_>>(),
            now,
        )
        .await?;
        let (listener, base_url) = inproc::listen().await?;
        let portal = backend.portal(policy(identify_floor), 1, 4);
        let presentation = Presentation {
            mode: Mode::Dev,
            trust_forwarded_for: true,
            internal_listener: true,
        };
        let serving = Serving::start(
            backend,
            portal,
            presentation,
            listener,
            base_url.clone(),
            fundpass_server::app::build,
        );
        Ok(Self {
            base_url,
            registered: (0..registered).map(setup::row).collect(),
            ordinary: extra.into(),
            serving,
        })
    }

    /// Fails if the server stopped serving.
    pub fn check_alive(&self) -> anyhow::Result<()> {
        self.serving.check_alive()
    }

    /// Stops the server.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.serving.stop().await
    }
}
