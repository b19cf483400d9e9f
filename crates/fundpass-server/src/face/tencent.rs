//! Tencent Cloud FaceID (慧眼) SDK face verification, API 3.0 version 2018-03-01,
//! signed with TC3-HMAC-SHA256 for the product `faceid`.
//!
//! - `GetFaceIdToken` with `CompareLib = BUSINESS` (the face is compared with the
//!   national database's photo for the name and number sent), `Extra` = fundpass's
//!   order reference; answers `FaceIdToken`, good for one check within 10 minutes.
//! - `GetFaceIdResult` with that token, video and best frame left out; answers
//!   `Result` (`"0"` is a pass, the only one), `Description`, `IdCard`, `Name`,
//!   `Similarity` (0–100) and `Extra`.
//!
//! Result codes (Tencent's "人脸核身错误码" list): `0` passed; `1001`–`1008` liveness
//! failed; `2006` the name and number do not belong together; `2005`, `2007`–`2009` no
//! usable photo on record; `2015`/`2016` and other `2xxx` the face did not match;
//! `15` the token expired; `17` the check was not finished. Whole-call errors
//! (`Response.Error`) are `InternalError*`, `RequestLimitExceeded*` and
//! `ResourceUnavailable*` (try again later) or a refusal of fundpass's own request.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use fundpass_core::face::FaceRejection;
use fundpass_core::ports::{
    Clock, FaceBegin, FaceConclusion, FaceHandle, FaceProvider, FaceProviderError, FaceSubject,
};
use secrecy::SecretString;
use serde::Deserialize;

use super::{answer_body, transport, unreadable};
use crate::sms::ProviderSetupError;
use crate::sms::provider_http::{Endpoint, check_settings, short};
use crate::sms::tencent::{CodeAndMessage, Tc3Client, Tc3Error};

const PROVIDER: &str = "Tencent Cloud FaceID";
/// The name kept with each handle and shown in the audit trail.
pub const NAME: &str = "tencent";
/// The API version (`X-TC-Version`).
pub const VERSION: &str = "2018-03-01";
/// The product the signature's credential scope names.
pub const SERVICE: &str = "faceid";

/// How fundpass reaches Tencent Cloud FaceID; keys from the environment.
#[derive(Debug, Clone)]
pub struct TencentFaceConfig {
    /// `https://faceid.tencentcloudapi.com`.
    pub endpoint: String,
    pub secret_id: SecretString,
    pub secret_key: SecretString,
    /// The `RuleId` of the business scenario, when the account has several.
    pub rule_id: Option<String>,
    /// How long a `FaceIdToken` can be used (Tencent documents 10 minutes).
    pub handle_lifetime: time::Duration,
    pub timeout: Duration,
    /// Permits `http://`, for a local stand-in in dev mode and tests only.
    pub allow_http: bool,
}

/// Face verification through Tencent Cloud FaceID.
pub struct TencentFace {
    client: Tc3Client,
    rule_id: Option<String>,
    handle_lifetime: time::Duration,
}

impl std::fmt::Debug for TencentFace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TencentFace")
            .field("endpoint", &self.client.endpoint.url.as_str())
            .finish_non_exhaustive()
    }
}

