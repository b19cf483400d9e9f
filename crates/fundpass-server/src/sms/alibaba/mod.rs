//! Alibaba Cloud SMS: `SendSms` of Dysmsapi 2017-05-25, signed with ACS3-HMAC-SHA256
//! ([`sign`]).
//!
//! As Alibaba's own SDK sends it: `POST /?OutId=…&PhoneNumbers=…&SignName=…&
//! TemplateCode=…&TemplateParam={json}` with an empty body and the headers `host`,
//! `x-acs-action: SendSms`, `x-acs-version: 2017-05-25`, `x-acs-date` (UTC, within 15
//! minutes of Alibaba's clock), `x-acs-signature-nonce` (random, never reused) and
//! `x-acs-content-sha256`, all signed. `OutId` is the outbox id: Alibaba's delivery
//! reports carry it back, which is how a send whose answer was lost is recognised
//! (see the crate README).
//!
//! The answer is `{"Code","Message","BizId","RequestId"}`, with HTTP 200 for business
//! errors too: `OK` is sent (the `BizId` is kept); `…LIMIT_CONTROL` (business, daily,
//! monthly flow control) is a limit hit, never retried; `isp.*` platform faults and
//! throttling are retried; anything else is refused for good with Alibaba's code and
//! message for the operator.

pub mod sign;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use fundpass_core::ports::{Clock, SecretGenerator, SmsAccepted, SmsError, SmsRequest, SmsSender};
use reqwest::header::AUTHORIZATION;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::provider_http::{
    Endpoint, ProviderSetupError, check_settings, short, status_failure, transport_error,
};
use super::signing::sha256_hex;
use super::templates::TemplateSet;

/// The product as start-up errors name it.
const SETUP: &str = "Alibaba Cloud SMS";
const PROVIDER: &str = "Alibaba Cloud";
/// The API version (`x-acs-version`).
pub const VERSION: &str = "2017-05-25";

/// How fundpass reaches Alibaba Cloud SMS; read from configuration (and the
/// environment, for the keys) at start-up.
#[derive(Debug, Clone)]
pub struct AlibabaConfig {
    /// `https://dysmsapi.aliyuncs.com`.
    pub endpoint: String,
    pub access_key_id: SecretString,
    pub access_key_secret: SecretString,
    /// The approved signature (短信签名).
    pub sign_name: String,
    pub templates: TemplateSet,
    pub timeout: Duration,
    /// Permits `http://`, for a local stand-in in dev mode and tests only.
    pub allow_http: bool,
}

/// Sends through Alibaba Cloud SMS.
pub struct AlibabaSender {
    client: Acs3Client,
    config: AlibabaConfig,
}

/// A caller of one Alibaba Cloud RPC-style product (SMS, ID Verification): each call
/// is `POST /?<parameters>` with an empty body, signed with ACS3-HMAC-SHA256 at the
/// clock's time with a fresh nonce.
pub(crate) struct Acs3Client {
    pub endpoint: Endpoint,
    pub access_key_id: SecretString,
    pub access_key_secret: SecretString,
    /// `x-acs-version`.
    pub version: &'static str,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn SecretGenerator>,
}

impl Acs3Client {
    /// Calls `action` with `query`, signed. The error never carries the URL (which
    /// holds the parameters).
    pub async fn post(
        &self,
        action: &str,
        query: &[(&str, &str)],
    ) -> Result<reqwest::Response, reqwest::Error> {
        let (date, nonce, payload_hash) = (self.date(), self.nonce(), sha256_hex(b""));
        let headers = [
            ("host", self.endpoint.host.as_str()),
            ("x-acs-action", action),
            ("x-acs-content-sha256", payload_hash.as_str()),
            ("x-acs-date", date.as_str()),
            ("x-acs-signature-nonce", nonce.as_str()),
            ("x-acs-version", self.version),
        ];
        let input = sign::SigningInput {
            method: "POST",
            path: "/",
            query,
            headers: &headers,
            payload: b"",
        };
        let secret = self.access_key_secret.expose_secret();
        let signed = sign::sign(secret.as_bytes(), &input);
        let authorization = sign::authorization(self.access_key_id.expose_secret(), &signed);
        let mut url = self.endpoint.url.clone();
        url.set_path("/");
        url.set_query(Some(&signed.canonical_query));
        let mut call = self
            .endpoint
            .client
            .post(url)
            .header(AUTHORIZATION, authorization);
        for (name, value) in headers.iter().filter(|(n, _)| *n != "host") {
            call = call.header(*name, *value);
        }
        call.send().await.map_err(reqwest::Error::without_url)
    }

    /// A fresh nonce: 128 random bits in hex, never repeated in practice.
    fn nonce(&self) -> String {
        let mut bytes = [0u8; 16];
        self.rng.fill(&mut bytes);
        hex::encode(bytes)
    }

    /// `x-acs-date`: the clock's time in UTC, to the second.
    fn date(&self) -> String {
        let t = self.clock.now().to_offset(time::UtcOffset::UTC);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

impl std::fmt::Debug for AlibabaSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlibabaSender")
            .field("endpoint", &self.client.endpoint.url.as_str())
            .finish_non_exhaustive()
    }
}

