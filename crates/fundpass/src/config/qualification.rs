//! `[qualification]`: the benefit qualification check's reminders, window and face
//! refusals.

use fundpass_core::qualification::QualificationPolicy;
use serde::{Deserialize, Serialize};

/// The benefit qualification check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QualificationConfig {
    /// Days before the due date on which a reminder text goes out.
    pub remind_days_before: Vec<u16>,
    /// Days after the due date on which a suspended member is reminded.
    pub remind_days_after: Vec<u16>,
    /// Days before the due date from which a check can be passed.
    pub window_days: u16,
    /// Refused face checks before the face check closes (manual review or counter).
    pub max_face_failures: i32,
    /// Reminder texts the whole service may queue per hour.
    pub reminders_per_hour: u32,
}

impl Default for QualificationConfig {
    fn default() -> Self {
        let d = QualificationPolicy::default();
        Self {
            remind_days_before: d.remind_days_before,
            remind_days_after: d.remind_days_after,
            window_days: d.window_days,
            max_face_failures: d.max_face_failures,
            reminders_per_hour: d.reminders_per_hour,
        }
    }
}

impl QualificationConfig {
    /// The check's rules, refused when they cannot work.
    pub fn policy(&self) -> anyhow::Result<QualificationPolicy> {
        let days = |list: &[u16], name: &str| -> anyhow::Result<()> {
            if list.iter().any(|d| !(1..=366).contains(d)) {
                anyhow::bail!("qualification.{name}: each offset must be 1 to 366 days");
            }
            Ok(())
        };
        days(&self.remind_days_before, "remind_days_before")?;
        days(&self.remind_days_after, "remind_days_after")?;
        if !(1..=366).contains(&self.window_days) {
            anyhow::bail!("qualification.window_days must be 1 to 366");
        }
        if self
            .remind_days_before
            .iter()
            .any(|d| *d > self.window_days)
        {
            anyhow::bail!(
                "qualification.remind_days_before: a reminder cannot come before the window opens (window_days)"
            );
        }
        if !(1..=10).contains(&self.max_face_failures) {
            anyhow::bail!("qualification.max_face_failures must be 1 to 10");
        }
        if self.reminders_per_hour == 0 {
            anyhow::bail!("qualification.reminders_per_hour must be at least 1");
        }
        Ok(QualificationPolicy {
            remind_days_before: self.remind_days_before.clone(),
            remind_days_after: self.remind_days_after.clone(),
            window_days: self.window_days,
            max_face_failures: self.max_face_failures,
            reminders_per_hour: self.reminders_per_hour,
            ..QualificationPolicy::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_make_a_policy_and_nonsense_is_refused() {
        let policy = QualificationConfig::default().policy().unwrap();
        assert_eq!(policy, QualificationPolicy::default());
        let early = QualificationConfig {
            remind_days_before: vec![120],
            ..QualificationConfig::default()
        };
        assert!(format!("{:#}", early.policy().unwrap_err()).contains("window"));
        let zero = QualificationConfig {
            remind_days_after: vec![0],
            ..QualificationConfig::default()
        };
        assert!(zero.policy().is_err());
        let closed = QualificationConfig {
            max_face_failures: 0,
            ..QualificationConfig::default()
        };
        assert!(closed.policy().is_err());
    }
}
