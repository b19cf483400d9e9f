//! The login page: a document (type and number) or the fund account number, the login
//! password and an image captcha. Success opens a new session (a new id every time)
//! and goes to the member's home page; every failure shows a new captcha.

use askama::Template;
use fundpass_core::identity::IdType;
use fundpass_core::portal::{LoginIdentifier, LoginSuccess};
use fundpass_core::session::ClientKind;
use serde::Deserialize;

use super::auth;
use super::captcha::{self, CaptchaView};
use super::context::Web;
use super::cookies;
use super::csrf::{AnonForm, AnonToken, csrf_field};
use super::error::{self, FieldErrors, Internal, Refusal};
use super::layout::{Choice, Page, Reply, id_type_choices};

/// The login form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct LoginForm {
    csrf: String,
    /// `document` or `account`.
    by: String,
    id_type: String,
    id_number: String,
    account_no: String,
    password: String,
    captcha_id: String,
    captcha_answer: String,
}

csrf_field!(LoginForm);

#[derive(Template)]
#[template(path = "login.html")]
struct LoginView {
    page: Page,
    csrf: String,
    by_account: bool,
    id_types: Vec<Choice>,
    account_no: String,
    captcha: CaptchaView,
}

/// `GET /login`.
pub(super) async fn form(web: Web) -> Result<Reply, Internal> {
    let token = AnonToken::for_page(&web);
    let view = view(
        &web,
        &token.value,
        &LoginForm::default(),
        FieldErrors::default(),
    )
    .await?;
    Ok(Reply::page(&web, &view)?.maybe_cookie(token.set_cookie))
}

/// `POST /login`: captcha, then the password; `303` to `/home` with a new session.
pub(super) async fn submit(AnonForm { web, form }: AnonForm<LoginForm>) -> Result<Reply, Internal> {
    if let Err(err) = web
        .state
        .portal
        .check_captcha(&form.captcha_id, &form.captcha_answer)
        .await
    {
        return again(&web, &form, error::captcha(&web, err)?).await;
    }
    let identifier = match identifier(&web, &form) {
        Ok(identifier) => identifier,
        Err(refusal) => return again(&web, &form, refusal).await,
    };
    match web
        .state
        .portal
        .login(&identifier, &form.password, ClientKind::Web, &web.ctx())
        .await
    {
        Ok(success) => Ok(logged_in(&web, success).await),
        Err(err) => again(&web, &form, error::login(&web, err)?).await,
    }
}

/// What the member named themselves with; empty fields are refused here so that
/// they do not count as failed attempts.
fn identifier(web: &Web, form: &LoginForm) -> Result<LoginIdentifier, Refusal> {
    let tr = web.tr;
    if form.password.is_empty() {
        return Err(Refusal::new(
            Some("password"),
            tr.get("login.enter_password"),
        ));
    }
    // The page offers these two (no choice at all reads as by document).
    if !matches!(form.by.as_str(), "account" | "document" | "") {
        return Err(Refusal::new(Some("by"), tr.get("error.bad_request.body")));
    }
    if form.by == "account" {
        if form.account_no.trim().is_empty() {
            return Err(Refusal::new(
                Some("account_no"),
                tr.get("login.enter_account"),
            ));
        }
        return Ok(LoginIdentifier::Account(form.account_no.clone()));
    }
    let Some(id_type) = IdType::from_code(&form.id_type) else {
        return Err(Refusal::new(
            Some("id_type"),
            tr.get("register.choose_id_type"),
        ));
    };
    if form.id_number.trim().is_empty() {
        return Err(Refusal::new(
            Some("id_number"),
            tr.get("login.enter_id_number"),
        ));
    }
    Ok(LoginIdentifier::Document {
        id_type,
        number: form.id_number.clone(),
    })
}

/// Sets the new session's cookie. A session this browser still had is ended, so a
/// login never leaves an older session of the same browser behind.
async fn logged_in(web: &Web, success: LoginSuccess) -> Reply {
    match auth::current(web).await {
        Ok(Some(previous)) => {
            if let Err(err) = web.state.portal.logout(&previous, &web.ctx()).await {
                tracing::warn!(error = %err, "the previous session could not be ended at login");
            }
        }
        Ok(None) => {}
        Err(internal) => {
            tracing::warn!(error = ?internal, "the previous session could not be read at login")
        }
    }
    Reply::see_other("/home").cookie(cookies::session(
        &web.state.settings,
        success.token.expose(),
    ))
}

/// The form; after a refusal the account number comes back but a document number
/// never does (no page carries a full document number).
async fn view(
    web: &Web,
    csrf: &str,
    form: &LoginForm,
    errors: FieldErrors,
) -> Result<LoginView, Internal> {
    Ok(LoginView {
        page: web.page("login.title").with_csrf(csrf).with_errors(errors),
        csrf: csrf.to_owned(),
        by_account: form.by == "account",
        id_types: id_type_choices(web.tr, &form.id_type),
        account_no: form.account_no.clone(),
        captcha: captcha::issue(web).await?,
    })
}

/// The form again with the refusal and a new captcha; the password is never echoed.
async fn again(web: &Web, form: &LoginForm, refusal: Refusal) -> Result<Reply, Internal> {
    let view = view(web, &form.csrf, form, refusal.errors.clone()).await?;
    Reply::refused(web, &view, &refusal)
}
