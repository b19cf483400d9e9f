//! The `[sms.tencent]`, `[sms.alibaba]` and `[sms.receipts]` sections: the commercial
//! SMS providers, their templates per message purpose, and the endpoints they report
//! delivery to. Keys and the report token come from the environment only, so they
//! are never in a configuration file or in `fundpass config` output.

use std::collections::BTreeMap;

use anyhow::Context as _;
use fundpass_core::portal::{SmsTemplates, placeholders};
use fundpass_core::ports::SmsPurpose;
use fundpass_server::sms::TemplateSet;
use serde::{Deserialize, Serialize};

/// Tencent Cloud SecretId.
pub const TENCENT_SECRET_ID_ENV: &str = "FUNDPASS_SMS_TENCENT_SECRET_ID";
/// Tencent Cloud SecretKey.
pub const TENCENT_SECRET_KEY_ENV: &str = "FUNDPASS_SMS_TENCENT_SECRET_KEY";
/// Alibaba Cloud AccessKey ID.
pub const ALIBABA_KEY_ID_ENV: &str = "FUNDPASS_SMS_ALIBABA_ACCESS_KEY_ID";
/// Alibaba Cloud AccessKey secret.
pub const ALIBABA_KEY_SECRET_ENV: &str = "FUNDPASS_SMS_ALIBABA_ACCESS_KEY_SECRET";
/// The secret path token of the delivery-report endpoints.
pub const RECEIPT_TOKEN_ENV: &str = "FUNDPASS_SMS_RECEIPT_TOKEN";

/// One provider template: its id at the provider and the values filling it, in the
/// template's order (`variable=name` maps an Alibaba variable named otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateConfig {
    /// Tencent `TemplateId` / Alibaba `TemplateCode`; empty: no template.
    pub id: String,
    pub params: Vec<String>,
}

/// Every purpose with an empty id and the values of fundpass's own text for it, in
/// their order: the shape each provider's table starts from.
pub fn default_templates() -> BTreeMap<String, TemplateConfig> {
    let texts = SmsTemplates::default();
    SmsPurpose::ALL
        .into_iter()
        .map(|purpose| {
            let params = placeholders(texts.text_for(purpose))
                .into_iter()
                .map(str::to_owned)
                .collect();
            let template = TemplateConfig {
                id: String::new(),
                params,
            };
            (purpose.code().to_owned(), template)
        })
        .collect()
}

/// The templates as the senders use them; unknown purposes or value names refused.
pub fn template_set(
    section: &str,
    templates: &BTreeMap<String, TemplateConfig>,
) -> anyhow::Result<TemplateSet> {
    let entries = templates
        .iter()
        .map(|(code, t)| (code.clone(), (t.id.clone(), t.params.clone())))
        .collect();
    TemplateSet::parse(&entries).with_context(|| format!("{section}.templates"))
}

/// Tencent Cloud SMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TencentSmsConfig {
    pub endpoint: String,
    /// `ap-guangzhou`, `ap-beijing` or `ap-nanjing`.
    pub region: String,
    /// The SMS application's SmsSdkAppId.
    pub sdk_app_id: String,
    /// The approved signature (短信签名).
    pub sign_name: String,
    pub timeout_ms: u64,
    /// Purpose code → template.
    pub templates: BTreeMap<String, TemplateConfig>,
}

impl Default for TencentSmsConfig {
    fn default() -> Self {
        Self {
            endpoint: "https://sms.tencentcloudapi.com".into(),
            region: "ap-guangzhou".into(),
            sdk_app_id: String::new(),
            sign_name: String::new(),
            timeout_ms: 5_000,
            templates: default_templates(),
        }
    }
}

/// Alibaba Cloud SMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlibabaSmsConfig {
    pub endpoint: String,
    /// The approved signature (短信签名).
    pub sign_name: String,
    pub timeout_ms: u64,
    /// Purpose code → template.
    pub templates: BTreeMap<String, TemplateConfig>,
}

impl Default for AlibabaSmsConfig {
    fn default() -> Self {
        Self {
            endpoint: "https://dysmsapi.aliyuncs.com".into(),
            sign_name: String::new(),
            timeout_ms: 5_000,
            templates: default_templates(),
        }
    }
}

/// The delivery-report endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SmsReceiptsConfig {
    /// Serve `/sms/receipts/{tencent,alibaba}/<token>`; needs the token in
    /// FUNDPASS_SMS_RECEIPT_TOKEN and at least one network.
    pub enabled: bool,
    /// Networks the providers call from (`203.0.113.0/24`).
    pub allowed_networks: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_tables_list_every_purpose_with_its_own_values() {
        let t = default_templates();
        assert_eq!(t.len(), SmsPurpose::ALL.len());
        assert_eq!(t["registration_code"].params, ["code", "minutes"]);
        assert!(template_set("sms.tencent", &t).unwrap().missing().len() == t.len());
        let mut wrong = t.clone();
        wrong.insert(
            "not_me".into(),
            TemplateConfig {
                id: "1".into(),
                params: vec!["code".into()],
            },
        );
        let err = template_set("sms.tencent", &wrong).unwrap_err();
        assert!(
            format!("{err:#}").contains("sms.tencent.templates"),
            "{err:#}"
        );
    }
}
