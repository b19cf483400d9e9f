//! The member approves a payment a business system asked for: `/confirm/{id}` shows
//! this amount, this payee, this purpose, and takes the transaction password (or a
//! decline). The home page lists the payments waiting.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use fundpass_core::payout::{Authorization, ConfirmChannel, PayoutError, State};
use fundpass_core::portal::Authenticated;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use super::auth::Member;
use super::context::{PagePath, Web};
use super::csrf::{MemberForm, csrf_field};
use super::error::{Internal, Refusal};
use super::layout::{Page, Reply, clock_time, date_time, seconds_until};
use crate::i18n::Lang;

/// A payment as the member reads it.
pub(super) struct PaymentView {
    pub id: String,
    pub amount: String,
    pub payee_name: String,
    pub payee_account: String,
    pub purpose: &'static str,
    pub business_ref: String,
    pub requested_by: String,
    pub expires_at: String,
}

/// How `a`, asked for by `requested_by`, is shown.
pub(super) fn payment_view(web: &Web, a: &Authorization, requested_by: String) -> PaymentView {
    let (zh, en) = a.payment.purpose.words();
    PaymentView {
        id: a.id.clone(),
        amount: a.payment.amount_text(),
        payee_name: a.payment.payee_name.clone(),
        payee_account: a.payment.payee_account.clone(),
        purpose: match web.tr.lang() {
            Lang::Zh => zh,
            Lang::En => en,
        },
        business_ref: a.payment.business_ref.clone(),
        requested_by,
        expires_at: date_time(a.expires_at),
    }
}

/// The payments waiting for the member, for the home page.
pub(super) async fn pending(web: &Web, auth: &Authenticated) -> Result<Vec<PaymentView>, Internal> {
    let list = web
        .state
        .portal
        .pending_authorizations(auth)
        .await
        .map_err(|e| web.internal(e))?;
    let names = crate::api::authorizations::requesters(&web.state, &list).await;
    Ok(list
        .iter()
        .map(|a| payment_view(web, a, names.get(&a.client_id).cloned().unwrap_or_default()))
        .collect())
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmView {
    page: Page,
    csrf: String,
    payment: PaymentView,
    /// The form is shown only while the payment waits.
    pending: bool,
    /// What became of it, when it no longer waits.
    outcome: &'static str,
}

/// The confirmation form as posted.
#[derive(Deserialize)]
pub(super) struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default = "no_password")]
    transaction_password: SecretString,
    /// `confirm` or `decline`.
    #[serde(default)]
    decision: String,
}

fn no_password() -> SecretString {
    SecretString::from(String::new())
}

csrf_field!(ConfirmForm);

/// `GET /confirm/{id}`.
pub(super) async fn page(
    Member { web, auth }: Member,
    PagePath(id): PagePath<String>,
) -> Result<Response, Internal> {
    show(&web, &auth, &id, None).await
}

/// `POST /confirm/{id}`: confirm with the transaction password, or decline; then back
/// to the page, which says what became of the payment.
pub(super) async fn decide(
    PagePath(id): PagePath<String>,
    MemberForm { web, auth, form }: MemberForm<ConfirmForm>,
) -> Result<Response, Internal> {
    let portal = &web.state.portal;
    let ctx = web.ctx();
    let result = match form.decision.as_str() {
        "decline" => portal.decline_authorization(&auth, &id, &ctx).await,
        // The page's two buttons send one of these; anything else decides nothing.
        "confirm" | "" => {
            portal
                .confirm_authorization(
                    &auth,
                    &id,
                    form.transaction_password.expose_secret(),
                    ConfirmChannel::Web,
                    &ctx,
                )
                .await
        }
        _ => {
            let refusal = Refusal::new(Some("decision"), web.tr.get("error.bad_request.body"));
            return show(&web, &auth, &id, Some(refusal)).await;
        }
    };
    match result {
        Ok(_) => Ok(Reply::see_other(&format!("/confirm/{id}")).into_response()),
        // Not the member's own: the same answer as for an id nobody holds.
        Err(PayoutError::NotFound | PayoutError::Foreign) => Ok(super::error::not_found(&web)),
        Err(err) => {
            let refusal = refusal(&web, err)?;
            show(&web, &auth, &id, Some(refusal)).await
        }
    }
}

