//! Changing a password the member knows, from the security menu: the login password
//! (`/security/password`) and the transaction password
//! (`/security/transaction-password/change`), each with the current one and the new
//! one twice. After a change the member goes on in this browser under a new session
//! cookie; every other browser and the app are logged out.
//!
//! Wrong current passwords count against the same locks as everywhere else; the
//! wrong login password that locks the account also ends this session, and the page
//! then says until when and leads to the login page. Nothing typed comes back.

use askama::Template;
use axum::http::StatusCode;
use fundpass_core::portal::{Authenticated, PasswordChangeError, PasswordChanged};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use super::auth::Member;
use super::context::Web;
use super::cookies;
use super::csrf::{AnonToken, MemberForm, csrf_field};
use super::error::{FieldErrors, Internal, Refusal};
use super::layout::{Page, Reply, clock_time, date_time};
use super::recovery::finish;
use super::register::login_hint;

/// Which password a page changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Secret {
    Login,
    Transaction,
}

impl Secret {
    fn action(self) -> &'static str {
        match self {
            Self::Login => "/security/password",
            Self::Transaction => "/security/transaction-password/change",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::Login => "change.login_title",
            Self::Transaction => "change.transaction_title",
        }
    }
}

/// The change form as posted; every password is secret from the moment it is read.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ChangeForm {
    csrf: String,
    current_password: SecretString,
    new_password: SecretString,
    new_password_again: SecretString,
}

csrf_field!(ChangeForm);

#[derive(Template)]
#[template(path = "change_password.html")]
struct FormView {
    page: Page,
    csrf: String,
    action: &'static str,
    current_label: &'static str,
    new_label: &'static str,
    again_label: &'static str,
    hint: String,
    /// A six-digit transaction password (numeric keyboard, six characters).
    numeric: bool,
    /// What to do when the current password is forgotten.
    forgot: String,
    /// The forgotten-password journey, when it starts from here.
    forgot_link: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "change_done.html")]
struct DoneView {
    page: Page,
    /// What happened (empty when the page only shows a refusal).
    done: &'static str,
    /// Every session ended, this one too: the way on is the login page.
    signed_out: bool,
}

/// `GET /security/password`.
pub(super) async fn login_form(Member { web, auth }: Member) -> Result<Reply, Internal> {
    form_page(&web, &auth, Secret::Login, None)
}

/// `GET /security/transaction-password/change`.
pub(super) async fn transaction_form(Member { web, auth }: Member) -> Result<Reply, Internal> {
    form_page(&web, &auth, Secret::Transaction, None)
}

/// `POST /security/password`.
pub(super) async fn change_login(form: MemberForm<ChangeForm>) -> Result<Reply, Internal> {
    change(form, Secret::Login).await
}

/// `POST /security/transaction-password/change`.
pub(super) async fn change_transaction(form: MemberForm<ChangeForm>) -> Result<Reply, Internal> {
    change(form, Secret::Transaction).await
}

async fn change(
    MemberForm { web, auth, form }: MemberForm<ChangeForm>,
    secret: Secret,
) -> Result<Reply, Internal> {
    let portal = &web.state.portal;
    let (current, new, again) = (
        form.current_password.expose_secret(),
        form.new_password.expose_secret(),
        form.new_password_again.expose_secret(),
    );
    let ctx = web.ctx();
    let result = match secret {
        Secret::Login => {
            portal
                .change_login_password(&auth, current, new, again, &ctx)
                .await
        }
        Secret::Transaction => {
            portal
                .change_transaction_password(&auth, current, new, again, &ctx)
                .await
        }
    };
    match result {
        Ok(changed) => done_page(&web, secret, &changed),
        Err(PasswordChangeError::LockedOut { until }) => locked_out_page(&web, secret, until),
        Err(err) => {
            let refusal = refusal(&web, secret, err)?;
            form_page(&web, &auth, secret, Some(refusal))
        }
    }
}

fn form_page(
    web: &Web,
    auth: &Authenticated,
    secret: Secret,
    refusal: Option<Refusal>,
) -> Result<Reply, Internal> {
    let tr = web.tr;
    let csrf = &auth.session.csrf;
    let page = web
        .page(secret.title())
        .with_csrf(csrf)
        .with_refusal(refusal.as_ref());
    let view = match secret {
        Secret::Login => FormView {
            page,
            csrf: csrf.clone(),
            action: secret.action(),
            current_label: tr.get("change.current_login"),
            new_label: tr.get("field.login_password_new"),
            again_label: tr.get("field.login_password_again"),
            hint: login_hint(web),
            numeric: false,
            forgot: tr.get("security.login_hint").to_owned(),
            forgot_link: None,
        },
        Secret::Transaction => FormView {
            page,
            csrf: csrf.clone(),
            action: secret.action(),
            current_label: tr.get("change.current_transaction"),
            new_label: tr.get("field.transaction_password_new"),
            again_label: tr.get("field.transaction_password_again"),
            hint: tr.get("passwords.transaction_hint").to_owned(),
            numeric: true,
            forgot: tr.get("change.forgot_transaction").to_owned(),
            forgot_link: Some("/security/transaction-password"),
        },
    };
    finish(web, &view, refusal.as_ref())
}

