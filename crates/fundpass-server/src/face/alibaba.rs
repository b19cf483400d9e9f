//! Alibaba Cloud ID Verification (金融级实人认证), Cloudauth 2019-03-07, signed with
//! ACS3-HMAC-SHA256.
//!
//! - `InitFaceVerify` with the scene, `OuterOrderNo` = fundpass's order reference,
//!   `ProductCode` (`ID_PRO` for the app SDK), `CertType = IDENTITY_CARD`,
//!   `CertName`, `CertNo` and the SDK's `MetaInfo`; answers
//!   `ResultObject.CertifyId`. The person is bound to the CertifyId here, by
//!   fundpass's own call; the result does not name them again.
//! - `DescribeFaceVerify` with the scene and the CertifyId; answers
//!   `ResultObject.Passed` (`"T"` is a pass, the only one), `SubCode` and
//!   `MaterialInfo` (a JSON string whose `facialPictureFront.verifyScore` is the
//!   similarity).
//!
//! `Code` is `"200"` for a call that worked, also when the check failed. Codes
//! (Alibaba's "错误码" list): `424` and `403` the check is not finished; `406` unknown
//! CertifyId; `500` system error (try again later); any other a refusal of fundpass's
//! own request. SubCodes: `200` passed; `201` the name and number do not belong
//! together; `202`/`203` no identity or photo on record; `204` the face did not match;
//! `205` liveness failed; anything else a refusal for a reason of Alibaba's own.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use fundpass_core::face::FaceRejection;
use fundpass_core::ports::{
    Clock, FaceBegin, FaceConclusion, FaceHandle, FaceProvider, FaceProviderError, SecretGenerator,
};
use secrecy::SecretString;
use serde::Deserialize;

use super::{answer_body, transport, unreadable};
use crate::sms::ProviderSetupError;
use crate::sms::alibaba::Acs3Client;
use crate::sms::provider_http::{Endpoint, check_settings, short};

const PROVIDER: &str = "Alibaba Cloud ID Verification";
/// The name kept with each handle and shown in the audit trail.
pub const NAME: &str = "alibaba";
/// The API version (`x-acs-version`).
pub const VERSION: &str = "2019-03-07";

/// How fundpass reaches Alibaba Cloud ID Verification; keys from the environment.
#[derive(Debug, Clone)]
pub struct AlibabaFaceConfig {
    /// `https://cloudauth.aliyuncs.com`.
    pub endpoint: String,
    pub access_key_id: SecretString,
    pub access_key_secret: SecretString,
    /// The authentication scene's id (`SceneId`) from Alibaba's console.
    pub scene_id: String,
    /// The scheme (`ProductCode`): `ID_PRO` for the app SDK.
    pub product_code: String,
    /// How long a `CertifyId` can be used for a check.
    pub handle_lifetime: time::Duration,
    pub timeout: Duration,
    /// Permits `http://`, for a local stand-in in dev mode and tests only.
    pub allow_http: bool,
}

/// Face verification through Alibaba Cloud ID Verification.
pub struct AlibabaFace {
    client: Acs3Client,
    scene_id: String,
    product_code: String,
    handle_lifetime: time::Duration,
}

impl std::fmt::Debug for AlibabaFace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlibabaFace")
            .field("endpoint", &self.client.endpoint.url.as_str())
            .field("scene_id", &self.scene_id)
            .finish_non_exhaustive()
    }
}

impl AlibabaFace {
    /// Checks the settings and builds the client; the clock supplies `x-acs-date`
    /// and the generator each call's nonce.
    pub fn new(
        config: AlibabaFaceConfig,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn SecretGenerator>,
    ) -> Result<Self, ProviderSetupError> {
        check_settings(
            PROVIDER,
            &[
                (
                    "AccessKeyId",
                    "FUNDPASS_FACE_ALIBABA_ACCESS_KEY_ID",
                    &config.access_key_id,
                ),
                (
                    "AccessKeySecret",
                    "FUNDPASS_FACE_ALIBABA_ACCESS_KEY_SECRET",
                    &config.access_key_secret,
                ),
            ],
            &[
                ("scene_id", &config.scene_id),
                ("product_code", &config.product_code),
            ],
        )?;
        let endpoint = Endpoint::new(
            PROVIDER,
            &config.endpoint,
            config.timeout,
            config.allow_http,
        )?;
        let client = Acs3Client {
            endpoint,
            access_key_id: config.access_key_id,
            access_key_secret: config.access_key_secret,
            version: VERSION,
            clock,
            rng,
        };
        Ok(Self {
            client,
            scene_id: config.scene_id,
            product_code: config.product_code,
            handle_lifetime: config.handle_lifetime,
        })
    }

    /// Calls `action`; the answer's `Code` and `ResultObject`.
    async fn call(
        &self,
        action: &str,
        query: &[(&str, &str)],
    ) -> Result<Answer, FaceProviderError> {
        let response = self
            .client
            .post(action, query)
            .await
            .map_err(|e| transport(PROVIDER, &e))?;
        let (status, body) = answer_body(PROVIDER, response).await?;
        let answer: Answer =
            serde_json::from_slice(&body).map_err(|_| unreadable(PROVIDER, status))?;
        match answer.code.as_str() {
            "200" if (200..300).contains(&status) => Ok(answer),
            "424" | "403" if action == "DescribeFaceVerify" => Err(FaceProviderError::Unfinished),
            "406" if action == "DescribeFaceVerify" => Err(FaceProviderError::HandleExpired),
            "500" => Err(FaceProviderError::Unavailable(refusal(action, &answer))),
            _ => Err(FaceProviderError::Refused(refusal(action, &answer))),
        }
    }
}

