//! Forgotten transaction password (seed scenario 2), logged in, from the security
//! menu: name, document and captcha (they must be the member's own) → the phone on
//! file, shown masked and typed in full → the SMS code (with resend) → the new
//! six-digit transaction password twice → done, logged out everywhere.
//!
//! The full phone number is never written into a page: not the one on file, not the
//! one typed.

use askama::Template;
use fundpass_core::crypto::Field;
use fundpass_core::identity::Phone;
use fundpass_core::portal::{Authenticated, NewSecret};
use serde::Deserialize;

use super::auth::Member;
use super::context::Web;
use super::csrf::{MemberForm, csrf_field};
use super::error::{self, Internal, Refusal};
use super::layout::{Page, Reply};
use super::recovery::{
    self, FlowForm, IdentifyForm, Journey, NewSecretForm, StepView, finish, identify_page,
    new_secret_page,
};

const JOURNEY: Journey = Journey::Transaction;

/// The phone form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct PhoneForm {
    csrf: String,
    flow: String,
    phone: String,
}

/// The code form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CodeForm {
    csrf: String,
    flow: String,
    code: String,
}

csrf_field!(PhoneForm, CodeForm);

#[derive(Template)]
#[template(path = "forgot_transaction_phone.html")]
struct PhoneView {
    page: Page,
    csrf: String,
    flow: String,
    steps: Vec<StepView>,
    masked_phone: String,
    restart: bool,
}

#[derive(Template)]
#[template(path = "forgot_transaction_code.html")]
struct CodeView {
    page: Page,
    csrf: String,
    flow: String,
    steps: Vec<StepView>,
    notice: Option<String>,
    code_hint: String,
    restart: bool,
}

/// `GET /security/transaction-password`: the identify form.
pub(super) async fn identify_form(Member { web, auth }: Member) -> Result<Reply, Internal> {
    let csrf = &auth.session.csrf;
    identify_page(&web, JOURNEY, csrf, &IdentifyForm::default(), None).await
}

/// `POST /security/transaction-password`: captcha first, then the details, which
/// must be the logged-in member's own; the phone page on success.
pub(super) async fn identify(
    MemberForm { web, auth, form }: MemberForm<IdentifyForm>,
) -> Result<Reply, Internal> {
    let csrf = &auth.session.csrf;
    if let Err(err) = web
        .state
        .portal
        .check_captcha(&form.captcha_id, &form.captcha_answer)
        .await
    {
        let refusal = error::captcha(&web, err)?;
        return identify_page(&web, JOURNEY, csrf, &form, Some(refusal)).await;
    }
    let input = match form.input(&web) {
        Ok(input) => input,
        Err(refusal) => return identify_page(&web, JOURNEY, csrf, &form, Some(refusal)).await,
    };
    match web
        .state
        .portal
        .start_forgot_transaction(&auth, &input, &web.ctx())
        .await
    {
        Ok(started) => phone_page(
            &web,
            csrf,
            started.flow.expose(),
            started.masked_phone,
            None,
        ),
        Err(err) => {
            let refusal = recovery::refusal(&web, JOURNEY, err)?;
            identify_page(&web, JOURNEY, csrf, &form, Some(refusal)).await
        }
    }
}

/// `POST /security/transaction-password/phone`: the number typed must be the one on
/// file; the first code is sent to it.
pub(super) async fn phone(
    MemberForm { web, auth, form }: MemberForm<PhoneForm>,
) -> Result<Reply, Internal> {
    let csrf = &auth.session.csrf;
    match web
        .state
        .portal
        .send_forgot_transaction_code(&auth, &form.flow, &form.phone, &web.ctx())
        .await
    {
        Ok(_) => {
            let notice = web.tr.format(
                "forgot_transaction.code_sent",
                &[("phone", &masked_phone(&web, &auth)?)],
            );
            code_page(&web, csrf, &form.flow, Some(notice), None)
        }
        Err(err) => {
            let refusal = recovery::refusal(&web, JOURNEY, err)?;
            let masked = masked_phone(&web, &auth)?;
            phone_page(&web, csrf, &form.flow, masked, Some(refusal))
        }
    }
}

