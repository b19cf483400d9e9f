//! `pay`: the worked example, step by step, as a withdrawals system runs it before it
//! pays a member: token → the member's standing and holds → an authorisation the
//! member confirms in fundpass → its outcome → the receipt checked offline against
//! this payment → capture (exactly once) → pay.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use crate::api::{Credentials, Fundpass, refusal_code};
use crate::assertion::ClientKey;
use crate::receipt::{self, ExpectedPayment};
use crate::{keygen, out};

/// How often the authorisation is read while the member decides. (The webhook
/// `authorization.confirmed` says it sooner; reading stays the fallback.)
const POLL_EVERY: Duration = Duration::from_secs(2);

/// Options of `pay`.
#[derive(Debug, clap::Args)]
pub struct PayArgs {
    /// fundpass's address, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub server: String,
    /// The client id the administrator registered.
    #[arg(long, default_value = "withdrawals")]
    pub client_id: String,
    /// The client's private key (PKCS#8 PEM, from `keygen`).
    #[arg(long)]
    pub key: PathBuf,
    /// The token endpoint, also the assertion's `aud`. Default: <server>/internal/oauth/token.
    #[arg(long)]
    pub token_endpoint: Option<String>,
    /// The member's account number.
    #[arg(long)]
    pub account: String,
    /// The amount in fen (1 yuan = 100 fen).
    #[arg(long)]
    pub amount_fen: i64,
    /// The payee's name, as it will be paid.
    #[arg(long)]
    pub payee_name: String,
    /// The payee's account, masked (at most 8 digits shown), e.g. 6222********1234.
    #[arg(long)]
    pub payee_account: String,
    /// The purpose code, e.g. withdrawal.retirement.
    #[arg(long, default_value = "withdrawal.retirement")]
    pub purpose: String,
    /// This system's own reference for the payment; also the Idempotency-Key, so a
    /// rerun with the same reference finds the same authorisation.
    #[arg(long)]
    pub reference: String,
}

