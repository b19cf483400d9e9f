//! The member's home page (masked profile, last login, holds in force, the way to the
//! security menu) and ending sessions.

use askama::Template;
use fundpass_core::crypto::Field;
use fundpass_core::identity::{Phone, mask_id_number};
use fundpass_core::member::MemberStatus;
use fundpass_core::portal::Authenticated;
use serde::Deserialize;

use super::auth::{self, Member};
use super::context::Web;
use super::cookies;
use super::csrf::{MemberForm, csrf_field};
use super::error::Internal;
use super::layout::{Page, Reply, date_time};
use super::security::{self, HoldView};

/// A form that carries nothing but its token (logout buttons).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct TokenForm {
    csrf: String,
}

csrf_field!(TokenForm);

/// The previous login, as the member is shown it.
struct LastLogin {
    time: String,
    place: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomeView {
    page: Page,
    csrf: String,
    welcome: String,
    name: String,
    account_no: String,
    id_type: &'static str,
    id_number: String,
    phone: String,
    status: &'static str,
    last_login: Option<LastLogin>,
    holds: Vec<HoldView>,
    holds_hint: String,
    pending: Vec<super::confirm::PaymentView>,
    /// A gentle suggestion to change an old login password (never forced).
    password_reminder: Option<String>,
}

/// `GET /`: home when logged in, else the login page.
pub(super) async fn root(web: Web) -> Result<Reply, Internal> {
    Ok(match auth::current(&web).await? {
        Some(_) => Reply::see_other("/home"),
        None => Reply::see_other("/login"),
    })
}

/// `GET /home`.
pub(super) async fn page(Member { web, auth }: Member) -> Result<Reply, Internal> {
    let sessions = web
        .state
        .portal
        .sessions_of(&auth)
        .await
        .map_err(|e| web.internal(e))?;
    let last_login = sessions
        .iter()
        .find(|s| s.token != auth.session.token)
        .map(|s| LastLogin {
            time: date_time(s.created_at),
            // Masked as the sessions page shows it: the network, not the host.
            place: s
                .ip
                .as_deref()
                .and_then(fundpass_core::portal::mask_address)
                .unwrap_or_else(|| web.tr.get("home.unknown_place").to_owned()),
        });
    let holds = security::holds(&web, &auth).await?;
    let mut view = profile(&web, &auth, last_login, holds)?;
    view.pending = super::confirm::pending(&web, &auth).await?;
    view.password_reminder = super::change_password::reminder(&web, &auth).await?;
    Reply::page(&web, &view)
}

/// The member's record as shown: document number and phone decrypted, then masked.
fn profile(
    web: &Web,
    auth: &Authenticated,
    last_login: Option<LastLogin>,
    holds: Vec<HoldView>,
) -> Result<HomeView, Internal> {
    let keyring = &web.state.portal.keyring;
    let member = &auth.member;
    let id_number = keyring
        .open(Field::IdNumber, &member.id_number)
        .map_err(|e| web.internal(e))?;
    let phone = keyring
        .open(Field::Phone, &member.phone)
        .map_err(|e| web.internal(e))?;
    let phone = Phone::parse(&phone).map_err(|e| web.internal(e))?;
    let status = match member.status {
        MemberStatus::Ordinary => "status.ordinary",
        MemberStatus::Registered => "status.registered",
        MemberStatus::Frozen => "status.frozen",
    };
    Ok(HomeView {
        page: web.page("home.title").with_csrf(&auth.session.csrf),
        csrf: auth.session.csrf.clone(),
        welcome: web.tr.format("home.welcome", &[("name", &member.name)]),
        name: member.name.clone(),
        account_no: member.account_no.as_str().to_owned(),
        id_type: web.tr.id_type(member.id_type),
        id_number: mask_id_number(&id_number),
        phone: phone.masked(),
        status: web.tr.get(status),
        last_login,
        holds,
        holds_hint: security::holds_hint(web),
        pending: Vec::new(),
        password_reminder: None,
    })
}

/// `POST /logout`: ends this session.
pub(super) async fn logout(
    MemberForm { web, auth, .. }: MemberForm<TokenForm>,
) -> Result<Reply, Internal> {
    web.state
        .portal
        .logout(&auth, &web.ctx())
        .await
        .map_err(|e| web.internal(e))?;
    Ok(to_login(&web))
}

/// `POST /logout-all`: ends every session and app token of the member.
pub(super) async fn logout_all(
    MemberForm { web, auth, .. }: MemberForm<TokenForm>,
) -> Result<Reply, Internal> {
    web.state
        .portal
        .logout_everywhere(&auth, &web.ctx())
        .await
        .map_err(|e| web.internal(e))?;
    Ok(to_login(&web))
}

fn to_login(web: &Web) -> Reply {
    Reply::see_other("/login").cookie(cookies::clear_session(&web.state.settings))
}
