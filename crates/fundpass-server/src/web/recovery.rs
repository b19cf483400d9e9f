//! What the two forgotten-password journeys share: the identify form (name, document,
//! captcha), the new-secret form, the done page, and how every [`RecoveryError`] is
//! shown.
//!
//! The login password is recovered anonymously (`forgot_login`), the transaction
//! password while logged in (`forgot_transaction`). In both the flow id travels in a
//! hidden field of each form, never in a URL, and nothing secret typed into a form
//! ever comes back in a page.

use askama::Template;
use axum::http::StatusCode;
use fundpass_core::flow::FlowError;
use fundpass_core::identity::IdType;
use fundpass_core::portal::{RecoveryError, RecoveryIdentify};
use serde::Deserialize;

use super::captcha::{self, CaptchaView};
use super::context::Web;
use super::cookies;
use super::csrf::{AnonToken, csrf_field};
use super::error::{FieldErrors, Internal, Refusal};
use super::identity_text::{id_number_error, phone_error};
use super::layout::{Choice, Page, Reply, clock_time, id_type_choices, seconds_until};
use super::register::login_hint;

/// Which secret is being recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Journey {
    /// The login password, anonymously, proved with the transaction password.
    Login,
    /// The transaction password, logged in, proved with an SMS code.
    Transaction,
}

impl Journey {
    /// The first step's address: where "start again" leads.
    pub fn start(self) -> &'static str {
        match self {
            Self::Login => "/forgot-password",
            Self::Transaction => "/security/transaction-password",
        }
    }

    /// The title of every page of the journey.
    fn title(self) -> &'static str {
        match self {
            Self::Login => "forgot_login.title",
            Self::Transaction => "forgot_transaction.title",
        }
    }

    /// The steps as the member sees them listed, `current` (0-based) marked.
    pub fn steps(self, web: &Web, current: usize) -> Vec<StepView> {
        let keys: &[&'static str] = match self {
            Self::Login => &[
                "recovery.step_identify",
                "forgot_login.step_verify",
                "forgot_login.step_new",
            ],
            Self::Transaction => &[
                "recovery.step_identify",
                "forgot_transaction.step_phone",
                "forgot_transaction.step_code",
                "forgot_transaction.step_new",
            ],
        };
        keys.iter()
            .enumerate()
            .map(|(i, &key)| StepView {
                label: web.tr.get(key),
                current: i == current,
            })
            .collect()
    }

    /// The frame of a page of this journey.
    pub fn page(self, web: &Web, csrf: &str, refusal: Option<&Refusal>) -> Page {
        let errors = refusal.map(|r| r.errors.clone()).unwrap_or_default();
        web.page(self.title()).with_csrf(csrf).with_errors(errors)
    }
}

/// One entry of the list of steps at the top of a form.
#[derive(Debug, Clone)]
pub(super) struct StepView {
    pub label: &'static str,
    pub current: bool,
}

/// The identify form of either journey, as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct IdentifyForm {
    pub csrf: String,
    name: String,
    id_type: String,
    id_number: String,
    pub captcha_id: String,
    pub captcha_answer: String,
}

/// A form that carries only the flow (resending a code).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct FlowForm {
    pub csrf: String,
    pub flow: String,
}

/// The new secret, typed twice.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct NewSecretForm {
    pub csrf: String,
    pub flow: String,
    pub new_password: String,
    pub new_password_again: String,
}

csrf_field!(IdentifyForm, FlowForm, NewSecretForm);

impl IdentifyForm {
    /// What the core is given; the document type must be one of the list.
    pub fn input(&self, web: &Web) -> Result<RecoveryIdentify, Refusal> {
        let Some(id_type) = IdType::from_code(&self.id_type) else {
            return Err(Refusal::new(
                Some("id_type"),
                web.tr.get("register.choose_id_type"),
            ));
        };
        Ok(RecoveryIdentify {
            name: self.name.clone(),
            id_type,
            id_number: self.id_number.clone(),
        })
    }
}

#[derive(Template)]
#[template(path = "forgot_identify.html")]
struct IdentifyView {
    page: Page,
    csrf: String,
    steps: Vec<StepView>,
    action: &'static str,
    intro: &'static str,
    name: String,
    id_types: Vec<Choice>,
    id_number: String,
    captcha: CaptchaView,
    /// Where the member came from (the login page or the security menu).
    back: (&'static str, &'static str),
}

