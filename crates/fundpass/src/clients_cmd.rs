//! `fundpass clients add|list|disable|rotate-key`: the business systems that call the
//! internal API. Every run, refused ones included, leaves an operator audit event. A
//! webhook secret or client secret is printed once, when it is made; the database holds
//! the first sealed and only the digest of the second, and neither reaches the audit
//! trail or the logs.

mod checks;

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use fundpass_core::audit::Outcome;
use fundpass_core::clients::{ClientWrite, Scope, ServiceClient, parse_client_id};
use fundpass_core::crypto::{Field, OpaqueToken};
use fundpass_core::ports::{ChangeSet, ClientStore, Clock, StoreError, UnitOfWork};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;
use time::OffsetDateTime;

use self::checks::{
    WEBHOOK_SECRET_BYTES, check_webhook_url, origin, parse_description, parse_scopes,
    read_public_key, webhook_secret,
};
use crate::cli::{ClientAddArgs, ClientRotateKeyArgs, ClientsCommand};
use crate::config::{Config, Mode};
use crate::context::{Context, Refusal, with_reason};
use crate::system::china_time;

/// `fundpass clients …`.
pub async fn command(config: &Config, cmd: &ClientsCommand) -> anyhow::Result<ExitCode> {
    let ctx = Context::open(config).await?;
    match cmd {
        ClientsCommand::Add(args) => add(config, &ctx, args).await,
        ClientsCommand::List => list(&ctx).await,
        ClientsCommand::Disable(client) => disable(&ctx, &client.id).await,
        ClientsCommand::RotateKey(args) => rotate_key(&ctx, args).await,
        ClientsCommand::Redeliver(client) => redeliver(&ctx, &client.id).await,
    }
}

/// Queues a client's undelivered events again.
async fn redeliver(ctx: &Context, raw: &str) -> anyhow::Result<ExitCode> {
    use fundpass_core::ports::{ClientStore as _, Clock as _};
    let id = raw.trim();
    let details = json!({ "client_id": id });
    if ctx.store.client(id).await?.is_none() {
        ctx.audit_operator(
            "client.redeliver",
            Outcome::Denied,
            with_reason(&details, "unknown_client"),
        )
        .await?;
        bail!("no business system is registered as {id:?}");
    }
    let queued = ctx.store.requeue_webhooks(id, ctx.clock.now()).await?;
    let mut done = details.clone();
    done["queued"] = json!(queued);
    ctx.audit_operator("client.redeliver", Outcome::Success, done)
        .await?;
    eprintln!("{queued} undelivered event(s) of {id} queued again");
    Ok(ExitCode::SUCCESS)
}

/// Secrets made for a new client, shown once and then forgotten.
struct NewSecrets {
    webhook: Option<SecretString>,
    client: Option<OpaqueToken>,
}

async fn add(config: &Config, ctx: &Context, args: &ClientAddArgs) -> anyhow::Result<ExitCode> {
    let mut details = json!({
        "client_id": args.name.trim(),
        "scopes": args.scopes.trim(),
        "webhook": args.webhook_url.is_some(),
        "client_secret": args.with_secret,
    });
    let (client, secrets) = match new_client(ctx, args) {
        Ok(made) => made,
        Err(refusal) => {
            ctx.audit_operator(
                "client.add",
                Outcome::Denied,
                with_reason(&details, refusal.code),
            )
            .await?;
            bail!("{}", refusal.message);
        }
    };
    details["key_algorithm"] = json!(client.public_key.algorithm().code());
    details["key_thumbprint"] = json!(client.public_key.thumbprint());
    details["webhook_origin"] = json!(client.webhook_url.as_deref().map(origin));
    let change = ChangeSet {
        clients: vec![ClientWrite::Insert(client.clone())],
        audit: vec![ctx.operator_event("client.add", Outcome::Success, details.clone())],
        ..ChangeSet::default()
    };
    match ctx.store.apply(change).await {
        Ok(()) => {}
        Err(StoreError::Duplicate(_)) => {
            let refused = with_reason(&details, "duplicate_client_id");
            ctx.audit_operator("client.add", Outcome::Denied, refused)
                .await?;
            bail!("a client named {} already exists", client.id);
        }
        Err(err) => return Err(err).context("cannot register the client"),
    }
    report_added(config, &client, &secrets);
    Ok(ExitCode::SUCCESS)
}

