//! The hotline's screens: the caller-verification checklist posted from the
//! member's page, its result (pass or fail per item, never a stored value), and the
//! one action a passed checklist allows: a reset code texted to the phone on file.

use askama::Template;
use axum::response::{IntoResponse as _, Response};
use fundpass_core::assisted::{HotlineCheck, ResetScope};
use fundpass_core::console::{HotlineInput, StaffAuth};
use serde::Deserialize;

use super::super::context::{PagePath, Web};
use super::super::csrf::csrf_field;
use super::super::error::{Internal, Refusal, not_found};
use super::super::layout::{Choice, Page, Reply, date_time};
use super::super::recovery::finish;
use super::super::security::question_key;
use super::auth::{StaffBar, StaffForm, StaffUser, frame};
use super::error;
use super::members::{member_id, member_page, scope_choices};

/// The checklist as posted: call id, name and phone as the caller gave them, and
/// `answer_<question>` for each of the member's security questions.
#[derive(Deserialize)]
#[serde(from = "Vec<(String, String)>")]
pub(crate) struct ChecklistForm {
    csrf: String,
    input: HotlineInput,
}

impl From<Vec<(String, String)>> for ChecklistForm {
    fn from(pairs: Vec<(String, String)>) -> Self {
        let mut csrf = String::new();
        let mut input = HotlineInput::default();
        for (name, value) in pairs {
            match name.as_str() {
                "csrf" => csrf = value,
                "call_id" => input.call_id = value,
                "name" => input.name = value,
                "phone" => input.phone = value,
                other => {
                    if let Some(q) = other.strip_prefix("answer_")
                        && input.answers.len() < 10
                    {
                        input.answers.push((q.to_owned(), value));
                    }
                }
            }
        }
        Self { csrf, input }
    }
}

/// The send form: which secrets the ticket renews.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SendForm {
    csrf: String,
    scope: String,
}

csrf_field!(ChecklistForm, SendForm);

