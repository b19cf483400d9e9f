//! The business systems' API (`/internal`): every operation of
//! `/internal/openapi.json`, and its good requests (WANG registered, the withdrawal
//! system registered with every scope).

use fundpass_core::clients::Scope;
use serde_json::{Value, json};

use super::Kind::{Choice, Digits, Secret, Text, Token};
use super::Place::{Bearer, Header, Path};
use super::run::Table;
use super::{Body, Expect, Field, Prepared, Row, Surface, at, body};
use crate::api_common::{Api, TRANSACTION_PASSWORD, WANG};
use crate::internal_common::{Internal, JWT_BEARER, MemberApp, TestClient, payment};
use crate::support::TestApp;

const fn codes(codes: &'static [&'static str]) -> Expect {
    Expect::Code(codes)
}

const TOKEN: Field = at(Bearer, "authorization", Token, codes(&["invalid_token"]));
const BAD_PAYMENT: Expect = codes(&["bad_payment"]);
const ACCOUNT: Expect = codes(&["bad_payment", "unknown_member"]);
const NOT_FOUND: Expect = codes(&["not_found"]);

/// The fields of a payment, sent to create or to verify.
macro_rules! payment_fields {
    ($($extra:expr),* $(,)?) => {
        &[
            TOKEN,
            body("/account_no", Digits, ACCOUNT),
            body("/amount_fen", Digits, codes(&["bad_json"])),
            body("/currency", Choice, BAD_PAYMENT),
            body("/payee/name", Text, BAD_PAYMENT),
            body("/payee/account", Text, BAD_PAYMENT),
            body("/purpose", Choice, BAD_PAYMENT),
            body("/business_ref", Text, BAD_PAYMENT),
            $($extra),*
        ]
    };
}

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
        surface: Surface::Internal,
        fields,
        writes: &[],
    }
}

/// Every operation of the internal API.
pub const ROWS: &[Row] = &[
    Row {
        surface: Surface::OAuth,
        ..row(
            "POST",
            "/internal/oauth/token",
            Body::Form,
            &[
                body("grant_type", Choice, codes(&["unsupported_grant_type"])),
                body("client_assertion_type", Choice, codes(&["invalid_request"])),
                // A refused client authentication is on the audit trail.
                body("client_assertion", Token, codes(&["invalid_client"]))
                    .writing(&["audit_events"]),
                body("scope", Choice, codes(&["invalid_scope"])),
            ],
        )
    },
    row(
        "POST",
        "/internal/v1/authorizations",
        Body::Json,
        payment_fields!(at(
            Header,
            "idempotency-key",
            Token,
            codes(&["bad_idempotency_key"])
        )),
    ),
    row(
        "GET",
        "/internal/v1/authorizations/{id}",
        Body::None,
        &[TOKEN, at(Path, "id", Token, NOT_FOUND)],
    ),
    row(
        "POST",
        "/internal/v1/authorizations/{id}/capture",
        Body::None,
        &[TOKEN, at(Path, "id", Token, NOT_FOUND)],
    ),
    row(
        "POST",
        "/internal/v1/transaction-password/verify",
        Body::Json,
        payment_fields!(
            body(
                "/transaction_password",
                Secret,
                codes(&["wrong_transaction_password", "transaction_locked"])
            )
            .writing(&["members", "audit_events"])
        ),
    ),
    row(
        "GET",
        "/internal/v1/members/{account_no}",
        Body::None,
        &[
            TOKEN,
            at(
                Path,
                "account_no",
                Digits,
                codes(&["unknown_member", "not_found"]),
            ),
        ],
    ),
    row(
        "GET",
        "/internal/v1/members/{account_no}/qualification",
        Body::None,
        &[
            TOKEN,
            at(
                Path,
                "account_no",
                Digits,
                codes(&["unknown_member", "not_found"]),
            ),
        ],
    ),
    row(
        "GET",
        "/internal/v1/members/{account_no}/holds",
        Body::None,
        &[
            TOKEN,
            at(
                Path,
                "account_no",
                Digits,
                codes(&["unknown_member", "not_found"]),
            ),
        ],
    ),
    row(
        "POST",
        "/internal/v1/introspect",
        Body::Form,
        // RFC 7662 §2.2: a token the server does not know is `{"active": false}`; every
        // introspection is on the audit trail.
        &[
            TOKEN,
            body("token", Token, Expect::Status(200)).writing(&["audit_events"]),
        ],
    ),
    // Takes no input: nothing to refuse.
    row("GET", "/internal/v1/jwks.json", Body::None, &[]),
];

