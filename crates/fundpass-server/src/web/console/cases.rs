//! Counter cases: the in-person check form posted from the member's page, the case
//! page (waiting for a supervisor, or ready to issue), the printable receipt that
//! shows a ticket exactly once, and the supervisor's list and decision.

use askama::Template;
use axum::response::{IntoResponse as _, Response};
use fundpass_core::assisted::{CaseStatus, ResetScope, Risk};
use fundpass_core::console::{CaseView, ConsoleError, CounterCaseInput, StaffAuth};
use fundpass_core::staff::{StaffAction, allowed};
use serde::Deserialize;

use super::super::context::{PagePath, Web};
use super::super::csrf::csrf_field;
use super::super::error::{Internal, Refusal};
use super::super::layout::{Page, Reply, date_time};
use super::super::recovery::finish;
use super::auth::{StaffBar, StaffForm, StaffUser, frame};
use super::error;
use super::hotline::frame_only;
use super::members::{MemberView, member_id, member_page};

/// The in-person check form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CounterForm {
    csrf: String,
    case_id: String,
    card_id_type: String,
    card_id_number: String,
    card_expiry: String,
    card_long_term: Option<String>,
    form_number: String,
    scope: String,
    new_phone: String,
    new_phone_again: String,
    send_sms: Option<String>,
}

/// A decision or an issue: the token and, for decisions, which button.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CaseForm {
    csrf: String,
    decision: String,
}

csrf_field!(CounterForm, CaseForm);

/// A case as listed and shown.
pub(super) struct CaseLine {
    pub id: String,
    pub status: &'static str,
    pub awaiting: bool,
    pub scope: &'static str,
    pub phone_change: bool,
    pub risks: Vec<&'static str>,
    pub reference: String,
    pub opened: String,
    pub check: Vec<(&'static str, String)>,
    pub ticket_until: Option<String>,
    pub member: MemberView,
}

impl CaseLine {
    fn new(web: &Web, auth: &StaffAuth, view: &CaseView) -> Self {
        let c = &view.case;
        let tr = web.tr;
        let check_value = |key: &str| {
            c.check
                .get(key)
                .map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default()
        };
        let long_term = check_value("card_expiry") == "long_term";
        Self {
            id: c.id.clone(),
            status: tr.get(match c.status {
                CaseStatus::AwaitingApproval => "staff.case.status.awaiting",
                CaseStatus::Approved => "staff.case.status.approved",
                CaseStatus::Issued => "staff.case.status.issued",
                CaseStatus::Redeemed => "staff.case.status.redeemed",
                CaseStatus::Closed => "staff.case.status.closed",
            }),
            awaiting: c.status == CaseStatus::AwaitingApproval,
            scope: scope_label(web, c.scope),
            phone_change: c.new_phone.is_some(),
            risks: c
                .risks
                .iter()
                .map(|r| {
                    tr.get(match r {
                        Risk::RecentReset => "staff.risk.recent_reset",
                        Risk::ActiveHold => "staff.risk.active_hold",
                        Risk::BothWithPhoneChange => "staff.risk.both_with_phone_change",
                    })
                })
                .collect(),
            reference: c.reference.clone(),
            opened: date_time(c.created_at),
            check: vec![
                (
                    tr.get("staff.case.card_number"),
                    check_value("card_id_number"),
                ),
                (
                    tr.get("staff.case.card_expiry"),
                    if long_term {
                        tr.get("staff.case.long_term").to_owned()
                    } else {
                        check_value("card_expiry")
                    },
                ),
            ],
            ticket_until: c.ticket_expires_at.map(date_time),
            member: MemberView::new(web, auth, &view.member),
        }
    }
}

/// The name of what a case resets.
pub(super) fn scope_label(web: &Web, scope: Option<ResetScope>) -> &'static str {
    web.tr.get(match scope {
        None => "staff.scope.none",
        Some(ResetScope::Login) => "staff.scope.login",
        Some(ResetScope::Transaction) => "staff.scope.transaction",
        Some(ResetScope::Both) => "staff.scope.both",
    })
}

