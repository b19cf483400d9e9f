//! The member's recent texts on the console's member page: what each was for, when
//! it was queued, and where it stands (queued, retried, refused, limit hit, sent,
//! delivered to the handset or not, with the carrier's reason). Never the text: the
//! staff member sees that a code went out, not the code.

use fundpass_core::console::MessageSummary;
use fundpass_core::ports::DeliveryState;

use super::super::context::Web;
use super::super::layout::date_time;

/// One text as the member page lists it.
pub(super) struct MessageView {
    /// What it was for, in words.
    pub purpose: String,
    /// When it was queued (China time).
    pub queued: String,
    /// Where it stands, in words.
    pub state: String,
    /// The state's short code for the page's style and tests: `queued`, `retrying`,
    /// `given_up`, `limit_hit`, `sent`, `delivered`, `undelivered`.
    pub code: &'static str,
}

/// The member's texts as listed, newest first.
pub(super) fn message_views(web: &Web, messages: &[MessageSummary]) -> Vec<MessageView> {
    messages.iter().map(|m| message_view(web, m)).collect()
}

fn message_view(web: &Web, m: &MessageSummary) -> MessageView {
    let purpose = web
        .tr
        .find(&format!("record.value.{}", m.purpose))
        .map_or_else(|| m.purpose.clone(), str::to_owned);
    let (code, state) = match &m.state {
        DeliveryState::Queued => ("queued", web.tr.get("staff.sms.queued").to_owned()),
        DeliveryState::Retrying { attempts, error } => (
            "retrying",
            web.tr.format(
                "staff.sms.retrying",
                &[("attempts", &attempts.to_string()), ("error", error)],
            ),
        ),
        DeliveryState::GivenUp { error } => (
            "given_up",
            web.tr.format("staff.sms.given_up", &[("error", error)]),
        ),
        DeliveryState::LimitHit { error } => (
            "limit_hit",
            web.tr.format("staff.sms.limit_hit", &[("error", error)]),
        ),
        DeliveryState::Sent { at } => (
            "sent",
            web.tr.format("staff.sms.sent", &[("at", &date_time(*at))]),
        ),
        DeliveryState::Delivered { at } => (
            "delivered",
            web.tr
                .format("staff.sms.delivered", &[("at", &date_time(*at))]),
        ),
        DeliveryState::Undelivered { at, reason } => (
            "undelivered",
            web.tr.format(
                "staff.sms.undelivered",
                &[
                    ("at", &date_time(*at)),
                    ("reason", reason.as_deref().unwrap_or("-")),
                ],
            ),
        ),
    };
    MessageView {
        purpose,
        queued: date_time(m.created_at),
        state,
        code,
    }
}
