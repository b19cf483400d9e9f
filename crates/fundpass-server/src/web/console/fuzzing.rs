//! The staff console's forms for the `web_form_body` fuzz target (see
//! [`crate::web::fuzzing`]).

use crate::web::fuzzing::{Check, check_form};

/// Every form a console page posts.
pub(in crate::web) const FORMS: [Check; 10] = [
    check_form::<super::login::LoginForm>,
    check_form::<super::login::CodeForm>,
    check_form::<super::login::PasswordForm>,
    check_form::<super::login::TokenForm>,
    check_form::<super::members::LookUpForm>,
    check_form::<super::members::RevealForm>,
    check_form::<super::cases::CounterForm>,
    check_form::<super::cases::CaseForm>,
    check_form::<super::hotline::ChecklistForm>,
    check_form::<super::hotline::SendForm>,
];
