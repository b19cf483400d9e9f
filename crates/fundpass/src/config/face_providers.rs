//! The `[face.tencent]` and `[face.alibaba]` sections: the query-by-token face
//! verification providers `face.provider` can name. Keys come from the environment
//! only, so they are never in a configuration file or in `fundpass config` output.

use serde::{Deserialize, Serialize};

/// Tencent Cloud SecretId for FaceID.
pub const TENCENT_SECRET_ID_ENV: &str = "FUNDPASS_FACE_TENCENT_SECRET_ID";
/// Tencent Cloud SecretKey for FaceID.
pub const TENCENT_SECRET_KEY_ENV: &str = "FUNDPASS_FACE_TENCENT_SECRET_KEY";
/// Alibaba Cloud AccessKey ID for ID Verification.
pub const ALIBABA_KEY_ID_ENV: &str = "FUNDPASS_FACE_ALIBABA_ACCESS_KEY_ID";
/// Alibaba Cloud AccessKey secret for ID Verification.
pub const ALIBABA_KEY_SECRET_ENV: &str = "FUNDPASS_FACE_ALIBABA_ACCESS_KEY_SECRET";

/// How face logins are verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FaceProviderKind {
    /// The app posts the provider's signed result (JWS), checked against the keys
    /// pinned in `face.providers` (and, in dev mode, the simulator's).
    #[default]
    Signed,
    /// Tencent Cloud FaceID: fundpass fetches the result (`[face.tencent]`).
    Tencent,
    /// Alibaba Cloud ID Verification: fundpass fetches the result (`[face.alibaba]`).
    Alibaba,
}

/// Tencent Cloud FaceID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TencentFaceSettings {
    pub endpoint: String,
    /// The business scenario's RuleId; empty when the account has only one.
    pub rule_id: String,
    /// How long a FaceIdToken can be used (Tencent documents 10 minutes).
    pub handle_lifetime_seconds: i64,
    pub timeout_ms: u64,
}

impl Default for TencentFaceSettings {
    fn default() -> Self {
        Self {
            endpoint: "https://faceid.tencentcloudapi.com".into(),
            rule_id: String::new(),
            handle_lifetime_seconds: 600,
            timeout_ms: 5_000,
        }
    }
}

/// Alibaba Cloud ID Verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlibabaFaceSettings {
    pub endpoint: String,
    /// The authentication scene's SceneId from Alibaba's console.
    pub scene_id: String,
    /// The scheme: `ID_PRO` for the app SDK.
    pub product_code: String,
    /// How long a CertifyId can be used; set it to the contract's value.
    pub handle_lifetime_seconds: i64,
    pub timeout_ms: u64,
}

impl Default for AlibabaFaceSettings {
    fn default() -> Self {
        Self {
            endpoint: "https://cloudauth.aliyuncs.com".into(),
            scene_id: String::new(),
            product_code: "ID_PRO".into(),
            handle_lifetime_seconds: 600,
            timeout_ms: 5_000,
        }
    }
}
