//! The `[server]`, `[sms]`, `[portal]`, `[staff]` and `[face]` sections of the configuration.

use fundpass_core::credentials::LoginPasswordPolicy;
use fundpass_core::face::{FacePolicy, TrustedFaceKey};
use fundpass_core::flow::FlowPolicy;
use fundpass_core::lockout::{LoginLockPolicy, TransactionLockPolicy};
use fundpass_core::member::HoldPolicy;
use fundpass_core::portal::{DEFAULT_IDENTIFY_FLOOR_MS, PortalPolicy, SmsLimits, SmsTemplates};
use fundpass_core::session::SessionPolicy;
use fundpass_core::staff::BranchNetworks;
use serde::{Deserialize, Serialize};
use time::Duration;

/// The HTTP listener and what the HTTP layer needs to know about its deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub bind: String,
    /// Address of a second listener serving only the business systems' internal API
    /// (which then leaves the public one); empty: the internal API is on `bind`.
    pub internal_bind: String,
    /// The origin members reach the portal at; empty means `http://` + bind in dev.
    pub public_origin: String,
    /// `Secure` + `__Host-` cookies. Required in production (TLS in front).
    pub secure_cookies: bool,
    /// Take the client address from X-Forwarded-For (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Concurrent password hashes; 0 means one per CPU core.
    pub hash_workers: usize,
    /// Hashes allowed to wait for a worker before requests get 503; 0 means 4 per worker.
    pub hash_queue: usize,
    /// Address of a listener serving only Prometheus metrics at `/metrics` (never on
    /// `bind`); empty: no metrics.
    pub metrics_bind: String,
    /// `text`, or `json` for one JSON object a line.
    pub log_format: LogFormat,
}

/// How the log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object a line, for a log collector.
    Json,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            internal_bind: String::new(),
            public_origin: String::new(),
            secure_cookies: false,
            trust_forwarded_for: false,
            hash_workers: 0,
            hash_queue: 0,
            metrics_bind: String::new(),
            log_format: LogFormat::Text,
        }
    }
}

/// Which SMS gateway delivers the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SmsSenderKind {
    /// Keeps messages in the outbox for `/dev/outbox` and `fundpass outbox` (dev only).
    #[default]
    Dev,
    /// HTTPS POST to the gateway, HMAC-signed.
    Webhook,
    /// Tencent Cloud SMS (`[sms.tencent]`).
    Tencent,
    /// Alibaba Cloud SMS (`[sms.alibaba]`).
    Alibaba,
}

/// SMS delivery and texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    pub sender: SmsSenderKind,
    pub webhook_url: String,
    /// HMAC key for the webhook signature; better given as FUNDPASS_SMS_WEBHOOK_SECRET.
    pub webhook_secret: String,
    pub webhook_timeout_ms: u64,
    /// Sender name the gateway shows.
    pub sender_id: String,
    /// The hotline named in every notice.
    pub hotline: String,
    /// Least seconds before a send whose outcome is unknown (timed out) is tried
    /// again, so that a delivery report can show it arrived.
    pub uncertain_retry_seconds: i64,
    pub tencent: super::sms_providers::TencentSmsConfig,
    pub alibaba: super::sms_providers::AlibabaSmsConfig,
    pub receipts: super::sms_providers::SmsReceiptsConfig,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            sender: SmsSenderKind::Dev,
            webhook_url: String::new(),
            webhook_secret: String::new(),
            webhook_timeout_ms: 5_000,
            sender_id: "fundpass".into(),
            hotline: "12329".into(),
            uncertain_retry_seconds: 120,
            tencent: super::sms_providers::TencentSmsConfig::default(),
            alibaba: super::sms_providers::AlibabaSmsConfig::default(),
            receipts: super::sms_providers::SmsReceiptsConfig::default(),
        }
    }
}

