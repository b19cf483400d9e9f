//! Staff login pages: user name and password, then the TOTP code (with the QR code
//! to enrol on a first login), logout, and the password change the console insists
//! on once the password is past its maximum age.

use askama::Template;
use axum::response::{IntoResponse as _, Response};
use base64::Engine as _;
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use super::super::context::Web;
use super::super::cookies;
use super::super::csrf::{AnonForm, AnonToken, Posted, csrf_field, tokens_match};
use super::super::error::{Internal, Refusal, forbidden};
use super::super::layout::{Page, Reply};
use super::super::recovery::finish;
use super::auth::{StaffBar, StaffForm, StaffUser, current, frame};
use super::error;
use fundpass_core::console::StaffLoginError;
use fundpass_core::staff::TOTP_ISSUER;

/// The login form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct LoginForm {
    csrf: String,
    username: String,
    password: String,
}

/// The TOTP form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CodeForm {
    csrf: String,
    code: String,
}

/// The password change form as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
    new_password_again: String,
}

/// A form that carries nothing but its token.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TokenForm {
    csrf: String,
}

csrf_field!(LoginForm, CodeForm, PasswordForm, TokenForm);

#[derive(Template)]
#[template(path = "staff_login.html")]
struct LoginView {
    page: Page,
    csrf: String,
    username: String,
}

#[derive(Template)]
#[template(path = "staff_mfa.html")]
struct MfaView {
    page: Page,
    csrf: String,
    /// On a first login: the QR code (a data URI) and the secret typed by hand.
    enrol: Option<Enrolment>,
    restart: bool,
}

struct Enrolment {
    qr: String,
    secret: String,
    issuer: &'static str,
    account: String,
}

#[derive(Template)]
#[template(path = "staff_password.html")]
struct PasswordView {
    page: Page,
    staff: StaffBar,
    expired: bool,
}

/// `GET /staff/login`.
pub(super) async fn form(web: Web) -> Result<Reply, Internal> {
    if current(&web).await?.is_some() {
        return Ok(Reply::see_other("/staff"));
    }
    let token = AnonToken::for_page(&web);
    let reply = login_page(&web, &token.value, "", None)?;
    Ok(reply.maybe_cookie(token.set_cookie))
}

/// `POST /staff/login`: the password step; then the TOTP page.
pub(super) async fn submit(AnonForm { web, form }: AnonForm<LoginForm>) -> Result<Reply, Internal> {
    match web
        .state
        .portal
        .staff_login_password(&form.username, &form.password, &web.ctx())
        .await
    {
        Ok(step) => Ok(Reply::see_other("/staff/mfa")
            .cookie(cookies::staff(&web.state.settings, step.token.expose()))),
        Err(err) => {
            let refusal = error::login(&web, err)?;
            login_page(&web, &form.csrf, &form.username, Some(refusal))
        }
    }
}

fn login_page(
    web: &Web,
    csrf: &str,
    username: &str,
    refusal: Option<Refusal>,
) -> Result<Reply, Internal> {
    let view = LoginView {
        page: web
            .page("staff.login.title")
            .with_csrf(csrf)
            .with_refusal(refusal.as_ref()),
        csrf: csrf.to_owned(),
        username: username.trim().chars().take(32).collect(),
    };
    finish(web, &view, refusal.as_ref())
}

/// `GET /staff/mfa`: the code form, with the QR code on a first login.
pub(super) async fn mfa_form(web: Web) -> Result<Reply, Internal> {
    mfa_page(&web, None).await
}

/// `POST /staff/mfa`: the code; the console once it is right.
pub(super) async fn mfa_submit(
    Posted { web, form }: Posted<CodeForm>,
) -> Result<Response, Internal> {
    let token = web
        .cookie(web.state.settings.staff_cookie())
        .unwrap_or_default()
        .to_owned();
    let step = match web.state.portal.staff_password_step(&token).await {
        Ok(step) => step,
        Err(StaffLoginError::Store(e)) => return Err(web.internal(e)),
        Err(_) => return Ok(Reply::see_other("/staff/login").into_response()),
    };
    if !tokens_match(&step.session.csrf, &form.csrf) {
        tracing::warn!(path = %web.path, "console form refused: CSRF token missing or wrong");
        return Ok(forbidden(&web));
    }
    match web
        .state
        .portal
        .staff_login_code(&token, &form.code, &web.ctx())
        .await
    {
        Ok(session) => Ok(Reply::see_other("/staff")
            .cookie(cookies::staff(&web.state.settings, session.expose()))
            .into_response()),
        Err(err) => {
            let refusal = error::login(&web, err)?;
            Ok(mfa_page(&web, Some(refusal)).await?.into_response())
        }
    }
}