/// The identify form of `journey`, with what was typed and a new captcha.
pub(super) async fn identify_page(
    web: &Web,
    journey: Journey,
    csrf: &str,
    form: &IdentifyForm,
    refusal: Option<Refusal>,
) -> Result<Reply, Internal> {
    let (intro, back) = match journey {
        Journey::Login => (
            "forgot_login.intro",
            ("/login", web.tr.get("recovery.back_to_login")),
        ),
        Journey::Transaction => (
            "forgot_transaction.intro",
            ("/security", web.tr.get("security.back")),
        ),
    };
    let view = IdentifyView {
        page: journey.page(web, csrf, refusal.as_ref()),
        csrf: csrf.to_owned(),
        steps: journey.steps(web, 0),
        action: journey.start(),
        intro: web.tr.get(intro),
        name: form.name.clone(),
        id_types: id_type_choices(web.tr, &form.id_type),
        id_number: form.id_number.clone(),
        captcha: captcha::issue(web).await?,
        back,
    };
    finish(web, &view, refusal.as_ref())
}

#[derive(Template)]
#[template(path = "forgot_new.html")]
struct NewSecretView {
    page: Page,
    csrf: String,
    flow: String,
    steps: Vec<StepView>,
    action: &'static str,
    start: &'static str,
    label: &'static str,
    label_again: &'static str,
    hint: String,
    /// A six-digit transaction password (numeric keyboard, six characters).
    numeric: bool,
    restart: bool,
}

/// The last step of `journey`: the new secret twice, always empty.
pub(super) fn new_secret_page(
    web: &Web,
    journey: Journey,
    csrf: &str,
    flow: &str,
    refusal: Option<Refusal>,
) -> Result<Reply, Internal> {
    let (action, label, label_again, hint, numeric, step) = match journey {
        Journey::Login => (
            "/forgot-password/new",
            "field.login_password_new",
            "field.login_password_again",
            login_hint(web),
            false,
            2,
        ),
        Journey::Transaction => (
            "/security/transaction-password/new",
            "field.transaction_password_new",
            "field.transaction_password_again",
            web.tr.get("passwords.transaction_hint").to_owned(),
            true,
            3,
        ),
    };
    let view = NewSecretView {
        page: journey.page(web, csrf, refusal.as_ref()),
        csrf: csrf.to_owned(),
        flow: flow.to_owned(),
        steps: journey.steps(web, step),
        action,
        start: journey.start(),
        label: web.tr.get(label),
        label_again: web.tr.get(label_again),
        hint,
        numeric,
        restart: refusal.as_ref().is_some_and(|r| r.restart),
    };
    finish(web, &view, refusal.as_ref())
}

#[derive(Template)]
#[template(path = "forgot_done.html")]
struct DoneView {
    page: Page,
    done: &'static str,
}

/// The secret is reset and every session of the member has ended, this browser's
/// too: its session cookie is removed and a new anonymous token lets the language
/// switch keep working.
pub(super) fn done_page(web: &Web, journey: Journey) -> Result<Reply, Internal> {
    let done = match journey {
        Journey::Login => "forgot_login.done",
        Journey::Transaction => "forgot_transaction.done",
    };
    let token = AnonToken::for_page(web);
    let view = DoneView {
        page: web.page("recovery.done_title").with_csrf(&token.value),
        done: web.tr.get(done),
    };
    let settings = &web.state.settings;
    let had_session = web.cookie(settings.session_cookie()).is_some();
    Ok(Reply::page(web, &view)?
        .maybe_cookie(token.set_cookie)
        .maybe_cookie(had_session.then(|| cookies::clear_session(settings))))
}

/// A page of the journey, with the refusal's status when there is one.
pub(super) fn finish(
    web: &Web,
    view: &impl Template,
    refusal: Option<&Refusal>,
) -> Result<Reply, Internal> {
    match refusal {
        Some(refusal) => Reply::refused(web, view, refusal),
        None => Reply::page(web, view),
    }
}

/// A refusal after which the journey cannot go on: the page offers to start again.
fn restart(message: impl Into<String>) -> Refusal {
    Refusal {
        restart: true,
        ..Refusal::new(None, message)
    }
}

/// A refusal the member must wait out: `status` and `Retry-After`.
fn wait(status: StatusCode, seconds: u64, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        retry_after: Some(seconds),
        ..Refusal::new(None, message)
    }
}

