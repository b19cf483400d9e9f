//! Command-line definitions and dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::Config;

/// fundpass: member accounts, login and transaction passwords, and their recovery.
#[derive(Debug, Parser)]
#[command(name = "fundpass", version, about, long_about = None)]
pub struct Cli {
    /// Folder holding the SQLite database and the key file (created if missing).
    #[arg(long, global = true, env = "FUNDPASS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// TOML configuration file (see `fundpass config --print-default`).
    #[arg(long, global = true, env = "FUNDPASS_CONFIG")]
    pub config: Option<PathBuf>,
    /// More log output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (member portal, app API, dev tools in dev mode).
    Serve(crate::serve::ServeArgs),
    /// Create or upgrade the database schema.
    Migrate,
    /// Import members from the fund's core system (CSV or JSON Lines).
    Import(ImportArgs),
    /// Create a handful of demo members and print how to use them.
    Demo,
    /// Look members up (personal data is shown masked).
    #[command(subcommand)]
    Member(MemberCommand),
    /// Show the newest SMS messages (their text in dev mode only).
    Outbox(crate::outbox_cmd::OutboxArgs),
    /// Inspect and rotate encryption keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage staff accounts of the console (counter, hotline, supervisor, auditor,
    /// admin). None exists after install: create the first admin here.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Register and manage business systems (clients of the internal API). None exists
    /// after install.
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Check a member's security-record download.
    #[command(subcommand)]
    Record(RecordCommand),
    /// Benefit entitlements for the yearly qualification check (待遇资格认证).
    #[command(subcommand)]
    Benefits(BenefitsCommand),
    /// Show the configuration.
    Config(ConfigArgs),
}

#[derive(Debug, Subcommand)]
pub enum BenefitsCommand {
    /// Import who is entitled to a benefit from the benefit system (CSV, header
    /// account_no,kind,start_date[,cycle_months][,deceased_on]); all or nothing.
    Import(BenefitImportArgs),
}

/// Options of `fundpass benefits import`.
#[derive(Debug, Args)]
pub struct BenefitImportArgs {
    /// The CSV file. `kind` is pension, work_injury, unemployment, survivor or
    /// disability; dates are YYYY-MM-DD; `cycle_months` (1-24) defaults to 12; a
    /// `deceased_on` date ends the benefit.
    pub file: PathBuf,
    /// No progress bar (it is also hidden when stderr is not a terminal).
    #[arg(long)]
    pub quiet: bool,
}

/// Options of `fundpass import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to import: `.csv` (header account_no,name,id_type,id_number,phone) or
    /// `.jsonl` / `.ndjson` (one object per line with the same fields).
    pub file: PathBuf,
    /// Import the valid rows even if some rows are invalid (each is still reported).
    #[arg(long)]
    pub skip_invalid: bool,
    /// File format, when the file name does not say.
    #[arg(long, value_enum)]
    pub format: Option<crate::import::Format>,
    /// Rows written per database statement.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=5000))]
    pub batch_size: u32,
    /// No progress bar (it is also hidden when stderr is not a terminal).
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Find a member by account number or document, or the members with a phone.
    Find(FindArgs),
    /// Freeze a member's account: nothing online works (logins, recoveries,
    /// payouts), every session ends, business systems are told.
    Freeze(FreezeArgs),
    /// Lift a freeze: the member is back where they stood.
    Unfreeze(FreezeArgs),
}

/// Options of `fundpass member freeze` and `unfreeze`.
#[derive(Debug, Args)]
pub struct FreezeArgs {
    /// Account number (个人账号).
    #[arg(long)]
    pub account: String,
    /// Why (kept in the audit trail, digits of long numbers masked).
    #[arg(long)]
    pub reason: String,
}

/// Options of `fundpass member find`.
#[derive(Debug, Args)]
pub struct FindArgs {
    #[command(flatten)]
    pub by: FindBy,
    /// Document type for --id-number.
    #[arg(long, default_value = "resident_id")]
    pub id_type: String,
}

/// Exactly one way to look a member up. Give "-" as the value to read it from standard
/// input, which keeps ID and phone numbers out of the shell history.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct FindBy {
    /// Account number (个人账号).
    #[arg(long)]
    pub account: Option<String>,
    /// Document number (with --id-type).
    #[arg(long)]
    pub id_number: Option<String>,
    /// Phone number on file.
    #[arg(long)]
    pub phone: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List key ids and which are active (never the keys themselves).
    List,
    /// Create a key file if none exists (development; production keys come from the
    /// environment or a key file made by the key custodian).
    Init,
    /// Add a new data key, re-encrypt every member's personal data with it in batches,
    /// then drop the old data keys.
    Rotate(RotateArgs),
    /// Add a new password pepper; hashes move to it at each member's next login.
    RotatePepper,
    /// Add a payment-receipt signing key and make it active; the old ones stay
    /// published (/internal/v1/jwks.json) so receipts they signed still verify.
    RotateSigning,
    /// Drop the receipt-signing keys other than the active one. Run it once every
    /// receipt they signed has been captured or has expired (payouts.pending_minutes
    /// plus payouts.capture_minutes after the rotation).
    RetireSigning,
}

/// Options of `fundpass keys rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// Members re-encrypted per batch.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub batch_size: u32,
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create a staff account. The initial password is read from standard input (asked
    /// twice, without echo, at a terminal), never from the command line; the second
    /// factor (TOTP) is enrolled at the first login.
    Add(StaffAddArgs),
    /// Stop an account from logging in (it is kept for the record).
    Disable(StaffUserArg),
    /// Forget an account's second factor, so that the next login enrols a new one.
    ResetMfa(StaffUserArg),
    /// List staff accounts (never passwords or secrets).
    List,
}