/// Member-facing rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortalConfig {
    /// `standard` (8-64 characters, a letter and a digit) or `beijing_eight`
    /// (exactly 8 letters and digits).
    pub login_password_policy: String,
    pub login_lock_after: i32,
    pub login_lock_minutes: i64,
    pub login_lock_max_hours: i64,
    pub login_per_ip_per_10_min: u32,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    pub flow_minutes: i64,
    pub code_minutes: i64,
    pub code_wrong_max: i32,
    pub code_resend_seconds: i64,
    pub sms_phone_daily: u32,
    pub sms_ip_hourly: u32,
    pub sms_global_hourly: u32,
    /// Hours a member is on hold after a reset, per channel of the reset.
    pub hold_hours_web: i64,
    pub hold_hours_app: i64,
    pub hold_hours_counter: i64,
    pub hold_hours_hotline: i64,
    /// Hours a member is on hold after the phone on file changed.
    pub hold_hours_phone_change: i64,
    /// Hours payouts stay blocked after the member reported an event on their record
    /// as not theirs ("this was not me").
    pub hold_hours_reported: i64,
    /// Wrong transaction passwords before a lock until midnight, and before the
    /// password is disabled until recovered.
    pub transaction_lock_after: i32,
    pub transaction_disable_after: i32,
    /// Days after which the home page suggests changing the login password (never
    /// forced); 0 turns the reminder off.
    pub password_reminder_days: i64,
    /// Milliseconds the anonymous identify steps (registration, forgotten login
    /// password, face login start) take at least, matched or not, so that their
    /// timing does not tell who is a member; 0 turns it off.
    pub identify_floor_ms: u32,
}

impl Default for PortalConfig {
    fn default() -> Self {
        Self {
            login_password_policy: "standard".into(),
            login_lock_after: 5,
            login_lock_minutes: 15,
            login_lock_max_hours: 24,
            login_per_ip_per_10_min: 30,
            session_idle_minutes: 15,
            session_absolute_hours: 12,
            flow_minutes: 15,
            code_minutes: 5,
            code_wrong_max: 5,
            code_resend_seconds: 60,
            sms_phone_daily: 10,
            sms_ip_hourly: 20,
            sms_global_hourly: 2_000,
            hold_hours_web: 24,
            hold_hours_app: 24,
            hold_hours_counter: 24,
            hold_hours_hotline: 24,
            hold_hours_phone_change: 72,
            hold_hours_reported: 168,
            transaction_lock_after: 5,
            transaction_disable_after: 10,
            password_reminder_days: 365,
            identify_floor_ms: u32::try_from(DEFAULT_IDENTIFY_FLOOR_MS).unwrap_or(50),
        }
    }
}

impl PortalConfig {
    /// The portal's rules; `dev_mode` keeps captcha answers readable for `/dev/`.
    pub fn policy(&self, dev_mode: bool) -> anyhow::Result<PortalPolicy> {
        let login_password = match self.login_password_policy.as_str() {
            "standard" => LoginPasswordPolicy::standard(),
            "beijing_eight" => LoginPasswordPolicy::beijing_eight(),
            other => anyhow::bail!(
                "portal.login_password_policy must be standard or beijing_eight, not {other:?}"
            ),
        };
        Ok(PortalPolicy {
            login_lock: LoginLockPolicy {
                threshold: self.login_lock_after.max(1),
                first_lock: Duration::minutes(self.login_lock_minutes),
                max_lock: Duration::hours(self.login_lock_max_hours),
            },
            flow: FlowPolicy {
                lifetime: Duration::minutes(self.flow_minutes),
                code_ttl: Duration::minutes(self.code_minutes),
                max_wrong_codes: self.code_wrong_max.max(1),
                resend_after: Duration::seconds(self.code_resend_seconds),
                ..FlowPolicy::default()
            },
            session: SessionPolicy {
                idle: Duration::minutes(self.session_idle_minutes),
                absolute: Duration::hours(self.session_absolute_hours),
                recovery_absolute: Duration::minutes(self.flow_minutes),
            },
            sms: SmsLimits {
                phone_cooldown: Duration::seconds(self.code_resend_seconds),
                phone_daily: self.sms_phone_daily,
                ip_hourly: self.sms_ip_hourly,
                global_hourly: self.sms_global_hourly,
            },
            login_password,
            transaction_lock: TransactionLockPolicy {
                lock_after: self.transaction_lock_after.max(1),
                disable_after: self.transaction_disable_after.max(1),
                ..TransactionLockPolicy::default()
            },
            holds: HoldPolicy {
                web: Duration::hours(self.hold_hours_web),
                app: Duration::hours(self.hold_hours_app),
                counter: Duration::hours(self.hold_hours_counter),
                hotline: Duration::hours(self.hold_hours_hotline),
                phone_change: Duration::hours(self.hold_hours_phone_change),
                reported: Duration::hours(self.hold_hours_reported.max(1)),
            },
            login_per_ip: self.login_per_ip_per_10_min,
            login_per_ip_window: Duration::minutes(10),
            password_reminder: Duration::days(self.password_reminder_days.max(0)),
            identify_floor: Duration::milliseconds(i64::from(self.identify_floor_ms)),
            dev_mode,
            ..PortalPolicy::default()
        })
    }
}

