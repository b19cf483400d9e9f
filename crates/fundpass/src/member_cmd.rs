//! `fundpass member find`: operators look members up; personal data stays masked.

use std::io::BufRead as _;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use fundpass_core::audit::Outcome;
use fundpass_core::crypto::{Field, Keyring};
use fundpass_core::identity::{IdNumber, IdType, Phone};
use fundpass_core::member::{AccountNumber, MemberRecord};
use fundpass_core::ports::MemberStore;
use serde_json::json;

use crate::cli::{FindArgs, MemberCommand};
use crate::config::Config;
use crate::context::Context;
use crate::system::today;

/// `fundpass member …`.
pub async fn command(config: &Config, cmd: &MemberCommand) -> anyhow::Result<ExitCode> {
    let MemberCommand::Find(args) = cmd;
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