async fn mfa_page(web: &Web, refusal: Option<Refusal>) -> Result<Reply, Internal> {
    let token = web
        .cookie(web.state.settings.staff_cookie())
        .unwrap_or_default();
    let step = match web.state.portal.staff_password_step(token).await {
        Ok(step) => step,
        Err(StaffLoginError::Store(e)) => return Err(web.internal(e)),
        Err(_) => return Ok(Reply::see_other("/staff/login")),
    };
    let (uri, refusal) = match web.state.portal.staff_enrolment_uri(&step) {
        Ok(uri) => (uri, refusal),
        // The account was enrolled by another login meanwhile: this step is over.
        Err(StaffLoginError::StartAgain) => {
            (None, Some(error::login(web, StaffLoginError::StartAgain)?))
        }
        Err(e) => return Err(web.internal(e)),
    };
    let enrol = match uri {
        Some(uri) => Some(enrolment(
            web,
            uri.expose_secret(),
            step.staff.username.as_str(),
        )?),
        None => None,
    };
    let title = if enrol.is_some() {
        "staff.mfa.enrol_title"
    } else {
        "staff.mfa.title"
    };
    let view = MfaView {
        page: web.page(title).with_refusal(refusal.as_ref()),
        csrf: step.session.csrf.clone(),
        enrol,
        restart: refusal.as_ref().is_some_and(|r| r.restart),
    };
    finish(web, &view, refusal.as_ref())
}

/// The QR code of an `otpauth://` URI as an SVG data URI, and its secret for typing.
fn enrolment(web: &Web, uri: &str, account: &str) -> Result<Enrolment, Internal> {
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| web.internal(e))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    let qr = format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    );
    let secret = uri
        .split(['?', '&'])
        .find_map(|part| part.strip_prefix("secret="))
        .unwrap_or_default();
    // Groups of four for typing into an authenticator by hand.
    let grouped: Vec<String> = secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    Ok(Enrolment {
        qr,
        secret: grouped.join(" "),
        issuer: TOTP_ISSUER,
        account: account.to_owned(),
    })
}

/// `POST /staff/logout`.
pub(super) async fn logout(
    StaffForm { web, auth, .. }: StaffForm<TokenForm>,
) -> Result<Reply, Internal> {
    web.state
        .portal
        .staff_logout(&auth, &web.ctx())
        .await
        .map_err(|e| web.internal(e))?;
    Ok(Reply::see_other("/staff/login").cookie(cookies::clear_staff(&web.state.settings)))
}

/// `GET /staff/password`.
pub(super) async fn password_form(StaffUser { web, auth }: StaffUser) -> Result<Reply, Internal> {
    password_page(&web, &auth, None)
}

/// `POST /staff/password`: the new password; a new session cookie.
pub(super) async fn password_submit(
    StaffForm { web, auth, form }: StaffForm<PasswordForm>,
) -> Result<Reply, Internal> {
    match web
        .state
        .portal
        .change_staff_password(
            &auth,
            &form.current_password,
            &form.new_password,
            &form.new_password_again,
            &web.ctx(),
        )
        .await
    {
        Ok(token) => {
            Ok(Reply::see_other("/staff")
                .cookie(cookies::staff(&web.state.settings, token.expose())))
        }
        Err(err) => {
            let refusal = error::login(&web, err)?;
            password_page(&web, &auth, Some(refusal))
        }
    }
}

fn password_page(
    web: &Web,
    auth: &fundpass_core::console::StaffAuth,
    refusal: Option<Refusal>,
) -> Result<Reply, Internal> {
    let (page, staff) = frame(web, auth, "staff.password.title");
    let view = PasswordView {
        page: page.with_refusal(refusal.as_ref()),
        staff,
        expired: web.state.portal.staff_must_change_password(auth),
    };
    finish(web, &view, refusal.as_ref())
}
