//! The member portal's HTML pages: registration, login, the member's home page, the
//! forgotten-password journeys, the security menu, reset tickets (online and on the
//! counter's PIN-pad page), the language switch, the staff console (`console`) and,
//! in dev mode, the outbox viewer.
//!
//! Every page is rendered from a template in `templates/` with texts from `messages/`,
//! is sent with `Cache-Control: no-store`, and every form that changes anything is a
//! POST checked for CSRF (see the `csrf` module).

mod auth;
mod captcha;
mod change_password;
mod confirm;
mod console;
mod context;
pub mod cookies;
mod csrf;
mod data_copy;
mod dev;
mod error;
mod forgot_login;
mod forgot_transaction;
pub(crate) mod fuzzing;
mod home;
mod identity_text;
mod lang;
pub(crate) mod layout;
mod login;
mod record;
pub(crate) use record::attachment as record_attachment;
mod not_me;
mod qualification;
mod recovery;
mod register;
mod security;
mod sessions;
mod ticket;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::state::AppState;

/// The one stylesheet, embedded.
const STYLESHEET: &str = include_str!("../../static/fundpass.css");

/// Routes of the portal pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::root))
        .route(
            "/register",
            get(register::identify_form).post(register::identify),
        )
        .route(
            "/register/code",
            get(register::start_over).post(register::code),
        )
        .route(
            "/register/resend",
            get(register::start_over).post(register::resend),
        )
        .route(
            "/register/passwords",
            get(register::start_over).post(register::passwords),
        )
        .route("/login", get(login::form).post(login::submit))
        .route(
            "/forgot-password",
            get(forgot_login::identify_form).post(forgot_login::identify),
        )
        .route(
            "/forgot-password/verify",
            get(forgot_login::start_over).post(forgot_login::verify),
        )
        .route(
            "/forgot-password/new",
            get(forgot_login::start_over).post(forgot_login::new_password),
        )
        .route("/security", get(security::menu))
        .route("/security/record", get(record::page))
        .route("/security/record/download", post(record::download))
        .route("/security/record/print", get(record::print))
        .route(
            "/security/record/{seq}/not-me",
            get(not_me::confirm).post(not_me::report),
        )
        .route(
            "/security/password",
            get(change_password::login_form).post(change_password::change_login),
        )
        .route(
            "/security/transaction-password/change",
            get(change_password::transaction_form).post(change_password::change_transaction),
        )
        .route(
            "/security/transaction-password",
            get(forgot_transaction::identify_form).post(forgot_transaction::identify),
        )
        .route(
            "/security/transaction-password/phone",
            get(forgot_transaction::start_over).post(forgot_transaction::phone),
        )
        .route(
            "/security/transaction-password/code",
            get(forgot_transaction::start_over).post(forgot_transaction::code),
        )
        .route(
            "/security/transaction-password/resend",
            get(forgot_transaction::start_over).post(forgot_transaction::resend),
        )
        .route(
            "/security/transaction-password/new",
            get(forgot_transaction::start_over).post(forgot_transaction::new_password),
        )
        .route(
            "/security/questions",
            get(security::questions_form).post(security::save_questions),
        )
        .route(
            "/security/my-data",
            get(data_copy::form).post(data_copy::download),
        )
        .route("/home", get(home::page))
        .route("/sessions", get(sessions::page))
        .route("/qualification", get(qualification::page))
        .route("/sessions/{id}/end", post(sessions::end))
        .route("/confirm/{id}", get(confirm::page).post(confirm::decide))
        .route("/logout", post(home::logout))
        .route("/logout-all", post(home::logout_all))
        .route(
            "/ticket",
            get(ticket::online_form).post(ticket::online_check),
        )
        .route(
            "/ticket/new",
            get(ticket_start_over).post(ticket::online_redeem),
        )
        .route(
            "/counter/pinpad",
            get(ticket::pinpad_form).post(ticket::pinpad_check),
        )
        .route(
            "/counter/pinpad/new",
            get(pinpad_start_over).post(ticket::pinpad_redeem),
        )
        .merge(console::router())
        .route("/lang", post(lang::switch))
        .route("/dev/outbox", get(dev::outbox))
        .route("/dev/outbox.json", get(dev::outbox_json))
        .route("/dev/captcha/{id}", get(dev::captcha))
        .route("/static/fundpass.css", get(stylesheet))
}

/// `GET` on the ticket's last step (a reload): back to the first.
async fn ticket_start_over() -> layout::Reply {
    layout::Reply::see_other("/ticket")
}

/// `GET` on the PIN-pad's last step: back to the first.
async fn pinpad_start_over() -> layout::Reply {
    layout::Reply::see_other("/counter/pinpad")
}

/// `GET /static/fundpass.css`: public and cacheable for a day.
async fn stylesheet() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=86400"),
        ],
        STYLESHEET,
    )
}
