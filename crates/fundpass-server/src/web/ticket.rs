//! Redeeming a reset ticket from the counter or the hotline: online (`/ticket`) or
//! on the counter's PIN-pad page (`/counter/pinpad`), a member page the counter
//! opens for the member on a separate screen. Both are anonymous: the ticket and the
//! document first, then the new secret(s) the ticket is for. No staff cookie is
//! read and nothing typed is ever shown back.

use askama::Template;
use fundpass_core::assisted::ResetScope;
use fundpass_core::identity::IdType;
use fundpass_core::member::SecretKind;
use fundpass_core::portal::{NewSecret, TicketError};
use serde::Deserialize;

use super::context::Web;
use super::cookies;
use super::csrf::{AnonForm, AnonToken, csrf_field};
use super::error::{FieldErrors, Internal, Refusal};
use super::identity_text::id_number_error;
use super::layout::{Choice, Page, Reply, clock_time, id_type_choices, seconds_until};
use super::recovery::finish;
use super::register::login_hint;

/// Where the pages are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    Online,
    PinPad,
}

impl Place {
    fn start(self) -> &'static str {
        match self {
            Self::Online => "/ticket",
            Self::PinPad => "/counter/pinpad",
        }
    }

    fn finish_action(self) -> &'static str {
        match self {
            Self::Online => "/ticket/new",
            Self::PinPad => "/counter/pinpad/new",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::Online => "ticket.title",
            Self::PinPad => "ticket.pinpad_title",
        }
    }
}

/// The ticket and document as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct TicketForm {
    csrf: String,
    ticket: String,
    id_type: String,
    id_number: String,
}

/// The new secrets as posted (only those the ticket is for are read).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RedeemForm {
    csrf: String,
    redemption: String,
    login_password: String,
    login_password_again: String,
    transaction_password: String,
    transaction_password_again: String,
}

csrf_field!(TicketForm, RedeemForm);

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketView {
    page: Page,
    csrf: String,
    action: &'static str,
    pinpad: bool,
    id_types: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "ticket_new.html")]
struct NewView {
    page: Page,
    csrf: String,
    action: &'static str,
    start: &'static str,
    redemption: String,
    login: bool,
    transaction: bool,
    login_hint: String,
    until: String,
    restart: bool,
}

#[derive(Template)]
#[template(path = "ticket_done.html")]
struct DoneView {
    page: Page,
    pinpad: bool,
}

/// `GET /ticket`.
pub(super) async fn online_form(web: Web) -> Result<Reply, Internal> {
    form(web, Place::Online).await
}

/// `GET /counter/pinpad`.
pub(super) async fn pinpad_form(web: Web) -> Result<Reply, Internal> {
    form(web, Place::PinPad).await
}

async fn form(web: Web, place: Place) -> Result<Reply, Internal> {
    let token = AnonToken::for_page(&web);
    let reply = ticket_page(&web, place, &token.value, "", None)?;
    Ok(reply.maybe_cookie(token.set_cookie))
}

/// `POST /ticket`.
pub(super) async fn online_check(form: AnonForm<TicketForm>) -> Result<Reply, Internal> {
    check(form, Place::Online).await
}

/// `POST /counter/pinpad`.
pub(super) async fn pinpad_check(form: AnonForm<TicketForm>) -> Result<Reply, Internal> {
    check(form, Place::PinPad).await
}

async fn check(
    AnonForm { web, form }: AnonForm<TicketForm>,
    place: Place,
) -> Result<Reply, Internal> {
    let Some(id_type) = IdType::from_code(form.id_type.trim()) else {
        let refusal = Refusal::new(Some("id_type"), web.tr.get("register.choose_id_type"));
        return ticket_page(&web, place, &form.csrf, &form.id_type, Some(refusal));
    };
    match web
        .state
        .portal
        .check_reset_ticket(&form.ticket, id_type, &form.id_number, &web.ctx())
        .await
    {
        Ok(checked) => new_page(
            &web,
            place,
            &form.csrf,
            checked.redemption.expose(),
            checked.scope,
            &clock_time(web.now(), checked.expires_at),
            None,
        ),
        Err(err) => {
            let refusal = refusal(&web, err)?;
            ticket_page(&web, place, &form.csrf, &form.id_type, Some(refusal))
        }
    }
}

/// `POST /ticket/new`.
pub(super) async fn online_redeem(form: AnonForm<RedeemForm>) -> Result<Reply, Internal> {
    redeem(form, Place::Online).await
}

/// `POST /counter/pinpad/new`.
pub(super) async fn pinpad_redeem(form: AnonForm<RedeemForm>) -> Result<Reply, Internal> {
    redeem(form, Place::PinPad).await
}

