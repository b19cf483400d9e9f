//! The security record told in words, for the page, the printable page and the CSV
//! download: times in China time, kinds, channels and outcomes in the member's
//! language, facts with their names and, where a fact is a code, its meaning.

use fundpass_core::audit::Outcome;
use fundpass_core::payout::Purpose;
use fundpass_core::portal::Portal;
use fundpass_core::record::{
    ExportFormat, RecordChannel, RecordEntry, RecordExport, RecordKind, SealedExport,
};

use crate::i18n::{Lang, Tr};
use crate::web::layout::date_time;

/// One entry in words.
#[derive(Debug)]
pub struct EntryText {
    pub seq: i64,
    pub at: String,
    pub kind: &'static str,
    pub channel: String,
    pub outcome: &'static str,
    pub address: String,
    pub facts: String,
    pub reportable: bool,
}

/// `e` in `tr`'s language.
pub fn entry_text(tr: Tr, e: &RecordEntry) -> EntryText {
    let channel = match &e.channel {
        RecordChannel::Online => tr.get("record.channel_online").to_owned(),
        RecordChannel::App => tr.get("record.channel_app").to_owned(),
        RecordChannel::Counter { branch } => with_branch(tr, "record.channel_counter", branch),
        RecordChannel::Hotline { branch } => with_branch(tr, "record.channel_hotline", branch),
        RecordChannel::BusinessSystem => tr.get("record.channel_business").to_owned(),
        RecordChannel::System => tr.get("record.channel_system").to_owned(),
    };
    let mut facts: Vec<String> = e
        .facts
        .iter()
        .map(|(k, v)| format!("{}: {}", fact_name(tr, k), fact_value(tr, k, v)))
        .collect();
    if let Some(role) = &e.staff_role {
        let role_text = tr
            .find(&format!("staff.role.{role}"))
            .map_or_else(|| role.clone(), str::to_owned);
        facts.insert(0, format!("{}: {role_text}", tr.get("record.fact.role")));
    }
    EntryText {
        seq: e.seq,
        at: date_time(e.at),
        kind: tr.get(kind_key(e.kind)),
        channel,
        outcome: tr.get(outcome_key(e.outcome)),
        address: e.address.clone().unwrap_or_default(),
        facts: facts.join("; "),
        reportable: e.reportable,
    }
}

fn with_branch(tr: Tr, key: &'static str, branch: &Option<String>) -> String {
    let channel = tr.get(key);
    match branch {
        Some(b) => format!("{channel} ({b})"),
        None => channel.to_owned(),
    }
}

fn outcome_key(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Success => "record.outcome_success",
        Outcome::Failure => "record.outcome_failure",
        Outcome::Denied => "record.outcome_denied",
    }
}

/// A fact's name; the key itself if it has no text.
fn fact_name(tr: Tr, key: &str) -> String {
    tr.find(&format!("record.fact.{key}"))
        .map_or_else(|| key.to_owned(), str::to_owned)
}

/// A fact's value in words: amounts in yuan, purposes and kinds by name, codes by
/// their meaning where one is written, anything else as stored.
fn fact_value(tr: Tr, key: &str, value: &serde_json::Value) -> String {
    if key == "amount_fen"
        && let Some(fen) = value.as_i64()
    {
        return format!("¥{}.{:02}", fen / 100, (fen % 100).abs());
    }
    let Some(code) = value.as_str() else {
        return value.to_string();
    };
    if key == "purpose"
        && let Some(p) = Purpose::from_code(code)
    {
        let (zh, en) = p.words();
        return match tr.lang() {
            Lang::Zh => zh,
            Lang::En => en,
        }
        .to_owned();
    }
    if key == "reported_kind"
        && let Some(kind) = RecordKind::from_code(code)
    {
        return tr.get(kind_key(kind)).to_owned();
    }
    value_text(tr, code).to_owned()
}

/// A stored code's meaning in words where one is written (`record.value.<code>`),
/// the code itself otherwise.
pub fn value_text(tr: Tr, code: &str) -> &str {
    tr.find(&format!("record.value.{code}")).unwrap_or(code)
}

/// The message key naming a kind.
pub fn kind_key(kind: RecordKind) -> &'static str {
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
        RecordKind::NotMe => "record.kind_not_me",
        RecordKind::Qualification => "record.kind_qualification",
    }
}

/// The CSV content of a download (before its integrity line): a UTF-8 byte-order
/// mark so that spreadsheet programs read Chinese text right, a line with the
/// account and the time of export, a blank line, then one row per entry in words.
pub fn csv_content(tr: Tr, export: &RecordExport) -> Result<Vec<u8>, csv::Error> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .flexible(true)
            .from_writer(&mut out);
        w.write_record([
            tr.get("record.csv.account"),
            tr.get("record.csv.exported_at"),
        ])?;
        w.write_record([export.account_no.as_str(), &date_time(export.exported_at)])?;
        w.write_record([""])?;
        w.write_record([
            "seq",
            tr.get("record.at"),
            tr.get("record.kind"),
            tr.get("record.channel"),
            tr.get("record.outcome"),
            tr.get("record.address"),
            tr.get("record.facts"),
        ])?;
        for e in &export.entries {
            let t = entry_text(tr, e);
            w.write_record([
                t.seq.to_string().as_str(),
                &t.at,
                t.kind,
                &t.channel,
                t.outcome,
                &t.address,
                &t.facts,
            ])?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// `export` written out in its format (CSV in `tr`'s language, or the JSON the app's
/// document describes) and sealed with its integrity value.
pub fn sealed_download(
    portal: &Portal,
    tr: Tr,
    export: &RecordExport,
) -> Result<SealedExport, Box<dyn std::error::Error + Send + Sync>> {
    let content = match export.format() {
        ExportFormat::Csv => csv_content(tr, export)?,
        ExportFormat::Json => crate::api::record_actions::export_json(export)?,
    };
    Ok(portal.seal_record(export, &content)?)
}