impl TencentFace {
    /// Checks the settings and builds the client; the clock supplies the signed
    /// timestamp.
    pub fn new(
        config: TencentFaceConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ProviderSetupError> {
        check_settings(
            PROVIDER,
            &[
                (
                    "SecretId",
                    "FUNDPASS_FACE_TENCENT_SECRET_ID",
                    &config.secret_id,
                ),
                (
                    "SecretKey",
                    "FUNDPASS_FACE_TENCENT_SECRET_KEY",
                    &config.secret_key,
                ),
            ],
            &[],
        )?;
        let endpoint = Endpoint::new(
            PROVIDER,
            &config.endpoint,
            config.timeout,
            config.allow_http,
        )?;
        let client = Tc3Client {
            endpoint,
            secret_id: config.secret_id,
            secret_key: config.secret_key,
            service: SERVICE,
            version: VERSION,
            region: None,
            clock,
        };
        Ok(Self {
            client,
            rule_id: config.rule_id.filter(|r| !r.trim().is_empty()),
            handle_lifetime: config.handle_lifetime,
        })
    }

    /// Calls `action` and returns the `Response` object of a successful answer.
    async fn call(
        &self,
        action: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, FaceProviderError> {
        let body = serde_json::to_vec(&body)
            .map_err(|_| FaceProviderError::Refused(format!("cannot encode {action}")))?;
        let response = match self.client.post(action, body).await {
            Ok(response) => response,
            Err(Tc3Error::Timestamp(e)) => {
                return Err(FaceProviderError::Unavailable(e.to_string()));
            }
            Err(Tc3Error::Transport(e)) => return Err(transport(PROVIDER, &e)),
        };
        let (status, body) = answer_body(PROVIDER, response).await?;
        let Ok(envelope) = serde_json::from_slice::<Envelope>(&body) else {
            return Err(unreadable(PROVIDER, status));
        };
        if let Some(error) = envelope.response.get("Error") {
            let error: CodeAndMessage =
                serde_json::from_value(error.clone()).map_err(|_| unreadable(PROVIDER, status))?;
            return Err(call_error(action, &error));
        }
        Ok(envelope.response)
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "Response")]
    response: serde_json::Value,
}

/// The parts of `GetFaceIdResult`'s answer fundpass reads.
#[derive(Deserialize)]
struct FaceIdResult {
    #[serde(rename = "Result")]
    result: String,
    #[serde(rename = "IdCard", default)]
    id_card: Option<String>,
    #[serde(rename = "Name", default)]
    name: Option<String>,
    #[serde(rename = "Similarity", default)]
    similarity: Option<f64>,
    #[serde(rename = "Extra", default)]
    extra: Option<String>,
}

/// A whole-call error as the port's failure.
fn call_error(action: &str, error: &CodeAndMessage) -> FaceProviderError {
    let text = format!(
        "{PROVIDER} {action} {}: {}",
        error.code,
        short(&error.message)
    );
    let code = error.code.as_str();
    if code.starts_with("InternalError")
        || code.starts_with("RequestLimitExceeded")
        || code.starts_with("ResourceUnavailable")
    {
        FaceProviderError::Unavailable(text)
    } else {
        FaceProviderError::Refused(text)
    }
}

/// What a `Result` code means. `Ok(Err(_))` is a check that did not pass.
pub fn verdict(code: &str) -> Result<Result<(), FaceRejection>, FaceProviderError> {
    let rejection = match code {
        "0" => return Ok(Ok(())),
        "17" => return Err(FaceProviderError::Unfinished),
        "15" => return Err(FaceProviderError::HandleExpired),
        "2006" => FaceRejection::WrongSubject,
        "2005" | "2007" | "2008" | "2009" => FaceRejection::NoReference,
        c if c.len() == 4 && c.starts_with('1') => FaceRejection::LivenessFailed,
        c if c.len() == 4 && c.starts_with("20") => FaceRejection::LowScore,
        _ => FaceRejection::Declined,
    };
    Ok(Err(rejection))
}

/// Reads `GetFaceIdResult`'s answer.
fn conclusion(response: serde_json::Value) -> Result<FaceConclusion, FaceProviderError> {
    let result: FaceIdResult = serde_json::from_value(response)
        .map_err(|_| FaceProviderError::Unavailable(format!("{PROVIDER} answered no Result")))?;
    let verdict = verdict(&result.result)?;
    let subject = match (result.id_card, result.name) {
        (Some(id_number), Some(name)) if !id_number.is_empty() => {
            Some(FaceSubject { id_number, name })
        }
        _ => None,
    };
    if verdict.is_ok() && subject.is_none() {
        // A pass must say whom it is for.
        return Err(FaceProviderError::Unavailable(format!(
            "{PROVIDER} passed a check without naming the person"
        )));
    }
    Ok(FaceConclusion {
        verdict,
        subject,
        order_ref: result.extra.filter(|e| !e.is_empty()),
        provider_code: result.result,
        similarity: result.similarity.filter(|s| s.is_finite()),
    })
}

#[async_trait]
impl FaceProvider for TencentFace {
    fn name(&self) -> &'static str {
        NAME
    }

    fn handle_lifetime(&self) -> time::Duration {
        self.handle_lifetime
    }

