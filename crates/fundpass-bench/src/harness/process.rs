//! What the harnesses that run the real `fundpass` binary share: a free loopback port,
//! the command line every run of the binary starts from, and the end of its log.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::Command;

use anyhow::Context as _;

/// The runtime a harness runs its clients (and gateway) on: two worker threads, as
/// many as the machine's cores.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("no free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// `BIN --data-dir DATA --config CONFIG`, with no `FUNDPASS_*` variable of this shell
/// passed on: only the file and the flags configure the binary.
pub fn fundpass_command(bin: &Path, data: &Path, config: &Path) -> Command {
    let mut command = Command::new(bin);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("FUNDPASS_") {
            command.env_remove(name);
        }
    }
    command
        .arg("--data-dir")
        .arg(data)
        .arg("--config")
        .arg(config);
    command
}

/// The last 4,000 bytes of a server's log, to explain a failure; empty when it cannot
/// be read.
pub fn log_tail(log: &Path) -> String {
    const TAIL_BYTES: u64 = 4000;
    let Ok(mut file) = File::open(log) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(TAIL_BYTES)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}