/// The rows of the internal API.
pub struct InternalTable;

pub struct InternalState {
    client: TestClient,
    token: String,
    member_token: String,
    /// Keeps payments apart (business references and idempotency keys).
    next: u32,
}

impl Table for InternalTable {
    type State = InternalState;

    async fn setup(app: &TestApp) -> InternalState {
        app.seed(&WANG).await;
        let api = Api::new(app);
        api.register(&WANG).await;
        app.clock.advance(time::Duration::seconds(61));
        let member_token = api.token_for(&WANG).await;
        let due = app.china_today() + time::Duration::days(10);
        app.entitle(&WANG, due, None).await;
        let client = TestClient::register(app, "withdrawals", &Scope::ALL).await;
        let token = Internal::new(app).token(&client).await;
        InternalState {
            client,
            token,
            member_token,
            next: 0,
        }
    }

    async fn prepare(
        app: &TestApp,
        state: &mut InternalState,
        row: &Row,
        _target: Option<&Field>,
    ) -> Prepared {
        let internal = Internal::new(app);
        let base = Prepared::new(&internal.api.client, &internal.api.ip);
        let caller = base.clone().bearer(&state.token);
        state.next += 1;
        let reference = format!("WD-{}", state.next);
        match (row.method, row.path) {
            ("POST", "/internal/oauth/token") => base.form(&[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &state.client.assertion(app)),
                ("scope", "payments:authorize"),
            ]),
            ("POST", "/internal/v1/authorizations") => caller
                .header("idempotency-key", &format!("key-{reference}"))
                .json(payment(WANG.account, 1_234_567, &reference)),
            ("GET", "/internal/v1/authorizations/{id}") => {
                let id = authorization(&internal, state, &reference).await;
                caller.path("id", &id)
            }
            ("POST", "/internal/v1/authorizations/{id}/capture") => {
                let id = authorization(&internal, state, &reference).await;
                let member = MemberApp {
                    api: &internal.api,
                    token: state.member_token.clone(),
                };
                let confirmed = member.confirm(&id, TRANSACTION_PASSWORD).await;
                assert_eq!(confirmed.status, 200, "{}", confirmed.text);
                caller.path("id", &id)
            }
            ("POST", "/internal/v1/transaction-password/verify") => {
                let mut body = payment(WANG.account, 1_234_567, &reference);
                body["transaction_password"] = json!(TRANSACTION_PASSWORD);
                caller.json(body)
            }
            (
                "GET",
                "/internal/v1/members/{account_no}"
                | "/internal/v1/members/{account_no}/holds"
                | "/internal/v1/members/{account_no}/qualification",
            ) => caller.path("account_no", WANG.account),
            ("POST", "/internal/v1/introspect") => {
                caller.form(&[("token", state.member_token.as_str())])
            }
            ("GET", "/internal/v1/jwks.json") => base,
            (method, path) => panic!("no good request for {method} {path}"),
        }
    }
}

/// A pending authorisation of a payment from WANG's fund under `reference`.
async fn authorization(internal: &Internal<'_>, state: &InternalState, reference: &str) -> String {
    let view: Value = internal
        .created(&state.token, &payment(WANG.account, 1_234_567, reference))
        .await;
    view["id"].as_str().unwrap().to_owned()
}
