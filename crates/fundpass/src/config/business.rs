//! The `[clients]`, `[payouts]` and `[webhooks]` sections of the configuration: the
//! business systems' internal API, the payouts it authorises and the events it sends.

use fundpass_core::clients::ClientPolicy;
use fundpass_core::member::HoldReason;
use fundpass_core::payout::PayoutPolicy;
use serde::{Deserialize, Serialize};
use time::Duration;

/// The path of the token endpoint under the internal API's origin.
pub const TOKEN_PATH: &str = "/internal/oauth/token";

/// Business systems as OAuth clients of the internal API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientsConfig {
    /// The token endpoint's URL, which client assertions must name in `aud`. Empty:
    /// `<internal origin>/internal/oauth/token`.
    pub token_endpoint: String,
    /// Calls per client per minute, across every endpoint.
    pub calls_per_minute: u32,
    /// How long an access token lives.
    pub token_minutes: i64,
}

impl Default for ClientsConfig {
    fn default() -> Self {
        let d = ClientPolicy::default();
        Self {
            token_endpoint: String::new(),
            calls_per_minute: d.calls_per_minute,
            token_minutes: d.token_lifetime.whole_minutes(),
        }
    }
}

impl ClientsConfig {
    /// The client rules. `internal_origin` is where the internal API is reached
    /// (`http://` + `server.internal_bind`, else the public origin); client secrets are
    /// accepted in dev mode only.
    pub fn policy(&self, internal_origin: &str, dev_mode: bool) -> anyhow::Result<ClientPolicy> {
        let token_endpoint = if self.token_endpoint.trim().is_empty() {
            format!("{}{TOKEN_PATH}", internal_origin.trim_end_matches('/'))
        } else {
            self.token_endpoint.trim().to_owned()
        };
        if !(token_endpoint.starts_with("https://") || token_endpoint.starts_with("http://")) {
            anyhow::bail!("clients.token_endpoint must be an http:// or https:// URL");
        }
        if !(1..=60).contains(&self.token_minutes) {
            anyhow::bail!("clients.token_minutes must be between 1 and 60");
        }
        Ok(ClientPolicy {
            token_lifetime: Duration::minutes(self.token_minutes),
            calls_per_minute: self.calls_per_minute.max(1),
            token_endpoint,
            allow_client_secret: dev_mode,
            ..ClientPolicy::default()
        })
    }
}

/// Payouts business systems ask fundpass to authorise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PayoutsConfig {
    /// The largest amount authorised, in fen (1 yuan = 100 fen).
    pub max_amount_fen: i64,
    /// Amounts above this need the member's confirmation in fundpass.
    pub direct_max_fen: i64,
    /// How long the member has to confirm.
    pub pending_minutes: i64,
    /// How long a confirmed authorisation may be captured.
    pub capture_minutes: i64,
    /// Authorisations per member per hour.
    pub per_member_per_hour: u32,
    /// Hold kinds that refuse payouts: `login_reset`, `transaction_reset`,
    /// `phone_change`. Holds not listed only flag a payout as risky.
    pub blocking_holds: Vec<String>,
}

impl Default for PayoutsConfig {
    fn default() -> Self {
        let d = PayoutPolicy::default();
        Self {
            max_amount_fen: d.max_amount_fen,
            direct_max_fen: d.direct_max_fen,
            pending_minutes: d.pending_lifetime.whole_minutes(),
            capture_minutes: d.capture_window.whole_minutes(),
            per_member_per_hour: d.per_member_per_hour,
            blocking_holds: d
                .blocking_holds
                .iter()
                .map(|h| h.code().to_owned())
                .collect(),
        }
    }
}

