//! The endpoints Tencent Cloud and Alibaba Cloud post delivery reports to:
//! `POST /sms/receipts/tencent/{token}` and `POST /sms/receipts/alibaba/{token}`, with
//! their OpenAPI document at `/sms/openapi.json`.
//!
//! The providers sign nothing, so two things stand in for a signature: a secret token
//! in the path (set in the provider's console as part of the callback URL) and an
//! allow-list of the networks the provider calls from. A request failing either is
//! answered as an unknown path (404), so the endpoints do not tell that they exist.
//! A report is matched to its message by the provider's id (or Alibaba's `out_id`,
//! the outbox id) and recorded on it; a report naming no message changes nothing and
//! is acknowledged like the others, so that the provider does not send it again.

mod reports;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{Next, from_fn, from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use fundpass_core::ports::{Clock, IncomingReceipt, OutboxStore};
use fundpass_core::staff::BranchNetworks;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as Document;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use reports::{AlibabaAck, AlibabaReport, TencentAck, TencentReport};

use crate::api::{ApiError, ApiJson, ErrorBody, ErrorCode, ErrorObject};

/// Largest report batch accepted: a few hundred reports.
pub const MAX_RECEIPT_BYTES: usize = 256 * 1024;

/// The key under which the allowed networks are kept (the staff console's network
/// lists do the matching).
const NETWORKS_KEY: &str = "sms_receipts";

/// Shortest path token accepted: 32 characters (128 bits as hex).
pub const MIN_TOKEN_CHARS: usize = 32;

/// How the endpoints are protected; from configuration and the environment.
#[derive(Clone)]
pub struct ReceiptSettings {
    token: SecretString,
    networks: BranchNetworks,
    trust_forwarded_for: bool,
}

/// Why the report endpoints cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptSetupError {
    /// The path token is too short to be a secret.
    #[error(
        "the SMS delivery-report token (FUNDPASS_SMS_RECEIPT_TOKEN) must have at least \
         {MIN_TOKEN_CHARS} characters, letters, digits, - and _"
    )]
    WeakToken,
    /// No network is allowed, so no provider could report.
    #[error(
        "sms.receipts.allowed_networks is empty: list the provider's callback networks \
         (\"0.0.0.0/0\" and \"::/0\" allow any address)"
    )]
    NoNetworks,
    /// A network does not parse.
    #[error("sms.receipts.allowed_networks: {0:?} is not a network like 10.1.0.0/16")]
    BadNetwork(String),
}

impl ReceiptSettings {
    /// Checks the token (the providers put it in the URL, so only URL-safe
    /// characters) and the networks.
    pub fn new(
        token: SecretString,
        networks: &[String],
        trust_forwarded_for: bool,
    ) -> Result<Self, ReceiptSetupError> {
        let raw = token.expose_secret();
        let url_safe = raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        if raw.chars().count() < MIN_TOKEN_CHARS || !url_safe {
            return Err(ReceiptSetupError::WeakToken);
        }
        if networks.is_empty() {
            return Err(ReceiptSetupError::NoNetworks);
        }
        let lists =
            std::collections::BTreeMap::from([(NETWORKS_KEY.to_owned(), networks.to_vec())]);
        let networks =
            BranchNetworks::parse(&lists).map_err(|e| ReceiptSetupError::BadNetwork(e.network))?;
        Ok(Self {
            token,
            networks,
            trust_forwarded_for,
        })
    }
}

impl std::fmt::Debug for ReceiptSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptSettings")
            .field("networks", &self.networks)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .finish_non_exhaustive()
    }
}

/// What the handlers share.
#[derive(Clone)]
struct Receipts {
    store: Arc<dyn OutboxStore>,
    clock: Arc<dyn Clock>,
    settings: Arc<ReceiptSettings>,
}

/// Frame of the document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "fundpass SMS delivery reports",
        description = "Where Tencent Cloud SMS and Alibaba Cloud SMS post delivery reports, in each \
            provider's own format. The path carries a secret token and only the configured networks \
            may call; any other request is answered 404 `not_found`. Reports naming no message sent \
            by fundpass are acknowledged and ignored. Errors have the body \
            `{\"error\": {\"code\", \"message\", \"details\"}}` (schema `ErrorBody`)."
    ),
    components(schemas(ErrorBody, ErrorObject, ErrorCode)),
    tags((name = "sms", description = "SMS delivery reports"))
)]
struct ReceiptsDoc;

