//! A copy of one's personal information (PIPL Art. 45), from the security menu:
//! `GET /security/my-data` asks for the login password, `POST` answers with the
//! download (the API's document, as an attachment) or the form with what went wrong.
//!
//! The full document number and phone appear in the download only, never on this or
//! any other page. A wrong password counts against the login lock; the one that
//! locks the account ends this session too and the page leads to the login page.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use fundpass_core::portal::{Authenticated, DataCopyError};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use super::auth::Member;
use super::context::Web;
use super::cookies;
use super::csrf::{AnonToken, MemberForm, csrf_field};
use super::error::{Internal, Refusal};
use super::layout::{Page, Reply, clock_time};
use super::recovery::finish;
use crate::api::data_copy::MyData;

const TITLE: &str = "data_copy.title";

/// The form as posted; the password is secret from the moment it is read.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CopyForm {
    csrf: String,
    password: SecretString,
}

csrf_field!(CopyForm);

#[derive(Template)]
#[template(path = "data_copy.html")]
struct FormView {
    page: Page,
    csrf: String,
}

#[derive(Template)]
#[template(path = "data_copy_locked.html")]
struct LockedView {
    page: Page,
}

/// `GET /security/my-data`.
pub(super) async fn form(Member { web, auth }: Member) -> Result<Reply, Internal> {
    form_page(&web, &auth, None)
}

/// `POST /security/my-data`: the download, or the form with the refusal.
pub(super) async fn download(
    MemberForm { web, auth, form }: MemberForm<CopyForm>,
) -> Result<Response, Internal> {
    let ctx = web.ctx();
    let result = web
        .state
        .portal
        .data_copy(&auth, form.password.expose_secret(), &ctx)
        .await;
    Ok(match result {
        Ok(copy) => {
            let date = copy.exported_on;
            MyData::of(copy, web.tr.lang()).attachment(date)
        }
        Err(DataCopyError::LockedOut { until }) => locked_out_page(&web, until)?.into_response(),
        Err(err) => {
            let refusal = refusal(&web, err)?;
            form_page(&web, &auth, Some(refusal))?.into_response()
        }
    })
}

fn form_page(web: &Web, auth: &Authenticated, refusal: Option<Refusal>) -> Result<Reply, Internal> {
    let csrf = &auth.session.csrf;
    let view = FormView {
        page: web
            .page(TITLE)
            .with_csrf(csrf)
            .with_refusal(refusal.as_ref()),
        csrf: csrf.clone(),
    };
    finish(web, &view, refusal.as_ref())
}

/// The wrong password that locked the account: every session has ended, this
/// browser's cookie goes, and the page says until when.
fn locked_out_page(web: &Web, until: time::OffsetDateTime) -> Result<Reply, Internal> {
    let token = AnonToken::for_page(web);
    let refusal = Refusal::new(
        None,
        web.tr.format(
            "change.locked_out",
            &[("time", &clock_time(web.now(), until))],
        ),
    );
    let view = LockedView {
        page: web
            .page(TITLE)
            .with_csrf(&token.value)
            .with_refusal(Some(&refusal)),
    };
    Ok(Reply::refused(web, &view, &refusal)?
        .maybe_cookie(token.set_cookie)
        .cookie(cookies::clear_session(&web.state.settings)))
}

/// What the member is shown when no copy was given.
fn refusal(web: &Web, err: DataCopyError) -> Result<Refusal, Internal> {
    let tr = web.tr;
    Ok(match err {
        DataCopyError::WrongPassword { remaining } => Refusal::new(
            Some("password"),
            tr.format(
                "data_copy.wrong_password",
                &[("remaining", &remaining.to_string())],
            ),
        ),
        DataCopyError::Locked { until } | DataCopyError::LockedOut { until } => Refusal::new(
            None,
            tr.format(
                "change.login_locked",
                &[("time", &clock_time(web.now(), until))],
            ),
        ),
        DataCopyError::Conflict => Refusal::new(None, tr.get("change.conflict")),
        DataCopyError::Busy(busy) => Refusal::wait(
            StatusCode::SERVICE_UNAVAILABLE,
            busy.retry_after_secs.max(1),
            tr.get("error.busy"),
        ),
        // A browser's cookie never carries a face-login session.
        err @ DataCopyError::RecoverySession => return Err(web.internal(err)),
        DataCopyError::Store(e) => return Err(web.internal(e)),
    })
}