/// Options of `fundpass staff add`.
#[derive(Debug, Args)]
pub struct StaffAddArgs {
    /// Login name: 3-32 of a-z, 0-9, '.', '_', '-', starting with a letter.
    #[arg(long)]
    pub username: String,
    /// The staff member's name as shown in the console and audit reports.
    #[arg(long)]
    pub name: String,
    /// counter, hotline, supervisor, auditor or admin.
    #[arg(long)]
    pub role: String,
    /// The office or bank branch code.
    #[arg(long)]
    pub branch_id: String,
    /// The office or bank branch name.
    #[arg(long)]
    pub branch_name: String,
    /// The document type of the staff member's own member account (resident_id,
    /// passport, …), so the console refuses them on it. The number itself is asked
    /// after the password (at a terminal) or read from the second line of standard
    /// input, never taken from the command line.
    #[arg(long, value_name = "TYPE")]
    pub own_id_type: Option<String>,
}

/// The account a staff command acts on.
#[derive(Debug, Args)]
pub struct StaffUserArg {
    /// The staff user name.
    pub username: String,
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Register a business system with its scopes and the public key it signs its
    /// client assertions with. A webhook secret (with --webhook-url) and a client
    /// secret (with --with-secret) are printed once and never stored in clear.
    Add(ClientAddArgs),
    /// List business systems (never secrets).
    List,
    /// Stop a business system at once: its tokens are refused from the next call.
    Disable(ClientIdArg),
    /// Replace the public key a business system signs its client assertions with.
    RotateKey(ClientRotateKeyArgs),
    /// Queue again every event not yet delivered to a business system (after its
    /// receiver was down longer than the retries last), with a fresh count of tries.
    Redeliver(ClientIdArg),
}

/// Options of `fundpass clients add`.
#[derive(Debug, Args)]
pub struct ClientAddArgs {
    /// The client id: 3-64 of a-z, 0-9, '.', '_', '-' (e.g. withdrawals).
    #[arg(long, value_name = "ID")]
    pub name: String,
    /// Comma-separated: payments:authorize, holds:read, members:read,
    /// tokens:introspect.
    #[arg(long)]
    pub scopes: String,
    /// What the system is, for lists and the audit trail.
    #[arg(long)]
    pub description: Option<String>,
    /// Where signed events are posted: https://, or http:// to 127.0.0.1, localhost or
    /// [::1] for local testing.
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// The system's public key: a JWK (JSON) or a PEM "PUBLIC KEY" file, Ed25519 or
    /// P-256. Never its private key.
    #[arg(long, value_name = "FILE")]
    pub public_key: PathBuf,
    /// Also make a client secret (client_secret_basic), accepted in dev mode only.
    #[arg(long)]
    pub with_secret: bool,
}

/// The business system a command acts on.
#[derive(Debug, Args)]
pub struct ClientIdArg {
    /// The client id.
    pub id: String,
}

/// Options of `fundpass clients rotate-key`.
#[derive(Debug, Args)]
pub struct ClientRotateKeyArgs {
    /// The client id.
    pub id: String,
    /// The new public key (JWK or PEM "PUBLIC KEY", Ed25519 or P-256).
    #[arg(long, value_name = "FILE")]
    pub public_key: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain and report the first broken link, if any.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum RecordCommand {
    /// Check that a security-record download (CSV or JSON, from the member's account
    /// centre) was not edited after export: exit code 0 when intact.
    Verify(RecordVerifyArgs),
}

/// Options of `fundpass record verify`.
#[derive(Debug, Args)]
pub struct RecordVerifyArgs {
    /// The downloaded file.
    pub file: PathBuf,
    /// Check against a saved copy of the published key set
    /// (`/internal/v1/jwks.json`) instead of this installation's keyring.
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<PathBuf>,
}

/// Options of `fundpass config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print a complete configuration file with every setting at its default.
    #[arg(long)]
    pub print_default: bool,
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Config(args) = &cli.command {
        return crate::config::command(args, cli.config.as_deref(), cli.data_dir.as_deref());
    }
    let config = Config::load(cli.config.as_deref(), cli.data_dir.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => crate::serve::run(&config, &args).await,
            Command::Migrate => crate::context::migrate(&config).await,
            Command::Import(args) => crate::import::command(&config, &args).await,
            Command::Benefits(BenefitsCommand::Import(args)) => {
                crate::benefits_cmd::import(&config, &args).await
            }
            Command::Demo => crate::demo::command(&config).await,
            Command::Member(cmd) => crate::member_cmd::command(&config, &cmd).await,
            Command::Outbox(args) => crate::outbox_cmd::command(&config, &args).await,
            Command::Keys(cmd) => crate::keys::command(&config, &cmd).await,
            Command::Staff(cmd) => crate::staff_cmd::command(&config, &cmd).await,
            Command::Clients(cmd) => crate::clients_cmd::command(&config, &cmd).await,
            Command::Audit(AuditCommand::Verify) => crate::audit_cmd::verify(&config).await,
            Command::Record(RecordCommand::Verify(args)) => {
                crate::record_cmd::verify_file(&config, &args)
            }
            Command::Config(_) => Ok(ExitCode::SUCCESS),
        }
    })
}
