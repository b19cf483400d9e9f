//! A PostgreSQL server of the harness's own, so that stopping the database touches
//! nobody else on the machine: `initdb` into a temporary folder, `pg_ctl` to start it
//! on a free loopback port and to stop it (fast, as an operator's restart does), all
//! from the newest `/usr/lib/postgresql/*/bin`. PostgreSQL refuses to run as root, so
//! as root every command runs as the `postgres` user (`runuser`), who owns the folder.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use tempfile::TempDir;

use crate::harness::process::free_port;

/// Where Debian and Ubuntu install the server's programs, one folder per version.
const INSTALLS: &str = "/usr/lib/postgresql";
/// The user the server runs as when the harness runs as root.
const SERVICE_USER: &str = "postgres";

/// A server made for the run; stopped and removed when dropped.
#[derive(Debug)]
pub struct OwnPostgres {
    bin: PathBuf,
    dir: TempDir,
    port: u16,
    as_user: Option<&'static str>,
}

/// The `bin` folder of the newest installed version.
fn newest_bin() -> anyhow::Result<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(INSTALLS)
        .with_context(|| format!("no PostgreSQL server programs under {INSTALLS}"))?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .with_context(|| format!("no initdb under {INSTALLS}/*/bin"))
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl OwnPostgres {
    /// Creates the cluster (trust authentication, user `postgres`) and starts it.
    pub fn start() -> anyhow::Result<Self> {
        let bin = newest_bin()?;
        let dir = tempfile::Builder::new().prefix("fundpass-pg-").tempdir()?;
        let as_user = running_as_root().then_some(SERVICE_USER);
        if let Some(user) = as_user {
            let owned = Command::new("chown")
                .arg("-R")
                .arg(format!("{user}:"))
                .arg(dir.path())
                .status()?;
            if !owned.success() {
                bail!("cannot give {} to {user}", dir.path().display());
            }
        }
        let server = Self {
            bin,
            port: free_port()?,
            dir,
            as_user,
        };
        let data = server.data();
        server.run(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        server.pg_ctl_start()?;
        Ok(server)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    /// A URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs one of the server's programs (as the service user when root), failing
    /// with its output unless it exits 0.
    fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let path = self.bin.join(program);
        let mut command = match self.as_user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        let output = command
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {}", path.display()))?;
        if !output.status.success() {
            bail!(
                "{program} {} failed: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    /// Starts the server and waits until it accepts connections.
    pub fn pg_ctl_start(&self) -> anyhow::Result<()> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgres.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log.to_string_lossy(),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
    }

    /// Stops the server the way an operator's restart does (`-m fast`: open sessions
    /// are ended, transactions rolled back, then a clean shutdown), waiting for it.
    pub fn pg_ctl_stop_fast(&self) -> anyhow::Result<()> {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"])
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }
}
