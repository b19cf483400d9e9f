//! Who is logged in: the session cookie checked by the portal on every request.

use axum::RequestPartsExt as _;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use fundpass_core::portal::Authenticated;
use fundpass_core::session::ClientKind;

use super::context::Web;
use super::cookies;
use super::error::{self, Internal};
use super::layout::Reply;
use crate::state::AppState;

/// The member of this request's session, if it is live.
pub(crate) async fn current(web: &Web) -> Result<Option<Authenticated>, Internal> {
    let Some(token) = web.cookie(web.state.settings.session_cookie()) else {
        return Ok(None);
    };
    match web.state.portal.authenticate(token, ClientKind::Web).await {
        Ok(auth) => Ok(Some(auth)),
        Err(err) => error::session(web, err).map(|()| None),
    }
}

/// To the login page; a stale session cookie is removed on the way.
pub(crate) fn to_login(web: &Web) -> Response {
    let settings = &web.state.settings;
    let stale = web.cookie(settings.session_cookie()).is_some();
    Reply::see_other("/login")
        .maybe_cookie(stale.then(|| cookies::clear_session(settings)))
        .into_response()
}

/// A page only a logged-in member may see; anyone else is sent to the login page.
#[derive(Debug)]
pub(crate) struct Member {
    /// The request.
    pub web: Web,
    /// The member and their session.
    pub auth: Authenticated,
}

impl FromRequestParts<AppState> for Member {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Ok(web) = parts.extract_with_state::<Web, _>(state).await;
        match current(&web).await {
            Ok(Some(auth)) => Ok(Self { web, auth }),
            Ok(None) => Err(to_login(&web)),
            Err(internal) => Err(internal.into_response()),
        }
    }
}
