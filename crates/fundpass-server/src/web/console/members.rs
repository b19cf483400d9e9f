//! The console's home (what each role can do), member look-up by document (posted,
//! so a document number never lands in a URL or a log), the member's page with the
//! forms of the staff member's role, and the audited reveal.

use askama::Template;
use axum::response::{IntoResponse as _, Response};
use fundpass_core::console::{MemberSummary, StaffAuth};
use fundpass_core::identity::IdType;
use fundpass_core::member::{MemberId, MemberStatus};
use fundpass_core::staff::{StaffAction, StaffRole, allowed};
use serde::Deserialize;

use super::super::context::{PagePath, Web};
use super::super::csrf::csrf_field;
use super::super::error::{Internal, Refusal, not_found};
use super::super::layout::{Choice, Page, Reply, id_type_choices};
use super::super::recovery::finish;
use super::super::security::{HoldView, hold_view, question_key};
use super::auth::{StaffBar, StaffForm, StaffUser, frame};
use super::error;
use super::messages::{MessageView, message_views};

/// The look-up form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct LookUpForm {
    csrf: String,
    id_type: String,
    id_number: String,
}

/// The reveal form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RevealForm {
    csrf: String,
    reason: String,
}

csrf_field!(LookUpForm, RevealForm);

#[derive(Template)]
#[template(path = "staff_home.html")]
struct HomeView {
    page: Page,
    staff: StaffBar,
    can_look_up: bool,
    can_approve: bool,
    can_read_audit: bool,
    role_hint: &'static str,
    id_types: Vec<Choice>,
}