/// An answer, as far as fundpass reads it.
#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
    #[serde(rename = "ResultObject", default)]
    result: Option<serde_json::Value>,
}

fn refusal(action: &str, answer: &Answer) -> String {
    format!(
        "{PROVIDER} {action} {}: {}",
        answer.code,
        short(&answer.message)
    )
}

/// `DescribeFaceVerify`'s `ResultObject`.
#[derive(Deserialize)]
struct Verified {
    #[serde(rename = "Passed")]
    passed: String,
    #[serde(rename = "SubCode", default)]
    sub_code: String,
    #[serde(rename = "MaterialInfo", default)]
    material_info: Option<String>,
}

/// What `Passed` and `SubCode` mean.
pub fn verdict(passed: &str, sub_code: &str) -> Result<(), FaceRejection> {
    if passed == "T" {
        return Ok(());
    }
    Err(match sub_code {
        "201" => FaceRejection::WrongSubject,
        "202" | "203" => FaceRejection::NoReference,
        "204" => FaceRejection::LowScore,
        "205" => FaceRejection::LivenessFailed,
        _ => FaceRejection::Declined,
    })
}

/// The similarity in `MaterialInfo`, when it is there and readable.
fn similarity(material_info: Option<&str>) -> Option<f64> {
    let info: serde_json::Value = serde_json::from_str(material_info?).ok()?;
    info["facialPictureFront"]["verifyScore"]
        .as_f64()
        .filter(|s| s.is_finite())
}

/// Reads `DescribeFaceVerify`'s `ResultObject`.
fn conclusion(result: Option<serde_json::Value>) -> Result<FaceConclusion, FaceProviderError> {
    let verified: Verified = result
        .and_then(|r| serde_json::from_value(r).ok())
        .ok_or_else(|| FaceProviderError::Unavailable(format!("{PROVIDER} answered no result")))?;
    Ok(FaceConclusion {
        verdict: verdict(&verified.passed, &verified.sub_code),
        subject: None,
        order_ref: None,
        similarity: similarity(verified.material_info.as_deref()),
        provider_code: verified.sub_code,
    })
}

#[async_trait]
impl FaceProvider for AlibabaFace {
    fn name(&self) -> &'static str {
        NAME
    }

    fn handle_lifetime(&self) -> time::Duration {
        self.handle_lifetime
    }

    fn needs_meta_info(&self) -> bool {
        true
    }

    async fn begin(&self, request: &FaceBegin<'_>) -> Result<FaceHandle, FaceProviderError> {
        let query = [
            ("SceneId", self.scene_id.as_str()),
            ("OuterOrderNo", request.order_ref),
            ("ProductCode", self.product_code.as_str()),
            ("CertType", "IDENTITY_CARD"),
            ("CertName", request.name),
            ("CertNo", request.id_number),
            ("MetaInfo", request.meta_info.unwrap_or_default()),
        ];
        let answer = self.call("InitFaceVerify", &query).await?;
        let certify_id = answer
            .result
            .as_ref()
            .and_then(|r| r.get("CertifyId"))
            .and_then(|c| c.as_str())
            .filter(|c| !c.is_empty());
        match certify_id {
            Some(id) => Ok(FaceHandle(id.to_owned())),
            None => Err(FaceProviderError::Unavailable(format!(
                "{PROVIDER} answered no CertifyId"
            ))),
        }
    }

    async fn conclude(&self, handle: &str) -> Result<FaceConclusion, FaceProviderError> {
        let query = [("SceneId", self.scene_id.as_str()), ("CertifyId", handle)];
        let answer = self.call("DescribeFaceVerify", &query).await?;
        conclusion(answer.result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_passed_t_passes_and_sub_codes_map_to_their_rejection() {
        assert_eq!(verdict("T", "200"), Ok(()));
        for (sub_code, rejection) in [
            ("201", FaceRejection::WrongSubject),
            ("202", FaceRejection::NoReference),
            ("203", FaceRejection::NoReference),
            ("204", FaceRejection::LowScore),
            ("205", FaceRejection::LivenessFailed),
            ("206", FaceRejection::Declined),
            ("200", FaceRejection::Declined),
        ] {
            assert_eq!(verdict("F", sub_code), Err(rejection), "{sub_code}");
        }
        // Anything but "T" is not a pass, whatever the SubCode says.
        assert!(verdict("t", "200").is_err());
        assert!(verdict("", "200").is_err());
    }

    #[test]
    fn the_similarity_comes_from_the_material_info_for_the_audit_only() {
        let result = json!({
            "Passed": "T", "SubCode": "200",
            "MaterialInfo": "{\"faceAttack\":\"F\",\"facialPictureFront\":{\"qualityScore\":88.3,\"verifyScore\":91.5}}"
        });
        let c = conclusion(Some(result)).unwrap();
        assert_eq!(c.verdict, Ok(()));
        assert_eq!(c.similarity, Some(91.5));
        assert_eq!(c.subject, None);
        let no_info = conclusion(Some(json!({"Passed": "F", "SubCode": "205"}))).unwrap();
        assert_eq!(no_info.similarity, None);
        assert_eq!(no_info.verdict, Err(FaceRejection::LivenessFailed));
        assert!(matches!(
            conclusion(None),
            Err(FaceProviderError::Unavailable(_))
        ));
    }
}
