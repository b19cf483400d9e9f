//! The app's JSON API (`/api/v1`): every operation of `/api/openapi.json`, what each
//! of its inputs holds and what a hostile value there gets. Requests are filled in by
//! `api_prepare.rs`.

use super::Kind::{Answer, Choice, Digits, Document, Phone, Secret, Text, Token};
use super::Place::{Bearer, Path, Query};
use super::{Body, Expect, Field, Row, Surface, at, body};

const fn codes(codes: &'static [&'static str]) -> Expect {
    Expect::Code(codes)
}

const BAD_JSON: Expect = codes(&["bad_json"]);
const UNKNOWN_FLOW: Expect = codes(&["unknown_flow"]);
const POLICY: Expect = codes(&["password_policy"]);
const BAD_ID: Expect = codes(&["bad_id_number"]);
const BAD_NAME: Expect = codes(&["bad_name"]);
const BAD_META: Expect = codes(&["face_meta_info_required"]);

/// A member's bearer token.
const TOKEN: Field = at(Bearer, "authorization", Token, codes(&["unauthorized"]));

/// The captcha of an anonymous step, used up by the attempt.
const CAPTCHA_ID: Field = body("/captcha_id", Token, codes(&["captcha_expired"]));
const CAPTCHA_ANSWER: Field = body("/captcha_answer", Text, codes(&["captcha_wrong"]));
const CAPTCHA: &[&str] = &["captchas"];

/// A wrong code counts against the flow's tries (and the member's, across flows) and
/// is on the audit trail.
const FLOW_TRIES: &[&str] = &["flows", "login_throttles", "audit_events"];
/// A refused new password is on the audit trail.
const REFUSED_CHANGE: &[&str] = &["audit_events"];
/// A wrong password counts against the member (and is on their record).
const MEMBER_TRIES: &[&str] = &["members", "audit_events"];

const fn row(
    method: &'static str,
    path: &'static str,
    body: Body,
    fields: &'static [Field],
) -> Row {
    Row {
        method,
        path,
        body,
        surface: Surface::Api,
        fields,
        writes: &[],
    }
}

const fn captcha_row(path: &'static str, fields: &'static [Field]) -> Row {
    Row {
        writes: CAPTCHA,
        ..row("POST", path, Body::Json, fields)
    }
}