/// The report endpoints and their document, for the public listener. The state the
/// app's other routes share is not needed: the router carries its own.
pub fn router<S: Clone + Send + Sync + 'static>(
    store: Arc<dyn OutboxStore>,
    clock: Arc<dyn Clock>,
    settings: ReceiptSettings,
) -> Router<S> {
    let state = Receipts {
        store,
        clock,
        settings: Arc::new(settings),
    };
    let (routes, document) = documented();
    let document = Arc::new(document);
    let routes = routes
        .route("/sms/receipts/{*rest}", any(not_found))
        .layer(from_fn_with_state(state.clone(), guard))
        .with_state(state);
    Router::new()
        .merge(routes)
        .route(
            "/sms/openapi.json",
            get(move || {
                let document = document.clone();
                async move { axum::Json(document.as_ref().clone()) }
            }),
        )
        .layer(DefaultBodyLimit::max(MAX_RECEIPT_BYTES))
        .layer(from_fn(refuse_oversized_bodies))
        .layer(map_response(envelope_for_bare_405))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// The endpoints' OpenAPI document, as served at `/sms/openapi.json`.
pub fn openapi_document() -> Document {
    documented().1
}

fn documented() -> (Router<Receipts>, Document) {
    let (routes, mut document) = OpenApiRouter::with_openapi(ReceiptsDoc::openapi())
        .routes(routes!(tencent))
        .routes(routes!(alibaba))
        .split_for_parts();
    crate::api::add_common_responses(&mut document, "ErrorBody");
    (routes, document)
}

/// Tencent Cloud's delivery reports.
#[utoipa::path(
    post,
    path = "/sms/receipts/tencent/{token}",
    operation_id = "tencent_delivery_reports",
    tag = "sms",
    params(("token" = String, Path, description = "The secret path token")),
    request_body(content = Vec<TencentReport>, content_type = "application/json"),
    responses(
        (status = 200, description = "Taken", body = TencentAck),
        (status = 404, description = "not_found: wrong token or a network not allowed", body = ErrorBody),
    )
)]
async fn tencent(
    State(state): State<Receipts>,
    ApiJson(reports): ApiJson<Vec<TencentReport>>,
) -> Result<axum::Json<TencentAck>, ApiError> {
    let now = state.clock.now();
    let receipts = reports.iter().map(|r| r.receipt(now));
    record(&state, "Tencent Cloud", receipts).await?;
    Ok(axum::Json(TencentAck {
        result: 0,
        errmsg: "OK",
    }))
}

/// Alibaba Cloud's delivery reports (SmsReport, HTTP batch push).
#[utoipa::path(
    post,
    path = "/sms/receipts/alibaba/{token}",
    operation_id = "alibaba_delivery_reports",
    tag = "sms",
    params(("token" = String, Path, description = "The secret path token")),
    request_body(content = Vec<AlibabaReport>, content_type = "application/json"),
    responses(
        (status = 200, description = "Taken", body = AlibabaAck),
        (status = 404, description = "not_found: wrong token or a network not allowed", body = ErrorBody),
    )
)]
async fn alibaba(
    State(state): State<Receipts>,
    ApiJson(reports): ApiJson<Vec<AlibabaReport>>,
) -> Result<axum::Json<AlibabaAck>, ApiError> {
    let now = state.clock.now();
    let receipts = reports.iter().map(|r| r.receipt(now));
    record(&state, "Alibaba Cloud", receipts).await?;
    Ok(axum::Json(AlibabaAck {
        code: 0,
        msg: "成功",
    }))
}

/// Records each report on its message; reports naming none are counted and dropped.
async fn record(
    state: &Receipts,
    provider: &str,
    receipts: impl Iterator<Item = IncomingReceipt>,
) -> Result<(), ApiError> {
    let (mut matched, mut unknown) = (0u32, 0u32);
    for receipt in receipts {
        let found = state
            .store
            .record_receipt(&receipt)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        if found {
            matched += 1;
        } else {
            unknown += 1;
        }
    }
    tracing::info!(matched, unknown, "{provider} SMS delivery reports recorded");
    Ok(())
}

/// Lets through only a request with the right path token from an allowed network.
async fn guard(State(state): State<Receipts>, request: Request, next: Next) -> Response {
    let token = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let expected = state.settings.token.expose_secret().as_bytes();
    let token_ok = !expected.is_empty() && bool::from(token.as_bytes().ct_eq(expected));
    let ip = crate::request::client_ip(
        request.headers(),
        request.extensions(),
        state.settings.trust_forwarded_for,
    );
    let network_ok = state.settings.networks.allows(NETWORKS_KEY, ip.as_deref());
    if !(token_ok && network_ok) {
        tracing::warn!(
            path_token_ok = token_ok,
            network_ok,
            "SMS delivery report refused"
        );
        return ApiError::new(ErrorCode::NotFound).into_response();
    }
    next.run(request).await
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound)
}

async fn refuse_oversized_bodies(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_RECEIPT_BYTES as u64) {
        return ApiError::new(ErrorCode::PayloadTooLarge).into_response();
    }
    next.run(request).await
}

async fn envelope_for_bare_405(response: Response) -> Response {
    crate::api::replace_bare_405(response, || {
        ApiError::new(ErrorCode::MethodNotAllowed).into_response()
    })
}