/// The staff console and the assisted channels (counter, hotline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StaffConfig {
    /// Days before a staff password must be changed.
    pub password_max_age_days: u32,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    /// Wrong passwords or TOTP codes in a row before the account locks, and for how
    /// long (doubling per further lock, at most 24 hours).
    pub lock_after: i32,
    pub lock_minutes: i64,
    /// How long a counter ticket and a hotline reset code stay valid.
    pub counter_ticket_hours: i64,
    pub hotline_ticket_hours: i64,
    /// A reset closer than this to the previous one needs a supervisor's approval.
    pub recent_reset_days: i64,
    /// Failed hotline checklists for one member before hotline resets lock for a day.
    pub hotline_member_failures: i32,
    /// Branch id → networks its staff may use the console from (`10.1.0.0/16`); a
    /// branch not listed is not limited.
    pub allowed_networks: std::collections::BTreeMap<String, Vec<String>>,
}

impl Default for StaffConfig {
    fn default() -> Self {
        Self {
            password_max_age_days: 90,
            session_idle_minutes: 10,
            session_absolute_hours: 8,
            lock_after: 5,
            lock_minutes: 15,
            counter_ticket_hours: 24,
            hotline_ticket_hours: 1,
            recent_reset_days: 30,
            hotline_member_failures: 3,
            allowed_networks: std::collections::BTreeMap::new(),
        }
    }
}

impl StaffConfig {
    /// Writes these rules into `policy`.
    pub fn apply(&self, policy: &mut PortalPolicy) -> anyhow::Result<()> {
        if self.counter_ticket_hours > 24 || self.hotline_ticket_hours > 24 {
            anyhow::bail!("staff tickets may be valid for at most 24 hours");
        }
        policy.staff_password.max_age_days = self.password_max_age_days.max(1);
        policy.staff_session.idle = Duration::minutes(self.session_idle_minutes.max(1));
        policy.staff_session.absolute = Duration::hours(self.session_absolute_hours.max(1));
        policy.staff_lock = LoginLockPolicy {
            threshold: self.lock_after.max(1),
            first_lock: Duration::minutes(self.lock_minutes.max(1)),
            max_lock: Duration::hours(24),
        };
        let a = &mut policy.assisted;
        a.counter_ticket_ttl = Duration::hours(self.counter_ticket_hours.max(1));
        a.hotline_ticket_ttl = Duration::hours(self.hotline_ticket_hours.max(1));
        a.recent_reset_window = Duration::days(self.recent_reset_days.max(0));
        a.hotline_member_lock.threshold = self.hotline_member_failures.max(1);
        policy.staff_networks = BranchNetworks::parse(&self.allowed_networks)
            .map_err(|e| anyhow::anyhow!("staff.allowed_networks: {e}"))?;
        Ok(())
    }
}

/// One face-verification provider key, pinned with its algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceProviderKey {
    /// The `kid` the provider puts in its results' header.
    pub kid: String,
    /// `EdDSA` (Ed25519) or `ES256` (ECDSA P-256).
    pub algorithm: String,
    /// Base64: the 32-byte Ed25519 key, or the SEC1 P-256 point.
    pub public_key: String,
}

/// Face verification in the app (forgot both passwords).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaceConfig {
    /// Lowest similarity score accepted, between 0 and 1.
    pub min_score: f64,
    /// How old a result may be.
    pub max_age_seconds: i64,
    /// How far in the future a result's time may be (clock differences).
    pub max_skew_seconds: i64,
    /// Trusted provider keys. In dev mode a simulator key is added for /dev/face.
    pub providers: Vec<FaceProviderKey>,
    /// `signed` (the keys above), `tencent` or `alibaba` (fundpass fetches the
    /// result from the provider; the sections below).
    pub provider: super::face_providers::FaceProviderKind,
    pub tencent: super::face_providers::TencentFaceSettings,
    pub alibaba: super::face_providers::AlibabaFaceSettings,
}

impl Default for FaceConfig {
    fn default() -> Self {
        let d = FacePolicy::default();
        Self {
            min_score: d.min_score,
            max_age_seconds: d.max_age.whole_seconds(),
            max_skew_seconds: d.max_skew.whole_seconds(),
            providers: Vec::new(),
            provider: super::face_providers::FaceProviderKind::default(),
            tencent: super::face_providers::TencentFaceSettings::default(),
            alibaba: super::face_providers::AlibabaFaceSettings::default(),
        }
    }
}

