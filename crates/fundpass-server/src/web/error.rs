//! The HTML error adapter: every error a use case returns becomes either a
//! [`Refusal`] (the page is shown again with the message next to the field it is
//! about) or an [`Internal`] failure (logged with its cause chain, shown as a bare
//! 500 page). Each variant is mapped by name, so a new variant does not compile until
//! someone decides what members see.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fundpass_core::flow::FlowError;
use fundpass_core::portal::{CaptchaError, LoginError, RegistrationError, SessionError};
use fundpass_core::ports::DatabaseUnavailable;
use fundpass_core::session::SessionEnded;

use super::context::Web;
use super::identity_text::{id_number_error, phone_error};
use super::layout::{Page, Reply, clock_time, seconds_until};
use crate::i18n::Tr;

/// One message, about one field or about the whole form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    /// The `id`/`name` of the input it belongs to.
    pub field: Option<&'static str>,
    /// The sentence shown.
    pub message: String,
}

/// The messages a form is shown again with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// Adds a message about `field` (or the whole form).
    pub fn push(&mut self, field: Option<&'static str>, message: impl Into<String>) {
        self.0.push(FieldError {
            field,
            message: message.into(),
        });
    }

    /// Whether `field` has a message (templates set `aria-invalid` with it).
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == Some(field))
    }

    /// The messages about `field`.
    pub fn of(&self, field: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|e| e.field == Some(field))
            .map(|e| e.message.as_str())
            .collect()
    }

    /// Every message, in order, for the summary.
    pub fn all(&self) -> &[FieldError] {
        &self.0
    }

    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A step refused for a reason the member can act on.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    /// `200` for a form shown again, `429`/`503` when the member must wait.
    pub status: StatusCode,
    /// What to show, and where.
    pub errors: FieldErrors,
    /// Seconds, sent as `Retry-After`.
    pub retry_after: Option<u64>,
    /// The flow cannot go on: the page offers to start again instead of its form.
    pub restart: bool,
}

impl Refusal {
    /// A message about `field` (`None`: the whole form), shown with `200 OK`.
    pub fn new(field: Option<&'static str>, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::default();
        errors.push(field, message);
        Self::of(errors)
    }

    /// These messages, shown with `200 OK`.
    pub fn of(errors: FieldErrors) -> Self {
        Self {
            status: StatusCode::OK,
            errors,
            retry_after: None,
            restart: false,
        }
    }

    pub(crate) fn restart(message: impl Into<String>) -> Self {
        Self {
            restart: true,
            ..Self::new(None, message)
        }
    }

    pub(crate) fn wait(status: StatusCode, seconds: u64, message: impl Into<String>) -> Self {
        Self {
            status,
            retry_after: Some(seconds),
            ..Self::new(None, message)
        }
    }
}

/// A failure that is nobody's fault the member could fix.
#[derive(Debug)]
pub(crate) struct Internal {
    tr: Tr,
    dev: bool,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl Internal {
    /// Wraps `source`; the page is written in `tr`'s language.
    pub fn new(tr: Tr, dev: bool, source: Box<dyn std::error::Error + Send + Sync>) -> Self {
        Self { tr, dev, source }
    }
}

impl IntoResponse for Internal {
    /// A bare 500 page, or, when the database cannot be reached or is busy (nothing
    /// was done, a retry may work), a 503 "try again shortly" page with `Retry-After`.
    fn into_response(self) -> Response {
        let mut chain = self.source.to_string();
        let mut cause = self.source.source();
        while let Some(inner) = cause {
            chain.push_str(": ");
            chain.push_str(&inner.to_string());
            cause = inner.source();
        }
        if DatabaseUnavailable::in_chain(&*self.source) {
            tracing::warn!(error = %chain, "page request refused: database unavailable");
            let page = Page::new(self.tr, "error.unavailable.title", self.dev, "/".into());
            let mut response = message_page(page, StatusCode::SERVICE_UNAVAILABLE, "error.busy");
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(DatabaseUnavailable::RETRY_AFTER_SECS),
            );
            return response;
        }
        tracing::error!(error = %chain, "page request failed");
        let page = Page::new(self.tr, "error.internal.title", self.dev, "/".into());
        message_page(
            page,
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal.body",
        )
    }
}

