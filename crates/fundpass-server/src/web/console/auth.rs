//! Who is at the console: the staff cookie checked on every request, the frame every
//! console page shares, and forms checked against the staff session's CSRF token.

use axum::RequestPartsExt as _;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use fundpass_core::console::StaffAuth;
use fundpass_core::portal::SessionError;
use fundpass_core::staff::StaffRole;
use serde::de::DeserializeOwned;

use super::super::context::Web;
use super::super::cookies;
use super::super::csrf::{CsrfField, Posted, tokens_match};
use super::super::error::{self, Internal};
use super::super::layout::{Page, Reply};
use crate::state::AppState;

/// The staff member shown in the console's header.
#[derive(Debug, Clone)]
pub(crate) struct StaffBar {
    pub name: String,
    pub username: String,
    pub role: &'static str,
    pub branch: String,
    pub csrf: String,
}

/// The staff session of this request, if live (password and TOTP passed).
pub(crate) async fn current(web: &Web) -> Result<Option<StaffAuth>, Internal> {
    let Some(token) = web.cookie(web.state.settings.staff_cookie()) else {
        return Ok(None);
    };
    match web.state.portal.authenticate_staff(token, &web.ctx()).await {
        Ok(auth) => Ok(Some(auth)),
        Err(SessionError::Store(e)) => Err(web.internal(e)),
        Err(_) => Ok(None),
    }
}

/// To the console's login page, removing a stale cookie on the way.
pub(super) fn to_login(web: &Web) -> Response {
    let settings = &web.state.settings;
    let stale = web.cookie(settings.staff_cookie()).is_some();
    Reply::see_other("/staff/login")
        .maybe_cookie(stale.then(|| cookies::clear_staff(settings)))
        .into_response()
}

/// The label of a role in the page language.
pub(super) fn role_label(web: &Web, role: StaffRole) -> &'static str {
    web.tr.get(match role {
        StaffRole::Counter => "staff.role.counter",
        StaffRole::Hotline => "staff.role.hotline",
        StaffRole::Supervisor => "staff.role.supervisor",
        StaffRole::Auditor => "staff.role.auditor",
        StaffRole::Admin => "staff.role.admin",
    })
}

/// A console page's frame and header bar.
pub(super) fn frame(web: &Web, auth: &StaffAuth, title: &'static str) -> (Page, StaffBar) {
    let staff = &auth.staff;
    let bar = StaffBar {
        name: staff.display_name.clone(),
        username: staff.username.to_string(),
        role: role_label(web, staff.role),
        branch: format!("{} {}", staff.branch.id, staff.branch.name),
        csrf: auth.session.csrf.clone(),
    };
    (web.page(title).with_csrf(&auth.session.csrf), bar)
}

/// Whether a path stays reachable while the password must be changed.
fn open_while_expired(path: &str) -> bool {
    matches!(path, "/staff/password" | "/staff/logout")
}

/// A console page only a logged-in staff member may see.
#[derive(Debug)]
pub(crate) struct StaffUser {
    pub web: Web,
    pub auth: StaffAuth,
}

impl FromRequestParts<AppState> for StaffUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Ok(web) = parts.extract_with_state::<Web, _>(state).await;
        match current(&web).await {
            Ok(Some(auth)) => {
                if web.state.portal.staff_must_change_password(&auth)
                    && !open_while_expired(&web.path)
                {
                    return Err(Reply::see_other("/staff/password").into_response());
                }
                Ok(Self { web, auth })
            }
            Ok(None) => Err(to_login(&web)),
            Err(internal) => Err(internal.into_response()),
        }
    }
}

/// A console form whose token matches the staff session's.
#[derive(Debug)]
pub(crate) struct StaffForm<T> {
    pub web: Web,
    pub auth: StaffAuth,
    pub form: T,
}

impl<T: DeserializeOwned + CsrfField + Send> FromRequest<AppState> for StaffForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let Posted { web, form } = Posted::<T>::from_request(req, state).await?;
        let auth = match current(&web).await {
            Ok(Some(auth)) => auth,
            Ok(None) => return Err(to_login(&web)),
            Err(internal) => return Err(internal.into_response()),
        };
        if !tokens_match(&auth.session.csrf, form.csrf()) {
            tracing::warn!(path = %web.path, "console form refused: CSRF token missing or wrong");
            return Err(error::forbidden(&web));
        }
        if web.state.portal.staff_must_change_password(&auth) && !open_while_expired(&web.path) {
            return Err(Reply::see_other("/staff/password").into_response());
        }
        Ok(Self { web, auth, form })
    }
}
