//! The member's security questions: an extra check the hotline may ask, never enough
//! on its own to recover anything. Only the chosen questions are ever shown back,
//! never the answers (which are kept only as keyed MACs).

use axum::Json;
use axum::extract::State;
use fundpass_core::audit::Channel;
use fundpass_core::member::{MAX_QUESTIONS, QUESTION_CODES};
use fundpass_core::portal::Authenticated;
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::SignedIn;
use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use super::map;
use crate::request::ClientInfo;
use crate::state::AppState;

/// The member's questions, and the ones they may choose from.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityQuestions {
    /// Codes of the questions set, in order; empty if none.
    pub questions: Vec<String>,
    /// Codes of every question that may be chosen (the texts are the app's).
    pub available: Vec<&'static str>,
    /// How many questions may be set.
    pub max: usize,
}

/// The questions set, read back.
async fn current(state: &AppState, auth: &Authenticated) -> Result<SecurityQuestions, ApiError> {
    let questions = state
        .portal
        .security_questions_of(auth.member.id)
        .await
        .map_err(map::store)?;
    Ok(SecurityQuestions {
        questions,
        available: QUESTION_CODES.to_vec(),
        max: MAX_QUESTIONS,
    })
}

/// The member's security questions.
#[utoipa::path(
    get,
    path = "/api/v1/security/questions",
    operation_id = "get_security_questions",
    tag = "security",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The questions set (never the answers)", body = SecurityQuestions),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only: a face-login token", body = ErrorBody),
    )
)]
pub async fn get_questions(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
) -> Result<Json<SecurityQuestions>, ApiError> {
    Ok(Json(current(&state, &auth).await?))
}

/// One question and its answer.
#[derive(Deserialize, ToSchema)]
pub struct QuestionAnswer {
    /// A code from `available`.
    pub question: String,
    /// Compared ignoring case, width, spaces and punctuation; at most 64 characters
    /// once those are dropped, and not empty then.
    #[schema(value_type = String, format = Password, min_length = 1, max_length = 256, pattern = r"\S")]
    pub answer: SecretString,
}

/// The new set of questions, replacing the old one.
#[derive(Deserialize, ToSchema)]
pub struct SecurityQuestionsUpdate {
    /// One to `max` different questions.
    #[schema(min_items = 1, max_items = 3)]
    pub questions: Vec<QuestionAnswer>,
}

/// Replace the member's security questions; the phone on file is told.
#[utoipa::path(
    put,
    path = "/api/v1/security/questions",
    operation_id = "set_security_questions",
    tag = "security",
    security(("bearer" = [])),
    request_body = SecurityQuestionsUpdate,
    responses(
        (status = 200, description = "Replaced", body = SecurityQuestions),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "recovery_session_only: a face-login token", body = ErrorBody),
        (status = 422, description = "bad_questions (details.reason, details.slot)", body = ErrorBody),
    )
)]
pub async fn put_questions(
    State(state): State<AppState>,
    client: ClientInfo,
    SignedIn(auth): SignedIn,
    ApiJson(body): ApiJson<SecurityQuestionsUpdate>,
) -> Result<Json<SecurityQuestions>, ApiError> {
    let chosen: Vec<(String, String)> = body
        .questions
        .into_iter()
        .map(|q| (q.question, q.answer.expose_secret().to_owned()))
        .collect();
    let ctx = client.context(Channel::App);
    state
        .portal
        .set_security_questions(&auth, &chosen, &ctx)
        .await
        .map_err(map::questions)?;
    Ok(Json(current(&state, &auth).await?))
}