async fn show(
    web: &Web,
    auth: &Authenticated,
    id: &str,
    refusal: Option<Refusal>,
) -> Result<Response, Internal> {
    let record = match web.state.portal.member_authorization(auth, id).await {
        Ok(record) => record,
        Err(PayoutError::NotFound) => {
            return Ok(super::error::not_found(web));
        }
        Err(e) => return Err(web.internal(e)),
    };
    let state = record.state_at(web.now());
    let outcome = match state {
        State::Pending => "",
        State::Confirmed | State::Captured => web.tr.get("confirm.done_confirmed"),
        State::Declined => web.tr.get("confirm.done_declined"),
        State::Expired => web.tr.get("confirm.done_expired"),
    };
    let view = ConfirmView {
        page: web
            .page("confirm.title")
            .with_csrf(&auth.session.csrf)
            .with_refusal(refusal.as_ref()),
        csrf: auth.session.csrf.clone(),
        payment: {
            let names =
                crate::api::authorizations::requesters(&web.state, std::slice::from_ref(&record))
                    .await;
            payment_view(
                web,
                &record,
                names.get(&record.client_id).cloned().unwrap_or_default(),
            )
        },
        pending: state == State::Pending,
        outcome,
    };
    let reply = match refusal {
        Some(r) => Reply::refused(web, &view, &r)?,
        None => Reply::page(web, &view)?,
    };
    Ok(reply.into_response())
}

/// What the member is told when a decision is refused.
fn refusal(web: &Web, err: PayoutError) -> Result<Refusal, Internal> {
    let tr = web.tr;
    let now = web.now();
    let field = Some("transaction_password");
    Ok(match err {
        PayoutError::WrongTransactionPassword { remaining } => Refusal::new(
            field,
            tr.format(
                "confirm.wrong_password",
                &[("remaining", &remaining.to_string())],
            ),
        ),
        PayoutError::TransactionLocked { until } => Refusal::new(
            field,
            tr.format(
                "recovery.transaction_locked",
                &[("time", &clock_time(now, until))],
            ),
        ),
        PayoutError::TransactionDisabled => Refusal::new(
            None,
            tr.format(
                "recovery.transaction_disabled",
                &[("hotline", &web.state.portal.templates.hotline)],
            ),
        ),
        PayoutError::OnHold { until, .. } => Refusal::new(
            None,
            tr.format("confirm.on_hold", &[("time", &date_time(until))]),
        ),
        PayoutError::Expired => Refusal::new(None, tr.get("confirm.done_expired")),
        PayoutError::AlreadyDecided
        | PayoutError::Conflict
        | PayoutError::Declined
        | PayoutError::AlreadyCaptured
        | PayoutError::NotConfirmed => Refusal::new(None, tr.get("confirm.already_decided")),
        PayoutError::RateLimited { retry_after } => Refusal {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(seconds_until(now, retry_after)),
            ..Refusal::new(None, tr.get("error.busy"))
        },
        PayoutError::Busy(b) => Refusal {
            status: StatusCode::SERVICE_UNAVAILABLE,
            retry_after: Some(b.retry_after_secs.max(1)),
            ..Refusal::new(None, tr.get("error.busy"))
        },
        e @ (PayoutError::NotFound
        | PayoutError::Foreign
        | PayoutError::BadPayment(_)
        | PayoutError::UnknownMember
        | PayoutError::NotRegistered
        | PayoutError::MemberFrozen
        | PayoutError::ConfirmationRequired { .. }
        | PayoutError::BadIdempotencyKey
        | PayoutError::IdempotencyKeyReused
        | PayoutError::NoSigningKey
        | PayoutError::Client(_)
        | PayoutError::Store(_)) => return Err(web.internal(e)),
    })
}