impl AlibabaSender {
    /// Checks the settings and builds the client; the clock supplies `x-acs-date`
    /// and the generator each call's nonce.
    pub fn new(
        config: AlibabaConfig,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn SecretGenerator>,
    ) -> Result<Self, ProviderSetupError> {
        check_settings(
            SETUP,
            &[
                (
                    "AccessKeyId",
                    "FUNDPASS_SMS_ALIBABA_ACCESS_KEY_ID",
                    &config.access_key_id,
                ),
                (
                    "AccessKeySecret",
                    "FUNDPASS_SMS_ALIBABA_ACCESS_KEY_SECRET",
                    &config.access_key_secret,
                ),
            ],
            &[("sign_name", &config.sign_name)],
        )?;
        let endpoint = Endpoint::new(SETUP, &config.endpoint, config.timeout, config.allow_http)?;
        let client = Acs3Client {
            endpoint,
            access_key_id: config.access_key_id.clone(),
            access_key_secret: config.access_key_secret.clone(),
            version: VERSION,
            clock,
            rng,
        };
        Ok(Self { client, config })
    }
}

#[async_trait]
impl SmsSender for AlibabaSender {
    fn provider(&self) -> &'static str {
        "alibaba"
    }

    async fn send(&self, request: &SmsRequest<'_>) -> Result<SmsAccepted, SmsError> {
        let masked = request.to.masked();
        let (template, values) = self
            .config
            .templates
            .fill(request.purpose, request.content)?;
        let template_param: serde_json::Map<String, serde_json::Value> = values
            .iter()
            .map(|(variable, value)| ((*variable).to_owned(), (*value).into()))
            .collect();
        let template_param = serde_json::Value::Object(template_param).to_string();
        let query = [
            ("OutId", request.idempotency_key),
            ("PhoneNumbers", request.to.normalised()),
            ("SignName", self.config.sign_name.as_str()),
            ("TemplateCode", template.id.as_str()),
            ("TemplateParam", template_param.as_str()),
        ];
        let response = self
            .client
            .post("SendSms", &query)
            .await
            .map_err(|e| transport_error(PROVIDER, &e, &masked))?;
        let status = response.status();
        if let Some(failure) = status_failure(PROVIDER, status, &masked) {
            return Err(failure);
        }
        let answer = response
            .bytes()
            .await
            .map_err(|e| transport_error(PROVIDER, &e.without_url(), &masked))?;
        classify(status.as_u16(), &answer, &masked)
    }
}

#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
    #[serde(rename = "BizId", default)]
    biz_id: String,
}

/// What Alibaba's answer means for the message.
pub fn classify(status: u16, body: &[u8], masked: &str) -> Result<SmsAccepted, SmsError> {
    let Ok(answer) = serde_json::from_slice::<Answer>(body) else {
        return Err(if (200..300).contains(&status) {
            SmsError::Uncertain(format!(
                "{PROVIDER} SMS answered HTTP {status} with a body that is not its answer \
                 ({masked})"
            ))
        } else {
            SmsError::Permanent(format!("{PROVIDER} SMS answered HTTP {status} ({masked})"))
        });
    };
    if answer.code == "OK" && !answer.biz_id.is_empty() {
        return Ok(SmsAccepted {
            provider_ref: Some(answer.biz_id),
        });
    }
    let code = answer.code.as_str();
    let text = format!(
        "{PROVIDER} SMS {code}: {} ({masked})",
        short(&answer.message)
    );
    if code.ends_with("LIMIT_CONTROL") {
        Err(SmsError::Limited(text))
    } else if (code.starts_with("isp.") && code != "isp.RAM_PERMISSION_DENY")
        || code.starts_with("Throttling")
        || code == "ServiceUnavailable"
    {
        Err(SmsError::Temporary(text))
    } else {
        Err(SmsError::Permanent(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, json: &str) -> Result<SmsAccepted, SmsError> {
        classify(status, json.as_bytes(), "138****5678")
    }

    #[test]
    fn a_sent_message_keeps_its_biz_id() {
        let sent = answer(
            200,
            r#"{"RequestId":"F655A8D5","Message":"OK","BizId":"900619746936498440^0","Code":"OK"}"#,
        );
        assert_eq!(
            sent.unwrap().provider_ref.as_deref(),
            Some("900619746936498440^0")
        );
    }

    #[test]
    fn codes_are_mapped_to_limit_retry_or_refusal() {
        let with = |status: u16, code: &str| {
            answer(
                status,
                &format!(r#"{{"RequestId":"r","Message":"m","Code":"{code}"}}"#),
            )
        };
        for code in [
            "isv.BUSINESS_LIMIT_CONTROL",
            "isv.DAY_LIMIT_CONTROL",
            "isv.MONTH_LIMIT_CONTROL",
        ] {
            assert!(
                matches!(with(200, code), Err(SmsError::Limited(_))),
                "{code}"
            );
        }
        for code in ["isp.SYSTEM_ERROR", "Throttling.User", "ServiceUnavailable"] {
            assert!(
                matches!(with(200, code), Err(SmsError::Temporary(_))),
                "{code}"
            );
        }
        for (status, code) in [
            (200, "isv.MOBILE_NUMBER_ILLEGAL"),
            (200, "isv.SMS_TEMPLATE_ILLEGAL"),
            (200, "isv.SMS_SIGNATURE_ILLEGAL"),
            (200, "isp.RAM_PERMISSION_DENY"),
            (400, "SignatureDoesNotMatch"),
            (404, "InvalidAccessKeyId.NotFound"),
        ] {
            let Err(SmsError::Permanent(reason)) = with(status, code) else {
                panic!("{code}");
            };
            assert!(reason.contains(code), "{reason}");
        }
        assert!(matches!(
            answer(200, "not json"),
            Err(SmsError::Uncertain(_))
        ));
        assert!(matches!(answer(403, "denied"), Err(SmsError::Permanent(_))));
    }
}
