//! `fundpass outbox`: the newest SMS messages. Dev mode shows their text (the dev
//! sender delivers nothing, so this is where codes are read); production shows only
//! when, to whom (masked), what for, and where each stands: waiting, retried, refused
//! (a provider's sending limit said so), sent with the provider's id, and the
//! carrier's delivery report.

use std::process::ExitCode;

use fundpass_core::crypto::Field;
use fundpass_core::identity::Phone;
use fundpass_core::ports::{DeliveryState, OutboxMessage, OutboxStore};

use crate::config::{Config, Mode};
use crate::context::Context;
use crate::system::china_time;

/// Options of `fundpass outbox`.
#[derive(Debug, clap::Args)]
pub struct OutboxArgs {
    /// How many messages, newest first.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub limit: u32,
}

/// Where a message stands, in a line.
fn state(m: &OutboxMessage) -> String {
    let reference = m
        .provider_ref
        .as_deref()
        .map(|r| format!(" [{r}]"))
        .unwrap_or_default();
    match m.delivery_state() {
        DeliveryState::Queued => "pending".to_owned(),
        DeliveryState::Retrying { attempts, error } => {
            format!("pending after {attempts} tries: {error}")
        }
        DeliveryState::GivenUp { error } => format!("not sent: {error}"),
        DeliveryState::LimitHit { error } => format!("not sent, limit hit: {error}"),
        DeliveryState::Sent { at } => format!("sent {}{reference}", china_time(at)),
        DeliveryState::Delivered { at } => {
            format!("delivered {}{reference}", china_time(at))
        }
        DeliveryState::Undelivered { at, reason } => format!(
            "not delivered {}{reference}: {}",
            china_time(at),
            reason.unwrap_or_default()
        ),
    }
}

/// Lists the outbox.
pub async fn command(config: &Config, args: &OutboxArgs) -> anyhow::Result<ExitCode> {
    let ctx = Context::open(config).await?;
    let show_text = config.mode == Mode::Dev;
    let mut out = String::new();
    for m in ctx.store.recent_messages(args.limit).await? {
        let to = ctx
            .keyring
            .open(Field::Phone, &m.to)
            .ok()
            .and_then(|p| Phone::parse(&p).ok())
            .map(|p| p.masked())
            .unwrap_or_else(|| "(unreadable)".into());
        let state = state(&m);
        out.push_str(&format!(
            "{}  {to}  {}  {state}\n",
            china_time(m.created_at),
            m.purpose
        ));
        if show_text {
            let text = ctx
                .keyring
                .open(Field::Message, &m.body)
                .unwrap_or_else(|e| format!("(unreadable: {e})"));
            out.push_str(&format!("    {text}\n"));
        }
    }
    if out.is_empty() {
        out.push_str("the outbox is empty\n");
    }
    #[allow(clippy::print_stdout)]
    {
        print!("{out}");
    }
    Ok(ExitCode::SUCCESS)
}
