//! The signed-in member's own profile, masked as everywhere else, with the holds
//! recent resets placed.

use axum::Json;
use axum::extract::State;
use fundpass_core::crypto::Field;
use fundpass_core::identity::{Phone, mask_id_number};
use fundpass_core::member::Hold;
use fundpass_core::portal::Authenticated;
use fundpass_core::session::SessionRecord;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::SignedIn;
use super::error::{ApiError, ErrorBody};
use super::map;
use super::types::{AccountStatus, ChannelName, DocumentType, HoldKind};
use crate::state::AppState;

/// What the app shows on its home screen.
#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    /// Personal account number (个人账号).
    pub account_no: String,
    /// Name as on the document.
    pub name: String,
    /// Type of the document on file.
    pub id_type: DocumentType,
    /// Like `110105********002X`.
    pub id_number_masked: String,
    /// Like `138****5678`.
    pub phone_masked: String,
    /// Where the member stands with the online services.
    pub status: AccountStatus,
    /// The login before this session; `null` if there was none.
    #[schema(required = true)]
    pub last_login: Option<LastLogin>,
    /// Holds in force: recent credential changes during which the fund's business
    /// systems are careful with payouts. Empty when there are none.
    pub holds: Vec<HoldView>,
}

/// One hold in force on the account.
#[derive(Debug, Serialize, ToSchema)]
pub struct HoldView {
    /// What changed.
    pub reason: HoldKind,
    /// Through which channel it changed.
    pub channel: ChannelName,
    /// When the hold was placed.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the hold ends.
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
}

impl From<Hold> for HoldView {
    fn from(hold: Hold) -> Self {
        Self {
            reason: hold.reason.into(),
            channel: hold.channel.into(),
            created_at: hold.created_at,
            until: hold.until,
        }
    }
}

/// When and from where the member last logged in.
#[derive(Debug, Serialize, ToSchema)]
pub struct LastLogin {
    /// When the session began.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Client address as the server saw it, masked (`203.0.113.*`, or the first four
    /// groups of an IPv6 address); `null` if unknown.
    #[schema(required = true)]
    pub ip: Option<String>,
}

/// The member's profile.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    operation_id = "get_profile",
    tag = "session",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The member behind the token", body = Profile),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only: a face-login token", body = ErrorBody),
    )
)]
pub async fn me(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
) -> Result<Json<Profile>, ApiError> {
    let sessions = state.portal.sessions_of(&auth).await.map_err(map::store)?;
    let holds = state.portal.holds_of(&auth).await.map_err(map::store)?;
    let mut profile = profile(&state, &auth, &sessions)?;
    profile.holds = holds.into_iter().map(HoldView::from).collect();
    Ok(Json(profile))
}

fn profile(
    state: &AppState,
    auth: &Authenticated,
    sessions: &[SessionRecord],
) -> Result<Profile, ApiError> {
    let member = &auth.member;
    let keyring = &state.portal.keyring;
    let id_number = keyring
        .open(Field::IdNumber, &member.id_number)
        .map_err(|e| ApiError::internal(&e))?;
    let phone = keyring
        .open(Field::Phone, &member.phone)
        .map_err(|e| ApiError::internal(&e))?;
    let phone = Phone::parse(&phone).map_err(|e| ApiError::internal(&e))?;
    let last_login = sessions
        .iter()
        .filter(|s| s.token != auth.session.token)
        .max_by_key(|s| s.created_at)
        .map(|s| LastLogin {
            at: s.created_at,
            ip: s
                .ip
                .as_deref()
                .and_then(fundpass_core::portal::mask_address),
        });
    Ok(Profile {
        account_no: member.account_no.as_str().to_owned(),
        name: member.name.clone(),
        id_type: member.id_type.into(),
        id_number_masked: mask_id_number(&id_number),
        phone_masked: phone.masked(),
        status: member.status.into(),
        last_login,
        holds: Vec::new(),
    })
}
