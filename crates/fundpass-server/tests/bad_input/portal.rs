//! The member portal's forms: every `POST` route of `web/mod.rs` outside `/staff`,
//! what each field holds and what a hostile value there gets. Requests are filled in
//! by `portal_prepare.rs`.

use super::Kind::{Answer, Choice, Digits, Document, Phone, Secret, Text, Token};
use super::Place::{Path, Query};
use super::{Body, Expect, Field, Row, Surface, at, body};

/// The form again with the message.
const FORM: Expect = Expect::Form;
/// A token that is not the browser's or the session's.
pub const CSRF: Field = body("csrf", Token, Expect::Status(403));
const NOT_FOUND: Expect = Expect::Status(404);

const CAPTCHA_ID: Field = body("captcha_id", Token, FORM);
const CAPTCHA_ANSWER: Field = body("captcha_answer", Text, FORM);
const CAPTCHA: &[&str] = &["captchas"];

/// A wrong code or password counts against the flow or the member and is audited.
const TRIES: &[&str] = &["flows", "members", "login_throttles", "audit_events"];
/// A refused new password is on the audit trail.
const REFUSED_CHANGE: &[&str] = &["audit_events"];

pub const fn row(path: &'static str, fields: &'static [Field]) -> Row {
    Row {
        method: "POST",
        path,
        body: Body::Form,
        surface: Surface::Web,
        fields,
        writes: &[],
    }
}

const fn captcha_row(path: &'static str, fields: &'static [Field]) -> Row {
    Row {
        writes: CAPTCHA,
        ..row(path, fields)
    }
}

const fn new_passwords(a: &'static str, b: &'static str) -> [Field; 2] {
    [
        body(a, Secret, FORM).writing(REFUSED_CHANGE),
        body(b, Secret, FORM).writing(REFUSED_CHANGE),
    ]
}

const FORGOT_NEW: [Field; 2] = new_passwords("new_password", "new_password_again");
const LOGIN_NEW: [Field; 2] = new_passwords("login_password", "login_password_again");
const TRANSACTION_NEW: [Field; 2] =
    new_passwords("transaction_password", "transaction_password_again");

/// A ticket and the document it was issued for; a wrong ticket counts against the
/// address's tries and is audited.
const TICKET_CHECK: &[Field] = &[
    CSRF,
    body("ticket", Token, FORM).writing(&["audit_events"]),
    body("id_type", Choice, FORM),
    body("id_number", Document, FORM),
];

