//! Target `web_form_body`: every form of the portal and the staff console through
//! [`read_form`], what [`Posted`](super::csrf::Posted) runs once the origin check has
//! passed (input layout in [`crate::fuzzing`]).
//!
//! Checked: only url-encoded bodies are read; a refusal is a 4xx; a body is refused as
//! unreadable exactly when its decoded text is not UTF-8 or holds a NUL; otherwise a
//! form fails to read only when a field is given twice (every field has a default); and
//! the CSRF token the form hands to the token check is one the body carried, the only
//! one when it carried one, and empty when it carried none, so that the check compares
//! what the browser sent.

use axum::Form;
use axum::extract::FromRequest;
use fundpass_core::fuzz_ensure;
use fundpass_core::fuzzing::{Verdict, Violation};
use serde::de::DeserializeOwned;

use super::csrf::{CsrfField, FormRefusal, read_form, tokens_match};
use crate::fuzzing::{CONTENT_TYPES, ContentType, post, ready, split};

pub(in crate::web) type Check = fn(ContentType, &[u8]) -> Verdict;

/// Every form a member page posts; with the console's, the input's first byte picks one.
const FORMS: [Check; 19] = [
    check_form::<super::login::LoginForm>,
    check_form::<super::register::IdentifyForm>,
    check_form::<super::register::CodeForm>,
    check_form::<super::register::FlowForm>,
    check_form::<super::register::PasswordsForm>,
    check_form::<super::recovery::IdentifyForm>,
    check_form::<super::recovery::FlowForm>,
    check_form::<super::recovery::NewSecretForm>,
    check_form::<super::forgot_login::VerifyForm>,
    check_form::<super::forgot_transaction::PhoneForm>,
    check_form::<super::forgot_transaction::CodeForm>,
    check_form::<super::change_password::ChangeForm>,
    check_form::<super::data_copy::CopyForm>,
    check_form::<super::confirm::ConfirmForm>,
    check_form::<super::security::QuestionsForm>,
    check_form::<super::home::TokenForm>,
    check_form::<super::ticket::TicketForm>,
    check_form::<super::ticket::RedeemForm>,
    check_plain_form::<super::lang::LangForm>,
];

/// Target `web_form_body`.
pub fn check_web_form_body(data: &[u8]) -> Verdict {
    let Some((kind, content_type, body)) = split(data) else {
        return Ok(());
    };
    let console = &super::console::fuzzing::FORMS;
    let index = kind % (FORMS.len() + console.len());
    let check = match index.checked_sub(FORMS.len()) {
        Some(in_console) => console[in_console],
        None => FORMS[index],
    };
    check(content_type, body)
}

/// A form whose token the CSRF check reads.
pub(in crate::web) fn check_form<T: DeserializeOwned + CsrfField>(
    content_type: ContentType,
    body: &[u8],
) -> Verdict {
    let Some(form) = check_plain::<T>(content_type, body)? else {
        return Ok(());
    };
    let sent = tokens_sent(body)?;
    let token = form.csrf();
    fuzz_ensure!(
        match sent.as_slice() {
            [] => token.is_empty(),
            [only] => token == only,
            several => several.iter().any(|t| t == token),
        },
        "the form hands {token:?} to the CSRF check, but the body carried {sent:?}"
    );
    fuzz_ensure!(
        tokens_match(token, token) != token.is_empty()
            && !tokens_match(token, &format!("{token}0"))
            && !tokens_match("", token),
        "the CSRF check misjudges the token {token:?}"
    );
    Ok(())
}

/// A form without a token field of its own (the language switch).
fn check_plain_form<T: DeserializeOwned>(content_type: ContentType, body: &[u8]) -> Verdict {
    check_plain::<T>(content_type, body).map(|_| ())
}

/// Reads the form as a page does; returns it when it was read.
fn check_plain<T: DeserializeOwned>(
    content_type: ContentType,
    body: &[u8],
) -> Result<Option<T>, Violation> {
    let outcome = ready(read_form::<T, ()>(post(content_type, body)?, &()))?;
    let header = content_type.header;
    let decoded = if content_type.form {
        pairs(body)?
    } else {
        Vec::new()
    };
    let text = || decoded.iter().flat_map(|(name, value)| [name, value]);
    let has_nul = text().any(|part| part.contains('\0'));
    match outcome {
        Ok(form) => {
            fuzz_ensure!(content_type.form, "read a form sent as {header:?}");
            fuzz_ensure!(!has_nul, "read a form with a NUL in it: {decoded:?}");
            Ok(Some(form))
        }
        Err(FormRefusal::Unreadable) => {
            fuzz_ensure!(
                content_type.form && (has_nul || text().any(|part| part.contains('\u{FFFD}'))),
                "refused as unreadable a form whose text is readable: {decoded:?}"
            );
            Ok(None)
        }
        Err(FormRefusal::Status(status)) => {
            let status = status.as_u16();
            fuzz_ensure!(
                matches!(status, 400 | 413 | 415 | 422),
                "a bad form was answered {status}"
            );
            fuzz_ensure!(
                !has_nul,
                "a form with a NUL in it was refused with {status}, not as unreadable"
            );
            if content_type.form {
                let mut names: Vec<&String> = decoded.iter().map(|(name, _)| name).collect();
                let given = names.len();
                names.sort_unstable();
                names.dedup();
                fuzz_ensure!(
                    names.len() < given,
                    "refused ({status}) a url-encoded form that gives no field twice: {decoded:?}"
                );
            }
            Ok(None)
        }
    }
}

/// The values of every `csrf` field in a url-encoded body, in order.
fn tokens_sent(body: &[u8]) -> Result<Vec<String>, Violation> {
    Ok(pairs(body)?
        .into_iter()
        .filter(|(name, _)| name == "csrf")
        .map(|(_, value)| value)
        .collect())
}

/// The name-value pairs of a url-encoded body, decoded as `Form` decodes them.
fn pairs(body: &[u8]) -> Result<Vec<(String, String)>, Violation> {
    let request = post(CONTENT_TYPES[3], body)?;
    match ready(Form::<Vec<(String, String)>>::from_request(request, &()))? {
        Ok(Form(pairs)) => Ok(pairs),
        Err(rejection) => Err(Violation(format!(
            "a url-encoded body does not read as name-value pairs: {rejection}"
        ))),
    }
}
