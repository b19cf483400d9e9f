//! `fundpass staff add|disable|reset-mfa|list`: the administrator's staff accounts.
//! Every run, refused ones included, leaves an operator audit event; no password or
//! second-factor secret is ever printed, logged or taken from the command line.

use std::io::{BufRead, IsTerminal as _};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use fundpass_core::audit::Outcome;
use fundpass_core::credentials::{HashParams, PasswordHasher};
use fundpass_core::crypto::Field;
use fundpass_core::identity::{IdNumber, IdType};
use fundpass_core::ports::{Clock, StaffStore, StoreError};
use fundpass_core::staff::{
    Branch, NewStaff, StaffPasswordPolicy, StaffRecord, StaffRole, StaffStatus, TotpSecret,
    Username,
};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;

use crate::cli::{StaffAddArgs, StaffCommand};
use crate::config::Config;
use crate::context::{Context, Refusal, with_reason};
use crate::system::today;

/// `fundpass staff …`.
pub async fn command(config: &Config, cmd: &StaffCommand) -> anyhow::Result<ExitCode> {
    let ctx = Context::open(config).await?;
    match cmd {
        StaffCommand::Add(args) => add(config, &ctx, args).await,
        StaffCommand::Disable(user) => disable(&ctx, &user.username).await,
        StaffCommand::ResetMfa(user) => reset_mfa(&ctx, &user.username).await,
        StaffCommand::List => list(config, &ctx).await,
    }
}

