//! The OpenAPI documents say everything the server does: every refusal a route can
//! answer (with the error envelope), every rule a field must meet, and how to
//! authenticate. A generic client (schemathesis, a code generator) learns from the
//! documents alone what a request must look like and what can come back.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fundpass_core::crypto::{OneTimeCode, OpaqueToken};
use fundpass_core::identity::{MAX_INPUT_CHARS, Phone};
use fundpass_core::member::{AccountNumber, MAX_QUESTIONS, NAME_MAX_CHARS, QUESTION_CODES};
use fundpass_core::payout::Purpose;
use regex::Regex;
use serde_json::{Value, json};

fn app() -> Value {
    serde_json::to_value(fundpass_server::api::openapi_document()).unwrap()
}

fn internal() -> Value {
    serde_json::to_value(fundpass_server::internal::openapi_document()).unwrap()
}

fn sms_receipts() -> Value {
    serde_json::to_value(fundpass_server::sms::receipts::openapi_document()).unwrap()
}

/// Every operation of `doc`: (operation id, path, method, operation).
fn operations(doc: &Value) -> Vec<(String, String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                let id = operation["operationId"].as_str().unwrap().to_owned();
                out.push((id, path.clone(), method.clone(), operation.clone()));
            }
        }
    }
    out
}

fn operation(doc: &Value, id: &str) -> Value {
    operations(doc)
        .into_iter()
        .find(|(op, ..)| op == id)
        .unwrap_or_else(|| panic!("no operation {id}"))
        .3
}