/// What the member is shown for a refused recovery step. "Could not be verified"
/// never says which detail was wrong in the anonymous journey; in the logged-in one
/// the only proof checked that way is the phone number typed.
pub(super) fn refusal(
    web: &Web,
    journey: Journey,
    err: RecoveryError,
) -> Result<Refusal, Internal> {
    let tr = web.tr;
    let now = web.now();
    Ok(match err {
        RecoveryError::BadName => Refusal::new(Some("name"), tr.get("register.bad_name")),
        RecoveryError::BadIdNumber(e) => Refusal::new(Some("id_number"), id_number_error(tr, &e)),
        RecoveryError::BadPhone(e) => Refusal::new(Some("phone"), phone_error(tr, &e)),
        RecoveryError::RateLimited { retry_after } => wait(
            StatusCode::TOO_MANY_REQUESTS,
            seconds_until(now, retry_after),
            tr.format(
                "recovery.rate_limited",
                &[("time", &clock_time(now, retry_after))],
            ),
        ),
        RecoveryError::UnknownFlow => restart(tr.get("recovery.unknown_flow")),
        RecoveryError::Flow(e) => flow(web, journey, e),
        RecoveryError::NotVerified { remaining } => not_verified(web, journey, remaining),
        RecoveryError::NotYourAccount => Refusal::new(None, tr.get("recovery.not_your_account")),
        RecoveryError::TransactionLocked { until } => Refusal::new(
            None,
            tr.format(
                "recovery.transaction_locked",
                &[("time", &clock_time(now, until))],
            ),
        ),
        RecoveryError::TransactionDisabled => restart(disabled_text(web)),
        RecoveryError::CodesLocked { until } => wait(
            StatusCode::TOO_MANY_REQUESTS,
            seconds_until(now, until),
            tr.format(
                "recovery.codes_locked",
                &[("time", &clock_time(now, until))],
            ),
        ),
        RecoveryError::Secret {
            violations,
            mismatch,
        } => {
            let mut errors = FieldErrors::default();
            for v in &violations {
                errors.push(Some("new_password"), v.message(tr.lang()));
            }
            if mismatch {
                let key = match journey {
                    Journey::Login => "passwords.login_mismatch",
                    Journey::Transaction => "passwords.transaction_mismatch",
                };
                errors.push(Some("new_password_again"), tr.get(key));
            }
            Refusal::of(errors)
        }
        // Face results only come from the app; a page never sends one.
        RecoveryError::Face(_)
        | RecoveryError::FaceReplayed
        | RecoveryError::FaceAttemptsExhausted { .. }
        | RecoveryError::FaceNotEligible
        | RecoveryError::FaceProviderUnavailable(_)
        | RecoveryError::FaceUnfinished
        | RecoveryError::FaceDocumentUnsupported
        | RecoveryError::FaceMetaInfoRequired => restart(tr.get("recovery.app_only")),
        RecoveryError::Conflict => restart(tr.get("recovery.conflict")),
        RecoveryError::Busy(busy) => wait(
            StatusCode::SERVICE_UNAVAILABLE,
            busy.retry_after_secs.max(1),
            tr.get("error.busy"),
        ),
        RecoveryError::Store(e) => return Err(web.internal(e)),
    })
}

/// A wrong proof: the transaction password (said without naming it) or the phone.
fn not_verified(web: &Web, journey: Journey, remaining: i32) -> Refusal {
    let remaining = remaining.to_string();
    match journey {
        Journey::Login => Refusal::new(
            None,
            web.tr
                .format("recovery.not_verified", &[("remaining", &remaining)]),
        ),
        Journey::Transaction => Refusal::new(
            Some("phone"),
            web.tr.format(
                "forgot_transaction.wrong_phone",
                &[("remaining", &remaining)],
            ),
        ),
    }
}

/// The transaction password no longer works: how to get it back another way.
fn disabled_text(web: &Web) -> String {
    web.tr.format(
        "recovery.transaction_disabled",
        &[("hotline", &web.state.portal.templates.hotline)],
    )
}

fn flow(web: &Web, journey: Journey, err: FlowError) -> Refusal {
    let tr = web.tr;
    match err {
        FlowError::Expired => restart(tr.get("recovery.flow_expired")),
        FlowError::WrongStep => restart(tr.get("recovery.wrong_step")),
        FlowError::CodeExpired => Refusal::new(Some("code"), tr.get("recovery.code_expired")),
        FlowError::WrongCode { remaining } => Refusal::new(
            Some("code"),
            tr.format(
                "recovery.wrong_code",
                &[("remaining", &remaining.to_string())],
            ),
        ),
        FlowError::Dead => restart(tr.get("recovery.flow_dead")),
        FlowError::ResendTooSoon { retry_after } => Refusal::new(
            None,
            tr.format(
                "recovery.resend_too_soon",
                &[(
                    "seconds",
                    &seconds_until(web.now(), retry_after).to_string(),
                )],
            ),
        ),
        FlowError::TooManySends => Refusal::new(None, tr.get("recovery.too_many_sends")),
        FlowError::WrongProof { remaining } => not_verified(web, journey, remaining),
    }
}