/// An authorisation as fundpass shows it to its business system.
#[derive(Debug, Deserialize)]
struct Authorization {
    id: String,
    state: String,
    mode: String,
    expires_at: String,
    #[serde(default)]
    risk_flags: Vec<String>,
    #[serde(default)]
    confirm_url: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    receipt: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Member {
    status: String,
    transaction_password_locked: bool,
    #[serde(default)]
    transaction_password_locked_until: Option<String>,
    transaction_password_disabled: bool,
}

#[derive(Debug, Deserialize)]
struct Holds {
    holds: Vec<Hold>,
    blocks_payouts: bool,
}

#[derive(Debug, Deserialize)]
struct Hold {
    kind: String,
    channel: String,
    until: String,
    blocks_payouts: bool,
}

/// Runs the example; the exit status is success only when it is time to pay.
pub async fn command(args: &PayArgs) -> anyhow::Result<ExitCode> {
    let server = args.server.trim_end_matches('/');
    let token_endpoint = args
        .token_endpoint
        .clone()
        .unwrap_or_else(|| format!("{server}/internal/oauth/token"));
    let key = keygen::read_private_key(&args.key)?;
    let credentials = Credentials {
        client_id: args.client_id.clone(),
        token_endpoint,
        key: ClientKey::ed25519(&key)?,
    };
    let mut api = Fundpass::new(server, credentials)?;
    let expected = ExpectedPayment {
        authorization_id: String::new(), // known once created
        account_no: args.account.trim().to_owned(),
        amount_fen: args.amount_fen,
        currency: "CNY".to_owned(),
        payee_name: args.payee_name.trim().to_owned(),
        payee_account: args.payee_account.trim().to_owned(),
        purpose: args.purpose.clone(),
        business_ref: args.reference.clone(),
    };

    authenticate(&mut api).await?;
    if !member_may_be_paid(&mut api, &expected.account_no).await? {
        return Ok(ExitCode::FAILURE);
    }
    let created = create(&mut api, &expected).await?;
    let expected = ExpectedPayment {
        authorization_id: created.id.clone(),
        ..expected
    };
    let decided = wait_for_member(&mut api, created).await?;
    let Some(token) = decided
        .receipt
        .as_deref()
        .filter(|_| decided.state == "confirmed")
    else {
        out::line(&match decided.state.as_str() {
            "captured" => "\nThis authorisation was captured before: it is paid (or being paid) \
                           once already; do not pay again."
                .to_owned(),
            state => format!("\nThe authorisation is {state}: do not pay."),
        });
        return Ok(ExitCode::FAILURE);
    };
    check_receipt(&api, token, &expected).await?;
    capture(&mut api, &expected).await
}

async fn authenticate(api: &mut Fundpass) -> anyhow::Result<()> {
    let claims = api.new_assertion()?;
    out::step(
        1,
        "Sign a client assertion (RFC 7523, EdDSA) with our private key",
    );
    out::detail(&format!("iss = sub = {}", claims.iss));
    out::detail(&format!("aud = {}", claims.aud));
    out::detail(&format!(
        "iat = {}, exp = {} ({} s), jti = {}",
        claims.iat,
        claims.exp,
        claims.exp - claims.iat,
        claims.jti
    ));
    out::step(2, "Trade it for an access token at the token endpoint");
    let token = api.fetch_token(&claims).await?;
    out::detail(&format!(
        "{} token for {} s, scope: {}",
        token.token_type, token.expires_in, token.scope
    ));
    Ok(())
}

/// Reads the member's standing and holds; false when fundpass would refuse anyway.
async fn member_may_be_paid(api: &mut Fundpass, account_no: &str) -> anyhow::Result<bool> {
    out::step(3, &format!("Read member {account_no}'s standing and holds"));
    let member: Member = api
        .get(&format!("/internal/v1/members/{account_no}"))
        .await?;
    out::detail(&format!("status: {}", member.status));
    if member.transaction_password_disabled {
        out::detail("the transaction password is disabled until the member recovers it: stop");
        return Ok(false);
    }
    if member.transaction_password_locked {
        out::detail(&format!(
            "the transaction password is locked until {}: stop",
            member
                .transaction_password_locked_until
                .as_deref()
                .unwrap_or("?")
        ));
        return Ok(false);
    }
    let found: Holds = api
        .get(&format!("/internal/v1/members/{account_no}/holds"))
        .await?;
    if found.holds.is_empty() {
        out::detail("no holds in force");
    }
    for hold in &found.holds {
        out::detail(&format!(
            "hold {} (from the {} channel) until {}: {}",
            hold.kind,
            hold.channel,
            hold.until,
            if hold.blocks_payouts {
                "refuses payouts"
            } else {
                "flags payouts as risky"
            }
        ));
    }
    if found.blocks_payouts {
        out::detail("a hold refuses payouts now: tell the member when to come back, and stop");
        return Ok(false);
    }
    Ok(true)
}

async fn create(api: &mut Fundpass, p: &ExpectedPayment) -> anyhow::Result<Authorization> {
    out::step(
        4,
        "Ask fundpass for an authorisation the member confirms (Idempotency-Key = our reference)",
    );
    let body = json!({
        "account_no": p.account_no,
        "amount_fen": p.amount_fen,
        "currency": p.currency,
        "payee": {"name": p.payee_name, "account": p.payee_account},
        "purpose": p.purpose,
        "business_ref": p.business_ref,
    });
    let created: Authorization = api
        .post(
            "/internal/v1/authorizations",
            Some(&body),
            Some(&p.business_ref),
        )
        .await?;
    out::detail(&format!(
        "{} ({} mode): {} yuan to {} ({}), state {}, until {}",
        created.id,
        created.mode,
        out::yuan(p.amount_fen),
        p.payee_name,
        p.payee_account,
        created.state,
        created.expires_at
    ));
    if !created.risk_flags.is_empty() {
        out::detail(&format!("risk flags: {}", created.risk_flags.join(", ")));
    }
    Ok(created)
}

/// Reads the authorisation until the member has decided or it has expired.
async fn wait_for_member(
    api: &mut Fundpass,
    created: Authorization,
) -> anyhow::Result<Authorization> {
    out::step(5, "The member confirms with the transaction password");
    match &created.confirm_url {
        Some(url) => out::detail(&format!(
            "send the member to {url} (logged in), or to the app"
        )),
        None => out::detail(&format!(
            "nothing to confirm: the authorisation is {}",
            created.state
        )),
    }
    let path = format!("/internal/v1/authorizations/{}", created.id);
    let mut current = created;
    if current.state == "pending" {
        out::detail("waiting for the member (Ctrl-C to stop) …");
    }
    while current.state == "pending" {
        tokio::time::sleep(POLL_EVERY).await;
        current = match api.get(&path).await {
            Ok(a) => a,
            Err(e) if refusal_code(&e) == Some("rate_limited") => {
                tokio::time::sleep(POLL_EVERY * 5).await;
                continue;
            }
            Err(e) => return Err(e),
        };
    }
    out::detail(&format!(
        "state {}{}",
        current.state,
        current
            .channel
            .as_deref()
            .map(|c| format!(" (through the {c} channel)"))
            .unwrap_or_default()
    ));
    Ok(current)
}

async fn check_receipt(
    api: &Fundpass,
    token: &str,
    expected: &ExpectedPayment,
) -> anyhow::Result<()> {
    out::step(
        6,
        "Check the signed receipt offline: signature, audience, expiry, then every fact",
    );
    let keys = api.jwks().await?;
    out::detail(&format!(
        "{} key(s) at /internal/v1/jwks.json",
        keys.keys.len()
    ));
    let claims = receipt::verify(token, &keys, api.client_id())?;
    out::detail(&format!(
        "signature valid; iss {}, aud {}, confirmed at {} through {}, good until {}",
        claims.iss, claims.aud, claims.confirmed_at, claims.channel, claims.exp
    ));
    let wrong = receipt::mismatches(&claims, expected);
    for (field, got, asked) in &wrong {
        out::detail(&format!(
            "MISMATCH {field}: receipt says {got}, we asked {asked}"
        ));
    }
    if !wrong.is_empty() {
        anyhow::bail!("the receipt is not for the payment we asked for: not capturing, not paying");
    }
    out::detail(
        "authorization_id, account_no, amount_fen, currency, payee_hash, purpose, business_ref: all match",
    );
    if !claims.risk_flags.is_empty() {
        out::detail(&format!(
            "risk flags: {} (a hold that only marks payouts; our own rules decide)",
            claims.risk_flags.join(", ")
        ));
    }
    Ok(())
}

async fn capture(api: &mut Fundpass, expected: &ExpectedPayment) -> anyhow::Result<ExitCode> {
    out::step(
        7,
        "Capture the authorisation: fundpass marks it used, exactly once",
    );
    let path = format!(
        "/internal/v1/authorizations/{}/capture",
        expected.authorization_id
    );
    match api.post::<Authorization>(&path, None, None).await {
        Ok(captured) => {
            out::detail(&format!("state {}", captured.state));
            out::line(&format!(
                "\npay now: {} yuan to {} ({}), reference {}",
                out::yuan(expected.amount_fen),
                expected.payee_name,
                expected.payee_account,
                expected.business_ref
            ));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if refusal_code(&e) == Some("already_captured") => {
            out::detail(&format!("{e}"));
            out::line("\nAlready captured: it was paid (or is being paid) once; do not pay again.");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.context("capture failed: do not pay")),
    }
}