async fn redeem(
    AnonForm { web, form }: AnonForm<RedeemForm>,
    place: Place,
) -> Result<Reply, Internal> {
    let login = NewSecret {
        value: form.login_password,
        again: form.login_password_again,
    };
    let transaction = NewSecret {
        value: form.transaction_password,
        again: form.transaction_password_again,
    };
    match web
        .state
        .portal
        .redeem_reset_ticket(&form.redemption, &login, &transaction, &web.ctx())
        .await
    {
        Ok(()) => {
            let token = AnonToken::for_page(&web);
            let view = DoneView {
                page: web.page(place.title()).with_csrf(&token.value),
                pinpad: place == Place::PinPad,
            };
            let settings = &web.state.settings;
            let had_session = web.cookie(settings.session_cookie()).is_some();
            Ok(Reply::page(&web, &view)?
                .maybe_cookie(token.set_cookie)
                .maybe_cookie(had_session.then(|| cookies::clear_session(settings))))
        }
        Err(TicketError::Secrets {
            scope,
            login,
            transaction,
        }) => {
            let mut errors = FieldErrors::default();
            for (field, again, found, mismatch_key) in [
                (
                    "login_password",
                    "login_password_again",
                    &login,
                    "passwords.login_mismatch",
                ),
                (
                    "transaction_password",
                    "transaction_password_again",
                    &transaction,
                    "passwords.transaction_mismatch",
                ),
            ] {
                if let Some((violations, mismatch)) = found {
                    for v in violations {
                        errors.push(Some(field), v.message(web.tr.lang()));
                    }
                    if *mismatch {
                        errors.push(Some(again), web.tr.get(mismatch_key));
                    }
                }
            }
            new_page(
                &web,
                place,
                &form.csrf,
                &form.redemption,
                scope,
                "",
                Some(Refusal::of(errors)),
            )
        }
        Err(err) => {
            let refusal = refusal(&web, err)?;
            new_page(
                &web,
                place,
                &form.csrf,
                "",
                ResetScope::Both,
                "",
                Some(refusal),
            )
        }
    }
}

fn ticket_page(
    web: &Web,
    place: Place,
    csrf: &str,
    id_type: &str,
    refusal: Option<Refusal>,
) -> Result<Reply, Internal> {
    let view = TicketView {
        page: web
            .page(place.title())
            .with_csrf(csrf)
            .with_refusal(refusal.as_ref()),
        csrf: csrf.to_owned(),
        action: place.start(),
        pinpad: place == Place::PinPad,
        id_types: id_type_choices(web.tr, id_type),
    };
    finish(web, &view, refusal.as_ref())
}

fn new_page(
    web: &Web,
    place: Place,
    csrf: &str,
    redemption: &str,
    scope: ResetScope,
    until: &str,
    refusal: Option<Refusal>,
) -> Result<Reply, Internal> {
    let kinds = scope.kinds();
    let view = NewView {
        page: web
            .page(place.title())
            .with_csrf(csrf)
            .with_refusal(refusal.as_ref()),
        csrf: csrf.to_owned(),
        action: place.finish_action(),
        start: place.start(),
        redemption: redemption.to_owned(),
        login: kinds.contains(&SecretKind::Login),
        transaction: kinds.contains(&SecretKind::Transaction),
        login_hint: login_hint(web),
        until: until.to_owned(),
        restart: refusal.as_ref().is_some_and(|r| r.restart),
    };
    finish(web, &view, refusal.as_ref())
}

/// How a refused ticket step reads: one sentence for every ticket that cannot be
/// used, whatever the reason.
fn refusal(web: &Web, err: TicketError) -> Result<Refusal, Internal> {
    let tr = web.tr;
    Ok(match err {
        TicketError::BadIdNumber(e) => Refusal::new(Some("id_number"), id_number_error(tr, &e)),
        TicketError::NotValid => Refusal::new(Some("ticket"), tr.get("ticket.not_valid")),
        TicketError::RateLimited { retry_after } => Refusal::wait(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            seconds_until(web.now(), retry_after),
            tr.format(
                "ticket.rate_limited",
                &[("time", &clock_time(web.now(), retry_after))],
            ),
        ),
        TicketError::StartAgain => Refusal::restart(tr.get("ticket.start_again")),
        TicketError::Secrets { .. } => Refusal::new(None, tr.get("ticket.not_valid")),
        TicketError::Conflict => Refusal::restart(tr.get("ticket.start_again")),
        TicketError::Busy(busy) => Refusal::wait(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            busy.retry_after_secs.max(1),
            tr.get("error.busy"),
        ),
        TicketError::Store(e) => return Err(web.internal(e)),
    })
}
