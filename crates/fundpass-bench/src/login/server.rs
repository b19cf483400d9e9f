//! The fundpass server under test: a child process on a loopback port with its own
//! temporary data folder and a configuration that lifts the per-address limits a
//! benchmark from one address would otherwise hit.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tempfile::TempDir;

use crate::harness::memory::proc_status_kib;
use crate::harness::process::{free_port, fundpass_command, log_tail};

/// Settings the benchmark varies; everything else stays at fundpass's defaults.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// `[server] hash_workers` (0 = one per core).
    pub hash_workers: usize,
    /// `[server] hash_queue` (0 = four per worker).
    pub hash_queue: usize,
    /// `[argon2]` memory in KiB.
    pub m_kib: u32,
    /// `[argon2]` passes.
    pub t: u32,
    /// `[argon2]` lanes.
    pub p: u32,
}

impl Settings {
    /// The configuration file: dev mode (for `/dev/` captcha answers and the outbox),
    /// the given Argon2 costs and pool, and limits no single benchmark run reaches.
    fn toml(&self, metrics_port: u16) -> String {
        format!(
            "mode = \"dev\"\n\n\
             [argon2]\nm_kib = {}\nt = {}\np = {}\n\n\
             [server]\nhash_workers = {}\nhash_queue = {}\n\
             metrics_bind = \"127.0.0.1:{metrics_port}\"\n\n\
             [portal]\nlogin_per_ip_per_10_min = 1000000\nsms_ip_hourly = 1000\nsms_phone_daily = 1000\n",
            self.m_kib, self.t, self.p, self.hash_workers, self.hash_queue
        )
    }
}

/// A running `fundpass serve`; stopped (and its data removed) on [`Server::stop`] or
/// when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    /// The server's Prometheus metrics.
    pub metrics_url: String,
    log: PathBuf,
    /// Removed when the server is dropped, after the child has exited.
    _dir: TempDir,
}

/// The `fundpass` binary: `explicit` if given, else next to this benchmark (cargo
/// builds both into the same folder), else under `$CARGO_TARGET_DIR` or the
/// workspace's `target`.
pub fn locate(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        if path.is_file() {
            return Ok(path);
        }
        bail!("no fundpass binary at {}", path.display());
    }
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        candidates.push(dir.join("fundpass"));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    candidates.push(target.join("release").join("fundpass"));
    candidates.into_iter().find(|path| path.is_file()).context(
        "the fundpass binary was not found: run `cargo build --release -p fundpass` first, or pass --bin PATH",
    )
}

impl Server {
    /// Writes the configuration into a new temporary folder and starts
    /// `fundpass serve --demo` on a free loopback port, its output going to a log file.
    pub fn start(bin: &Path, settings: &Settings) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("fundpass-bench-")
            .tempdir()?;
        let config = dir.path().join("fundpass.toml");
        let metrics_port = free_port()?;
        std::fs::write(&config, settings.toml(metrics_port))?;
        let data = dir.path().join("data");
        let log = dir.path().join("server.log");
        let out = File::create(&log)?;
        let port = free_port()?;
        let child = fundpass_command(bin, &data, &config)
            .args(["serve", "--demo", "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        Ok(Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            metrics_url: format!("http://127.0.0.1:{metrics_port}/metrics"),
            log,
            _dir: dir,
        })
    }

    /// The server's process id, for reading its memory use.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails if the server has exited (it should run until stopped).
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait()? {
            None => Ok(()),
            Some(status) => bail!(
                "the server exited ({status}); its log ends:\n{}",
                self.log_tail()
            ),
        }
    }

    /// The last lines of the server's output, to explain a failure.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }

    /// Peak resident memory of the server so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.pid(), "VmHWM")
    }

    /// Asks the server to shut down gracefully (SIGTERM), waits up to 15 s, then kills
    /// it. The data folder goes when `self` is dropped.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        let signalled = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        while signalled && Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill()?;
        self.child.wait()?;
        bail!("the server did not stop on SIGTERM within 15 s and was killed")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_lifts_the_per_address_limits_and_keeps_owasp_costs() {
        let settings = Settings {
            hash_workers: 0,
            hash_queue: 0,
            m_kib: 19_456,
            t: 2,
            p: 1,
        };
        let text = settings.toml(9464);
        assert!(text.contains("login_per_ip_per_10_min = 1000000"));
        assert!(text.contains("m_kib = 19456\nt = 2\np = 1"));
        assert!(text.contains("mode = \"dev\""));
    }
}
