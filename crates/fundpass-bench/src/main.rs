//! fundpass benchmarks, run in release mode:
//! `cargo run --release -p fundpass-bench -- argon2 --threads 2 --seconds 10` and
//! `cargo run --release -p fundpass-bench -- login --concurrency 16 --seconds 20`
//! (after `cargo build --release -p fundpass`).

mod argon2_rate;
mod login;

use clap::{Parser, Subcommand};

/// Benchmarks whose numbers go into the project's notes.
#[derive(Debug, Parser)]
#[command(name = "fundpass-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Raw Argon2id verifications per second with fundpass's hasher (pepper included).
    Argon2(argon2_rate::Args),
    /// Logins/s of a real server over HTTP against the raw Argon2 rate, `/readyz`
    /// latency during the flood, and the server's peak memory.
    Login(login::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Argon2(args) => {
            let report = argon2_rate::run(&args)?;
            #[allow(clippy::print_stdout)]
            {
                println!("{report}");
            }
        }
        Command::Login(args) => login::run(&args)?,
    }
    Ok(())
}