/// A member as the console shows them.
pub(super) struct MemberView {
    /// The member's console address in this session.
    pub reference: String,
    pub name: String,
    pub account_no: String,
    pub id_type: &'static str,
    pub id_masked: String,
    pub phone_masked: String,
    pub status: &'static str,
    pub holds: Vec<HoldView>,
    /// The member's security questions: code and text (never an answer).
    pub questions: Vec<(String, &'static str)>,
}

impl MemberView {
    pub fn new(web: &Web, auth: &StaffAuth, m: &MemberSummary) -> Self {
        Self {
            reference: web.state.portal.member_ref(auth, m.id),
            name: m.name.clone(),
            account_no: m.account_no.clone(),
            id_type: web.tr.id_type(m.id_type),
            id_masked: m.id_masked.clone(),
            phone_masked: m.phone_masked.clone(),
            status: web.tr.get(match m.status {
                MemberStatus::Ordinary => "status.ordinary",
                MemberStatus::Registered => "status.registered",
                MemberStatus::Frozen => "status.frozen",
            }),
            holds: m.holds.iter().map(|h| hold_view(web, h)).collect(),
            questions: m
                .questions
                .iter()
                .filter_map(|q| question_key(q).map(|key| (q.clone(), web.tr.get(key))))
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "staff_member.html")]
struct MemberPageView {
    page: Page,
    staff: StaffBar,
    member: MemberView,
    counter: bool,
    hotline: bool,
    reveal: bool,
    id_types: Vec<Choice>,
    scopes: Vec<Choice>,
    revealed: Option<(String, String)>,
    /// The id the counter form opens its case under (one case per form).
    case_id: String,
    /// The member's newest texts and whether they arrived.
    messages: Vec<MessageView>,
}

/// `GET /staff`: the look-up form for the roles that may look members up.
pub(super) async fn home(StaffUser { web, auth }: StaffUser) -> Result<Reply, Internal> {
    home_page(&web, &auth, None)
}

/// The console's home page; after a refused look-up the document number is not put
/// back into the form (a full number never goes out in a page).
fn home_page(web: &Web, auth: &StaffAuth, refusal: Option<Refusal>) -> Result<Reply, Internal> {
    let (page, staff) = frame(web, auth, "staff.home.title");
    let role = auth.staff.role;
    let view = HomeView {
        page: page.with_refusal(refusal.as_ref()),
        staff,
        can_look_up: allowed(role, StaffAction::LookUpMember),
        can_approve: allowed(role, StaffAction::ApproveHighRisk),
        can_read_audit: allowed(role, StaffAction::ReadAudit),
        role_hint: web.tr.get(match role {
            StaffRole::Counter => "staff.home.hint_counter",
            StaffRole::Hotline => "staff.home.hint_hotline",
            StaffRole::Supervisor => "staff.home.hint_supervisor",
            StaffRole::Auditor => "staff.home.hint_auditor",
            StaffRole::Admin => "staff.home.hint_admin",
        }),
        id_types: id_type_choices(web.tr, ""),
    };
    finish(web, &view, refusal.as_ref())
}

/// `POST /staff/lookup`: to the member's page, or the form again with the reason.
pub(super) async fn look_up(
    StaffForm { web, auth, form }: StaffForm<LookUpForm>,
) -> Result<Reply, Internal> {
    let Some(id_type) = IdType::from_code(form.id_type.trim()) else {
        let refusal = Refusal::new(Some("id_type"), web.tr.get("console.err.card_id_type"));
        return home_page(&web, &auth, Some(refusal));
    };
    match web
        .state
        .portal
        .staff_look_up(&auth, id_type, &form.id_number, &web.ctx())
        .await
    {
        Ok(member) => Ok(Reply::see_other(&format!(
            "/staff/members/{}",
            web.state.portal.member_ref(&auth, member.id)
        ))),
        Err(err) => {
            let refusal = error::console(&web, err)?;
            home_page(&web, &auth, Some(refusal))
        }
    }
}

/// The member a console address of this session names.
pub(super) fn member_id(web: &Web, auth: &StaffAuth, raw: &str) -> Option<MemberId> {
    web.state.portal.member_from_ref(auth, raw)
}

/// `GET /staff/members/{id}`.
pub(super) async fn member(
    StaffUser { web, auth }: StaffUser,
    PagePath(id): PagePath<String>,
) -> Result<Response, Internal> {
    let Some(id) = member_id(&web, &auth, &id) else {
        return Ok(not_found(&web));
    };
    Ok(member_page(&web, &auth, id, None, None)
        .await?
        .into_response())
}

/// The member's page with the forms of the staff member's role; `refusal` is shown
/// when a form on it was refused.
pub(super) async fn member_page(
    web: &Web,
    auth: &StaffAuth,
    id: MemberId,
    refusal: Option<Refusal>,
    revealed: Option<(String, String)>,
) -> Result<Reply, Internal> {
    let summary = match web.state.portal.staff_member(auth, id, &web.ctx()).await {
        Ok(summary) => summary,
        Err(err) => {
            let refusal = error::console(web, err)?;
            return home_page(web, auth, Some(refusal));
        }
    };
    let (page, staff) = frame(web, auth, "staff.member.title");
    let role = auth.staff.role;
    let view = MemberPageView {
        page: page.with_refusal(refusal.as_ref()),
        staff,
        member: MemberView::new(web, auth, &summary),
        counter: allowed(role, StaffAction::RecordInPersonCheck),
        hotline: allowed(role, StaffAction::RunHotlineChecklist),
        reveal: allowed(role, StaffAction::RevealFullIdentity),
        id_types: id_type_choices(web.tr, summary.id_type.code()),
        scopes: scope_choices(web),
        revealed,
        case_id: web.state.portal.new_case_id(),
        messages: message_views(web, &summary.messages),
    };
    finish(web, &view, refusal.as_ref())
}

/// What a reset may cover, as a `<select>`.
pub(super) fn scope_choices(web: &Web) -> Vec<Choice> {
    [
        ("", "staff.scope.none"),
        ("login", "staff.scope.login"),
        ("transaction", "staff.scope.transaction"),
        ("both", "staff.scope.both"),
    ]
    .into_iter()
    .map(|(value, key)| Choice {
        value,
        label: web.tr.get(key),
        selected: false,
    })
    .collect()
}

/// `POST /staff/members/{id}/reveal`: the full document and phone number, once.
pub(super) async fn reveal(
    PagePath(id): PagePath<String>,
    StaffForm { web, auth, form }: StaffForm<RevealForm>,
) -> Result<Response, Internal> {
    let Some(id) = member_id(&web, &auth, &id) else {
        return Ok(not_found(&web));
    };
    let reply = match web
        .state
        .portal
        .staff_reveal(&auth, id, &form.reason, &web.ctx())
        .await
    {
        Ok(shown) => {
            member_page(&web, &auth, id, None, Some((shown.id_number, shown.phone))).await?
        }
        Err(err) => {
            let refusal = error::console(&web, err)?;
            member_page(&web, &auth, id, Some(refusal), None).await?
        }
    };
    Ok(reply.into_response())
}
