//! The cluster `deploy/cluster/up.sh` starts, seen from the harness: its folder and
//! ports (`cluster.env`), a client of each instance and of HAProxy, the operations of
//! `ctl.sh` (kill and start an instance, kill the PostgreSQL leader node), the
//! database read through HAProxy, and `down.sh`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::crash::checks::{self, Snapshot};
use crate::crash::client::Http;
use crate::crash::rig::REQUEST_TIMEOUT;
use crate::harness::process::fundpass_command;

/// Where up.sh notes the folder it made.
const CLUSTER_POINTER: &str = "/run/fundpass-cluster.last";

/// A running cluster.
#[derive(Debug)]
pub struct Cluster {
    scripts: PathBuf,
    bin: PathBuf,
    /// The folder everything lives in.
    pub dir: PathBuf,
    env: HashMap<String, String>,
}

impl Cluster {
    /// Runs `up.sh` with the instances' settings in `config` and `members` imported;
    /// its output goes to this process's standard error.
    pub fn up(scripts: &Path, bin: &Path, config: &Path, members: &Path) -> anyhow::Result<Self> {
        let scripts = scripts
            .canonicalize()
            .with_context(|| format!("no cluster scripts at {}", scripts.display()))?;
        let status = Command::new(scripts.join("up.sh"))
            .env("FUNDPASS_BIN", bin)
            .env("FUNDPASS_CLUSTER_CONFIG", config)
            .env("FUNDPASS_CLUSTER_IMPORT", members)
            .env_remove("FUNDPASS_CLUSTER_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .status()
            .context("cannot run up.sh")?;
        if !status.success() {
            bail!("up.sh failed ({status})");
        }
        let dir = PathBuf::from(
            std::fs::read_to_string(CLUSTER_POINTER)
                .context("up.sh did not say where the cluster is")?
                .trim(),
        );
        let env = read_env(&std::fs::read_to_string(dir.join("cluster.env"))?);
        Ok(Self {
            scripts,
            bin: bin.to_owned(),
            dir,
            env,
        })
    }

    /// A value of `cluster.env`.
    pub fn var(&self, name: &str) -> anyhow::Result<&str> {
        self.env
            .get(name)
            .map(String::as_str)
            .with_context(|| format!("cluster.env has no {name}"))
    }

    /// `http://127.0.0.1:PORT` of fundpass instance `n` (1..3).
    pub fn instance_url(&self, n: u8) -> anyhow::Result<String> {
        Ok(format!(
            "http://127.0.0.1:{}",
            self.var(&format!("FUNDPASS_PORT_{n}"))?
        ))
    }

    /// HAProxy's address for members.
    pub fn proxy_url(&self) -> anyhow::Result<String> {
        Ok(format!("http://127.0.0.1:{}", self.var("HTTP_PORT")?))
    }

    /// A client of instance `n` that tries a refused-for-now request `patience` times.
    pub fn instance(&self, n: u8, patience: u32) -> anyhow::Result<Http> {
        Http::new(&self.instance_url(n)?, REQUEST_TIMEOUT, patience, None)
    }

    /// Runs `ctl.sh ARGS`; what it printed. The wait moves this worker's other tasks
    /// (the gateway among them) to another thread.
    pub fn ctl(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = tokio::task::block_in_place(|| {
            Command::new(self.scripts.join("ctl.sh"))
                .args(args)
                .env("FUNDPASS_CLUSTER_DIR", &self.dir)
                .stdin(Stdio::null())
                .output()
        })
        .context("cannot run ctl.sh")?;
        if !output.status.success() {
            bail!(
                "ctl.sh {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// SIGKILLs instance `n`.
    pub fn kill_instance(&self, n: u8) -> anyhow::Result<()> {
        self.ctl(&["kill-instance", &n.to_string()]).map(drop)
    }

    /// Starts instance `n` again and waits until it is ready.
    pub fn start_instance(&self, n: u8) -> anyhow::Result<()> {
        self.ctl(&["start-instance", &n.to_string()]).map(drop)
    }

    /// The database as it is now, read through HAProxy (from the leader).
    pub async fn snapshot(&self) -> anyhow::Result<Snapshot> {
        checks::snapshot(None, Some(self.var("DATABASE_URL")?)).await
    }

    /// Waits up to `within` until every outbox message is delivered or given up; the
    /// last snapshot read and how long the wait took.
    pub async fn drain(&self, within: Duration) -> anyhow::Result<(Snapshot, Duration)> {
        let started = std::time::Instant::now();
        let snapshot = checks::drained(|| self.snapshot(), within).await?;
        Ok((snapshot, started.elapsed()))
    }

    /// `fundpass audit verify` on the cluster's database: `Ok(summary)` when the chain
    /// is intact, `Err(what broke)` otherwise.
    pub fn audit_verify(&self) -> anyhow::Result<Result<String, String>> {
        let home = self.dir.join("fundpass1");
        let output = fundpass_command(&self.bin, &home.join("data"), &home.join("fundpass.toml"))
            .args(["audit", "verify"])
            .stdin(Stdio::null())
            .output()
            .context("cannot run fundpass audit verify")?;
        let text = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        Ok(if output.status.success() {
            Ok(text)
        } else {
            Err(text)
        })
    }

    /// The last lines of instance `n`'s log.
    pub fn log_tail(&self, n: u8) -> String {
        crate::harness::process::log_tail(&self.dir.join(format!("fundpass{n}/serve.log")))
    }

    /// Runs `down.sh`: everything stops and the folder goes (kept with `keep`).
    pub fn down(self, keep: bool) -> anyhow::Result<()> {
        let status = Command::new(self.scripts.join("down.sh"))
            .env("FUNDPASS_CLUSTER_DIR", &self.dir)
            .env("FUNDPASS_CLUSTER_KEEP", if keep { "1" } else { "" })
            .stdin(Stdio::null())
            .status()
            .context("cannot run down.sh")?;
        if !status.success() {
            bail!("down.sh failed ({status})");
        }
        Ok(())
    }
}

/// `NAME=value` and `NAME='value'` lines.
fn read_env(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| {
            (
                name.trim().to_owned(),
                value.trim().trim_matches('\'').to_owned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cluster_env_is_read_with_and_without_quotes() {
        let env = read_env(
            "FUNDPASS_BIN='/x/fundpass'\nHTTP_PORT=27140\nDATABASE_URL='postgres://a:b@h:1/d'\n",
        );
        assert_eq!(env["FUNDPASS_BIN"], "/x/fundpass");
        assert_eq!(env["HTTP_PORT"], "27140");
        assert_eq!(env["DATABASE_URL"], "postgres://a:b@h:1/d");
    }
}
