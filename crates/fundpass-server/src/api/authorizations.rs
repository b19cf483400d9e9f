//! Payments waiting for the member: the fund's business systems ask, the member
//! approves this amount to this payee with the transaction password, or declines.

use axum::Json;
use axum::extract::State;
use fundpass_core::audit::Channel;
use fundpass_core::payout::{Authorization, ConfirmChannel};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::SignedIn;
use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use super::path::ApiPath;
use super::{map, run};
use crate::request::ClientInfo;
use crate::state::AppState;

/// A payment waiting for the member's decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingPayment {
    /// The authorisation id.
    pub id: String,
    /// The amount in fen.
    pub amount_fen: i64,
    /// The amount as read: `12,345.50`.
    pub amount_text: String,
    /// `CNY`.
    pub currency: String,
    /// Who is paid.
    pub payee_name: String,
    /// The payee's account, masked.
    pub payee_account: String,
    /// The purpose code.
    pub purpose: String,
    /// The purpose in words (Chinese).
    pub purpose_text: String,
    /// The business system's reference.
    pub business_ref: String,
    /// Which of the fund's systems asked.
    pub requested_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    /// The member must decide before this.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
}

/// The member's payments waiting for a decision, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingList {
    pub authorizations: Vec<PendingPayment>,
}

/// The transaction password, approving this one payment.
#[derive(Deserialize, ToSchema)]
pub struct Confirmation {
    /// The six-digit transaction password.
    #[schema(value_type = String, format = Password, pattern = r"^[0-9０-９]{6}$")]
    pub transaction_password: SecretString,
}

/// The decision taken.
#[derive(Debug, Serialize, ToSchema)]
pub struct Decision {
    pub id: String,
    /// `confirmed` or `declined`.
    pub state: &'static str,
}

fn pending_view(a: &Authorization, requested_by: String) -> PendingPayment {
    PendingPayment {
        id: a.id.clone(),
        amount_fen: a.payment.amount_fen,
        amount_text: a.payment.amount_text(),
        currency: a.payment.currency.clone(),
        payee_name: a.payment.payee_name.clone(),
        payee_account: a.payment.payee_account.clone(),
        purpose: a.payment.purpose.code().to_owned(),
        purpose_text: a.payment.purpose.words().0.to_owned(),
        business_ref: a.payment.business_ref.clone(),
        requested_by,
        created_at: a.created_at,
        expires_at: a.expires_at,
    }
}

/// The names of the business systems that asked for `list`, as the member reads
/// them (each system looked up once, however many of its payments are listed).
pub(crate) async fn requesters(
    state: &AppState,
    list: &[Authorization],
) -> std::collections::HashMap<String, String> {
    let mut names = std::collections::HashMap::new();
    for a in list {
        if names.contains_key(&a.client_id) {
            continue;
        }
        let name = match state.portal.store.client(&a.client_id).await {
            Ok(Some(c)) if !c.description.is_empty() => c.description,
            _ => a.client_id.clone(),
        };
        names.insert(a.client_id.clone(), name);
    }
    names
}

/// Payments waiting for this member.
#[utoipa::path(
    get,
    path = "/api/v1/authorizations/pending",
    operation_id = "pending_authorizations",
    tag = "payments",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Payments waiting for a decision", body = PendingList),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only", body = ErrorBody),
    )
)]
pub async fn pending(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
) -> Result<Json<PendingList>, ApiError> {
    let list = run(
        &state,
        state.portal.pending_authorizations(&auth),
        map::payout,
    )
    .await?;
    let names = requesters(&state, &list).await;
    let authorizations = list
        .iter()
        .map(|a| pending_view(a, names.get(&a.client_id).cloned().unwrap_or_default()))
        .collect();
    Ok(Json(PendingList { authorizations }))
}

/// Approve this payment with the transaction password.
#[utoipa::path(
    post,
    path = "/api/v1/authorizations/{id}/confirm",
    operation_id = "confirm_authorization",
    tag = "payments",
    security(("bearer" = [])),
    params(("id" = String, Path, min_length = 1, description = "The authorisation id")),
    request_body = Confirmation,
    responses(
        (status = 200, description = "Confirmed: the business system may pay", body = Decision),
        (status = 400, description = "wrong_transaction_password (details.remaining)", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only", body = ErrorBody),
        (status = 404, description = "authorization_not_found", body = ErrorBody),
        (status = 409, description = "authorization_decided, member_on_hold, conflict", body = ErrorBody),
        (status = 410, description = "authorization_expired", body = ErrorBody),
        (status = 423, description = "transaction_locked, transaction_disabled", body = ErrorBody),
        (status = 503, description = "busy", body = ErrorBody),
    )
)]
pub async fn confirm(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedIn(auth): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Confirmation>,
) -> Result<Json<Decision>, ApiError> {
    let ctx = client.context(Channel::App);
    let done = run(
        &state,
        state.portal.confirm_authorization(
            &auth,
            &id,
            body.transaction_password.expose_secret(),
            ConfirmChannel::App,
            &ctx,
        ),
        map::payout,
    )
    .await?;
    Ok(Json(Decision {
        id: done.id,
        state: done.state.code(),
    }))
}

/// Refuse this payment.
#[utoipa::path(
    post,
    path = "/api/v1/authorizations/{id}/decline",
    operation_id = "decline_authorization",
    tag = "payments",
    security(("bearer" = [])),
    params(("id" = String, Path, min_length = 1, description = "The authorisation id")),
    responses(
        (status = 200, description = "Declined: the business system is told", body = Decision),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only", body = ErrorBody),
        (status = 404, description = "authorization_not_found", body = ErrorBody),
        (status = 409, description = "authorization_decided, conflict", body = ErrorBody),
        (status = 410, description = "authorization_expired", body = ErrorBody),
    )
)]
pub async fn decline(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedIn(auth): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Decision>, ApiError> {
    let ctx = client.context(Channel::App);
    let done = run(
        &state,
        state.portal.decline_authorization(&auth, &id, &ctx),
        map::payout,
    )
    .await?;
    Ok(Json(Decision {
        id: done.id,
        state: done.state.code(),
    }))
}
