//! The real `fundpass` binary under fault: one data folder and configuration kept
//! for the whole run, `fundpass serve` started, killed with SIGKILL or stopped
//! gracefully and started again on the same port, and the binary's other commands
//! (import, staff accounts, audit verification) run against the same data.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use reqwest::StatusCode;
use tempfile::TempDir;

use crate::harness::process::{free_port, fundpass_command, log_tail};

/// Longest a start may take to answer `/readyz`.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// What the harness sets in the server's configuration; the rest stays at
/// fundpass's defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `[database] url`; `None`: the SQLite file in the data folder.
    pub database_url: Option<String>,
    /// The SMS gateway's URL (`[sms] sender = "webhook"`).
    pub webhook_url: String,
    /// Its shared HMAC key.
    pub webhook_secret: String,
    /// `[redis] url`; `None`: captchas and rate limits in the database.
    pub redis_url: Option<String>,
}

impl Settings {
    /// Dev mode (captcha answers under `/dev/`), the webhook SMS sender, limits meant
    /// for members on their own phones lifted (every member of the harness sends from
    /// one address, and codes are asked for again after a kill), and `X-Forwarded-For`
    /// trusted, so that each PIN pad can have an address of its own.
    fn toml(&self) -> String {
        let database = self
            .database_url
            .as_ref()
            .map(|url| format!("[database]\nurl = \"{url}\"\n\n"))
            .unwrap_or_default();
        let redis = self
            .redis_url
            .as_ref()
            .map(|url| format!("[redis]\nurl = \"{url}\"\n\n"))
            .unwrap_or_default();
        format!(
            "mode = \"dev\"\n\n{database}{redis}\
             [sms]\nsender = \"webhook\"\nwebhook_url = \"{}\"\nwebhook_secret = \"{}\"\n\
             webhook_timeout_ms = 2000\n\n\
             [server]\ntrust_forwarded_for = true\n\n\
             [portal]\nlogin_per_ip_per_10_min = 1000000\nsms_ip_hourly = 1000000\n\
             sms_phone_daily = 100000\nsms_global_hourly = 1000000\ncode_resend_seconds = 1\n",
            self.webhook_url, self.webhook_secret
        )
    }
}

/// One fundpass installation: its folder, its configuration, and the serving process
/// while there is one. Dropping it kills the process and removes the folder.
#[derive(Debug)]
pub struct Instance {
    bin: PathBuf,
    config: PathBuf,
    data: PathBuf,
    log: PathBuf,
    port: u16,
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Where the SQLite file is, when the database is SQLite.
    pub sqlite_path: Option<PathBuf>,
    dir: TempDir,
}

impl Instance {
    /// A new folder with the configuration of `settings`; nothing runs yet.
    pub fn create(bin: &Path, settings: &Settings) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("fundpass-faults-")
            .tempdir()?;
        let config = dir.path().join("fundpass.toml");
        std::fs::write(&config, settings.toml())?;
        let data = dir.path().join("data");
        let port = free_port()?;
        let sqlite_path = settings
            .database_url
            .is_none()
            .then(|| data.join("fundpass.db"));
        Ok(Self {
            bin: bin.to_owned(),
            config,
            log: dir.path().join("server.log"),
            data,
            port,
            child: None,
            base_url: format!("http://127.0.0.1:{port}"),
            sqlite_path,
            dir,
        })
    }

    /// A file in the installation's folder (removed with it).
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self) -> Command {
        fundpass_command(&self.bin, &self.data, &self.config)
    }

    /// Runs `fundpass ARGS` on this installation with `stdin` as its input; fails,
    /// with what it printed, unless it exits 0.
    pub fn run(&self, args: &[&str], stdin: &str) -> anyhow::Result<String> {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot run {}", self.bin.display()))?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes())?;
        }
        let output = child.wait_with_output()?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if !output.status.success() {
            bail!(
                "`fundpass {}` failed ({}):\n{text}",
                args.join(" "),
                output.status
            );
        }
        Ok(text)
    }

    /// `fundpass audit verify`: `Ok(Ok(summary))` when the chain is intact,
    /// `Ok(Err(what broke))` when the command says it is not.
    pub fn audit_verify(&self) -> anyhow::Result<Result<String, String>> {
        let output = self
            .command()
            .args(["audit", "verify"])
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {}", self.bin.display()))?;
        let text = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        Ok(if output.status.success() {
            Ok(text)
        } else {
            Err(text)
        })
    }

    /// Starts `fundpass serve` on the installation's port, its output appended to the
    /// log.
    pub fn start(&mut self) -> anyhow::Result<()> {
        if self.child.is_some() {
            bail!("the server is already running");
        }
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let child = self
            .command()
            .args(["serve", "--bind"])
            .arg(format!("127.0.0.1:{}", self.port))
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("cannot start {}", self.bin.display()))?;
        self.child = Some(child);
        Ok(())
    }

    /// Polls `/readyz` until it answers 200; how long that took. Fails if the server
    /// exits or is not ready within a minute.
    pub async fn wait_ready(&mut self, client: &reqwest::Client) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let url = format!("{}/readyz", self.base_url);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                self.child = None;
                bail!(
                    "the server exited ({status}); its log ends:\n{}",
                    self.log_tail()
                );
            }
            let ready = client.get(&url).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                return Ok(started.elapsed());
            }
            if started.elapsed() > READY_WITHIN {
                bail!(
                    "the server was not ready within {} s; its log ends:\n{}",
                    READY_WITHIN.as_secs(),
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: the process ends at once, whatever it was doing.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// SIGTERM and a wait of up to 15 s for a clean shutdown, then SIGKILL.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let signalled = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        while signalled && Instant::now() < deadline {
            if child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.kill()?;
        child.wait()?;
        bail!("the server did not stop on SIGTERM within 15 s and was killed")
    }

    /// The server's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The last lines of the server's output, to explain a failure.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }

    /// Lines of the server's log that contain `needle`.
    pub fn log_lines_with(&self, needle: &str) -> usize {
        std::fs::read_to_string(&self.log)
            .map(|log| log.lines().filter(|l| l.contains(needle)).count())
            .unwrap_or(0)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_names_the_gateway_and_lifts_the_per_phone_limits() {
        let settings = Settings {
            database_url: None,
            webhook_url: "http://127.0.0.1:9/sms".into(),
            webhook_secret: "k".into(),
            redis_url: None,
        };
        let text = settings.toml();
        assert!(text.contains("sender = \"webhook\""));
        assert!(text.contains("webhook_url = \"http://127.0.0.1:9/sms\""));
        assert!(text.contains("code_resend_seconds = 1"));
        assert!(!text.contains("[database]"));
        assert!(!text.contains("[redis]"));
        let pg = Settings {
            database_url: Some("postgres://postgres@127.0.0.1:5432/x".into()),
            ..settings
        };
        assert!(
            pg.toml()
                .contains("url = \"postgres://postgres@127.0.0.1:5432/x\"")
        );
    }
}