impl PayoutsConfig {
    /// The payout rules.
    pub fn policy(&self) -> anyhow::Result<PayoutPolicy> {
        if self.max_amount_fen < 1 {
            anyhow::bail!("payouts.max_amount_fen must be at least 1");
        }
        if !(0..=self.max_amount_fen).contains(&self.direct_max_fen) {
            anyhow::bail!("payouts.direct_max_fen must be between 0 and payouts.max_amount_fen");
        }
        if self.pending_minutes < 1 || self.capture_minutes < 1 {
            anyhow::bail!("payouts.pending_minutes and payouts.capture_minutes must be at least 1");
        }
        let mut blocking_holds = Vec::new();
        for name in &self.blocking_holds {
            let reason = HoldReason::from_code(name.trim()).ok_or_else(|| {
                anyhow::anyhow!(
                    "payouts.blocking_holds: unknown hold {name:?} (choose login_reset, \
                     transaction_reset or phone_change; reported_by_member always blocks)"
                )
            })?;
            if !blocking_holds.contains(&reason) {
                blocking_holds.push(reason);
            }
        }
        Ok(PayoutPolicy {
            max_amount_fen: self.max_amount_fen,
            direct_max_fen: self.direct_max_fen,
            pending_lifetime: Duration::minutes(self.pending_minutes),
            capture_window: Duration::minutes(self.capture_minutes),
            per_member_per_hour: self.per_member_per_hour.max(1),
            blocking_holds,
        })
    }
}

/// Delivery of signed events to business systems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// How long one POST to a business system may take.
    pub timeout_seconds: u64,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            timeout_seconds: 10,
        }
    }
}

impl WebhooksConfig {
    /// The bound on each POST.
    pub fn timeout(&self) -> anyhow::Result<std::time::Duration> {
        if !(1..=120).contains(&self.timeout_seconds) {
            anyhow::bail!("webhooks.timeout_seconds must be between 1 and 120");
        }
        Ok(std::time::Duration::from_secs(self.timeout_seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_business_settings_are_the_designed_rules() {
        let c = ClientsConfig::default()
            .policy("https://gjj.example.gov.cn/", false)
            .unwrap();
        let d = ClientPolicy::default();
        assert_eq!(c.token_lifetime, d.token_lifetime);
        assert_eq!(c.calls_per_minute, d.calls_per_minute);
        assert_eq!(
            c.token_endpoint,
            "https://gjj.example.gov.cn/internal/oauth/token"
        );
        assert!(!c.allow_client_secret, "client secrets in dev mode only");
        assert!(
            ClientsConfig::default()
                .policy("http://127.0.0.1:9000", true)
                .unwrap()
                .allow_client_secret
        );

        let p = PayoutsConfig::default().policy().unwrap();
        let d = PayoutPolicy::default();
        assert_eq!(p.max_amount_fen, d.max_amount_fen);
        assert_eq!(p.direct_max_fen, d.direct_max_fen);
        assert_eq!(p.pending_lifetime, d.pending_lifetime);
        assert_eq!(p.capture_window, d.capture_window);
        assert_eq!(p.per_member_per_hour, d.per_member_per_hour);
        assert_eq!(p.blocking_holds, d.blocking_holds);
        assert_eq!(
            WebhooksConfig::default().timeout().unwrap(),
            std::time::Duration::from_secs(10)
        );
    }

    #[test]
    fn an_explicit_token_endpoint_wins_and_must_be_a_url() {
        let explicit = ClientsConfig {
            token_endpoint: "https://api.gjj.example/internal/oauth/token".into(),
            ..ClientsConfig::default()
        };
        assert_eq!(
            explicit
                .policy("http://10.0.0.5:9000", false)
                .unwrap()
                .token_endpoint,
            "https://api.gjj.example/internal/oauth/token"
        );
        let bad = ClientsConfig {
            token_endpoint: "api.gjj.example/token".into(),
            ..ClientsConfig::default()
        };
        assert!(bad.policy("http://10.0.0.5:9000", false).is_err());
    }

    #[test]
    fn blocking_holds_are_named_kinds_and_the_others_only_flag() {
        let only_phone = PayoutsConfig {
            blocking_holds: vec!["phone_change".into()],
            ..PayoutsConfig::default()
        };
        assert_eq!(
            only_phone.policy().unwrap().blocking_holds,
            [HoldReason::PhoneChange]
        );
        let typo = PayoutsConfig {
            blocking_holds: vec!["login_rest".into()],
            ..PayoutsConfig::default()
        };
        let e = typo.policy().unwrap_err().to_string();
        assert!(e.contains("login_rest"), "{e}");
        let direct_above_max = PayoutsConfig {
            direct_max_fen: 200_000_000,
            ..PayoutsConfig::default()
        };
        assert!(direct_above_max.policy().is_err());
    }
}