#[derive(Template)]
#[template(path = "staff_case.html")]
struct CasePageView {
    page: Page,
    staff: StaffBar,
    case: CaseLine,
    can_issue: bool,
    can_decide: bool,
}

#[derive(Template)]
#[template(path = "staff_receipt.html")]
struct ReceiptView {
    page: Page,
    staff: StaffBar,
    case: CaseLine,
    ticket: Option<String>,
    sent_by_sms: bool,
}

#[derive(Template)]
#[template(path = "staff_approvals.html")]
struct ApprovalsView {
    page: Page,
    staff: StaffBar,
    cases: Vec<CaseLine>,
}

/// `POST /staff/members/{id}/counter`: opens the case; the receipt when it needs no
/// approval, else the case page saying it waits for a supervisor.
pub(super) async fn open(
    PagePath(id): PagePath<String>,
    StaffForm { web, auth, form }: StaffForm<CounterForm>,
) -> Result<Response, Internal> {
    let Some(id) = member_id(&web, &auth, &id) else {
        return Ok(super::super::error::not_found(&web));
    };
    let scope = match form.scope.trim() {
        "" => None,
        code => match ResetScope::from_code(code) {
            Some(scope) => Some(scope),
            None => {
                let refusal = Refusal::new(Some("scope"), web.tr.get("console.err.bad_field"));
                return Ok(member_page(&web, &auth, id, Some(refusal), None)
                    .await?
                    .into_response());
            }
        },
    };
    let input = CounterCaseInput {
        case_id: form.case_id,
        card_id_type: form.card_id_type,
        card_id_number: form.card_id_number,
        card_expiry: form.card_expiry,
        card_long_term: form.card_long_term.is_some(),
        form_number: form.form_number,
        scope,
        new_phone: form.new_phone,
        new_phone_again: form.new_phone_again,
        send_sms: form.send_sms.is_some(),
    };
    match web
        .state
        .portal
        .open_counter_case(&auth, id, &input, &web.ctx())
        .await
    {
        Ok(view) if view.case.status == CaseStatus::AwaitingApproval => {
            Ok(Reply::see_other(&format!("/staff/cases/{}", view.case.id)).into_response())
        }
        Ok(view) => Ok(receipt(&web, &auth, &view)?.into_response()),
        // The same form again (a reload): the case it opened, never a second ticket.
        Err(ConsoleError::AlreadyOpened { case }) => {
            Ok(Reply::see_other(&format!("/staff/cases/{case}")).into_response())
        }
        Err(err) => {
            let refusal = error::console(&web, err)?;
            Ok(member_page(&web, &auth, id, Some(refusal), None)
                .await?
                .into_response())
        }
    }
}

/// The receipt: the ticket in large print, shown this once.
fn receipt(web: &Web, auth: &StaffAuth, view: &CaseView) -> Result<Reply, Internal> {
    let (page, staff) = frame(web, auth, "staff.receipt.title");
    let receipt = ReceiptView {
        page,
        staff,
        case: CaseLine::new(web, auth, view),
        ticket: view.ticket.as_ref().map(|t| t.display()),
        sent_by_sms: view.case.check.get("send_sms") == Some(&serde_json::Value::Bool(true)),
    };
    Reply::page(web, &receipt)
}

/// `GET /staff/cases/{id}`.
pub(super) async fn case(
    StaffUser { web, auth }: StaffUser,
    PagePath(id): PagePath<String>,
) -> Result<Reply, Internal> {
    case_page(&web, &auth, &id, None).await
}

