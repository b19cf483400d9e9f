//! How the console shows a refused step: each [`ConsoleError`] and
//! [`StaffLoginError`] variant mapped by name to a sentence next to its field.

use axum::http::StatusCode;
use fundpass_core::console::{ConsoleError, StaffLoginError};

use super::super::context::Web;
use super::super::error::{FieldErrors, Internal, Refusal};
use super::super::identity_text::{id_number_error, phone_error};
use super::super::layout::clock_time;

/// A console step was refused.
pub(super) fn console(web: &Web, err: ConsoleError) -> Result<Refusal, Internal> {
    let tr = web.tr;
    let now = web.now();
    let on = |field: &'static str, key: &'static str| Refusal::new(Some(field), tr.get(key));
    let whole = |key: &'static str| Refusal::new(None, tr.get(key));
    Ok(match err {
        ConsoleError::NotAllowed { .. } => Refusal {
            status: StatusCode::FORBIDDEN,
            ..whole("console.err.not_allowed")
        },
        ConsoleError::OwnAccount => Refusal {
            status: StatusCode::FORBIDDEN,
            ..whole("console.err.own_account")
        },
        ConsoleError::MemberNotFound => on("id_number", "console.err.member_not_found"),
        ConsoleError::NotRegistered => whole("console.err.not_registered"),
        ConsoleError::BadIdNumber(e) => Refusal::new(Some("id_number"), id_number_error(tr, &e)),
        ConsoleError::BadPhone(e) => Refusal::new(Some("new_phone"), phone_error(tr, &e)),
        ConsoleError::BadField(field) => {
            let (field, key) = match field {
                "card_id_type" => ("card_id_type", "console.err.card_id_type"),
                "card_expiry" => ("card_expiry", "console.err.card_expiry"),
                "form_number" => ("form_number", "console.err.form_number"),
                "call_id" => ("call_id", "console.err.call_id"),
                "reason" => ("reason", "console.err.reason"),
                _ => ("scope", "console.err.bad_field"),
            };
            on(field, key)
        }
        ConsoleError::PhoneMismatch => on("new_phone_again", "console.err.phone_mismatch"),
        ConsoleError::SamePhone => on("new_phone", "console.err.same_phone"),
        ConsoleError::NothingChosen => on("scope", "console.err.nothing_chosen"),
        ConsoleError::CardMismatch => on("card_id_number", "console.err.card_mismatch"),
        ConsoleError::CardExpired => on("card_expiry", "console.err.card_expired"),
        ConsoleError::UnknownCase => Refusal {
            status: StatusCode::NOT_FOUND,
            ..whole("console.err.unknown_case")
        },
        ConsoleError::WrongStep => whole("console.err.wrong_step"),
        ConsoleError::AlreadyOpened { .. } => whole("console.err.already_opened"),
        ConsoleError::NotYourCase => Refusal {
            status: StatusCode::FORBIDDEN,
            ..whole("console.err.not_your_case")
        },
        ConsoleError::SelfApproval => Refusal {
            status: StatusCode::FORBIDDEN,
            ..whole("console.err.self_approval")
        },
        ConsoleError::HotlineLocked { until } => Refusal::new(
            None,
            tr.format(
                "console.err.hotline_locked",
                &[("time", &clock_time(now, until))],
            ),
        ),
        ConsoleError::AgentLocked { until } => Refusal::new(
            None,
            tr.format(
                "console.err.agent_locked",
                &[("time", &clock_time(now, until))],
            ),
        ),
        ConsoleError::CheckNotPassed => whole("console.err.check_not_passed"),
        ConsoleError::CounterOnly { .. } => whole("console.err.counter_only"),
        ConsoleError::CheckUsed => whole("console.err.check_used"),
        ConsoleError::Conflict => Refusal {
            status: StatusCode::CONFLICT,
            ..whole("console.err.conflict")
        },
        ConsoleError::Busy(busy) => Refusal::wait(
            StatusCode::SERVICE_UNAVAILABLE,
            busy.retry_after_secs.max(1),
            tr.get("error.busy"),
        ),
        ConsoleError::Store(e) => return Err(web.internal(e)),
    })
}

/// A staff login or password step was refused.
pub(super) fn login(web: &Web, err: StaffLoginError) -> Result<Refusal, Internal> {
    let tr = web.tr;
    let now = web.now();
    Ok(match err {
        StaffLoginError::InvalidCredentials => Refusal::new(None, tr.get("staff.login.invalid")),
        StaffLoginError::Locked { until } => Refusal::new(
            None,
            tr.format("staff.login.locked", &[("time", &clock_time(now, until))]),
        ),
        StaffLoginError::WrongCode { remaining } => Refusal::new(
            Some("code"),
            tr.format("staff.mfa.wrong", &[("remaining", &remaining.to_string())]),
        ),
        StaffLoginError::CodeReplayed => Refusal::new(Some("code"), tr.get("staff.mfa.replayed")),
        StaffLoginError::StartAgain => Refusal::restart(tr.get("staff.mfa.start_again")),
        StaffLoginError::NetworkRefused => Refusal {
            status: StatusCode::FORBIDDEN,
            ..Refusal::new(None, tr.get("staff.login.network"))
        },
        StaffLoginError::NewPassword {
            violations,
            mismatch,
            same_as_old,
        } => {
            let mut errors = FieldErrors::default();
            for v in &violations {
                errors.push(Some("new_password"), staff_violation(web, v));
            }
            if same_as_old {
                errors.push(Some("new_password"), tr.get("staff.password.same"));
            }
            if mismatch {
                errors.push(
                    Some("new_password_again"),
                    tr.get("staff.password.mismatch"),
                );
            }
            Refusal::of(errors)
        }
        StaffLoginError::Conflict => Refusal::new(None, tr.get("console.err.conflict")),
        StaffLoginError::Busy(busy) => Refusal::wait(
            StatusCode::SERVICE_UNAVAILABLE,
            busy.retry_after_secs.max(1),
            tr.get("error.busy"),
        ),
        StaffLoginError::Store(e) => return Err(web.internal(e)),
    })
}

fn staff_violation(web: &Web, v: &fundpass_core::staff::StaffPasswordViolation) -> String {
    use fundpass_core::staff::StaffPasswordViolation as V;
    let tr = web.tr;
    match v {
        V::TooShort { min } => tr.format("staff.password.too_short", &[("min", &min.to_string())]),
        V::TooLong { max } => tr.format("staff.password.too_long", &[("max", &max.to_string())]),
        V::TooFewClasses { required, .. } => tr.format(
            "staff.password.classes",
            &[("required", &required.to_string())],
        ),
        V::BadCharacter => tr.get("staff.password.bad_character").to_owned(),
        V::Common => tr.get("staff.password.common").to_owned(),
        V::ContainsUsername => tr.get("staff.password.username").to_owned(),
    }
}