async fn add(config: &Config, ctx: &Context, args: &StaffAddArgs) -> anyhow::Result<ExitCode> {
    let details = json!({
        "username": args.username.trim(),
        "role": args.role,
        "branch_id": args.branch_id.trim(),
    });
    let new = match checked_new_staff(config, ctx, args) {
        Ok(new) => new,
        Err(refusal) => {
            let mut details = details;
            details["reason"] = json!(refusal.code);
            ctx.audit_operator("staff.add", Outcome::Denied, details)
                .await?;
            bail!("{}", refusal.message);
        }
    };
    match ctx.store.insert_staff(&new).await {
        Ok(created) => {
            ctx.audit_operator("staff.add", Outcome::Success, details)
                .await?;
            eprintln!(
                "created staff account {} ({}, {} at {} {}); the second factor (TOTP) is \
                 enrolled at the first login",
                created.username,
                created.role,
                created.display_name,
                created.branch.id,
                created.branch.name
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(StoreError::Duplicate(_)) => {
            let mut details = details;
            details["reason"] = json!("duplicate_username");
            ctx.audit_operator("staff.add", Outcome::Denied, details)
                .await?;
            bail!("a staff account named {} already exists", new.username)
        }
        Err(err) => Err(err).context("cannot create the staff account"),
    }
}

/// Checks every argument and the password, and hashes it.
fn checked_new_staff(
    config: &Config,
    ctx: &Context,
    args: &StaffAddArgs,
) -> Result<NewStaff, Refusal> {
    let username =
        Username::parse(&args.username).map_err(|e| Refusal::new("bad_username", e.to_string()))?;
    let Some(role) = StaffRole::from_code(args.role.trim()) else {
        return Err(Refusal::new(
            "unknown_role",
            format!(
                "unknown role {:?}: choose counter, hotline, supervisor, auditor or admin",
                args.role
            ),
        ));
    };
    let text = |value: &str, what: &str| {
        let value = value.trim();
        if value.is_empty() || value.chars().count() > 100 || value.chars().any(char::is_control) {
            Err(Refusal::new(
                "bad_text",
                format!("the {what} must be 1 to 100 printable characters"),
            ))
        } else {
            Ok(value.to_owned())
        }
    };
    let display_name = text(&args.name, "name")?;
    let branch = Branch {
        id: text(&args.branch_id, "branch id")?,
        name: text(&args.branch_name, "branch name")?,
    };
    let own_type = match args.own_id_type.as_deref().map(str::trim) {
        None => None,
        Some(code) => Some(IdType::from_code(code).ok_or_else(|| {
            Refusal::new(
                "unknown_id_type",
                format!("unknown document type {code:?}: choose resident_id, hk_macau_permit, taiwan_permit, hmt_residence_permit, foreign_permanent_residence or passport"),
            )
        })?),
    };
    let (password, own_number) =
        read_secrets(own_type.is_some()).map_err(|e| Refusal::new("no_password", e))?;
    let violations =
        staff_password_policy(config).check(password.expose_secret(), username.as_str());
    if !violations.is_empty() {
        let reasons: Vec<String> = violations.iter().map(ToString::to_string).collect();
        return Err(Refusal::new(
            "weak_password",
            format!("the password is refused: {}", reasons.join("; ")),
        ));
    }
    let params = HashParams {
        m_kib: config.argon2.m_kib,
        t: config.argon2.t,
        p: config.argon2.p,
    };
    let hash = PasswordHasher::new(params)
        .and_then(|h| h.hash(&ctx.keyring, password.expose_secret(), &ctx.rng))
        .map_err(|e| Refusal::new("hash_failed", format!("cannot hash the password: {e}")))?;
    let member_index = match (own_type, own_number) {
        (Some(id_type), Some(number)) => {
            let id = IdNumber::parse(id_type, number.expose_secret(), today(&ctx.clock)).map_err(
                |e| Refusal::new("bad_own_id_number", format!("the own document number: {e}")),
            )?;
            Some(ctx.keyring.blind_index(Field::IdNumber, id.normalised()))
        }
        _ => None,
    };
    Ok(NewStaff {
        username,
        display_name,
        role,
        branch,
        password_hash: hash,
        member_index,
        created_at: ctx.clock.now(),
    })
}

/// The initial password and, when `own_document`, the staff member's own document
/// number: asked without echo at a terminal (the password twice), otherwise the first
/// and second lines of standard input (for scripts:
/// `printf '%s\n%s\n' "$PW" "$ID" | fundpass staff add …`).
fn read_secrets(own_document: bool) -> Result<(SecretString, Option<SecretString>), String> {
    if std::io::stdin().is_terminal() {
        let first = SecretString::from(
            rpassword::prompt_password("Initial password: ").map_err(|e| e.to_string())?,
        );
        let second = SecretString::from(
            rpassword::prompt_password("Repeat the password: ").map_err(|e| e.to_string())?,
        );
        if first.expose_secret() != second.expose_secret() {
            return Err("the two passwords differ".into());
        }
        let own = if own_document {
            Some(SecretString::from(
                rpassword::prompt_password("Own document number: ").map_err(|e| e.to_string())?,
            ))
        } else {
            None
        };
        return Ok((first, own));
    }
    let mut lines = std::io::stdin().lock();
    let password = read_line(&mut lines, "password")?;
    let own = if own_document {
        Some(read_line(&mut lines, "own document number")?)
    } else {
        None
    };
    Ok((password, own))
}

/// One non-empty line of standard input, without its line end.
fn read_line(input: &mut impl BufRead, what: &str) -> Result<SecretString, String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the {what} from standard input: {e}"))?;
    let line = SecretString::from(line);
    let value = line.expose_secret().trim_end_matches(['\r', '\n']);
    if value.is_empty() {
        return Err(format!("no {what} on standard input"));
    }
    Ok(SecretString::from(value.to_owned()))
}

async fn disable(ctx: &Context, raw: &str) -> anyhow::Result<ExitCode> {
    change(ctx, raw, "staff.disable", |staff, now| {
        if staff.status == StaffStatus::Disabled {
            return false;
        }
        staff.disable(now);
        true
    })
    .await?;
    eprintln!(
        "staff account {} is disabled",
        raw.trim().to_ascii_lowercase()
    );
    Ok(ExitCode::SUCCESS)
}

async fn reset_mfa(ctx: &Context, raw: &str) -> anyhow::Result<ExitCode> {
    change(ctx, raw, "staff.reset_mfa", |staff, now| {
        if staff.needs_mfa_enrolment() {
            return false;
        }
        staff.reset_mfa(now);
        true
    })
    .await?;
    eprintln!(
        "the second factor of {} is cleared; it is enrolled again at the next login",
        raw.trim().to_ascii_lowercase()
    );
    Ok(ExitCode::SUCCESS)
}

/// Loads an account, applies `apply` (false: nothing to change) and stores it with an
/// optimistic update, retrying when another writer got in between; audits the result.
async fn change(
    ctx: &Context,
    raw: &str,
    action: &str,
    apply: impl Fn(&mut StaffRecord, time::OffsetDateTime) -> bool,
) -> anyhow::Result<()> {
    let details = json!({ "username": raw.trim() });
    let found = match Username::parse(raw) {
        Ok(name) => ctx.store.staff_by_username(&name).await?,
        Err(_) => None,
    };
    let Some(mut staff) = found else {
        ctx.audit_operator(
            action,
            Outcome::Failure,
            with_reason(&details, "unknown_staff"),
        )
        .await?;
        bail!("no staff account named {:?}", raw.trim());
    };
    for _ in 0..3 {
        let read_version = staff.version;
        let changed = apply(&mut staff, ctx.clock.now());
        if !changed {
            ctx.audit_operator(action, Outcome::Success, with_reason(&details, "unchanged"))
                .await?;
            return Ok(());
        }
        match ctx.store.update_staff(read_version, &staff).await {
            Ok(()) => {
                ctx.audit_operator(action, Outcome::Success, details)
                    .await?;
                return Ok(());
            }
            Err(StoreError::Conflict) => {
                staff = ctx
                    .store
                    .staff_by_id(staff.id)
                    .await?
                    .context("the staff account disappeared")?;
            }
            Err(err) => return Err(err).context("cannot update the staff account"),
        }
    }
    ctx.audit_operator(action, Outcome::Failure, with_reason(&details, "conflict"))
        .await?;
    bail!("the staff account kept changing; run the command again")
}

/// Re-seals every staff TOTP secret not sealed with the active data key, so a data-key
/// rotation can retire the old keys without locking staff out. Returns how many.
pub async fn reseal_totp_secrets(ctx: &Context) -> anyhow::Result<u64> {
    let active = ctx.keyring.active_data_key();
    let mut resealed = 0;
    for mut staff in ctx.store.list_staff().await? {
        let Some(sealed) = &staff.totp_secret else {
            continue;
        };
        if &sealed.key_id()? == active {
            continue;
        }
        let secret = TotpSecret::open(&ctx.keyring, sealed)
            .with_context(|| format!("cannot open the TOTP secret of {}", staff.username))?;
        let read_version = staff.version;
        staff.totp_secret = Some(secret.seal(&ctx.keyring, &ctx.rng));
        staff.updated_at = ctx.clock.now();
        ctx.store
            .update_staff(read_version, &staff)
            .await
            .with_context(|| {
                format!(
                    "cannot re-seal {}'s TOTP secret; run the rotation again",
                    staff.username
                )
            })?;
        resealed += 1;
    }
    Ok(resealed)
}

/// The staff password rules with the configured maximum age.
fn staff_password_policy(config: &Config) -> StaffPasswordPolicy {
    StaffPasswordPolicy {
        max_age_days: config.staff.password_max_age_days.max(1),
        ..StaffPasswordPolicy::default()
    }
}

async fn list(config: &Config, ctx: &Context) -> anyhow::Result<ExitCode> {
    let staff = ctx.store.list_staff().await?;
    ctx.audit_operator(
        "staff.list",
        Outcome::Success,
        json!({"count": staff.len()}),
    )
    .await?;
    if staff.is_empty() {
        eprintln!(
            "no staff accounts: create the first admin with `fundpass staff add --role admin …`"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let now = ctx.clock.now();
    let policy = staff_password_policy(config);
    let mut out = format!(
        "{:<20} {:<16} {:<10} {:<28} {:<8} {:<4} {}\n",
        "username", "name", "role", "branch", "status", "mfa", "password age"
    );
    for s in &staff {
        let age = (now - s.password_changed_at).whole_days().max(0);
        let expired = if s.must_change_password(&policy, now) {
            " (expired)"
        } else {
            ""
        };
        out.push_str(&format!(
            "{:<20} {:<16} {:<10} {:<28} {:<8} {:<4} {age} days{expired}\n",
            s.username.as_str(),
            s.display_name,
            s.role.code(),
            format!("{} {}", s.branch.id, s.branch.name),
            s.status.code(),
            if s.needs_mfa_enrolment() { "no" } else { "yes" },
        ));
    }
    #[allow(clippy::print_stdout)]
    {
        print!("{out}");
    }
    Ok(ExitCode::SUCCESS)
}
