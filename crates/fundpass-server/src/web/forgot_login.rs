//! Forgotten login password (seed scenario 1), anonymous: name, document and captcha
//! → the transaction password → the new login password twice → done, logged out
//! everywhere.
//!
//! The identify step always leads to the transaction-password page, whether or not
//! the details matched anyone, and a wrong transaction password reads "could not be
//! verified" without saying which detail was wrong.

use askama::Template;
use fundpass_core::portal::NewSecret;
use serde::Deserialize;

use super::context::Web;
use super::csrf::{AnonForm, AnonToken, csrf_field};
use super::error::{self, Internal, Refusal};
use super::layout::{Page, Reply};
use super::recovery::{
    self, IdentifyForm, Journey, NewSecretForm, StepView, finish, identify_page, new_secret_page,
};

const JOURNEY: Journey = Journey::Login;

/// The transaction-password form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct VerifyForm {
    csrf: String,
    flow: String,
    transaction_password: String,
}

csrf_field!(VerifyForm);

#[derive(Template)]
#[template(path = "forgot_login_verify.html")]
struct VerifyView {
    page: Page,
    csrf: String,
    flow: String,
    steps: Vec<StepView>,
    restart: bool,
    /// What to do when the transaction password is forgotten as well.
    forgot_both: String,
}

/// `GET /forgot-password`: the identify form.
pub(super) async fn identify_form(web: Web) -> Result<Reply, Internal> {
    let token = AnonToken::for_page(&web);
    let reply = identify_page(&web, JOURNEY, &token.value, &IdentifyForm::default(), None).await?;
    Ok(reply.maybe_cookie(token.set_cookie))
}

/// `POST /forgot-password`: captcha first, then the details; the transaction-password
/// page whatever they matched.
pub(super) async fn identify(
    AnonForm { web, form }: AnonForm<IdentifyForm>,
) -> Result<Reply, Internal> {
    if let Err(err) = web
        .state
        .portal
        .check_captcha(&form.captcha_id, &form.captcha_answer)
        .await
    {
        let refusal = error::captcha(&web, err)?;
        return identify_page(&web, JOURNEY, &form.csrf, &form, Some(refusal)).await;
    }
    let input = match form.input(&web) {
        Ok(input) => input,
        Err(refusal) => {
            return identify_page(&web, JOURNEY, &form.csrf, &form, Some(refusal)).await;
        }
    };
    let ctx = web.ctx();
    let step = web.state.portal.start_forgot_login(&input, &ctx);
    match crate::evenly::evenly(&web.state, step).await {
        Ok(started) => verify_page(&web, &form.csrf, started.flow.expose(), None),
        Err(err) => {
            let refusal = recovery::refusal(&web, JOURNEY, err)?;
            identify_page(&web, JOURNEY, &form.csrf, &form, Some(refusal)).await
        }
    }
}

/// `POST /forgot-password/verify`: the new-password page once the transaction
/// password is right.
pub(super) async fn verify(
    AnonForm { web, form }: AnonForm<VerifyForm>,
) -> Result<Reply, Internal> {
    match web
        .state
        .portal
        .verify_forgot_login(&form.flow, &form.transaction_password, &web.ctx())
        .await
    {
        Ok(()) => new_secret_page(&web, JOURNEY, &form.csrf, &form.flow, None),
        Err(err) => {
            let refusal = recovery::refusal(&web, JOURNEY, err)?;
            verify_page(&web, &form.csrf, &form.flow, Some(refusal))
        }
    }
}

fn verify_page(
    web: &Web,
    csrf: &str,
    flow: &str,
    refusal: Option<Refusal>,
) -> Result<Reply, Internal> {
    let view = VerifyView {
        page: JOURNEY.page(web, csrf, refusal.as_ref()),
        csrf: csrf.to_owned(),
        flow: flow.to_owned(),
        steps: JOURNEY.steps(web, 1),
        restart: refusal.as_ref().is_some_and(|r| r.restart),
        forgot_both: web.tr.format(
            "forgot_login.forgot_both",
            &[("hotline", &web.state.portal.templates.hotline)],
        ),
    };
    finish(web, &view, refusal.as_ref())
}

/// `POST /forgot-password/new`: the new login password; every session ends.
pub(super) async fn new_password(
    AnonForm { web, form }: AnonForm<NewSecretForm>,
) -> Result<Reply, Internal> {
    let NewSecretForm {
        csrf,
        flow,
        new_password,
        new_password_again,
    } = form;
    let secret = NewSecret {
        value: new_password,
        again: new_password_again,
    };
    match web
        .state
        .portal
        .complete_forgot_login(&flow, &secret, &web.ctx())
        .await
    {
        Ok(()) => recovery::done_page(&web, JOURNEY),
        Err(err) => {
            let refusal = recovery::refusal(&web, JOURNEY, err)?;
            new_secret_page(&web, JOURNEY, &csrf, &flow, Some(refusal))
        }
    }
}

/// `GET` on a step's address (a reload after a post): back to the first step.
pub(super) async fn start_over() -> Reply {
    Reply::see_other(JOURNEY.start())
}