fn statuses(operation: &Value) -> Vec<String> {
    operation["responses"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

fn field(doc: &Value, schema: &str, name: &str) -> Value {
    let field = &doc["components"]["schemas"][schema]["properties"][name];
    assert!(field.is_object(), "{schema}.{name} is not documented");
    field.clone()
}

/// Operations a face-login token is refused by (403 `recovery_session_only`).
const FULL_LOGIN_ONLY: [&str; 22] = [
    "logout",
    "logout_all",
    "get_profile",
    "security_record",
    "export_security_record",
    "report_not_me",
    "list_sessions",
    "end_session",
    "get_security_questions",
    "set_security_questions",
    "download_my_data",
    "change_login_password",
    "change_transaction_password",
    "pending_authorizations",
    "confirm_authorization",
    "decline_authorization",
    "get_qualification",
    "start_qualification_check",
    "complete_qualification_check",
    "start_relative",
    "confirm_relative",
    "list_relatives",
];

/// Operations that take a full or a face-login token.
const ANY_MEMBER_TOKEN: [&str; 6] = [
    "start_forgot_transaction",
    "request_forgot_transaction_code",
    "resend_forgot_transaction_code",
    "submit_forgot_transaction_code",
    "complete_forgot_transaction",
    "change_phone",
];

/// Operations that count requests per address, phone or flow and answer 429.
const RATE_LIMITED: [&str; 11] = [
    "login",
    "start_registration",
    "resend_registration_code",
    "start_forgot_login",
    "verify_forgot_login",
    "request_forgot_transaction_code",
    "resend_forgot_transaction_code",
    "start_face_login",
    "complete_face_login",
    "start_qualification_check",
    "start_relative",
];

#[test]
fn every_operation_lists_the_refusals_any_request_can_meet_in_the_envelope() {
    let documents = [
        (app(), "ErrorBody"),
        (internal(), "InternalErrorBody"),
        (sms_receipts(), "ErrorBody"),
    ];
    for (doc, envelope) in documents {
        for (id, path, method, op) in operations(&doc) {
            let listed = statuses(&op);
            let has = |status: &str| listed.iter().any(|s| s == status);
            let mut needed = vec!["500", "503"];
            let body = &op["requestBody"]["content"];
            if body.is_object() {
                needed.extend(["400", "413"]);
            }
            if body["application/json"].is_object() {
                needed.push("415");
            }
            if op["security"].is_array() {
                needed.push("401");
            }
            for status in needed {
                assert!(has(status), "{method} {path} ({id}) does not list {status}");
            }
            for status in listed.iter().filter(|s| s.as_str() >= "400") {
                let schema = &op["responses"][status]["content"]["application/json"]["schema"];
                let own = match id.as_str() {
                    // RFC 6749 §5.2: the token endpoint answers in OAuth's own form.
                    "token" if status != "413" => "OAuthError",
                    _ => envelope,
                };
                assert_eq!(
                    schema["$ref"],
                    json!(format!("#/components/schemas/{own}")),
                    "{method} {path} {status}"
                );
            }
            for status in ["429", "503"] {
                if has(status) {
                    let header = &op["responses"][status]["headers"]["Retry-After"];
                    assert!(
                        header.is_object(),
                        "{method} {path} {status} lacks Retry-After"
                    );
                }
            }
        }
    }
}

#[test]
fn every_rate_limited_operation_documents_429() {
    let doc = app();
    for id in RATE_LIMITED {
        assert!(
            statuses(&operation(&doc, id)).contains(&"429".to_owned()),
            "{id}"
        );
    }
    // Every call of a business system counts against its client's limit.
    let doc = internal();
    for (id, path, method, op) in operations(&doc) {
        if op["security"].is_array() {
            assert!(
                statuses(&op).contains(&"429".to_owned()),
                "{method} {path} ({id})"
            );
        }
    }
}

#[test]
fn member_operations_name_the_bearer_scheme_and_anonymous_ones_do_not() {
    let doc = app();
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    for (id, path, method, op) in operations(&doc) {
        let full = FULL_LOGIN_ONLY.contains(&id.as_str());
        let any = ANY_MEMBER_TOKEN.contains(&id.as_str());
        if full || any {
            assert_eq!(op["security"], json!([{ "bearer": [] }]), "{method} {path}");
            assert!(statuses(&op).contains(&"401".to_owned()), "{method} {path}");
        } else {
            assert!(op["security"].is_null(), "{method} {path} asks for a token");
        }
        if full {
            assert!(statuses(&op).contains(&"403".to_owned()), "{method} {path}");
        }
    }
    assert_eq!(
        operations(&doc).len(),
        FULL_LOGIN_ONLY.len() + ANY_MEMBER_TOKEN.len() + 11,
        "an operation is in neither list"
    );
}

#[test]
fn identify_fields_refuse_blank_and_overlong_values_in_the_schema() {
    let doc = app();
    for schema in [
        "RegistrationStart",
        "ForgotLoginStart",
        "ForgotTransactionStart",
        "FaceStart",
    ] {
        let name = field(&doc, schema, "name");
        assert_eq!(name["minLength"], 1, "{schema}.name");
        assert_eq!(name["maxLength"], NAME_MAX_CHARS, "{schema}.name");
        assert_eq!(name["pattern"], r"\S", "{schema}.name");
    }
    for schema in [
        "RegistrationStart",
        "ForgotLoginStart",
        "ForgotTransactionStart",
        "FaceStart",
    ] {
        let number = field(&doc, schema, "id_number");
        assert_eq!(number["minLength"], 1, "{schema}.id_number");
        assert_eq!(number["maxLength"], MAX_INPUT_CHARS, "{schema}.id_number");
        assert_eq!(number["pattern"], r"\S", "{schema}.id_number");
    }
    for schema in ["LoginRequest", "RegistrationStart", "ForgotLoginStart"] {
        assert_eq!(
            field(&doc, schema, "captcha_answer")["minLength"],
            1,
            "{schema}"
        );
    }
    assert_eq!(field(&doc, "LoginRequest", "id_number")["minLength"], 1);
    assert_eq!(
        field(&doc, "LoginRequest", "account_no")["pattern"],
        field(&internal(), "PaymentRequest", "account_no")["pattern"]
    );

    let questions = field(&doc, "SecurityQuestionsUpdate", "questions");
    assert_eq!(questions["minItems"], 1);
    assert_eq!(questions["maxItems"], MAX_QUESTIONS);
    assert_eq!(
        field(&doc, "QuestionAnswer", "question")["enum"],
        json!(QUESTION_CODES)
    );
}

#[test]
fn login_takes_a_document_with_its_type_or_an_account_number() {
    let doc = app();
    let branches = doc["components"]["schemas"]["LoginRequest"]["oneOf"]
        .as_array()
        .expect("LoginRequest has no oneOf")
        .clone();
    let required: Vec<Value> = branches.iter().map(|b| b["required"].clone()).collect();
    assert_eq!(
        required,
        [json!(["id_type", "id_number"]), json!(["account_no"])]
    );
    assert_eq!(branches[0]["properties"]["account_no"]["type"], "null");
    assert_eq!(branches[1]["properties"]["id_type"]["type"], "null");
    assert_eq!(branches[1]["properties"]["id_number"]["type"], "null");
}

/// `pattern` of a field, as a regular expression.
fn pattern(doc: &Value, schema: &str, name: &str) -> Regex {
    Regex::new(field(doc, schema, name)["pattern"].as_str().unwrap()).unwrap()
}

#[test]
fn the_patterns_accept_what_the_parsers_accept() {
    let doc = app();
    let phone = pattern(&doc, "RegistrationStart", "phone");
    for input in [
        "13800000001",
        " 138-0000-0001 ",
        "+86 138 0000 0001",
        "0086-13800000001",
        "8613800000001",
        "１３８００００００01",
        "＋８６13800000001",
        "138 0000 000１",
        "",
        " - ",
        "12800000001",
        "1380000000",
        "138000000012",
        "+1 4155550100",
        "1380000000a",
        "86 12800000001",
    ] {
        assert_eq!(
            phone.is_match(input),
            Phone::parse(input).is_ok(),
            "phone {input:?}"
        );
    }

    let flow = pattern(&doc, "RegistrationCode", "flow_id");
    let token = "A".repeat(43);
    let short = "A".repeat(42);
    let spaced = format!(" {token}\t");
    let bad = format!("{}+", "A".repeat(42));
    for input in [token.as_str(), &short, &spaced, &bad, ""] {
        assert_eq!(
            flow.is_match(input),
            OpaqueToken::parse(input.trim()).is_some(),
            "token {input:?}"
        );
    }

    let account = pattern(&internal(), "PaymentRequest", "account_no");
    for input in [
        "100000000001",
        " 100000000001 ",
        "12345",
        "A1B2C3",
        "1000-0000",
        &"1".repeat(25),
        "",
    ] {
        assert_eq!(
            account.is_match(input),
            AccountNumber::parse(input).is_ok(),
            "account number {input:?}"
        );
    }

    let code = pattern(&doc, "RegistrationCode", "code");
    for input in [
        "123456",
        " 123 456 ",
        "12345",
        "1234567",
        "12345a",
        "１２３４５６",
        "",
    ] {
        assert_eq!(
            code.is_match(input),
            OneTimeCode::parse(input).is_some(),
            "code {input:?}"
        );
    }
}

#[test]
fn the_internal_document_states_the_payment_and_token_rules() {
    let doc = internal();
    let purposes: Vec<&str> = Purpose::ALL.iter().map(|p| p.code()).collect();
    assert_eq!(
        field(&doc, "PaymentRequest", "purpose")["enum"],
        json!(purposes)
    );
    assert_eq!(
        field(&doc, "PaymentRequest", "currency")["enum"],
        json!(["CNY"])
    );
    assert_eq!(field(&doc, "PaymentRequest", "amount_fen")["minimum"], 1);
    assert_eq!(
        field(&doc, "PaymentRequest", "business_ref")["maxLength"],
        64
    );

    let token = &doc["components"]["schemas"]["TokenRequest"];
    assert_eq!(
        token["properties"]["grant_type"]["enum"],
        json!(["client_credentials"])
    );
    assert_eq!(
        token["required"],
        json!(["grant_type", "client_assertion_type", "client_assertion"])
    );
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(
        scheme["flows"]["clientCredentials"]["tokenUrl"],
        "/internal/oauth/token"
    );

    let create = operation(&doc, "create_authorization");
    let key = create["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .unwrap()
        .clone();
    assert_eq!(key["in"], "header");
    assert_eq!(key["required"], true);
    assert_eq!(key["schema"]["maxLength"], 128);
}
