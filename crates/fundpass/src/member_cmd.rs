//! `fundpass member find`: operators look members up; personal data stays masked.
//! `fundpass member freeze | unfreeze`: the fund blocks or restores an account.

use std::io::BufRead as _;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use fundpass_core::audit::Outcome;
use fundpass_core::crypto::{Field, Keyring};
use fundpass_core::identity::{IdNumber, IdType, Phone};
use fundpass_core::member::{AccountNumber, MemberRecord};
use fundpass_core::ports::MemberStore;
use serde_json::json;

use fundpass_core::audit::Channel;
use fundpass_core::portal::{FreezeError, RequestContext};

use crate::cli::{FindArgs, FreezeArgs, MemberCommand};
use crate::config::Config;
use crate::context::Context;
use crate::system::today;

/// `fundpass member …`.
pub async fn command(config: &Config, cmd: &MemberCommand) -> anyhow::Result<ExitCode> {
    let args = match cmd {
        MemberCommand::Find(args) => args,
        MemberCommand::Freeze(args) => return freeze(config, args, true).await,
        MemberCommand::Unfreeze(args) => return freeze(config, args, false).await,
    };
    let ctx = Context::open(config).await?;
    let (members, how) = find(&ctx, args).await?;
    ctx.audit_operator(
        "member.lookup",
        Outcome::Success,
        json!({"by": how, "found": members.len()}),
    )
    .await?;
    if members.is_empty() {
        eprintln!("no member found");
        return Ok(ExitCode::from(1));
    }
    let mut out = String::new();
    for m in &members {
        out.push_str(&describe(&ctx.keyring, m));
    }
    #[allow(clippy::print_stdout)]
    {
        print!("{out}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Freezes or unfreezes one account through the portal's use case.
async fn freeze(config: &Config, args: &FreezeArgs, frozen: bool) -> anyhow::Result<ExitCode> {
    use std::sync::Arc;
    let ctx = Context::open(config).await?;
    let policy = config
        .portal
        .policy(config.mode == crate::config::Mode::Dev)?;
    let clock: Arc<dyn fundpass_core::ports::Clock> = Arc::new(crate::system::SystemClock);
    let portal = crate::serve::portal(
        config,
        &ctx.store,
        Arc::new(ctx.keyring.clone()),
        clock,
        policy,
    )?;
    let request = RequestContext {
        channel: Channel::Cli,
        ip: None,
        user_agent: None,
    };
    let operator = crate::system::operator_name();
    match portal
        .set_frozen(&args.account, frozen, &args.reason, &operator, &request)
        .await
    {
        Ok(member) => {
            eprintln!(
                "account {} is now {} (business systems are told)",
                member.account_no.as_str(),
                member.status.code()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(FreezeError::Store(e)) => Err(e.into()),
        Err(refused) => {
            let code = match refused {
                FreezeError::UnknownMember => "unknown_member",
                FreezeError::AlreadyFrozen => "already_frozen",
                FreezeError::NotFrozen => "not_frozen",
                FreezeError::BadReason => "bad_reason",
                FreezeError::Conflict => "conflict",
                FreezeError::Store(_) => "store",
            };
            let action = if frozen {
                "member.freeze"
            } else {
                "member.unfreeze"
            };
            ctx.audit_operator(action, Outcome::Denied, json!({ "reason": code }))
                .await?;
            eprintln!("refused: {refused}");
            Ok(ExitCode::from(1))
        }
    }
}

async fn find(ctx: &Context, args: &FindArgs) -> anyhow::Result<(Vec<MemberRecord>, &'static str)> {
    if let Some(account) = &args.by.account {
        let account = AccountNumber::parse(&value(account)?)?;
        return Ok((
            ctx.store
                .member_by_account(&account)
                .await?
                .into_iter()
                .collect(),
            "account_no",
        ));
    }
    if let Some(raw) = &args.by.id_number {
        let Some(id_type) = IdType::from_code(&args.id_type) else {
            bail!("unknown document type {:?}", args.id_type);
        };
        let id = IdNumber::parse(id_type, &value(raw)?, today(&ctx.clock))?;
        let index = ctx.keyring.blind_index(Field::IdNumber, id.normalised());
        return Ok((
            ctx.store
                .member_by_id_number(id_type, &index)
                .await?
                .into_iter()
                .collect(),
            "id_number",
        ));
    }
    if let Some(raw) = &args.by.phone {
        let phone = Phone::parse(&value(raw)?)?;
        let index = ctx.keyring.blind_index(Field::Phone, phone.normalised());
        return Ok((ctx.store.members_by_phone(&index).await?, "phone"));
    }
    bail!("give --account, --id-number or --phone")
}

/// The argument, or a line from standard input when it is "-".
fn value(arg: &str) -> anyhow::Result<String> {
    if arg != "-" {
        return Ok(arg.to_owned());
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read standard input")?;
    Ok(line.trim().to_owned())
}

fn describe(keyring: &Keyring, m: &MemberRecord) -> String {
    let id = keyring
        .open(Field::IdNumber, &m.id_number)
        .map(|n| fundpass_core::identity::mask_id_number(&n))
        .unwrap_or_else(|e| format!("(unreadable: {e})"));
    let phone = keyring
        .open(Field::Phone, &m.phone)
        .ok()
        .and_then(|p| Phone::parse(&p).ok())
        .map(|p| p.masked())
        .unwrap_or_else(|| "(unreadable)".into());
    format!(
        "account_no: {}\nname:       {}\ndocument:   {} {}\nphone:      {}\nstatus:     {}\nlogin password set: {}  transaction password set: {}\n\n",
        m.account_no,
        m.name,
        m.id_type.code(),
        id,
        phone,
        m.status.code(),
        m.login_hash.is_some(),
        m.transaction_hash.is_some(),
    )
}