/// Every operation of the app's API.
pub const ROWS: &[Row] = &[
    // Takes no input: nothing to refuse.
    row("POST", "/api/v1/captcha", Body::None, &[]),
    captcha_row(
        "/api/v1/registration",
        &[
            body("/name", Text, BAD_NAME),
            body("/id_type", Choice, BAD_JSON),
            body("/id_number", Document, BAD_ID),
            body("/phone", Phone, codes(&["bad_phone"])),
            CAPTCHA_ID,
            CAPTCHA_ANSWER,
        ],
    ),
    row(
        "POST",
        "/api/v1/registration/code",
        Body::Json,
        &[
            body("/flow_id", Token, UNKNOWN_FLOW),
            body("/code", Digits, codes(&["wrong_code", "flow_dead"])).writing(FLOW_TRIES),
        ],
    ),
    row(
        "POST",
        "/api/v1/registration/resend",
        Body::Json,
        &[body("/flow_id", Token, UNKNOWN_FLOW)],
    ),
    row(
        "POST",
        "/api/v1/registration/complete",
        Body::Json,
        &[
            body("/flow_id", Token, UNKNOWN_FLOW),
            body("/login_password", Secret, POLICY),
            body("/login_password_confirm", Secret, POLICY),
            body("/transaction_password", Secret, POLICY),
            body("/transaction_password_confirm", Secret, POLICY),
        ],
    ),
    Row {
        // A login with a malformed identifier is counted and audited like one with an
        // unknown identifier: the answer must not tell them apart.
        writes: &["captchas", "login_throttles", "audit_events"],
        ..captcha_row(
            "/api/v1/login",
            &[
                body("/id_type", Choice, BAD_JSON),
                body("/id_number", Document, codes(&["invalid_credentials"])),
                body("/account_no", Digits, codes(&["invalid_credentials"])),
                body(
                    "/password",
                    Secret,
                    codes(&["invalid_credentials", "locked"]),
                )
                .writing(MEMBER_TRIES),
                CAPTCHA_ID,
                CAPTCHA_ANSWER,
            ],
        )
    },
    row("POST", "/api/v1/logout", Body::None, &[TOKEN]),
    row("POST", "/api/v1/logout-all", Body::None, &[TOKEN]),
    row("GET", "/api/v1/me", Body::None, &[TOKEN]),
    row(
        "GET",
        "/api/v1/security-record",
        Body::None,
        &[
            TOKEN,
            at(Query, "before", Digits, BAD_JSON),
            at(Query, "kind", Choice, BAD_JSON),
            at(Query, "limit", Digits, BAD_JSON),
        ],
    ),
    row(
        "GET",
        "/api/v1/security-record/export",
        Body::None,
        &[TOKEN, at(Query, "format", Choice, BAD_JSON)],
    ),
    row(
        "POST",
        "/api/v1/security-record/{seq}/not-me",
        Body::None,
        &[
            TOKEN,
            at(
                Path,
                "seq",
                Digits,
                codes(&["not_found", "event_not_found"]),
            ),
        ],
    ),
    row("GET", "/api/v1/sessions", Body::None, &[TOKEN]),
    row(
        "DELETE",
        "/api/v1/sessions/{id}",
        Body::None,
        &[
            TOKEN,
            at(
                Path,
                "id",
                Token,
                codes(&["session_not_found", "not_found"]),
            ),
        ],
    ),
    captcha_row(
        "/api/v1/recovery/login",
        &[
            body("/name", Text, BAD_NAME),
            body("/id_type", Choice, BAD_JSON),
            body("/id_number", Document, BAD_ID),
            CAPTCHA_ID,
            CAPTCHA_ANSWER,
        ],
    ),
    row(
        "POST",
        "/api/v1/recovery/login/verify",
        Body::Json,
        &[
            body("/flow", Token, UNKNOWN_FLOW),
            body(
                "/transaction_password",
                Secret,
                codes(&["not_verified", "flow_dead"]),
            )
            .writing(&["flows", "members", "login_throttles", "audit_events"]),
        ],
    ),
    row(
        "POST",
        "/api/v1/recovery/login/complete",
        Body::Json,
        &[
            body("/flow", Token, UNKNOWN_FLOW),
            body("/new_password", Secret, POLICY).writing(REFUSED_CHANGE),
            body("/new_password_again", Secret, POLICY).writing(REFUSED_CHANGE),
        ],
    ),
    row(
        "POST",
        "/api/v1/recovery/transaction",
        Body::Json,
        &[
            TOKEN,
            body("/name", Text, BAD_NAME),
            body("/id_type", Choice, BAD_JSON),
            body("/id_number", Document, BAD_ID),
        ],
    ),
    row(
        "POST",
        "/api/v1/recovery/transaction/code-request",
        Body::Json,
        &[
            TOKEN,
            body("/flow", Token, UNKNOWN_FLOW),
            body("/phone", Phone, codes(&["bad_phone"])),
        ],
    ),
    row(
        "POST",
        "/api/v1/recovery/transaction/resend",
        Body::Json,
        &[TOKEN, body("/flow", Token, UNKNOWN_FLOW)],
    ),
    row(
        "POST",
        "/api/v1/recovery/transaction/code",
        Body::Json,
        &[
            TOKEN,
            body("/flow", Token, UNKNOWN_FLOW),
            body("/code", Digits, codes(&["wrong_code", "flow_dead"])).writing(FLOW_TRIES),
        ],
    ),
    row(
        "POST",
        "/api/v1/recovery/transaction/complete",
        Body::Json,
        &[
            TOKEN,
            body("/flow", Token, UNKNOWN_FLOW),
            body("/new_transaction_password", Secret, POLICY).writing(REFUSED_CHANGE),
            body("/new_transaction_password_again", Secret, POLICY).writing(REFUSED_CHANGE),
        ],
    ),
    row(
        "POST",
        "/api/v1/face/start",
        Body::Json,
        &[
            body("/id_type", Choice, BAD_JSON),
            body("/id_number", Document, BAD_ID),
            body("/name", Text, BAD_NAME),
            body("/meta_info", Text, BAD_META),
        ],
    ),
    row(
        "POST",
        "/api/v1/face/complete",
        Body::Json,
        &[
            body("/flow", Token, UNKNOWN_FLOW),
            body("/result", Token, codes(&["face_rejected"])).writing(&["flows", "audit_events"]),
        ],
    ),
    row("GET", "/api/v1/security/questions", Body::None, &[TOKEN]),
    row(
        "PUT",
        "/api/v1/security/questions",
        Body::Json,
        &[
            TOKEN,
            body("/questions/0/question", Choice, codes(&["bad_questions"])),
            body("/questions/0/answer", Answer, codes(&["bad_questions"])),
        ],
    ),
    row(
        "POST",
        "/api/v1/my-data",
        Body::Json,
        &[
            TOKEN,
            body(
                "/password",
                Secret,
                codes(&["wrong_login_password", "locked"]),
            )
            .writing(MEMBER_TRIES),
        ],
    ),
    row(
        "POST",
        "/api/v1/phone",
        Body::Json,
        &[
            at(Bearer, "authorization", Token, codes(&["unauthorized"])),
            body(
                "/transaction_password",
                Secret,
                codes(&["wrong_transaction_password", "transaction_locked"]),
            )
            .writing(MEMBER_TRIES),
            body("/new_phone", Phone, codes(&["bad_phone"])),
            body(
                "/new_phone_again",
                Phone,
                codes(&["bad_phone", "phone_mismatch"]),
            ),
        ],
    ),
    row(
        "POST",
        "/api/v1/password/login",
        Body::Json,
        &[
            TOKEN,
            body(
                "/current",
                Secret,
                codes(&["wrong_login_password", "locked"]),
            )
            .writing(MEMBER_TRIES),
            body("/new", Secret, POLICY).writing(REFUSED_CHANGE),
            body("/new_again", Secret, POLICY).writing(REFUSED_CHANGE),
        ],
    ),
    row(
        "POST",
        "/api/v1/password/transaction",
        Body::Json,
        &[
            TOKEN,
            body(
                "/current",
                Secret,
                codes(&["wrong_transaction_password", "transaction_locked"]),
            )
            .writing(MEMBER_TRIES),
            body("/new", Secret, POLICY).writing(REFUSED_CHANGE),
            body("/new_again", Secret, POLICY).writing(REFUSED_CHANGE),
        ],
    ),
    row(
        "GET",
        "/api/v1/authorizations/pending",
        Body::None,
        &[TOKEN],
    ),
    row(
        "POST",
        "/api/v1/authorizations/{id}/confirm",
        Body::Json,
        &[
            TOKEN,
            at(
                Path,
                "id",
                Token,
                codes(&["authorization_not_found", "not_found"]),
            ),
            body(
                "/transaction_password",
                Secret,
                codes(&["wrong_transaction_password", "transaction_locked"]),
            )
            .writing(&["members", "audit_events", "payment_authorizations"]),
        ],
    ),
    row(
        "POST",
        "/api/v1/authorizations/{id}/decline",
        Body::None,
        &[
            TOKEN,
            at(
                Path,
                "id",
                Token,
                codes(&["authorization_not_found", "not_found"]),
            ),
        ],
    ),
    row("GET", "/api/v1/qualification", Body::None, &[TOKEN]),
    row(
        "POST",
        "/api/v1/qualification/checks",
        Body::Json,
        &[
            TOKEN,
            body("/meta_info", Text, BAD_META),
            body("/relative_account_no", Digits, codes(&["not_relative"])),
        ],
    ),
    row(
        "POST",
        "/api/v1/qualification/checks/complete",
        Body::Json,
        &[
            TOKEN,
            body("/attempt", Token, codes(&["unknown_check"])),
            // A refused result ends the attempt, on the audit trail.
            body("/result", Token, codes(&["face_rejected"]))
                .writing(&["qualification_attempts", "audit_events"]),
        ],
    ),
    row(
        "GET",
        "/api/v1/qualification/relatives",
        Body::None,
        &[TOKEN],
    ),
    row(
        "POST",
        "/api/v1/qualification/relatives",
        Body::Json,
        &[
            TOKEN,
            body("/id_type", Choice, BAD_JSON),
            body("/id_number", Document, BAD_ID),
            body("/name", Text, BAD_NAME),
        ],
    ),
    row(
        "POST",
        "/api/v1/qualification/relatives/confirm",
        Body::Json,
        &[
            TOKEN,
            body("/flow", Token, UNKNOWN_FLOW),
            body("/code", Digits, codes(&["wrong_code", "flow_dead"]))
                .writing(&["flows", "audit_events"]),
        ],
    ),
];

/// The dev face simulator (`/dev/face`, dev mode only): JSON in the API's envelope.
pub const DEV_ROWS: &[Row] = &[row(
    "POST",
    "/dev/face",
    Body::Json,
    // The nonce is signed as given (a wrong one is refused by `/api/v1/face/complete`).
    &[
        body("/id_type", Choice, codes(&["invalid_id_type"])),
        body("/id_number", Document, codes(&["invalid_id_number"])),
    ],
)];