/// Changed: the confirmation, and this browser's new session cookie.
fn done_page(web: &Web, secret: Secret, changed: &PasswordChanged) -> Result<Reply, Internal> {
    let done = match secret {
        Secret::Login => "change.login_done",
        Secret::Transaction => "change.transaction_done",
    };
    let view = DoneView {
        page: web.page(secret.title()).with_csrf(&changed.csrf),
        done: web.tr.get(done),
        signed_out: false,
    };
    let cookie = cookies::session(&web.state.settings, changed.token.expose());
    Ok(Reply::page(web, &view)?.cookie(cookie))
}

/// The wrong login password that locked the account: every session has ended, this
/// browser's cookie goes, and the page says until when.
fn locked_out_page(
    web: &Web,
    secret: Secret,
    until: time::OffsetDateTime,
) -> Result<Reply, Internal> {
    let token = AnonToken::for_page(web);
    let refusal = Refusal::new(
        None,
        web.tr.format(
            "change.locked_out",
            &[("time", &clock_time(web.now(), until))],
        ),
    );
    let view = DoneView {
        page: web
            .page(secret.title())
            .with_csrf(&token.value)
            .with_refusal(Some(&refusal)),
        done: "",
        signed_out: true,
    };
    Ok(Reply::refused(web, &view, &refusal)?
        .maybe_cookie(token.set_cookie)
        .cookie(cookies::clear_session(&web.state.settings)))
}

/// What the member is shown for a refused change, next to the field it is about.
fn refusal(web: &Web, secret: Secret, err: PasswordChangeError) -> Result<Refusal, Internal> {
    let tr = web.tr;
    let now = web.now();
    let remaining = |key: &'static str, n: i32| {
        Refusal::new(
            Some("current_password"),
            tr.format(key, &[("remaining", &n.to_string())]),
        )
    };
    Ok(match err {
        PasswordChangeError::WrongLoginPassword { remaining: n } => {
            remaining("change.wrong_login", n)
        }
        PasswordChangeError::WrongTransactionPassword { remaining: n } => {
            remaining("change.wrong_transaction", n)
        }
        PasswordChangeError::Locked { until } | PasswordChangeError::LockedOut { until } => {
            Refusal::new(
                None,
                tr.format("change.login_locked", &[("time", &clock_time(now, until))]),
            )
        }
        PasswordChangeError::TransactionLocked { until } => Refusal::new(
            None,
            tr.format(
                "recovery.transaction_locked",
                &[("time", &clock_time(now, until))],
            ),
        ),
        PasswordChangeError::TransactionDisabled => Refusal::new(
            None,
            tr.format(
                "recovery.transaction_disabled",
                &[("hotline", &web.state.portal.templates.hotline)],
            ),
        ),
        PasswordChangeError::NewSecret {
            violations,
            mismatch,
        } => {
            let mut errors = FieldErrors::default();
            for v in &violations {
                errors.push(Some("new_password"), v.message(tr.lang()));
            }
            if mismatch {
                let key = match secret {
                    Secret::Login => "passwords.login_mismatch",
                    Secret::Transaction => "passwords.transaction_mismatch",
                };
                errors.push(Some("new_password_again"), tr.get(key));
            }
            Refusal::of(errors)
        }
        PasswordChangeError::Conflict => Refusal::new(None, tr.get("change.conflict")),
        PasswordChangeError::Busy(busy) => Refusal::wait(
            StatusCode::SERVICE_UNAVAILABLE,
            busy.retry_after_secs.max(1),
            tr.get("error.busy"),
        ),
        // A browser's cookie never carries a face-login session: reaching this is a
        // fault, not something the member can act on.
        err @ PasswordChangeError::RecoverySession => return Err(web.internal(err)),
        PasswordChangeError::Store(e) => return Err(web.internal(e)),
    })
}

/// The home page's gentle reminder when the login password is older than the
/// configured age: when it was set, in words (`None`: no reminder).
pub(super) async fn reminder(web: &Web, auth: &Authenticated) -> Result<Option<String>, Internal> {
    let set_at = web
        .state
        .portal
        .login_password_reminder(auth)
        .await
        .map_err(|e| web.internal(e))?;
    Ok(set_at.map(|at| {
        web.tr
            .format("change.reminder", &[("time", &date_time(at))])
    }))
}
