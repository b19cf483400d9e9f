//! The `fundpass` command: parses the command line and hands over to one subcommand.

mod audit_cmd;
mod benefits_cmd;
mod cli;
mod clients_cmd;
mod config;
mod context;
mod demo;
mod import;
mod keys;
mod member_cmd;
mod outbox_cmd;
mod record_cmd;
mod serve;
mod serve_face;
mod serve_metrics;
mod serve_sms;
mod staff_cmd;
mod system;

use clap::Parser;

/// mimalloc returns the 19 MiB each Argon2 run allocates to the system soon after it
/// is freed; the system allocator keeps such blocks per thread, and a login flood
/// then holds hundreds of MiB it no longer uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    // The server logs its requests at info level; other commands stay quiet.
    let serving = matches!(cli.command, cli::Command::Serve(_));
    system::init_tracing(cli.verbose + u8::from(serving));
    match cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("fundpass: {err:#}");
            std::process::ExitCode::from(1)
        }
    }
}
