//! Registration, ordinary member → registered user, in four pages: identify (with
//! captcha) → SMS code → login and transaction passwords → done.
//!
//! The flow id travels in a hidden field of each form, never in a URL. The code page
//! reads the same whether or not the details matched anyone.

use askama::Template;
use fundpass_core::identity::IdType;
use fundpass_core::portal::{IdentifyInput, NEUTRAL_IDENTIFY_MESSAGE, NewPasswords};
use serde::Deserialize;

use super::captcha::{self, CaptchaView};
use super::context::Web;
use super::csrf::{AnonForm, AnonToken, csrf_field};
use super::error::{self, FieldErrors, Internal, Refusal};
use super::layout::{Choice, Page, Reply, id_type_choices};

/// The identify form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct IdentifyForm {
    csrf: String,
    name: String,
    id_type: String,
    id_number: String,
    phone: String,
    captcha_id: String,
    captcha_answer: String,
}

/// The code form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CodeForm {
    csrf: String,
    flow: String,
    code: String,
}

/// The resend form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct FlowForm {
    csrf: String,
    flow: String,
}

/// The passwords form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct PasswordsForm {
    csrf: String,
    flow: String,
    login_password: String,
    login_password_again: String,
    transaction_password: String,
    transaction_password_again: String,
}

csrf_field!(IdentifyForm, CodeForm, FlowForm, PasswordsForm);

#[derive(Template)]
#[template(path = "register_identify.html")]
struct IdentifyView {
    page: Page,
    csrf: String,
    name: String,
    id_types: Vec<Choice>,
    id_number: String,
    phone: String,
    captcha: CaptchaView,
}

#[derive(Template)]
#[template(path = "register_code.html")]
struct CodeView {
    page: Page,
    csrf: String,
    flow: String,
    notice: Option<String>,
    code_hint: String,
    restart: bool,
}

#[derive(Template)]
#[template(path = "register_passwords.html")]
struct PasswordsView {
    page: Page,
    csrf: String,
    flow: String,
    login_hint: String,
    restart: bool,
}

#[derive(Template)]
#[template(path = "register_done.html")]
struct DoneView {
    page: Page,
}

/// `GET /register`: the identify form.
pub(super) async fn identify_form(web: Web) -> Result<Reply, Internal> {
    let token = AnonToken::for_page(&web);
    let view = identify_view(
        &web,
        &token.value,
        &IdentifyForm::default(),
        FieldErrors::default(),
    )
    .await?;
    Ok(Reply::page(&web, &view)?.maybe_cookie(token.set_cookie))
}

/// `POST /register`: captcha first, then the identify step; the code page on success.
pub(super) async fn identify(
    AnonForm { web, form }: AnonForm<IdentifyForm>,
) -> Result<Reply, Internal> {
    if let Err(err) = web
        .state
        .portal
        .check_captcha(&form.captcha_id, &form.captcha_answer)
        .await
    {
        return identify_again(&web, &form, error::captcha(&web, err)?).await;
    }
    let Some(id_type) = IdType::from_code(&form.id_type) else {
        let refusal = Refusal::new(Some("id_type"), web.tr.get("register.choose_id_type"));
        return identify_again(&web, &form, refusal).await;
    };
    let input = IdentifyInput {
        name: form.name.clone(),
        id_type,
        id_number: form.id_number.clone(),
        phone: form.phone.clone(),
    };
    let ctx = web.ctx();
    let step = web.state.portal.start_registration(&input, &ctx);
    match crate::evenly::evenly(&web.state, step).await {
        Ok(started) => {
            let notice = web.tr.get(NEUTRAL_IDENTIFY_MESSAGE).to_owned();
            code_page(&web, &form.csrf, started.flow.expose(), Some(notice), None)
        }
        Err(err) => identify_again(&web, &form, error::registration(&web, err)?).await,
    }
}

async fn identify_view(
    web: &Web,
    csrf: &str,
    form: &IdentifyForm,
    errors: FieldErrors,
) -> Result<IdentifyView, Internal> {
    Ok(IdentifyView {
        page: web
            .page("register.title")
            .with_csrf(csrf)
            .with_errors(errors),
        csrf: csrf.to_owned(),
        name: form.name.clone(),
        id_types: id_type_choices(web.tr, &form.id_type),
        id_number: form.id_number.clone(),
        phone: form.phone.clone(),
        captcha: captcha::issue(web).await?,
    })
}

/// The identify form again, with the refusal and always a new captcha.
async fn identify_again(
    web: &Web,
    form: &IdentifyForm,
    refusal: Refusal,
) -> Result<Reply, Internal> {
    let view = identify_view(web, &form.csrf, form, refusal.errors.clone()).await?;
    Reply::refused(web, &view, &refusal)
}

