//! The auditor's pages: `GET /staff/audit`, the trail newest first as stored (details
//! are masked when written), a page at a time; `GET /staff/anomalies`, the anomaly
//! report over the last week.

use askama::Template;
use axum::extract::Query;
use fundpass_core::audit::AuditRecord;
use serde::Deserialize;

use super::super::error::Internal;
use super::super::layout::{Page, Reply, date_time};
use super::super::recovery::finish;
use super::auth::{StaffBar, StaffUser, frame};
use super::error;

/// `?before=SEQ`: the page of records older than SEQ.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AuditQuery {
    before: Option<i64>,
}

/// One row as shown.
struct Row {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    member: String,
    channel: &'static str,
    outcome: &'static str,
    ip: String,
    details: String,
}

impl Row {
    fn new(r: &AuditRecord) -> Self {
        let e = &r.event;
        Self {
            seq: r.seq,
            at: date_time(e.at),
            actor: match &e.actor.id {
                Some(id) => format!("{} {id}", e.actor.kind.code()),
                None => e.actor.kind.code().to_owned(),
            },
            action: e.action.clone(),
            member: e.member_id.map(|m| m.0.to_string()).unwrap_or_default(),
            channel: e.channel.code(),
            outcome: e.outcome.code(),
            ip: e.ip.clone().unwrap_or_default(),
            details: e.details.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "staff_audit.html")]
struct AuditView {
    page: Page,
    staff: StaffBar,
    rows: Vec<Row>,
    older: Option<i64>,
}

/// `GET /staff/audit`.
pub(super) async fn page(
    StaffUser { web, auth }: StaffUser,
    Query(query): Query<AuditQuery>,
) -> Result<Reply, Internal> {
    let (frame_page, staff) = frame(&web, &auth, "staff.audit.title");
    match web
        .state
        .portal
        .staff_read_audit(&auth, query.before, &web.ctx())
        .await
    {
        Ok(found) => {
            let view = AuditView {
                page: frame_page,
                staff,
                rows: found.records.iter().map(Row::new).collect(),
                older: found.older,
            };
            Reply::page(&web, &view)
        }
        Err(err) => {
            let refusal = error::console(&web, err)?;
            let view = AuditView {
                page: frame_page.with_refusal(Some(&refusal)),
                staff,
                rows: Vec::new(),
                older: None,
            };
            finish(&web, &view, Some(&refusal))
        }
    }
}

/// A reset followed by a phone change, as shown.
struct PhoneRow {
    member: i64,
    reset_at: String,
    changed_at: String,
}

/// A member's "this was not me" report.
struct ReportedRow {
    member: i64,
    kind: &'static str,
    happened_at: String,
    reported_at: String,
}

/// A check passed on or after a reported date of death, as shown.
struct DeceasedRow {
    member: i64,
    deceased_on: String,
    checked_at: String,
    channel: &'static str,
    by_member: String,
}

#[derive(Template)]
#[template(path = "staff_anomalies.html")]
struct AnomaliesView {
    check_addresses: Vec<(String, usize)>,
    check_relatives: Vec<(i64, usize)>,
    deceased: Vec<DeceasedRow>,
    page: Page,
    staff: StaffBar,
    addresses: Vec<(String, usize)>,
    staff_members: Vec<(String, usize)>,
    phones: Vec<PhoneRow>,
    payouts: Vec<PhoneRow>,
    reported: Vec<ReportedRow>,
    read: usize,
    truncated: bool,
}

/// `GET /staff/anomalies`: the auditor's anomaly report.
pub(super) async fn anomalies(StaffUser { web, auth }: StaffUser) -> Result<Reply, Internal> {
    let (frame_page, staff) = frame(&web, &auth, "staff.anomalies.title");
    match web.state.portal.staff_anomalies(&auth, &web.ctx()).await {
        Ok(report) => {
            let view = AnomaliesView {
                check_addresses: report.qualification.busy_addresses,
                check_relatives: report
                    .qualification
                    .busy_relatives
                    .iter()
                    .map(|(m, n)| (m.0, *n))
                    .collect(),
                deceased: report
                    .deceased_checks
                    .iter()
                    .map(|d| DeceasedRow {
                        member: d.member.0,
                        deceased_on: d.deceased_on.to_string(),
                        checked_at: date_time(d.checked_at),
                        channel: crate::record_text::value_text(web.tr, d.channel.code()),
                        by_member: d.by_member.map(|m| m.0.to_string()).unwrap_or_default(),
                    })
                    .collect(),
                page: frame_page,
                staff,
                addresses: report.busy_addresses,
                staff_members: report.busy_staff,
                phones: report
                    .reset_then_phone
                    .iter()
                    .map(|(m, reset, changed)| PhoneRow {
                        member: m.0,
                        reset_at: date_time(*reset),
                        changed_at: date_time(*changed),
                    })
                    .collect(),
                payouts: report
                    .change_then_payout
                    .iter()
                    .map(|(m, change, payout)| PhoneRow {
                        member: m.0,
                        reset_at: date_time(*change),
                        changed_at: date_time(*payout),
                    })
                    .collect(),
                reported: report
                    .reported
                    .iter()
                    .map(|r| ReportedRow {
                        member: r.member.0,
                        kind: fundpass_core::record::RecordKind::from_code(&r.kind)
                            .map_or("", |k| web.tr.get(crate::record_text::kind_key(k))),
                        happened_at: r.happened_at.map(date_time).unwrap_or_default(),
                        reported_at: date_time(r.reported_at),
                    })
                    .collect(),
                read: report.events_read,
                truncated: report.truncated,
            };
            Reply::page(&web, &view)
        }
        Err(err) => {
            let refusal = error::console(&web, err)?;
            let view = AnomaliesView {
                check_addresses: Vec::new(),
                check_relatives: Vec::new(),
                deceased: Vec::new(),
                page: frame_page.with_refusal(Some(&refusal)),
                staff,
                addresses: Vec::new(),
                staff_members: Vec::new(),
                phones: Vec::new(),
                payouts: Vec::new(),
                reported: Vec::new(),
                read: 0,
                truncated: false,
            };
            finish(&web, &view, Some(&refusal))
        }
    }
}
