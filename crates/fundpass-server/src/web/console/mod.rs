//! The staff console (`/staff/…`): login with password and TOTP, member look-up,
//! the counter's in-person check and reset tickets, four-eyes approval, the
//! hotline's checklist and reset code, and the audited reveal.
//!
//! A separate cookie (`fundpass_staff`, `SameSite=Strict`) carries the staff session;
//! every form carries that session's CSRF token. Pages show members masked; nothing a
//! member types on the PIN-pad page (`/counter/pinpad`, a member page) ever reaches a
//! staff session.

mod audit;
mod auth;
mod cases;
mod error;
pub(super) mod fuzzing;
mod hotline;
mod login;
mod members;
mod messages;

use axum::Router;
use axum::routing::{get, post};

pub(crate) use auth::current as current_staff;

use crate::state::AppState;

/// Routes of the staff console.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff", get(members::home))
        .route("/staff/login", get(login::form).post(login::submit))
        .route("/staff/mfa", get(login::mfa_form).post(login::mfa_submit))
        .route("/staff/logout", post(login::logout))
        .route(
            "/staff/password",
            get(login::password_form).post(login::password_submit),
        )
        .route("/staff/lookup", post(members::look_up))
        .route("/staff/members/{id}", get(members::member))
        .route("/staff/members/{id}/reveal", post(members::reveal))
        .route("/staff/members/{id}/counter", post(cases::open))
        .route("/staff/members/{id}/hotline", post(hotline::run))
        .route("/staff/cases/{id}", get(cases::case))
        .route("/staff/cases/{id}/issue", post(cases::issue))
        .route("/staff/cases/{id}/decide", post(cases::decide))
        .route("/staff/approvals", get(cases::approvals))
        .route("/staff/audit", get(audit::page))
        .route("/staff/anomalies", get(audit::anomalies))
        .route("/staff/checks/{id}", get(hotline::check))
        .route("/staff/checks/{id}/send", post(hotline::send))
}
