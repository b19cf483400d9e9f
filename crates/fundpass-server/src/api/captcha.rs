//! Image captchas for the app: one is needed for each registration start and login.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use fundpass_core::portal::AnsweredCaptcha;

use super::error::{ApiError, ErrorBody};
use super::map;
use crate::captcha_image;
use crate::state::AppState;

/// A new captcha to show the member.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaptchaIssued {
    /// Send back as `captcha_id` with the answer.
    pub captcha_id: String,
    /// The picture, PNG, base64 (standard alphabet, padded).
    pub image_png_base64: String,
    /// After this the captcha is refused; fetch a new one.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Issue a captcha.
///
/// Single use, valid five minutes; answers are compared ignoring case and spaces. Any
/// answer, right or wrong, uses the captcha up.
#[utoipa::path(
    post,
    path = "/api/v1/captcha",
    operation_id = "create_captcha",
    tag = "captcha",
    responses(
        (status = 201, description = "A new captcha", body = CaptchaIssued),
        (status = 500, description = "Server failure", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<CaptchaIssued>), ApiError> {
    let image =
        captcha_image::generate(state.portal.rng.as_ref()).map_err(|e| ApiError::internal(&e))?;
    let issued = state
        .portal
        .issue_captcha(&image.answer)
        .await
        .map_err(map::store)?;
    let body = CaptchaIssued {
        captcha_id: issued.id.expose().to_owned(),
        image_png_base64: STANDARD.encode(&image.png),
        expires_at: issued.expires_at,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Checks and takes the captcha a request carries.
pub async fn answer(
    state: &AppState,
    captcha_id: &str,
    answer: &str,
) -> Result<AnsweredCaptcha, ApiError> {
    state
        .portal
        .answer_captcha(captcha_id, answer)
        .await
        .map_err(map::captcha)
}