/// `POST /register/code`: the passwords page once the code is right.
pub(super) async fn code(AnonForm { web, form }: AnonForm<CodeForm>) -> Result<Reply, Internal> {
    match web
        .state
        .portal
        .submit_registration_code(&form.flow, &form.code, &web.ctx())
        .await
    {
        Ok(()) => passwords_page(&web, &form.csrf, &form.flow, None),
        Err(err) => code_page(
            &web,
            &form.csrf,
            &form.flow,
            None,
            Some(error::registration(&web, err)?),
        ),
    }
}

/// `POST /register/resend`: a new code in the same flow (the old one stops working).
pub(super) async fn resend(AnonForm { web, form }: AnonForm<FlowForm>) -> Result<Reply, Internal> {
    match web
        .state
        .portal
        .resend_registration_code(&form.flow, &web.ctx())
        .await
    {
        Ok(_) => {
            let notice = web.tr.get("register.resent").to_owned();
            code_page(&web, &form.csrf, &form.flow, Some(notice), None)
        }
        Err(err) => code_page(
            &web,
            &form.csrf,
            &form.flow,
            None,
            Some(error::registration(&web, err)?),
        ),
    }
}

fn code_page(
    web: &Web,
    csrf: &str,
    flow: &str,
    notice: Option<String>,
    refusal: Option<Refusal>,
) -> Result<Reply, Internal> {
    let minutes = web
        .state
        .portal
        .policy
        .flow
        .code_ttl
        .whole_minutes()
        .to_string();
    let errors = refusal
        .as_ref()
        .map(|r| r.errors.clone())
        .unwrap_or_default();
    let view = CodeView {
        page: web
            .page("register.code_title")
            .with_csrf(csrf)
            .with_errors(errors),
        csrf: csrf.to_owned(),
        flow: flow.to_owned(),
        notice,
        code_hint: web
            .tr
            .format("register.code_hint", &[("minutes", &minutes)]),
        restart: refusal.as_ref().is_some_and(|r| r.restart),
    };
    match &refusal {
        Some(refusal) => Reply::refused(web, &view, refusal),
        None => Reply::page(web, &view),
    }
}

/// `POST /register/passwords`: both passwords set, the member is registered.
pub(super) async fn passwords(
    AnonForm { web, form }: AnonForm<PasswordsForm>,
) -> Result<Reply, Internal> {
    let PasswordsForm {
        csrf,
        flow,
        login_password,
        login_password_again,
        transaction_password,
        transaction_password_again,
    } = form;
    let passwords = NewPasswords {
        login: login_password,
        login_again: login_password_again,
        transaction: transaction_password,
        transaction_again: transaction_password_again,
    };
    match web
        .state
        .portal
        .complete_registration(&flow, passwords, &web.ctx())
        .await
    {
        Ok(()) => Reply::page(
            &web,
            &DoneView {
                page: web.page("register.done_title").with_csrf(&csrf),
            },
        ),
        Err(err) => passwords_page(&web, &csrf, &flow, Some(error::registration(&web, err)?)),
    }
}

fn passwords_page(
    web: &Web,
    csrf: &str,
    flow: &str,
    refusal: Option<Refusal>,
) -> Result<Reply, Internal> {
    let errors = refusal
        .as_ref()
        .map(|r| r.errors.clone())
        .unwrap_or_default();
    let view = PasswordsView {
        page: web
            .page("register.passwords_title")
            .with_csrf(csrf)
            .with_errors(errors),
        csrf: csrf.to_owned(),
        flow: flow.to_owned(),
        login_hint: login_hint(web),
        restart: refusal.as_ref().is_some_and(|r| r.restart),
    };
    match &refusal {
        Some(refusal) => Reply::refused(web, &view, refusal),
        None => Reply::page(web, &view),
    }
}

/// The login password rules as configured, in a sentence.
pub(super) fn login_hint(web: &Web) -> String {
    let policy = &web.state.portal.policy.login_password;
    let length = match policy.exact_len {
        Some(n) => web
            .tr
            .format("passwords.login_hint_exact", &[("n", &n.to_string())]),
        None => web.tr.format(
            "passwords.login_hint_range",
            &[
                ("min", &policy.min_len.to_string()),
                ("max", &policy.max_len.to_string()),
            ],
        ),
    };
    if policy.require_letter_and_digit {
        format!("{length}{}", web.tr.get("passwords.login_hint_mix"))
    } else {
        length
    }
}

/// `GET` on a step's address (a reload after a post): back to the first step.
pub(super) async fn start_over() -> Reply {
    Reply::see_other("/register")
}
