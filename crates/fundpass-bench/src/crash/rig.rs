//! One fault run's installation: the gateway, the database, the fundpass folder
//! with its members imported and counter clerks created, the server started, and
//! the ways the harnesses look inside (a snapshot of the database, the wait for the
//! outbox to drain) and clean up.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use fundpass_core::ports::SecretGenerator as _;
use fundpass_server::system::OsSecrets;

use super::checks::{self, Snapshot};
use super::client::{Http, Recorder};
use super::console::{Console, add_clerks};
use super::database::Database;
use super::members::{Person, csv, people};
use super::ops::Workload;
use super::receiver::Receiver;
use super::server::{Instance, Settings};
use super::workload::{Kind, Member, State};

/// Counter clerk accounts made for a run.
const CLERKS: usize = 3;
/// Longest a member's request may wait for an answer (past the server's own 30 s
/// request timeout, so that a hang shows as one).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(35);

/// A running installation.
#[derive(Debug)]
pub struct Rig {
    pub receiver: Receiver,
    pub instance: Instance,
    pub database: Database,
    pub people: Vec<Arc<Person>>,
    clerks: Vec<String>,
    /// A client for `/readyz`, outside the members' counts.
    pub plain: reqwest::Client,
}

impl Rig {
    /// Starts the gateway, creates the installation on `database` with `members`
    /// imported and the clerks, and starts the server.
    pub async fn start(bin: &Path, database: Database, members: usize) -> anyhow::Result<Self> {
        Self::start_with(bin, database, members, None).await
    }

    /// [`Rig::start`], with captchas and rate limits in the Redis at `redis_url` when
    /// given.
    pub async fn start_with(
        bin: &Path,
        database: Database,
        members: usize,
        redis_url: Option<String>,
    ) -> anyhow::Result<Self> {
        let mut secret = [0u8; 16];
        OsSecrets.fill(&mut secret);
        let secret = hex(&secret);
        let receiver = Receiver::start(&secret).await?;
        let settings = Settings {
            database_url: database.server_url(),
            webhook_url: receiver.url(),
            webhook_secret: secret,
            redis_url,
        };
        let mut instance = Instance::create(bin, &settings)?;
        let people: Vec<Arc<Person>> = people(members)?.into_iter().map(Arc::new).collect();
        let file = instance.file("members.csv");
        let owned: Vec<Person> = people.iter().map(|p| (**p).clone()).collect();
        std::fs::write(&file, csv(&owned))?;
        let file = file.to_string_lossy().into_owned();
        instance
            .run(&["import", &file, "--quiet"], "")
            .context("importing the members")?;
        let clerks = add_clerks(&instance, CLERKS).context("creating the counter clerks")?;
        // Longer than the server's wait for a database connection, so that a slow
        // "not ready" is an answer, not a timeout.
        let plain = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()?;
        instance.start()?;
        instance.wait_ready(&plain).await?;
        Ok(Self {
            receiver,
            instance,
            database,
            people,
            clerks,
            plain,
        })
    }

    /// A client of the server: `patience` tries of a request refused for now, every
    /// request written to `recorder` when given.
    pub fn http(&self, patience: u32, recorder: Option<Arc<Recorder>>) -> anyhow::Result<Http> {
        Http::new(&self.instance.base_url, REQUEST_TIMEOUT, patience, recorder)
    }

    /// A workload over the members from `skip` on, cycling through `kinds`.
    pub fn workload(&self, http: &Http, skip: usize, kinds: &[Kind]) -> anyhow::Result<Workload> {
        let fresh = self.people.iter().skip(skip).rev().cloned().collect();
        // The clerks' desk has an address of its own.
        let console = Console::new(http.fresh(Some("10.1.0.10"))?, self.clerks.clone());
        Workload::new(
            http.clone(),
            self.receiver.inbox.clone(),
            console,
            State::new(fresh, Vec::<Member>::new(), kinds),
            &self.instance.base_url,
        )
    }

    /// The database as it is now, read in one snapshot.
    pub async fn snapshot(&self) -> anyhow::Result<Snapshot> {
        let postgres = self.database.server_url();
        checks::snapshot(self.instance.sqlite_path.as_deref(), postgres.as_deref()).await
    }

    /// Waits up to `within` until every outbox message is delivered or given up; the
    /// last snapshot read.
    pub async fn drain(&self, within: Duration) -> anyhow::Result<Snapshot> {
        checks::drained(|| self.snapshot(), within).await
    }

    /// Stops the server, the gateway and removes the database (the folder goes when
    /// the rig is dropped).
    pub async fn finish(mut self) -> anyhow::Result<()> {
        let stopped = self.instance.stop();
        self.receiver.close().await;
        let removed = self.database.remove().await;
        stopped.and(removed)
    }
}

/// Lower-case hex digits of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
