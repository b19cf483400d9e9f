//! Face verification by a provider that keeps the result on its own side (Tencent
//! Cloud FaceID, Alibaba Cloud ID Verification): fundpass asks it for a handle bound
//! to the flow ([`FaceProvider::begin`]), the member's app runs the provider's SDK
//! with that handle, and fundpass then fetches the result server to server
//! ([`FaceProvider::conclude`]). What the app reports carries no authority.
//!
//! The adapter only speaks the provider's protocol and reads its authoritative pass
//! field; every rule of the flow (the handle used once, the result's person being the
//! member, freshness within the handle's lifetime, locks and audit) stays in the
//! portal, the same for every provider.

use async_trait::async_trait;
use time::Duration;

use crate::face::FaceRejection;

/// Who a face check is for, as the provider compares it with the national identity
/// database: a resident identity card and the name printed on it.
#[derive(Debug, Clone, Copy)]
pub struct FaceBegin<'a> {
    /// fundpass's reference for the check (32 lower-case hex digits, derived from the
    /// flow), which the provider keeps with the handle (`Extra`, `OuterOrderNo`).
    pub order_ref: &'a str,
    /// The name as the member typed it.
    pub name: &'a str,
    /// The normalised 18-character resident identity card number.
    pub id_number: &'a str,
    /// What the provider's SDK on the phone produced for the server call, when the
    /// provider needs it (Alibaba's `MetaInfo`, Tencent's `Meta`).
    pub meta_info: Option<&'a str>,
}

/// The provider's handle for one check, to hand to its SDK in the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceHandle(pub String);

/// The person a provider says it checked, as its result names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceSubject {
    pub id_number: String,
    pub name: String,
}

/// A finished check as the provider reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceConclusion {
    /// The provider's own verdict, from its authoritative field (Tencent `Result ==
    /// "0"`, Alibaba `Passed == "T"`); a failure is mapped to the rejection it means.
    pub verdict: Result<(), FaceRejection>,
    /// The person the result names, when the provider's answer names one (Tencent
    /// does; Alibaba's binds the person to the handle when it is made and does not
    /// repeat them).
    pub subject: Option<FaceSubject>,
    /// The reference the provider kept with the handle, when its answer repeats it.
    pub order_ref: Option<String>,
    /// The provider's code for the outcome (`0`, `2016`, `204`…), for the audit trail.
    pub provider_code: String,
    /// The match score the provider reports, 0–100, for the audit trail only: the
    /// pass decision is the provider's verdict.
    pub similarity: Option<f64>,
}

/// Why the provider could not be asked or answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaceProviderError {
    /// No answer, a server error, or an answer that is not the provider's: the same
    /// request may work in a moment. The text is for the log.
    #[error("the face verification provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused fundpass's own request (credentials, configuration,
    /// a parameter it does not accept): an operator must act. The text is for the log.
    #[error("the face verification provider refused the request: {0}")]
    Refused(String),
    /// The check has not been finished in the app yet (or was abandoned there).
    #[error("the face verification has not been finished")]
    Unfinished,
    /// The provider does not know the handle or no longer keeps its result.
    #[error("the face verification handle is unknown to the provider or has expired")]
    HandleExpired,
}

/// A query-by-token face verification provider.
#[async_trait]
pub trait FaceProvider: Send + Sync {
    /// A short stable name (`tencent`, `alibaba`) stored with each handle and shown
    /// in the audit trail.
    fn name(&self) -> &'static str;

    /// How long after [`Self::begin`] the provider's handle can still be used for a
    /// check; a result fetched later is stale.
    fn handle_lifetime(&self) -> Duration;

    /// Whether [`Self::begin`] needs the SDK's [`FaceBegin::meta_info`].
    fn needs_meta_info(&self) -> bool;

    /// Asks the provider for a handle for one check of `request`'s person.
    async fn begin(&self, request: &FaceBegin<'_>) -> Result<FaceHandle, FaceProviderError>;

    /// Fetches the result of the check made with `handle`.
    async fn conclude(&self, handle: &str) -> Result<FaceConclusion, FaceProviderError>;
}
