//! Where the member is logged in: `/sessions` lists their live sessions and app
//! tokens (masked address, device, channel, this one marked), and each can be ended.

use askama::Template;
use axum::extract::Query;
use axum::response::{IntoResponse as _, Response};
use fundpass_core::portal::{EndSessionError, EndedSession, LiveSession, SessionChannel};
use serde::Deserialize;

use super::auth::{self, Member};
use super::context::{PagePath, Web};
use super::csrf::MemberForm;
use super::error::{self, Internal};
use super::home::TokenForm;
use super::layout::{Page, Reply, date_time};
use crate::api::sessions::device_text;

/// One session as the member reads it.
struct SessionRow {
    id: String,
    device: String,
    channel: &'static str,
    started: String,
    last_active: String,
    address: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsView {
    page: Page,
    csrf: String,
    sessions: Vec<SessionRow>,
    /// A session was just ended (the page after the redirect says so).
    ended: bool,
}

/// `?ended` after ending another session.
#[derive(Deserialize, Default)]
pub(super) struct Shown {
    #[serde(default)]
    ended: Option<String>,
}

/// `GET /sessions`.
pub(super) async fn page(
    Member { web, auth }: Member,
    Query(shown): Query<Shown>,
) -> Result<Reply, Internal> {
    let sessions = web
        .state
        .portal
        .live_sessions(&auth)
        .await
        .map_err(|e| web.internal(e))?;
    let view = SessionsView {
        page: web.page("sessions.title").with_csrf(&auth.session.csrf),
        csrf: auth.session.csrf.clone(),
        sessions: sessions.into_iter().map(|s| row(&web, s)).collect(),
        ended: shown.ended.is_some(),
    };
    Reply::page(&web, &view)
}

/// `POST /sessions/{id}/end`: ends that session; ending this one logs out.
pub(super) async fn end(
    PagePath(id): PagePath<String>,
    MemberForm { web, auth, .. }: MemberForm<TokenForm>,
) -> Result<Response, Internal> {
    match web.state.portal.end_session(&auth, &id, &web.ctx()).await {
        Ok(EndedSession::This) => Ok(auth::to_login(&web)),
        Ok(EndedSession::Other) => Ok(Reply::see_other("/sessions?ended").into_response()),
        Err(EndSessionError::NotFound) => Ok(error::not_found(&web)),
        Err(EndSessionError::Store(e)) => Err(web.internal(e)),
    }
}

fn row(web: &Web, s: LiveSession) -> SessionRow {
    let channel = match s.channel {
        SessionChannel::Web => "sessions.channel_web",
        SessionChannel::App => "sessions.channel_app",
        SessionChannel::FaceLogin => "sessions.channel_face_login",
    };
    SessionRow {
        id: s.id.as_str().to_owned(),
        device: device_text(web.tr, s.device),
        channel: web.tr.get(channel),
        started: date_time(s.started_at),
        last_active: date_time(s.last_active_at),
        address: s
            .address
            .unwrap_or_else(|| web.tr.get("sessions.unknown_address").to_owned()),
        current: s.current,
    }
}