/// A page that only says something (errors, refusals).
#[derive(Template)]
#[template(path = "message.html")]
struct MessageView {
    page: Page,
    message: &'static str,
}

fn message_page(page: Page, status: StatusCode, message: &'static str) -> Response {
    let view = MessageView {
        message: page.t(message),
        page,
    };
    match view.render() {
        Ok(body) => Reply::from_body(status, body).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "the error page could not be rendered");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `403`: a form without a valid token or from another site.
pub(crate) fn forbidden(web: &Web) -> Response {
    message_page(
        web.page("error.forbidden.title"),
        StatusCode::FORBIDDEN,
        "error.forbidden.body",
    )
}

/// `404`: no such page (and the dev tools outside dev mode).
pub(crate) fn not_found(web: &Web) -> Response {
    message_page(
        web.page("error.not_found.title"),
        StatusCode::NOT_FOUND,
        "error.not_found.body",
    )
}

/// `400`: a body that is not a form.
pub(crate) fn bad_request(web: &Web) -> Response {
    message_page(
        web.page("error.bad_request.title"),
        StatusCode::BAD_REQUEST,
        "error.bad_request.body",
    )
}

/// `413` for a body too large, `415` for one that is not a form, `400` for any other
/// that cannot be read.
pub(crate) fn bad_body(web: &Web, status: StatusCode) -> Response {
    let status = match status {
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE => status,
        _ => StatusCode::BAD_REQUEST,
    };
    message_page(
        web.page("error.bad_request.title"),
        status,
        "error.bad_request.body",
    )
}

/// The image captcha was not solved.
pub(crate) fn captcha(web: &Web, err: CaptchaError) -> Result<Refusal, Internal> {
    let key = match err {
        CaptchaError::Wrong => "captcha.wrong",
        CaptchaError::Expired => "captcha.expired",
        CaptchaError::Store(e) => return Err(web.internal(e)),
    };
    Ok(Refusal::new(Some("captcha_answer"), web.tr.get(key)))
}

/// A registration step was refused.
pub(crate) fn registration(web: &Web, err: RegistrationError) -> Result<Refusal, Internal> {
    let tr = web.tr;
    Ok(match err {
        RegistrationError::BadName => Refusal::new(Some("name"), tr.get("register.bad_name")),
        RegistrationError::BadIdNumber(e) => {
            Refusal::new(Some("id_number"), id_number_error(tr, &e))
        }
        RegistrationError::BadPhone(e) => Refusal::new(Some("phone"), phone_error(tr, &e)),
        RegistrationError::RateLimited { retry_after } => Refusal::wait(
            StatusCode::TOO_MANY_REQUESTS,
            seconds_until(web.now(), retry_after),
            tr.format(
                "register.rate_limited",
                &[("time", &clock_time(web.now(), retry_after))],
            ),
        ),
        RegistrationError::UnknownFlow => Refusal::restart(tr.get("register.unknown_flow")),
        RegistrationError::Flow(e) => flow(web, e),
        RegistrationError::Passwords {
            login,
            login_mismatch,
            transaction,
            transaction_mismatch,
        } => {
            let mut errors = FieldErrors::default();
            for v in &login {
                errors.push(Some("login_password"), v.message(tr.lang()));
            }
            if login_mismatch {
                errors.push(
                    Some("login_password_again"),
                    tr.get("passwords.login_mismatch"),
                );
            }
            for v in &transaction {
                errors.push(Some("transaction_password"), v.message(tr.lang()));
            }
            if transaction_mismatch {
                errors.push(
                    Some("transaction_password_again"),
                    tr.get("passwords.transaction_mismatch"),
                );
            }
            Refusal::of(errors)
        }
        RegistrationError::Conflict => Refusal::restart(tr.get("register.conflict")),
        RegistrationError::Busy(busy) => Refusal::wait(
            StatusCode::SERVICE_UNAVAILABLE,
            busy.retry_after_secs.max(1),
            tr.get("error.busy"),
        ),
        RegistrationError::Store(e) => return Err(web.internal(e)),
    })
}

fn flow(web: &Web, err: FlowError) -> Refusal {
    let tr = web.tr;
    match err {
        FlowError::Expired => Refusal::restart(tr.get("register.flow_expired")),
        FlowError::WrongStep => Refusal::restart(tr.get("register.wrong_step")),
        FlowError::CodeExpired => Refusal::new(Some("code"), tr.get("register.code_expired")),
        FlowError::WrongCode { remaining } | FlowError::WrongProof { remaining } => Refusal::new(
            Some("code"),
            tr.format(
                "register.wrong_code",
                &[("remaining", &remaining.to_string())],
            ),
        ),
        FlowError::Dead => Refusal::restart(tr.get("register.flow_dead")),
        FlowError::ResendTooSoon { retry_after } => {
            let seconds = seconds_until(web.now(), retry_after);
            Refusal::new(
                None,
                tr.format(
                    "register.resend_too_soon",
                    &[("seconds", &seconds.to_string())],
                ),
            )
        }
        FlowError::TooManySends => Refusal::new(None, tr.get("register.too_many_sends")),
    }
}

/// A login was refused. Unknown member, wrong password, not registered and frozen
/// all arrive as `InvalidCredentials` and read the same.
pub(crate) fn login(web: &Web, err: LoginError) -> Result<Refusal, Internal> {
    let tr = web.tr;
    let now = web.now();
    Ok(match err {
        LoginError::InvalidCredentials => Refusal::new(None, tr.get("login.invalid")),
        LoginError::Locked { until } => Refusal::new(
            None,
            tr.format("login.locked", &[("time", &clock_time(now, until))]),
        ),
        LoginError::RateLimited { retry_after } => Refusal::wait(
            StatusCode::TOO_MANY_REQUESTS,
            seconds_until(now, retry_after),
            tr.format(
                "login.rate_limited",
                &[("time", &clock_time(now, retry_after))],
            ),
        ),
        LoginError::Busy(busy) => Refusal::wait(
            StatusCode::SERVICE_UNAVAILABLE,
            busy.retry_after_secs.max(1),
            tr.get("error.busy"),
        ),
        LoginError::Store(e) => return Err(web.internal(e)),
    })
}

/// A session cookie that does not (or no longer) log anyone in. `Ok` means "treat
/// the request as anonymous".
pub(crate) fn session(web: &Web, err: SessionError) -> Result<(), Internal> {
    match err {
        // Recovery-only sessions belong to the app; a cookie never carries one.
        SessionError::Unknown | SessionError::RecoveryOnly => Ok(()),
        SessionError::Ended(
            SessionEnded::Idle | SessionEnded::Absolute | SessionEnded::Revoked,
        ) => Ok(()),
        SessionError::Store(e) => Err(web.internal(e)),
    }
}

#[cfg(test)]
mod tests {
    use fundpass_core::credentials::Lang;
    use fundpass_core::ports::StoreError;

    use super::*;

    async fn page(source: StoreError) -> (StatusCode, Option<String>, String) {
        let internal = Internal::new(Tr::new(Lang::Zh), false, Box::new(source));
        let response = internal.into_response();
        let retry = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, retry, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn an_unavailable_database_asks_the_member_to_come_back_shortly() {
        let down = StoreError::Unavailable(DatabaseUnavailable("connection refused".into()));
        let (status, retry, html) = page(down).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry.as_deref(), Some("2"));
        assert!(html.contains("系统繁忙，请稍后再试。"), "{html}");
        assert!(!html.contains("refused"), "{html}");
        let (status, retry, _) = page(StoreError::Backend("disk full".into())).await;
        assert_eq!((status, retry), (StatusCode::INTERNAL_SERVER_ERROR, None));
    }
}