async fn case_page(
    web: &Web,
    auth: &StaffAuth,
    id: &str,
    refusal: Option<Refusal>,
) -> Result<Reply, Internal> {
    let view = match web.state.portal.staff_case(auth, id, &web.ctx()).await {
        Ok(view) => view,
        Err(err) => {
            let shown = error::console(web, err)?;
            // The refusal of the step that led here says more than the page's own.
            let refusal = refusal.unwrap_or(shown);
            // Only a role that approves has the approvals list to go back to.
            if allowed(auth.staff.role, StaffAction::ApproveHighRisk) {
                return approvals_page(web, auth, Some(refusal)).await;
            }
            return finish(web, &frame_only(web, auth, &refusal), Some(&refusal));
        }
    };
    let (page, staff) = frame(web, auth, "staff.case.title");
    let own = view.case.staff_id == auth.staff.id;
    let page_view = CasePageView {
        page: page.with_refusal(refusal.as_ref()),
        staff,
        can_issue: own
            && view.case.status == CaseStatus::Approved
            && allowed(auth.staff.role, StaffAction::IssueCounterTicket),
        can_decide: !own
            && view.case.status == CaseStatus::AwaitingApproval
            && allowed(auth.staff.role, StaffAction::ApproveHighRisk),
        case: CaseLine::new(web, auth, &view),
    };
    finish(web, &page_view, refusal.as_ref())
}

/// `POST /staff/cases/{id}/issue`: the receipt with the ticket.
pub(super) async fn issue(
    PagePath(id): PagePath<String>,
    StaffForm { web, auth, .. }: StaffForm<CaseForm>,
) -> Result<Reply, Internal> {
    match web
        .state
        .portal
        .issue_counter_ticket(&auth, &id, &web.ctx())
        .await
    {
        // Riskier since it was approved, or approved too long ago: back to a supervisor.
        Ok(view) if view.case.status == CaseStatus::AwaitingApproval => {
            Ok(Reply::see_other(&format!("/staff/cases/{}", view.case.id)))
        }
        Ok(view) => receipt(&web, &auth, &view),
        Err(err) => {
            let refusal = error::console(&web, err)?;
            case_page(&web, &auth, &id, Some(refusal)).await
        }
    }
}

/// `POST /staff/cases/{id}/decide`: approve or reject (a supervisor).
pub(super) async fn decide(
    PagePath(id): PagePath<String>,
    StaffForm { web, auth, form }: StaffForm<CaseForm>,
) -> Result<Reply, Internal> {
    let approve = match form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            let refusal = Refusal::new(None, web.tr.get("console.err.bad_field"));
            return case_page(&web, &auth, &id, Some(refusal)).await;
        }
    };
    match web
        .state
        .portal
        .decide_case(&auth, &id, approve, &web.ctx())
        .await
    {
        Ok(_) => Ok(Reply::see_other("/staff/approvals")),
        Err(err) => {
            let refusal = error::console(&web, err)?;
            case_page(&web, &auth, &id, Some(refusal)).await
        }
    }
}

/// `GET /staff/approvals`: the cases waiting for a supervisor.
pub(super) async fn approvals(StaffUser { web, auth }: StaffUser) -> Result<Reply, Internal> {
    approvals_page(&web, &auth, None).await
}

async fn approvals_page(
    web: &Web,
    auth: &StaffAuth,
    refusal: Option<Refusal>,
) -> Result<Reply, Internal> {
    let cases = match web.state.portal.cases_to_approve(auth, &web.ctx()).await {
        Ok(cases) => cases,
        Err(err) => {
            let refusal = error::console(web, err)?;
            let (page, staff) = frame(web, auth, "staff.approvals.title");
            let view = ApprovalsView {
                page: page.with_errors(refusal.errors.clone()),
                staff,
                cases: Vec::new(),
            };
            return finish(web, &view, Some(&refusal));
        }
    };
    let (page, staff) = frame(web, auth, "staff.approvals.title");
    let view = ApprovalsView {
        page: page.with_refusal(refusal.as_ref()),
        staff,
        cases: cases.iter().map(|c| CaseLine::new(web, auth, c)).collect(),
    };
    finish(web, &view, refusal.as_ref())
}
