//! `fundpass-integrator`: the withdrawals system of a worked example, written to be
//! copied. It authenticates to fundpass's internal API with a signed client assertion,
//! asks the member to confirm a payment, checks the signed receipt offline, captures
//! the authorisation exactly once and only then says "pay now"; it also checks the
//! signatures of the webhooks fundpass sends. See `docs/integrators.md`.

mod api;
mod assertion;
mod keygen;
mod listen;
mod out;
mod pay;
mod receipt;
mod system;
mod webhook;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The example business system's command line.
#[derive(Debug, Parser)]
#[command(name = "fundpass-integrator", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make the client's Ed25519 key pair: a private key and a JWK to register.
    Keygen(keygen::KeygenArgs),
    /// Print one signed client assertion (to try the token endpoint with curl).
    Assertion(assertion::AssertionArgs),
    /// Run the whole payment example against a fundpass server.
    Pay(pay::PayArgs),
    /// Check a webhook's `Fundpass-Signature` (body on standard input).
    VerifyWebhook(webhook::VerifyArgs),
    /// Receive webhooks on 127.0.0.1, check each and print its event.
    Listen(listen::ListenArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Keygen(args) => keygen::command(&args),
        Command::Assertion(args) => assertion::command(&args),
        Command::VerifyWebhook(args) => webhook::command(&args),
        Command::Pay(args) => runtime().and_then(|rt| rt.block_on(pay::command(&args))),
        Command::Listen(args) => runtime().and_then(|rt| rt.block_on(listen::command(&args))),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}
