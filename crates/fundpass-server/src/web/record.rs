//! The member's security record: `/security/record` lists every event about their
//! own account, newest first, 50 a page, with an "older" link and a kind filter.

use askama::Template;
use axum::extract::Query;
use fundpass_core::audit::Outcome;
use fundpass_core::record::{RecordChannel, RecordEntry, RecordKind};
use serde::Deserialize;

use super::auth::Member;
use super::context::Web;
use super::error::Internal;
use super::layout::{Page, Reply, date_time};

/// Entries per page.
const PAGE_SIZE: u32 = 50;

/// One event as the member reads it.
struct EntryRow {
    at: String,
    kind: &'static str,
    channel: String,
    outcome: &'static str,
    address: String,
    facts: String,
}

/// One choice of the kind filter.
struct KindOption {
    code: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordView {
    page: Page,
    entries: Vec<EntryRow>,
    kinds: Vec<KindOption>,
    /// The filter in force, for the "older" link.
    kind: Option<&'static str>,
    older: Option<i64>,
}

/// `?before=<seq>&kind=<code>`.
#[derive(Deserialize, Default)]
pub(super) struct Shown {
    before: Option<i64>,
    kind: Option<String>,
}

/// `GET /security/record`.
pub(super) async fn page(
    Member { web, auth }: Member,
    Query(shown): Query<Shown>,
) -> Result<Reply, Internal> {
    let kind = shown.kind.as_deref().and_then(RecordKind::from_code);
    let record = web
        .state
        .portal
        .security_record(&auth, shown.before, kind, PAGE_SIZE)
        .await
        .map_err(|e| web.internal(e))?;
    let view = RecordView {
        page: web.page("record.title"),
        entries: record.entries.into_iter().map(|e| row(&web, e)).collect(),
        kinds: RecordKind::ALL
            .into_iter()
            .map(|k| KindOption {
                code: k.code(),
                label: web.tr.get(kind_key(k)),
                selected: Some(k) == kind,
            })
            .collect(),
        kind: kind.map(RecordKind::code),
        older: record.next_before,
    };
    Reply::page(&web, &view)
}

fn row(web: &Web, e: RecordEntry) -> EntryRow {
    let channel = match e.channel {
        RecordChannel::Online => web.tr.get("record.channel_online").to_owned(),
        RecordChannel::App => web.tr.get("record.channel_app").to_owned(),
        RecordChannel::Counter { branch } => with_branch(web, "record.channel_counter", branch),
        RecordChannel::Hotline { branch } => with_branch(web, "record.channel_hotline", branch),
        RecordChannel::BusinessSystem => web.tr.get("record.channel_business").to_owned(),
        RecordChannel::System => web.tr.get("record.channel_system").to_owned(),
    };
    let outcome = match e.outcome {
        Outcome::Success => "record.outcome_success",
        Outcome::Failure => "record.outcome_failure",
        Outcome::Denied => "record.outcome_denied",
    };
    let mut facts: Vec<String> = e
        .facts
        .iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => format!("{k}: {s}"),
            None => format!("{k}: {v}"),
        })
        .collect();
    if let Some(role) = e.staff_role {
        facts.insert(0, format!("role: {role}"));
    }
    EntryRow {
        at: date_time(e.at),
        kind: web.tr.get(kind_key(e.kind)),
        channel,
        outcome: web.tr.get(outcome),
        address: e.address.unwrap_or_default(),
        facts: facts.join("; "),
    }
}

fn with_branch(web: &Web, key: &'static str, branch: Option<String>) -> String {
    let channel = web.tr.get(key);
    match branch {
        Some(b) => format!("{channel} ({b})"),
        None => channel.to_owned(),
    }
}

/// The message key naming a kind.
fn kind_key(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Login => "record.kind_login",
        RecordKind::LoginFailed => "record.kind_login_failed",
        RecordKind::Lock => "record.kind_lock",
        RecordKind::Registration => "record.kind_registration",
        RecordKind::PasswordChange => "record.kind_password_change",
        RecordKind::PasswordReset => "record.kind_password_reset",
        RecordKind::PhoneChange => "record.kind_phone_change",
        RecordKind::Hold => "record.kind_hold",
        RecordKind::SecurityQuestions => "record.kind_security_questions",
        RecordKind::StaffAction => "record.kind_staff_action",
        RecordKind::StaffReveal => "record.kind_staff_reveal",
        RecordKind::SmsNotice => "record.kind_sms_notice",
        RecordKind::PayoutAuthorization => "record.kind_payout_authorization",
        RecordKind::Session => "record.kind_session",
        RecordKind::DataCopy => "record.kind_data_copy",
    }
}