/// Every form of the member portal.
pub const ROWS: &[Row] = &[
    captcha_row(
        "/register",
        &[
            CSRF,
            body("name", Text, FORM),
            body("id_type", Choice, FORM),
            body("id_number", Document, FORM),
            body("phone", Phone, FORM),
            CAPTCHA_ID,
            CAPTCHA_ANSWER,
        ],
    ),
    row(
        "/register/code",
        &[
            CSRF,
            body("flow", Token, FORM),
            body("code", Digits, FORM).writing(TRIES),
        ],
    ),
    row("/register/resend", &[CSRF, body("flow", Token, FORM)]),
    row(
        "/register/passwords",
        &[
            CSRF,
            body("flow", Token, FORM),
            LOGIN_NEW[0],
            LOGIN_NEW[1],
            TRANSACTION_NEW[0],
            TRANSACTION_NEW[1],
        ],
    ),
    Row {
        // A login with a malformed identifier is counted and audited like one with an
        // unknown identifier.
        writes: &["captchas", "login_throttles", "audit_events"],
        ..row(
            "/login",
            &[
                CSRF,
                body("by", Choice, FORM),
                body("id_type", Choice, FORM),
                body("id_number", Document, FORM),
                body("account_no", Digits, FORM),
                body("password", Secret, FORM).writing(TRIES),
                CAPTCHA_ID,
                CAPTCHA_ANSWER,
            ],
        )
    },
    captcha_row(
        "/forgot-password",
        &[
            CSRF,
            body("name", Text, FORM),
            body("id_type", Choice, FORM),
            body("id_number", Document, FORM),
            CAPTCHA_ID,
            CAPTCHA_ANSWER,
        ],
    ),
    row(
        "/forgot-password/verify",
        &[
            CSRF,
            body("flow", Token, FORM),
            body("transaction_password", Secret, FORM).writing(TRIES),
        ],
    ),
    row(
        "/forgot-password/new",
        &[
            CSRF,
            body("flow", Token, FORM),
            FORGOT_NEW[0],
            FORGOT_NEW[1],
        ],
    ),
    row(
        "/security/record/download",
        &[CSRF, at(Query, "format", Choice, NOT_FOUND)],
    ),
    row(
        "/security/record/{seq}/not-me",
        &[CSRF, at(Path, "seq", Digits, NOT_FOUND)],
    ),
    row(
        "/security/password",
        &[
            CSRF,
            body("current_password", Secret, FORM).writing(TRIES),
            FORGOT_NEW[0],
            FORGOT_NEW[1],
        ],
    ),
    row(
        "/security/transaction-password/change",
        &[
            CSRF,
            body("current_password", Secret, FORM).writing(TRIES),
            FORGOT_NEW[0],
            FORGOT_NEW[1],
        ],
    ),
    captcha_row(
        "/security/transaction-password",
        &[
            CSRF,
            body("name", Text, FORM),
            body("id_type", Choice, FORM),
            body("id_number", Document, FORM),
            CAPTCHA_ID,
            CAPTCHA_ANSWER,
        ],
    ),
    row(
        "/security/transaction-password/phone",
        &[CSRF, body("flow", Token, FORM), body("phone", Phone, FORM)],
    ),
    row(
        "/security/transaction-password/code",
        &[
            CSRF,
            body("flow", Token, FORM),
            body("code", Digits, FORM).writing(TRIES),
        ],
    ),
    row(
        "/security/transaction-password/resend",
        &[CSRF, body("flow", Token, FORM)],
    ),
    row(
        "/security/transaction-password/new",
        &[
            CSRF,
            body("flow", Token, FORM),
            FORGOT_NEW[0],
            FORGOT_NEW[1],
        ],
    ),
    row(
        "/security/questions",
        &[
            CSRF,
            body("question", Choice, FORM),
            body("answer", Answer, FORM),
        ],
    ),
    row(
        "/security/my-data",
        &[CSRF, body("password", Secret, FORM).writing(TRIES)],
    ),
    row(
        "/sessions/{id}/end",
        &[CSRF, at(Path, "id", Token, NOT_FOUND)],
    ),
    row(
        "/confirm/{id}",
        &[
            CSRF,
            at(Path, "id", Token, NOT_FOUND),
            body("transaction_password", Secret, FORM).writing(&["members", "audit_events"]),
            body("decision", Choice, FORM),
        ],
    ),
    row("/logout", &[CSRF]),
    row("/logout-all", &[CSRF]),
    row("/ticket", TICKET_CHECK),
    row(
        "/ticket/new",
        &[
            CSRF,
            body("redemption", Token, FORM),
            LOGIN_NEW[0],
            LOGIN_NEW[1],
            TRANSACTION_NEW[0],
            TRANSACTION_NEW[1],
        ],
    ),
    row("/counter/pinpad", TICKET_CHECK),
    row(
        "/counter/pinpad/new",
        &[
            CSRF,
            body("redemption", Token, FORM),
            LOGIN_NEW[0],
            LOGIN_NEW[1],
            TRANSACTION_NEW[0],
            TRANSACTION_NEW[1],
        ],
    ),
    // An unknown language is the page's own; a return path off this site is `/`.
    row(
        "/lang",
        &[
            CSRF,
            body("lang", Choice, Expect::Redirect("/login")),
            body("back", Text, Expect::Redirect("/")),
        ],
    ),
];