    fn needs_meta_info(&self) -> bool {
        false
    }

    async fn begin(&self, request: &FaceBegin<'_>) -> Result<FaceHandle, FaceProviderError> {
        let mut body = serde_json::json!({
            "CompareLib": "BUSINESS",
            "IdCard": request.id_number,
            "Name": request.name,
            "Extra": request.order_ref,
        });
        if let Some(meta) = request.meta_info {
            body["Meta"] = meta.into();
        }
        if let Some(rule) = &self.rule_id {
            body["RuleId"] = rule.as_str().into();
        }
        let response = self.call("GetFaceIdToken", body).await?;
        match response.get("FaceIdToken").and_then(|t| t.as_str()) {
            Some(token) if !token.is_empty() => Ok(FaceHandle(token.to_owned())),
            _ => Err(FaceProviderError::Unavailable(format!(
                "{PROVIDER} answered no FaceIdToken"
            ))),
        }
    }

    async fn conclude(&self, handle: &str) -> Result<FaceConclusion, FaceProviderError> {
        let body = serde_json::json!({
            "FaceIdToken": handle,
            "IsNeedVideo": false,
            "IsNeedBestFrame": false,
        });
        conclusion(self.call("GetFaceIdResult", body).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_result_zero_passes_and_failures_map_to_their_rejection() {
        assert_eq!(verdict("0"), Ok(Ok(())));
        for (code, rejection) in [
            ("1001", FaceRejection::LivenessFailed),
            ("1002", FaceRejection::LivenessFailed),
            ("2006", FaceRejection::WrongSubject),
            ("2007", FaceRejection::NoReference),
            ("2016", FaceRejection::LowScore),
            ("2015", FaceRejection::LowScore),
            ("3001", FaceRejection::Declined),
            ("00", FaceRejection::Declined),
            ("", FaceRejection::Declined),
        ] {
            assert_eq!(verdict(code), Ok(Err(rejection)), "{code}");
        }
        assert_eq!(verdict("17"), Err(FaceProviderError::Unfinished));
        assert_eq!(verdict("15"), Err(FaceProviderError::HandleExpired));
    }

    #[test]
    fn a_result_names_its_person_and_keeps_the_score_for_the_audit_only() {
        let passed = conclusion(json!({
            "IdCard": "11204416541220243X", "Name": "韦小宝", "Result": "0",
            "Description": "成功", "Similarity": 97.7, "Extra": "abc", "RequestId": "r"
        }))
        .unwrap();
        assert_eq!(passed.verdict, Ok(()));
        assert_eq!(passed.subject.unwrap().id_number, "11204416541220243X");
        assert_eq!(passed.order_ref.as_deref(), Some("abc"));
        assert_eq!(passed.similarity, Some(97.7));
        // A low similarity with Result "0" still passes: the provider decides.
        let low = conclusion(json!({"IdCard": "1", "Name": "n", "Result": "0", "Similarity": 3.0}));
        assert_eq!(low.unwrap().verdict, Ok(()));
        // A pass that names nobody is not taken.
        assert!(matches!(
            conclusion(json!({"Result": "0"})),
            Err(FaceProviderError::Unavailable(_))
        ));
        let failed = conclusion(json!({"Result": "1002", "Similarity": null})).unwrap();
        assert_eq!(failed.verdict, Err(FaceRejection::LivenessFailed));
        assert_eq!(failed.provider_code, "1002");
    }

    #[test]
    fn whole_call_errors_are_unavailable_or_refused() {
        let error = |code: &str| {
            call_error(
                "GetFaceIdResult",
                &CodeAndMessage {
                    code: code.into(),
                    message: "m".into(),
                },
            )
        };
        for code in [
            "InternalError",
            "RequestLimitExceeded",
            "ResourceUnavailable.x",
        ] {
            assert!(
                matches!(error(code), FaceProviderError::Unavailable(_)),
                "{code}"
            );
        }
        for code in ["AuthFailure.SignatureFailure", "InvalidParameterValue"] {
            let FaceProviderError::Refused(text) = error(code) else {
                panic!("{code}");
            };
            assert!(text.contains(code), "{text}");
        }
    }
}
