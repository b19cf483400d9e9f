//! Tencent Cloud SMS: `SendSms` of API 3.0 (`X-TC-Version: 2021-01-11`), signed with
//! TC3-HMAC-SHA256 ([`sign`]).
//!
//! One call per message: `POST /` with the JSON body
//! `{"PhoneNumberSet":["+86…"],"SmsSdkAppId","SignName","TemplateId",
//! "TemplateParamSet":[…],"SessionContext":"<outbox id>"}`. Errors arrive with HTTP
//! 200: a whole-call `Response.Error.Code` (authentication, signature, parameters) or
//! a per-number `Response.SendStatusSet[].Code`. `Ok` is sent (the `SerialNo` is kept:
//! delivery reports name it); `LimitExceeded.*` is a limit hit, never retried;
//! `InternalError.*` and `RequestLimitExceeded*` are retried; anything else is refused
//! for good with Tencent's code and message for the operator.
//!
//! `SendSms` has no idempotency key: see the crate README on how a send that timed out
//! is retried.

pub mod sign;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use fundpass_core::ports::{Clock, SmsAccepted, SmsError, SmsRequest, SmsSender};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::provider_http::{
    Endpoint, ProviderSetupError, check_settings, short, status_failure, transport_error,
};
use super::templates::TemplateSet;

/// The product as start-up errors name it.
const SETUP: &str = "Tencent Cloud SMS";
const PROVIDER: &str = "Tencent Cloud";
/// The API version the request and answer formats follow.
pub const VERSION: &str = "2021-01-11";
/// The product the signature's credential scope names.
pub const SERVICE: &str = "sms";
/// The body's media type, signed as sent.
pub const CONTENT_TYPE_JSON: &str = "application/json; charset=utf-8";

/// How fundpass reaches Tencent Cloud SMS; read from configuration (and the
/// environment, for the keys) at start-up.
#[derive(Debug, Clone)]
pub struct TencentConfig {
    /// `https://sms.tencentcloudapi.com` (or a regional endpoint).
    pub endpoint: String,
    /// `X-TC-Region`: `ap-guangzhou`, `ap-beijing` or `ap-nanjing`.
    pub region: String,
    pub secret_id: SecretString,
    pub secret_key: SecretString,
    /// The SMS application's `SmsSdkAppId` (`1400…`).
    pub sdk_app_id: String,
    /// The approved signature (短信签名) shown in front of every text.
    pub sign_name: String,
    pub templates: TemplateSet,
    pub timeout: Duration,
    /// Permits `http://`, for a local stand-in in dev mode and tests only.
    pub allow_http: bool,
}

/// Sends through Tencent Cloud SMS.
pub struct TencentSender {
    client: Tc3Client,
    config: TencentConfig,
}

/// A caller of one Tencent Cloud API 3.0 product (SMS, FaceID): each call is a JSON
/// `POST /` signed with TC3-HMAC-SHA256 at the clock's time.
pub(crate) struct Tc3Client {
    pub endpoint: Endpoint,
    pub secret_id: SecretString,
    pub secret_key: SecretString,
    /// The product, as the credential scope names it (`sms`, `faceid`).
    pub service: &'static str,
    /// `X-TC-Version`.
    pub version: &'static str,
    /// `X-TC-Region`, for products that want one.
    pub region: Option<String>,
    pub clock: Arc<dyn Clock>,
}

/// Why a signed call got no answer.
#[derive(Debug)]
pub(crate) enum Tc3Error {
    /// The clock's time cannot be signed.
    Timestamp(sign::BadTimestamp),
    Transport(reqwest::Error),
}

impl Tc3Client {
    /// Sends `body` as `action`, signed.
    pub async fn post(&self, action: &str, body: Vec<u8>) -> Result<reqwest::Response, Tc3Error> {
        let timestamp = self.clock.now().unix_timestamp();
        let signed_action = action.to_ascii_lowercase();
        let headers = [
            ("content-type", CONTENT_TYPE_JSON),
            ("host", self.endpoint.host.as_str()),
            ("x-tc-action", signed_action.as_str()),
        ];
        let input = sign::SigningInput {
            method: "POST",
            query: "",
            headers: &headers,
            payload: &body,
            service: self.service,
            timestamp,
        };
        let signed = sign::sign(self.secret_key.expose_secret().as_bytes(), &input)
            .map_err(Tc3Error::Timestamp)?;
        let authorization = sign::authorization(self.secret_id.expose_secret(), &signed);
        let mut call = self
            .endpoint
            .client
            .post(self.endpoint.url.clone())
            .header(AUTHORIZATION, authorization)
            .header(CONTENT_TYPE, CONTENT_TYPE_JSON)
            .header("X-TC-Action", action)
            .header("X-TC-Timestamp", timestamp.to_string())
            .header("X-TC-Version", self.version);
        if let Some(region) = &self.region {
            call = call.header("X-TC-Region", region);
        }
        call.body(body).send().await.map_err(Tc3Error::Transport)
    }
}