#[derive(Template)]
#[template(path = "staff_check.html")]
struct CheckView {
    page: Page,
    staff: StaffBar,
    check_id: String,
    call_id: String,
    /// The member's console address, when the checklist found one.
    member: Option<String>,
    passed: bool,
    usable: bool,
    sent_to: Option<String>,
    items: Vec<(&'static str, bool)>,
    at: String,
    scopes: Vec<Choice>,
}

/// `POST /staff/members/{id}/hotline`: runs the checklist; its result page.
pub(super) async fn run(
    PagePath(id): PagePath<String>,
    StaffForm { web, auth, form }: StaffForm<ChecklistForm>,
) -> Result<Response, Internal> {
    let Some(id) = member_id(&web, &auth, &id) else {
        return Ok(not_found(&web));
    };
    match web
        .state
        .portal
        .run_hotline_check(&auth, id, &form.input, &web.ctx())
        .await
    {
        // Its own address, so a reload never runs (and counts) the checklist again.
        Ok(check) => Ok(Reply::see_other(&format!("/staff/checks/{}", check.id)).into_response()),
        Err(err) => {
            let refusal = error::console(&web, err)?;
            Ok(member_page(&web, &auth, id, Some(refusal), None)
                .await?
                .into_response())
        }
    }
}

/// `GET /staff/checks/{id}`.
pub(super) async fn check(
    StaffUser { web, auth }: StaffUser,
    PagePath(id): PagePath<String>,
) -> Result<Response, Internal> {
    match web
        .state
        .portal
        .hotline_check_of(&auth, &id, &web.ctx())
        .await
    {
        Ok(check) => {
            let sent_to = sent_to(&web, &auth, &check).await?;
            Ok(check_page(&web, &auth, &check, None, sent_to)?.into_response())
        }
        Err(fundpass_core::console::ConsoleError::UnknownCase) => Ok(not_found(&web)),
        Err(err) => {
            let refusal = error::console(&web, err)?;
            Ok(super::super::recovery::finish(
                &web,
                &frame_only(&web, &auth, &refusal),
                Some(&refusal),
            )?
            .into_response())
        }
    }
}

/// `POST /staff/checks/{id}/send`: the reset code to the phone on file.
pub(super) async fn send(
    PagePath(id): PagePath<String>,
    StaffForm { web, auth, form }: StaffForm<SendForm>,
) -> Result<Response, Internal> {
    let check = match web
        .state
        .portal
        .hotline_check_of(&auth, &id, &web.ctx())
        .await
    {
        Ok(check) => check,
        Err(fundpass_core::console::ConsoleError::UnknownCase) => return Ok(not_found(&web)),
        Err(err) => {
            let refusal = error::console(&web, err)?;
            return Ok(
                finish(&web, &frame_only(&web, &auth, &refusal), Some(&refusal))?.into_response(),
            );
        }
    };
    if check.member_id.is_none() {
        return Ok(not_found(&web));
    }
    let Some(scope) = ResetScope::from_code(form.scope.trim()) else {
        let refusal = Refusal::new(Some("scope"), web.tr.get("console.err.nothing_chosen"));
        return Ok(check_page(&web, &auth, &check, Some(refusal), None)?.into_response());
    };
    match web
        .state
        .portal
        .send_hotline_reset(&auth, &id, scope, &web.ctx())
        .await
    {
        Ok(_) => Ok(Reply::see_other(&format!("/staff/checks/{id}")).into_response()),
        Err(err) => {
            let refusal = error::console(&web, err)?;
            Ok(check_page(&web, &auth, &check, Some(refusal), None)?.into_response())
        }
    }
}

/// Where the reset code of a used checklist went (the phone on file, masked).
async fn sent_to(
    web: &Web,
    auth: &StaffAuth,
    check: &HotlineCheck,
) -> Result<Option<String>, Internal> {
    let (Some(_), Some(member)) = (check.used_at, check.member_id) else {
        return Ok(None);
    };
    match web
        .state
        .portal
        .staff_member(auth, member, &web.ctx())
        .await
    {
        Ok(summary) => Ok(Some(summary.phone_masked)),
        Err(fundpass_core::console::ConsoleError::Store(e)) => Err(web.internal(e)),
        // The checklist stays readable when the member's page is not (the role or
        // the account changed since): the sentence just leaves out the number.
        Err(_) => Ok(None),
    }
}

fn check_page(
    web: &Web,
    auth: &StaffAuth,
    check: &HotlineCheck,
    refusal: Option<Refusal>,
    sent_to: Option<String>,
) -> Result<Reply, Internal> {
    let (page, staff) = frame(web, auth, "staff.check.title");
    let items = check
        .items
        .iter()
        .map(|(item, ok)| {
            let label = match item.as_str() {
                "document" => web.tr.get("staff.check.item.document"),
                "name" => web.tr.get("staff.check.item.name"),
                "phone" => web.tr.get("staff.check.item.phone"),
                other => other
                    .strip_prefix("question:")
                    .and_then(question_key)
                    .map_or("?", |key| web.tr.get(key)),
            };
            (label, *ok)
        })
        .collect();
    let view = CheckView {
        page: page.with_refusal(refusal.as_ref()),
        staff,
        check_id: check.id.clone(),
        call_id: check.call_id.clone(),
        member: check
            .member_id
            .map(|m| web.state.portal.member_ref(auth, m)),
        passed: check.passed,
        usable: check.passed && check.used_at.is_none() && web.now() < check.expires_at,
        sent_to,
        items,
        at: date_time(check.created_at),
        scopes: scope_choices(web)
            .into_iter()
            .filter(|c| !c.value.is_empty())
            .collect(),
    };
    finish(web, &view, refusal.as_ref())
}

/// A console page with nothing but a refusal.
#[derive(Template)]
#[template(path = "staff_refused.html")]
pub(super) struct RefusedView {
    page: Page,
    staff: StaffBar,
}

pub(super) fn frame_only(web: &Web, auth: &StaffAuth, refusal: &Refusal) -> RefusedView {
    let (page, staff) = frame(web, auth, "staff.refused.title");
    RefusedView {
        page: page.with_errors(refusal.errors.clone()),
        staff,
    }
}