impl FaceConfig {
    /// The checks and pinned keys. Dev keys are never accepted from here.
    pub fn policy(&self) -> anyhow::Result<FacePolicy> {
        if !(self.min_score.is_finite() && (0.0..=1.0).contains(&self.min_score)) {
            anyhow::bail!("face.min_score must be between 0 and 1");
        }
        let keys = self
            .providers
            .iter()
            .map(|p| {
                TrustedFaceKey::parse(&p.kid, &p.algorithm, &p.public_key)
                    .map_err(|e| anyhow::anyhow!("face.providers kid {:?}: {e}", p.kid))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(FacePolicy {
            keys,
            max_age: Duration::seconds(self.max_age_seconds.max(1)),
            max_skew: Duration::seconds(self.max_skew_seconds.max(0)),
            min_score: self.min_score,
            accept_dev_keys: false,
        })
    }
}

impl SmsConfig {
    /// The texts, with the configured hotline.
    pub fn templates(&self) -> SmsTemplates {
        SmsTemplates {
            hotline: self.hotline.clone(),
            ..SmsTemplates::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_portal_settings_are_the_designed_rules() {
        let p = PortalConfig::default().policy(false).unwrap();
        let d = PortalPolicy::default();
        assert_eq!(p.login_lock, d.login_lock);
        assert_eq!(p.flow, d.flow);
        assert_eq!(p.session, d.session);
        assert_eq!(p.sms, d.sms);
        assert_eq!(p.login_password, d.login_password);
        assert_eq!(p.password_reminder, d.password_reminder);
        let off = PortalConfig {
            password_reminder_days: 0,
            ..PortalConfig::default()
        };
        assert_eq!(off.policy(false).unwrap().password_reminder, Duration::ZERO);
        assert!(
            PortalConfig {
                login_password_policy: "weak".into(),
                ..PortalConfig::default()
            }
            .policy(false)
            .is_err()
        );
    }

    #[test]
    fn the_default_staff_settings_are_the_designed_rules() {
        let mut p = PortalPolicy::default();
        StaffConfig::default().apply(&mut p).unwrap();
        let d = PortalPolicy::default();
        assert_eq!(p.staff_password, d.staff_password);
        assert_eq!(p.staff_session, d.staff_session);
        assert_eq!(p.staff_lock, d.staff_lock);
        assert_eq!(p.assisted, d.assisted);
        let long = StaffConfig {
            counter_ticket_hours: 48,
            ..StaffConfig::default()
        };
        assert!(long.apply(&mut p).is_err(), "tickets live 24 h at most");
        let listed = StaffConfig {
            allowed_networks: [("BJ-DC-01".to_owned(), vec!["10.1.0.0/16".to_owned()])].into(),
            ..StaffConfig::default()
        };
        listed.apply(&mut p).unwrap();
        assert!(p.staff_networks.allows("BJ-DC-01", Some("10.1.9.9")));
        assert!(!p.staff_networks.allows("BJ-DC-01", Some("192.0.2.1")));
        let broken = StaffConfig {
            allowed_networks: [("BJ-DC-01".to_owned(), vec!["10.1.0.0".to_owned()])].into(),
            ..StaffConfig::default()
        };
        let e = broken.apply(&mut p).unwrap_err().to_string();
        assert!(e.contains("BJ-DC-01"), "{e}");
    }

    #[test]
    fn face_providers_are_pinned_from_the_configuration_and_never_as_dev_keys() {
        use fundpass_core::face::FaceSigner;
        let signer = FaceSigner::from_seed("provider-2026", [7; 32]);
        let config = FaceConfig {
            providers: vec![FaceProviderKey {
                kid: "provider-2026".into(),
                algorithm: "EdDSA".into(),
                public_key: signer.public_key_b64(),
            }],
            ..FaceConfig::default()
        };
        let policy = config.policy().unwrap();
        assert_eq!(policy.keys.len(), 1);
        assert!(!policy.accept_dev_keys && !policy.keys[0].dev_simulator);
        assert_eq!(policy.max_age, FacePolicy::default().max_age);

        let bad_key = FaceConfig {
            providers: vec![FaceProviderKey {
                algorithm: "HS256".into(),
                ..config.providers[0].clone()
            }],
            ..FaceConfig::default()
        };
        let e = bad_key.policy().unwrap_err().to_string();
        assert!(e.contains("provider-2026"), "{e}");
        let bad_score = FaceConfig {
            min_score: 1.5,
            ..FaceConfig::default()
        };
        assert!(bad_score.policy().is_err());
    }
}