impl std::fmt::Debug for TencentSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TencentSender")
            .field("endpoint", &self.client.endpoint.url.as_str())
            .field("region", &self.config.region)
            .field("sdk_app_id", &self.config.sdk_app_id)
            .finish_non_exhaustive()
    }
}

impl TencentSender {
    /// Checks the settings and builds the client; the clock supplies the signed
    /// timestamp.
    pub fn new(config: TencentConfig, clock: Arc<dyn Clock>) -> Result<Self, ProviderSetupError> {
        check_settings(
            SETUP,
            &[
                (
                    "SecretId",
                    "FUNDPASS_SMS_TENCENT_SECRET_ID",
                    &config.secret_id,
                ),
                (
                    "SecretKey",
                    "FUNDPASS_SMS_TENCENT_SECRET_KEY",
                    &config.secret_key,
                ),
            ],
            &[
                ("sdk_app_id", &config.sdk_app_id),
                ("sign_name", &config.sign_name),
                ("region", &config.region),
            ],
        )?;
        let endpoint = Endpoint::new(SETUP, &config.endpoint, config.timeout, config.allow_http)?;
        let client = Tc3Client {
            endpoint,
            secret_id: config.secret_id.clone(),
            secret_key: config.secret_key.clone(),
            service: SERVICE,
            version: VERSION,
            region: Some(config.region.clone()),
            clock,
        };
        Ok(Self { client, config })
    }

    /// The request body for one message.
    fn body(&self, request: &SmsRequest<'_>) -> Result<Vec<u8>, SmsError> {
        let (template, values) = self
            .config
            .templates
            .fill(request.purpose, request.content)?;
        let params: Vec<&str> = values.iter().map(|(_, value)| *value).collect();
        let body = serde_json::json!({
            "PhoneNumberSet": [format!("+86{}", request.to.normalised())],
            "SmsSdkAppId": self.config.sdk_app_id,
            "SignName": self.config.sign_name,
            "TemplateId": template.id,
            "TemplateParamSet": params,
            "SessionContext": request.idempotency_key,
        });
        serde_json::to_vec(&body)
            .map_err(|_| SmsError::Permanent("cannot encode the Tencent Cloud request".into()))
    }
}

#[async_trait]
impl SmsSender for TencentSender {
    fn provider(&self) -> &'static str {
        "tencent"
    }

    async fn send(&self, request: &SmsRequest<'_>) -> Result<SmsAccepted, SmsError> {
        let masked = request.to.masked();
        let body = self.body(request)?;
        let response = match self.client.post("SendSms", body).await {
            Ok(response) => response,
            Err(Tc3Error::Timestamp(e)) => return Err(SmsError::Temporary(e.to_string())),
            Err(Tc3Error::Transport(e)) => return Err(transport_error(PROVIDER, &e, &masked)),
        };
        let status = response.status();
        if let Some(failure) = status_failure(PROVIDER, status, &masked) {
            return Err(failure);
        }
        let answer = response
            .bytes()
            .await
            .map_err(|e| transport_error(PROVIDER, &e, &masked))?;
        classify(status.as_u16(), &answer, &masked)
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "Response")]
    response: Answer,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "Error")]
    error: Option<CodeAndMessage>,
    #[serde(rename = "SendStatusSet", default)]
    statuses: Vec<SendStatus>,
}

/// A Tencent Cloud API 3.0 error (`Response.Error`), the same for every product.
#[derive(Deserialize)]
pub(crate) struct CodeAndMessage {
    #[serde(rename = "Code")]
    pub code: String,
    #[serde(rename = "Message", default)]
    pub message: String,
}