/// `POST /security/transaction-password/code`: the new-password page once the code
/// is right.
pub(super) async fn code(
    MemberForm { web, auth, form }: MemberForm<CodeForm>,
) -> Result<Reply, Internal> {
    let csrf = &auth.session.csrf;
    match web
        .state
        .portal
        .submit_forgot_transaction_code(&auth, &form.flow, &form.code, &web.ctx())
        .await
    {
        Ok(()) => new_secret_page(&web, JOURNEY, csrf, &form.flow, None),
        Err(err) => {
            let refusal = recovery::refusal(&web, JOURNEY, err)?;
            code_page(&web, csrf, &form.flow, None, Some(refusal))
        }
    }
}

/// `POST /security/transaction-password/resend`: a new code; the old one stops
/// working.
pub(super) async fn resend(
    MemberForm { web, auth, form }: MemberForm<FlowForm>,
) -> Result<Reply, Internal> {
    let csrf = &auth.session.csrf;
    match web
        .state
        .portal
        .resend_forgot_transaction_code(&auth, &form.flow, &web.ctx())
        .await
    {
        Ok(_) => {
            let notice = web.tr.get("forgot_transaction.resent").to_owned();
            code_page(&web, csrf, &form.flow, Some(notice), None)
        }
        Err(err) => {
            let refusal = recovery::refusal(&web, JOURNEY, err)?;
            code_page(&web, csrf, &form.flow, None, Some(refusal))
        }
    }
}

/// `POST /security/transaction-password/new`: the new transaction password; every
/// session ends, this one too.
pub(super) async fn new_password(
    MemberForm { web, auth, form }: MemberForm<NewSecretForm>,
) -> Result<Reply, Internal> {
    let NewSecretForm {
        flow,
        new_password,
        new_password_again,
        ..
    } = form;
    let secret = NewSecret {
        value: new_password,
        again: new_password_again,
    };
    match web
        .state
        .portal
        .complete_forgot_transaction(&auth, &flow, &secret, &web.ctx())
        .await
    {
        Ok(()) => recovery::done_page(&web, JOURNEY),
        Err(err) => {
            let refusal = recovery::refusal(&web, JOURNEY, err)?;
            new_secret_page(&web, JOURNEY, &auth.session.csrf, &flow, Some(refusal))
        }
    }
}

/// `GET` on a step's address (a reload after a post): back to the first step.
pub(super) async fn start_over() -> Reply {
    Reply::see_other(JOURNEY.start())
}

fn phone_page(
    web: &Web,
    csrf: &str,
    flow: &str,
    masked_phone: String,
    refusal: Option<Refusal>,
) -> Result<Reply, Internal> {
    let view = PhoneView {
        page: JOURNEY.page(web, csrf, refusal.as_ref()),
        csrf: csrf.to_owned(),
        flow: flow.to_owned(),
        steps: JOURNEY.steps(web, 1),
        masked_phone,
        restart: refusal.as_ref().is_some_and(|r| r.restart),
    };
    finish(web, &view, refusal.as_ref())
}

fn code_page(
    web: &Web,
    csrf: &str,
    flow: &str,
    notice: Option<String>,
    refusal: Option<Refusal>,
) -> Result<Reply, Internal> {
    let minutes = web.state.portal.policy.flow.code_ttl.whole_minutes();
    let view = CodeView {
        page: JOURNEY.page(web, csrf, refusal.as_ref()),
        csrf: csrf.to_owned(),
        flow: flow.to_owned(),
        steps: JOURNEY.steps(web, 2),
        notice,
        code_hint: web
            .tr
            .format("register.code_hint", &[("minutes", &minutes.to_string())]),
        restart: refusal.as_ref().is_some_and(|r| r.restart),
    };
    finish(web, &view, refusal.as_ref())
}

/// The member's phone on file as pages show it: `138****5678`.
fn masked_phone(web: &Web, auth: &Authenticated) -> Result<String, Internal> {
    let phone = web
        .state
        .portal
        .keyring
        .open(Field::Phone, &auth.member.phone)
        .map_err(|e| web.internal(e))?;
    let phone = Phone::parse(&phone).map_err(|e| web.internal(e))?;
    Ok(phone.masked())
}
