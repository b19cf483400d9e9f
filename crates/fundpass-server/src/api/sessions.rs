//! Where the member is logged in: their live sessions and app tokens, each under a
//! public id that is neither the token nor its digest, and ending one by that id.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fundpass_core::audit::Channel;
use fundpass_core::portal::{Browser, Device, EndSessionError, LiveSession, Os, SessionChannel};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::SignedIn;
use super::error::{ApiError, ErrorBody, ErrorCode};
use super::path::ApiPath;
use super::{map, run};
use crate::i18n::{Lang, Tr};
use crate::request::ClientInfo;
use crate::state::AppState;

/// How the member reached a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionChannelName {
    /// A browser, logged in with the login password.
    Web,
    /// The app, logged in with the login password.
    App,
    /// The app after a face verification: transaction-password recovery only.
    FaceLogin,
}

impl From<SessionChannel> for SessionChannelName {
    fn from(value: SessionChannel) -> Self {
        match value {
            SessionChannel::Web => Self::Web,
            SessionChannel::App => Self::App,
            SessionChannel::FaceLogin => Self::FaceLogin,
        }
    }
}

/// One live session or app token of the member.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// The session's public id: what `DELETE /api/v1/sessions/{id}` takes. Not a
    /// token: it authenticates nothing.
    pub id: String,
    pub channel: SessionChannelName,
    /// When the login happened.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When the session was last used (to the minute).
    #[serde(with = "time::serde::rfc3339")]
    pub last_active_at: OffsetDateTime,
    /// The client address, masked: `203.0.113.*`, or an IPv6 address's first four
    /// groups then `*`; `null` if unknown.
    #[schema(required = true)]
    pub address: Option<String>,
    /// The device in a few English words: `Chrome on Windows`, `fundpass app on
    /// Android`, `Unknown device`.
    pub device: String,
    /// Whether this is the session of the token making the request.
    pub current: bool,
}

/// The member's live sessions and app tokens, this one first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionView>,
}

impl SessionView {
    fn of(session: LiveSession) -> Self {
        Self {
            id: session.id.as_str().to_owned(),
            channel: session.channel.into(),
            started_at: session.started_at,
            last_active_at: session.last_active_at,
            address: session.address,
            device: device_text(Tr::new(Lang::En), session.device),
            current: session.current,
        }
    }
}

/// The member's live sessions.
#[utoipa::path(
    get,
    path = "/api/v1/sessions",
    operation_id = "list_sessions",
    tag = "session",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every session and app token of the member still usable", body = SessionList),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only: a face-login token", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
) -> Result<Json<SessionList>, ApiError> {
    let sessions = state
        .portal
        .live_sessions(&auth)
        .await
        .map_err(map::store)?;
    Ok(Json(SessionList {
        sessions: sessions.into_iter().map(SessionView::of).collect(),
    }))
}

/// End one of the member's sessions (this one included: the token then stops working).
#[utoipa::path(
    delete,
    path = "/api/v1/sessions/{id}",
    operation_id = "end_session",
    tag = "session",
    security(("bearer" = [])),
    params(("id" = String, Path, min_length = 1, description = "The session's public id, from GET /api/v1/sessions")),
    responses(
        (status = 204, description = "The session is ended: its token no longer works"),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only: a face-login token", body = ErrorBody),
        (status = 404, description = "session_not_found: no live session of this member has that id", body = ErrorBody),
    )
)]
pub async fn end(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedIn(auth): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let ctx = client.context(Channel::App);
    run(&state, state.portal.end_session(&auth, &id, &ctx), refusal).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Why a session could not be ended.
fn refusal(error: EndSessionError, _now: OffsetDateTime) -> ApiError {
    match error {
        EndSessionError::NotFound => ApiError::new(ErrorCode::SessionNotFound),
        EndSessionError::Store(e) => map::store(e),
    }
}

/// A device in words of `tr`'s language ("Chrome on Windows", "Windows 上的 Chrome"):
/// the app's list and the sessions page say the same.
pub(crate) fn device_text(tr: Tr, device: Device) -> String {
    match device {
        Device::App { os: Some(os) } => tr.format("device.app_on_os", &[("os", os_name(tr, os))]),
        Device::App { os: None } => tr.get("device.app").to_owned(),
        Device::Browser {
            browser: Some(browser),
            os: Some(os),
        } => tr.format(
            "device.browser_on_os",
            &[
                ("browser", browser_name(tr, browser)),
                ("os", os_name(tr, os)),
            ],
        ),
        Device::Browser {
            browser: Some(browser),
            os: None,
        } => browser_name(tr, browser).to_owned(),
        Device::Browser {
            browser: None,
            os: Some(os),
        } => tr.format("device.some_browser_on_os", &[("os", os_name(tr, os))]),
        Device::Browser {
            browser: None,
            os: None,
        }
        | Device::Unknown => tr.get("device.unknown").to_owned(),
    }
}

fn browser_name(tr: Tr, browser: Browser) -> &'static str {
    tr.get(match browser {
        Browser::Chrome => "device.browser.chrome",
        Browser::Edge => "device.browser.edge",
        Browser::Firefox => "device.browser.firefox",
        Browser::Safari => "device.browser.safari",
        Browser::Opera => "device.browser.opera",
        Browser::SamsungInternet => "device.browser.samsung",
        Browser::WeChat => "device.browser.wechat",
        Browser::QqBrowser => "device.browser.qq",
        Browser::UcBrowser => "device.browser.uc",
    })
}

fn os_name(tr: Tr, os: Os) -> &'static str {
    tr.get(match os {
        Os::Windows => "device.os.windows",
        Os::MacOs => "device.os.macos",
        Os::Ios => "device.os.ios",
        Os::Android => "device.os.android",
        Os::HarmonyOs => "device.os.harmonyos",
        Os::ChromeOs => "device.os.chromeos",
        Os::Linux => "device.os.linux",
    })
}