/// Checks every argument, reads the key file and makes the secrets asked for.
fn new_client(ctx: &Context, args: &ClientAddArgs) -> Result<(ServiceClient, NewSecrets), Refusal> {
    let id = parse_client_id(args.name.trim()).map_err(|e| {
        Refusal::new(
            "bad_client_id",
            format!("client id {:?} is refused: {e}", args.name.trim()),
        )
    })?;
    let scopes = parse_scopes(&args.scopes)?;
    let description = parse_description(args.description.as_deref())?;
    let public_key = read_public_key(&args.public_key)?;
    let webhook_url = args
        .webhook_url
        .as_deref()
        .map(check_webhook_url)
        .transpose()?;
    let webhook = webhook_url.is_some().then(|| webhook_secret(&ctx.rng));
    let sealed = webhook.as_ref().map(|s| {
        ctx.keyring
            .seal(Field::WebhookSecret, s.expose_secret(), &ctx.rng)
    });
    let client_secret = args.with_secret.then(|| OpaqueToken::generate(&ctx.rng));
    let client = ServiceClient {
        id,
        description,
        scopes,
        public_key,
        secret_digest: client_secret.as_ref().map(OpaqueToken::digest),
        webhook_url,
        webhook_secret: sealed,
        created_at: ctx.clock.now(),
        disabled_at: None,
        version: 1,
    };
    let secrets = NewSecrets {
        webhook,
        client: client_secret,
    };
    Ok((client, secrets))
}

/// Tells the operator what was registered and shows each new secret, once.
#[allow(clippy::print_stdout)]
fn report_added(config: &Config, client: &ServiceClient, secrets: &NewSecrets) {
    eprintln!(
        "registered client {} (scopes {}; {} key {})",
        client.id,
        Scope::join(&client.scopes),
        client.public_key.algorithm().code(),
        client.public_key.thumbprint()
    );
    if let (Some(secret), Some(url)) = (&secrets.webhook, &client.webhook_url) {
        eprintln!(
            "webhook secret for {url}: the receiver checks the Fundpass-Signature header with \
             these {} characters as its HMAC-SHA256 key. Hand it to the business system now: \
             it will not be shown again.",
            WEBHOOK_SECRET_BYTES * 2
        );
        println!("webhook_secret: {}", secret.expose_secret());
    }
    if let Some(token) = &secrets.client {
        eprintln!(
            "client secret (client_secret_basic): accepted in dev mode only; production \
             clients sign a client assertion with their key. It will not be shown again."
        );
        println!("client_secret: {}", token.expose());
        if config.mode == Mode::Production {
            eprintln!("note: this installation runs in production mode, which refuses it");
        }
    }
}