#[derive(Deserialize)]
struct SendStatus {
    #[serde(rename = "SerialNo", default)]
    serial_no: String,
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
}

/// What Tencent's answer means for the message (one number per call).
pub fn classify(status: u16, body: &[u8], masked: &str) -> Result<SmsAccepted, SmsError> {
    let unreadable = || {
        SmsError::Uncertain(format!(
            "{PROVIDER} SMS answered HTTP {status} with a body that is not its answer ({masked})"
        ))
    };
    let Ok(envelope) = serde_json::from_slice::<Envelope>(body) else {
        return Err(if (200..300).contains(&status) {
            unreadable()
        } else {
            SmsError::Permanent(format!("{PROVIDER} SMS answered HTTP {status} ({masked})"))
        });
    };
    let answer = envelope.response;
    if let Some(error) = answer.error {
        return Err(refusal(&error.code, &error.message, masked));
    }
    let Some(first) = answer.statuses.first() else {
        return Err(unreadable());
    };
    if first.code == "Ok" && !first.serial_no.is_empty() {
        return Ok(SmsAccepted {
            provider_ref: Some(first.serial_no.clone()),
        });
    }
    Err(refusal(&first.code, &first.message, masked))
}

/// A Tencent error code as a failure of the message.
fn refusal(code: &str, message: &str, masked: &str) -> SmsError {
    let text = format!("{PROVIDER} SMS {code}: {} ({masked})", short(message));
    if code.starts_with("LimitExceeded.") {
        SmsError::Limited(text)
    } else if code.starts_with("InternalError") || code.starts_with("RequestLimitExceeded") {
        SmsError::Temporary(text)
    } else {
        SmsError::Permanent(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: &str) -> Result<SmsAccepted, SmsError> {
        classify(200, json.as_bytes(), "138****5678")
    }

    #[test]
    fn a_sent_message_keeps_its_serial_number() {
        let sent = answer(
            r#"{"Response":{"SendStatusSet":[{"SerialNo":"5000:1045710669157053657849499619",
            "PhoneNumber":"+8613812345678","Fee":1,"SessionContext":"m1","Code":"Ok",
            "Message":"send success","IsoCode":"CN"}],"RequestId":"a0aabda6"}}"#,
        );
        assert_eq!(
            sent.unwrap().provider_ref.as_deref(),
            Some("5000:1045710669157053657849499619")
        );
    }

    #[test]
    fn errors_in_a_200_answer_are_mapped_by_code() {
        let per_number = |code: &str| {
            answer(&format!(
                r#"{{"Response":{{"SendStatusSet":[{{"SerialNo":"","Code":"{code}","Message":"m"}}],"RequestId":"r"}}}}"#
            ))
        };
        let whole = |code: &str| {
            answer(&format!(
                r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"m"}},"RequestId":"r"}}}}"#
            ))
        };
        for code in [
            "LimitExceeded.PhoneNumberDailyLimit",
            "LimitExceeded.PhoneNumberThirtySecondLimit",
            "LimitExceeded.DeliveryFrequencyLimit",
        ] {
            assert!(
                matches!(per_number(code), Err(SmsError::Limited(_))),
                "{code}"
            );
        }
        for code in [
            "FailedOperation.TemplateIncorrectOrUnapproved",
            "FailedOperation.SignatureIncorrectOrUnapproved",
            "InvalidParameterValue.IncorrectPhoneNumber",
        ] {
            assert!(
                matches!(per_number(code), Err(SmsError::Permanent(_))),
                "{code}"
            );
        }
        for code in [
            "AuthFailure.SignatureFailure",
            "AuthFailure.SecretIdNotFound",
        ] {
            let Err(SmsError::Permanent(reason)) = whole(code) else {
                panic!("{code}");
            };
            assert!(reason.contains(code), "{reason}");
        }
        for code in ["InternalError.Timeout", "RequestLimitExceeded"] {
            assert!(matches!(whole(code), Err(SmsError::Temporary(_))), "{code}");
        }
        assert!(matches!(answer("<html>"), Err(SmsError::Uncertain(_))));
        assert!(matches!(
            answer(r#"{"Response":{"RequestId":"r"}}"#),
            Err(SmsError::Uncertain(_))
        ));
        assert!(matches!(
            classify(403, b"denied", "138****5678"),
            Err(SmsError::Permanent(_))
        ));
    }
}
