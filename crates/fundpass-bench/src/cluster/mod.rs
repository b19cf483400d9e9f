//! `cluster`: fundpass as a city fund runs it, started by `deploy/cluster/up.sh`
//! (three instances behind HAProxy, a Patroni-managed PostgreSQL pair, Redis), and
//! the promises that must hold there:
//!
//! - limits are global: wrong passwords on three instances lock the member; one
//!   phone's cooldown and daily cap; one SMS code submitted 50 times at once works
//!   once (`limits`);
//! - a recovery begun on an instance that is killed finishes on another (`limits`);
//! - the outbox: codes written through the three instances each reach the gateway
//!   once, also with an instance killed by SIGKILL halfway (`outbox`);
//! - failover: the PostgreSQL leader killed under load loses no acknowledged change,
//!   and no request gets a server error or hangs (`failover`).
//!
//! The harness plays the SMS gateway (the instances deliver to it through the signed
//! webhook) and the members' phones; it stops the cluster at the end whatever
//! happened.

mod control;
mod failover;
mod limits;
mod outbox;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use fundpass_core::ports::SecretGenerator as _;
use fundpass_server::system::OsSecrets;

use crate::crash::members::{Passwords, Person, csv, people};
use crate::crash::receiver::{Inbox, Receiver, arrivals_by_key};
use control::Cluster;

/// Options of `cluster`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The folder with up.sh, ctl.sh and down.sh.
    #[arg(long, default_value = "deploy/cluster")]
    pub scripts: PathBuf,
    /// The fundpass binary (default: next to this benchmark, or under
    /// $CARGO_TARGET_DIR/release).
    #[arg(long)]
    pub bin: Option<PathBuf>,
    /// Registration codes written for the outbox check (half with every instance up,
    /// half with one killed).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(2..=100_000))]
    pub notices: u32,
    /// Keep the cluster's folder (logs, data) after the run.
    #[arg(long)]
    pub keep: bool,
}

/// One phone's code requests allowed in a day, and the wait between two, in this
/// run's configuration.
const PHONE_DAILY: u32 = 4;
const PHONE_COOLDOWN_SECONDS: u64 = 2;
/// Members the failover load may register.
const FAILOVER_MEMBERS: usize = 600;

/// What the run found: lines to print and the checks that failed.
#[derive(Debug, Default)]
pub struct Report {
    lines: Vec<String>,
    failed: Vec<String>,
    passed: usize,
}

impl Report {
    /// A finding, printed as it comes.
    pub fn line(&mut self, text: String) {
        eprintln!("{text}");
        self.lines.push(text);
    }

    /// A promise: passed, or recorded as failed.
    pub fn check(&mut self, held: bool, promise: &str) {
        if held {
            self.passed += 1;
        } else {
            eprintln!("FAILED: {promise}");
            self.failed.push(promise.to_owned());
        }
    }
}

/// Keys the gateway received more than once since arrival `mark`.
fn doubles_since(inbox: &Inbox, mark: usize) -> usize {
    let arrivals = inbox.deliveries();
    let recent = arrivals.get(mark..).unwrap_or_default();
    arrivals_by_key(recent).values().filter(|n| **n > 1).count()
}

/// The instances' settings besides what up.sh writes: dev mode (captcha answers under
/// `/dev/`), the harness's gateway, limits meant for members on their own phones
/// lifted for the one address every client sends from, a phone's limits kept small
/// enough to reach.
fn settings(gateway: &str, secret: &str) -> String {
    format!(
        "mode = \"dev\"\n\n\
         [sms]\nsender = \"webhook\"\nwebhook_url = \"{gateway}\"\nwebhook_secret = \"{secret}\"\n\
         webhook_timeout_ms = 2000\n\n\
         [portal]\nlogin_per_ip_per_10_min = 1000000\nsms_ip_hourly = 1000000\n\
         sms_phone_daily = {PHONE_DAILY}\nsms_global_hourly = 1000000\n\
         code_resend_seconds = {PHONE_COOLDOWN_SECONDS}\n"
    )
}

/// Brings the cluster up, runs every check, brings it down; fails if a check failed.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let bin = crate::login::locate(args.bin.clone())?;
    let runtime = crate::harness::process::runtime()?;
    runtime.block_on(async {
        let mut secret = [0u8; 16];
        OsSecrets.fill(&mut secret);
        let secret = crate::crash::rig::hex(&secret);
        let mut receiver = Receiver::start(&secret).await?;
        let work = tempfile::Builder::new()
            .prefix("fundpass-cluster-run-")
            .tempdir()?;
        let config = work.path().join("settings.toml");
        std::fs::write(&config, settings(&receiver.url(), &secret))?;
        let notices = usize::try_from(args.notices)?;
        let mut everyone: Vec<Arc<Person>> = people(notices + FAILOVER_MEMBERS + 5)?
            .into_iter()
            .map(Arc::new)
            .collect();
        // Someone who is not a member (not imported).
        let stranger = everyone.pop().context("no people")?;
        let members = work.path().join("members.csv");
        let owned: Vec<Person> = everyone.iter().map(|p| (**p).clone()).collect();
        std::fs::write(&members, csv(&owned))?;

        let started = Instant::now();
        let cluster = Cluster::up(&args.scripts, &bin, &config, &members)?;
        let up = started.elapsed();
        let mut report = Report::default();
        report.line(format!(
            "cluster up in {:.1} s at {}",
            up.as_secs_f64(),
            cluster.dir.display()
        ));
        let result = checks(
            &cluster,
            receiver.inbox.clone(),
            (&everyone, &stranger),
            notices,
            &mut report,
        )
        .await;
        if result.is_err() {
            for n in 1..=3 {
                eprintln!("--- fundpass{n}'s log ends:\n{}", cluster.log_tail(n));
            }
        }
        let down = cluster.down(args.keep);
        receiver.close().await;
        result?;
        down?;
        report.line(format!(
            "cluster checks: {} passed, {} failed, {:.0} s in all",
            report.passed,
            report.failed.len(),
            started.elapsed().as_secs_f64()
        ));
        if report.failed.is_empty() {
            Ok(())
        } else {
            anyhow::bail!("cluster checks failed: {}", report.failed.join("; "))
        }
    })
}

async fn checks(
    cluster: &Cluster,
    inbox: Arc<Inbox>,
    (everyone, stranger): (&[Arc<Person>], &Arc<Person>),
    notices: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    let passwords = Passwords::default();
    let (few, rest) = everyone.split_at(4);
    let (for_outbox, for_failover) = rest.split_at(notices);
    limits::lockout(cluster, &inbox, &few[0], &passwords.fresh(), report)
        .await
        .context("lockout")?;
    let cooldown = std::time::Duration::from_secs(PHONE_COOLDOWN_SECONDS);
    limits::sms_limits(cluster, &few[1], (cooldown, PHONE_DAILY), report)
        .await
        .context("SMS limits")?;
    limits::one_code_once(cluster, &inbox, &few[2], report)
        .await
        .context("one code at once")?;
    let (old, new) = (passwords.fresh(), passwords.fresh());
    limits::handover(cluster, &inbox, &few[3], (&old, &new), report)
        .await
        .context("instance killed mid-recovery")?;
    outbox::exactly_once(cluster, &inbox, for_outbox, report)
        .await
        .context("outbox")?;
    failover::leader_killed(cluster, inbox, for_failover, stranger, report)
        .await
        .context("failover")?;
    Ok(())
}