async fn list(ctx: &Context) -> anyhow::Result<ExitCode> {
    let clients = ctx.store.clients().await?;
    ctx.audit_operator(
        "client.list",
        Outcome::Success,
        json!({"count": clients.len()}),
    )
    .await?;
    if clients.is_empty() {
        eprintln!(
            "no business systems: register one with `fundpass clients add …` (see `fundpass \
             clients add --help`)"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::new();
    for c in &clients {
        let status = match c.disabled_at {
            None => "enabled".to_owned(),
            Some(at) => format!("disabled since {} (China time)", china_time(at)),
        };
        let description = if c.description.is_empty() {
            "-"
        } else {
            &c.description
        };
        out.push_str(&format!(
            "{}  {status}\n  description:   {description}\n  scopes:        {}\n  \
             key:           {} {}\n  webhook:       {}\n  client secret: {}\n  \
             created:       {} (China time)\n",
            c.id,
            Scope::join(&c.scopes),
            c.public_key.algorithm().code(),
            c.public_key.thumbprint(),
            c.webhook_url.as_deref().unwrap_or("none"),
            if c.secret_digest.is_some() {
                "yes (dev mode only)"
            } else {
                "no"
            },
            china_time(c.created_at),
        ));
    }
    #[allow(clippy::print_stdout)]
    {
        print!("{out}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn disable(ctx: &Context, raw: &str) -> anyhow::Result<ExitCode> {
    let client = change(ctx, raw, "client.disable", json!({}), |client, now| {
        if client.disabled_at.is_some() {
            return None;
        }
        client.disabled_at = Some(now);
        Some(json!({}))
    })
    .await?;
    eprintln!(
        "client {} is disabled: its access tokens are refused from its next call, and no \
         more events are sent to it",
        client.id
    );
    Ok(ExitCode::SUCCESS)
}

async fn rotate_key(ctx: &Context, args: &ClientRotateKeyArgs) -> anyhow::Result<ExitCode> {
    let details = json!({ "client_id": args.id.trim() });
    let key = match read_public_key(&args.public_key) {
        Ok(key) => key,
        Err(refusal) => {
            ctx.audit_operator(
                "client.rotate_key",
                Outcome::Denied,
                with_reason(&details, refusal.code),
            )
            .await?;
            bail!("{}", refusal.message);
        }
    };
    let new = json!({
        "key_algorithm": key.algorithm().code(),
        "key_thumbprint": key.thumbprint(),
    });
    let client = change(ctx, &args.id, "client.rotate_key", new, |client, _| {
        if client.public_key == key {
            return None;
        }
        let old = client.public_key.thumbprint();
        client.public_key = key.clone();
        Some(json!({ "old_key_thumbprint": old }))
    })
    .await?;
    eprintln!(
        "client {} now signs with the {} key {}; assertions signed with the old key are refused",
        client.id,
        key.algorithm().code(),
        key.thumbprint()
    );
    Ok(ExitCode::SUCCESS)
}

/// Loads a client, lets `apply` change it (`None`: nothing to change; `Some`: audit
/// details to add to `details`), and stores it with an optimistic update together
/// with its audit event, retrying when another writer got in between.
async fn change(
    ctx: &Context,
    raw: &str,
    action: &str,
    details: serde_json::Value,
    apply: impl Fn(&mut ServiceClient, OffsetDateTime) -> Option<serde_json::Value>,
) -> anyhow::Result<ServiceClient> {
    let mut details = details;
    details["client_id"] = json!(raw.trim());
    let found = match parse_client_id(raw.trim()) {
        Ok(id) => ctx.store.client(&id).await?,
        Err(_) => None,
    };
    let Some(mut client) = found else {
        let refused = with_reason(&details, "unknown_client");
        ctx.audit_operator(action, Outcome::Failure, refused)
            .await?;
        bail!("no client named {:?}", raw.trim());
    };
    for _ in 0..3 {
        let expected_version = client.version;
        let Some(extra) = apply(&mut client, ctx.clock.now()) else {
            let unchanged = with_reason(&details, "unchanged");
            ctx.audit_operator(action, Outcome::Success, unchanged)
                .await?;
            return Ok(client);
        };
        let mut done = details.clone();
        if let (Some(done), Some(extra)) = (done.as_object_mut(), extra.as_object()) {
            done.extend(extra.clone());
        }
        let change = ChangeSet {
            clients: vec![ClientWrite::Update {
                record: client.clone(),
                expected_version,
            }],
            audit: vec![ctx.operator_event(action, Outcome::Success, done)],
            ..ChangeSet::default()
        };
        match ctx.store.apply(change).await {
            Ok(()) => return Ok(client),
            Err(StoreError::Conflict) => {
                client = ctx
                    .store
                    .client(&client.id)
                    .await?
                    .context("the client disappeared")?;
            }
            Err(err) => return Err(err).context("cannot update the client"),
        }
    }
    ctx.audit_operator(action, Outcome::Failure, with_reason(&details, "conflict"))
        .await?;
    bail!("the client kept changing; run the command again")
}
