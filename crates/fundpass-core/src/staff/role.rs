//! Staff roles and what each may do: one explicit table, so separation of duties is
//! read (and reviewed) in one place.

use serde::{Deserialize, Serialize};

/// A staff member's role. Each account has exactly one: duties are kept apart by
/// giving one person several accounts rather than one account several roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Counter staff (柜台) at a management office or an entrusted bank branch.
    Counter,
    /// Service-hotline agent.
    Hotline,
    /// Approves high-risk actions of counter and hotline staff (four-eyes).
    Supervisor,
    /// Reads the audit trail and anomaly reports; acts on nothing.
    Auditor,
    /// Manages staff accounts and policy; never touches members' data or the audit trail.
    Admin,
}

impl StaffRole {
    /// Every role, in table order.
    pub const ALL: [StaffRole; 5] = [
        Self::Counter,
        Self::Hotline,
        Self::Supervisor,
        Self::Auditor,
        Self::Admin,
    ];

    /// The stored and typed code (`counter`, `hotline`, …).
    pub fn code(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Hotline => "hotline",
            Self::Supervisor => "supervisor",
            Self::Auditor => "auditor",
            Self::Admin => "admin",
        }
    }

    /// Parses a code; `None` for anything else (no case folding, no aliases).
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl std::fmt::Display for StaffRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Something a staff member can ask fundpass to do. Every staff-facing operation maps
/// to exactly one action, checked with [`allowed`] before anything is read or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffAction {
    /// Find a member by document type and number (results masked).
    LookUpMember,
    /// Record the in-person check of the original ID card at the counter.
    RecordInPersonCheck,
    /// Issue a one-time reset ticket at the counter.
    IssueCounterTicket,
    /// Change the phone on file, at the counter, after the in-person check.
    ChangePhoneAtCounter,
    /// Run the caller-verification checklist on the hotline.
    RunHotlineChecklist,
    /// Send a reset code by SMS to the phone on file after a passed checklist.
    SendHotlineResetCode,
    /// Approve another staff member's high-risk action (four-eyes).
    ApproveHighRisk,
    /// Show a member's full document or phone number (audited).
    RevealFullIdentity,
    /// Read the audit trail.
    ReadAudit,
    /// Read anomaly reports (many resets from one place, one agent resetting many…).
    ReadAnomalyReports,
    /// Create, disable and reset the MFA of staff accounts.
    ManageStaff,
    /// Change security policy settings.
    ManagePolicy,
}

impl StaffAction {
    /// Every action, in table order.
    pub const ALL: [StaffAction; 12] = [
        Self::LookUpMember,
        Self::RecordInPersonCheck,
        Self::IssueCounterTicket,
        Self::ChangePhoneAtCounter,
        Self::RunHotlineChecklist,
        Self::SendHotlineResetCode,
        Self::ApproveHighRisk,
        Self::RevealFullIdentity,
        Self::ReadAudit,
        Self::ReadAnomalyReports,
        Self::ManageStaff,
        Self::ManagePolicy,
    ];

    /// The code written into audit events (`look_up_member`, …).
    pub fn code(self) -> &'static str {
        match self {
            Self::LookUpMember => "look_up_member",
            Self::RecordInPersonCheck => "record_in_person_check",
            Self::IssueCounterTicket => "issue_counter_ticket",
            Self::ChangePhoneAtCounter => "change_phone_at_counter",
            Self::RunHotlineChecklist => "run_hotline_checklist",
            Self::SendHotlineResetCode => "send_hotline_reset_code",
            Self::ApproveHighRisk => "approve_high_risk",
            Self::RevealFullIdentity => "reveal_full_identity",
            Self::ReadAudit => "read_audit",
            Self::ReadAnomalyReports => "read_anomaly_reports",
            Self::ManageStaff => "manage_staff",
            Self::ManagePolicy => "manage_policy",
        }
    }
}

/// Whether `role` may perform `action`.
///
/// The whole policy is this one match, every pair written out (no wildcard), so adding
/// a role or an action does not compile until someone decides each new cell:
/// - counter and hotline staff do their own channel's steps and nothing else; the
///   hotline can never change a phone number;
/// - a supervisor approves and may look up and reveal (to judge a case) but issues
///   nothing itself, so an approval is always a second person;
/// - the auditor reads the trail and reports and acts on nothing;
/// - the admin manages staff and policy but reads no member data and no audit trail
///   (and nobody, by any role, edits or deletes audit events).
pub fn allowed(role: StaffRole, action: StaffAction) -> bool {
    use StaffAction as A;
    use StaffRole as R;
    match (role, action) {
        (R::Counter, A::LookUpMember) => true,
        (R::Counter, A::RecordInPersonCheck) => true,
        (R::Counter, A::IssueCounterTicket) => true,
        (R::Counter, A::ChangePhoneAtCounter) => true,
        (R::Counter, A::RunHotlineChecklist) => false,
        (R::Counter, A::SendHotlineResetCode) => false,
        (R::Counter, A::ApproveHighRisk) => false,
        (R::Counter, A::RevealFullIdentity) => false,
        (R::Counter, A::ReadAudit) => false,
        (R::Counter, A::ReadAnomalyReports) => false,
        (R::Counter, A::ManageStaff) => false,
        (R::Counter, A::ManagePolicy) => false,

        (R::Hotline, A::LookUpMember) => true,
        (R::Hotline, A::RecordInPersonCheck) => false,
        (R::Hotline, A::IssueCounterTicket) => false,
        (R::Hotline, A::ChangePhoneAtCounter) => false,
        (R::Hotline, A::RunHotlineChecklist) => true,
        (R::Hotline, A::SendHotlineResetCode) => true,
        (R::Hotline, A::ApproveHighRisk) => false,
        (R::Hotline, A::RevealFullIdentity) => false,
        (R::Hotline, A::ReadAudit) => false,
        (R::Hotline, A::ReadAnomalyReports) => false,
        (R::Hotline, A::ManageStaff) => false,
        (R::Hotline, A::ManagePolicy) => false,

        (R::Supervisor, A::LookUpMember) => true,
        (R::Supervisor, A::RecordInPersonCheck) => false,
        (R::Supervisor, A::IssueCounterTicket) => false,
        (R::Supervisor, A::ChangePhoneAtCounter) => false,
        (R::Supervisor, A::RunHotlineChecklist) => false,
        (R::Supervisor, A::SendHotlineResetCode) => false,
        (R::Supervisor, A::ApproveHighRisk) => true,
        (R::Supervisor, A::RevealFullIdentity) => true,
        (R::Supervisor, A::ReadAudit) => false,
        (R::Supervisor, A::ReadAnomalyReports) => false,
        (R::Supervisor, A::ManageStaff) => false,
        (R::Supervisor, A::ManagePolicy) => false,

        (R::Auditor, A::LookUpMember) => false,
        (R::Auditor, A::RecordInPersonCheck) => false,
        (R::Auditor, A::IssueCounterTicket) => false,
        (R::Auditor, A::ChangePhoneAtCounter) => false,
        (R::Auditor, A::RunHotlineChecklist) => false,
        (R::Auditor, A::SendHotlineResetCode) => false,
        (R::Auditor, A::ApproveHighRisk) => false,
        (R::Auditor, A::RevealFullIdentity) => false,
        (R::Auditor, A::ReadAudit) => true,
        (R::Auditor, A::ReadAnomalyReports) => true,
        (R::Auditor, A::ManageStaff) => false,
        (R::Auditor, A::ManagePolicy) => false,

        (R::Admin, A::LookUpMember) => false,
        (R::Admin, A::RecordInPersonCheck) => false,
        (R::Admin, A::IssueCounterTicket) => false,
        (R::Admin, A::ChangePhoneAtCounter) => false,
        (R::Admin, A::RunHotlineChecklist) => false,
        (R::Admin, A::SendHotlineResetCode) => false,
        (R::Admin, A::ApproveHighRisk) => false,
        (R::Admin, A::RevealFullIdentity) => false,
        (R::Admin, A::ReadAudit) => false,
        (R::Admin, A::ReadAnomalyReports) => false,
        (R::Admin, A::ManageStaff) => true,
        (R::Admin, A::ManagePolicy) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected matrix, written independently of [`allowed`] as a picture:
    /// columns are counter, hotline, supervisor, auditor, admin.
    const EXPECTED: [(StaffAction, [bool; 5]); 12] = {
        use StaffAction as A;
        const Y: bool = true;
        const N: bool = false;
        [
            (A::LookUpMember, [Y, Y, Y, N, N]),
            (A::RecordInPersonCheck, [Y, N, N, N, N]),
            (A::IssueCounterTicket, [Y, N, N, N, N]),
            (A::ChangePhoneAtCounter, [Y, N, N, N, N]),
            (A::RunHotlineChecklist, [N, Y, N, N, N]),
            (A::SendHotlineResetCode, [N, Y, N, N, N]),
            (A::ApproveHighRisk, [N, N, Y, N, N]),
            (A::RevealFullIdentity, [N, N, Y, N, N]),
            (A::ReadAudit, [N, N, N, Y, N]),
            (A::ReadAnomalyReports, [N, N, N, Y, N]),
            (A::ManageStaff, [N, N, N, N, Y]),
            (A::ManagePolicy, [N, N, N, N, Y]),
        ]
    };

    #[test]
    fn rbac_table_every_role_against_every_staff_action() {
        let mut table = format!("{:<26}", "action");
        for role in StaffRole::ALL {
            table.push_str(&format!("{:>11}", role.code()));
        }
        table.push('\n');
        for (action, row) in EXPECTED {
            table.push_str(&format!("{:<26}", action.code()));
            for (role, expected) in StaffRole::ALL.into_iter().zip(row) {
                let got = allowed(role, action);
                assert_eq!(got, expected, "{role} × {}", action.code());
                table.push_str(&format!("{:>11}", if got { "allowed" } else { "refused" }));
            }
            table.push('\n');
        }
        // `cargo test rbac_table -- --nocapture` shows the table.
        println!("{table}");
        assert_eq!(
            EXPECTED.map(|(a, _)| a),
            StaffAction::ALL,
            "the table covers every action once"
        );
    }

    #[test]
    fn duties_stay_apart() {
        for action in StaffAction::ALL {
            let holders: Vec<_> = StaffRole::ALL
                .into_iter()
                .filter(|r| allowed(*r, action))
                .collect();
            assert!(!holders.is_empty(), "{} has no role", action.code());
        }
        // Nobody who approves can also issue, so four-eyes needs two people.
        for role in StaffRole::ALL {
            assert!(
                !(allowed(role, StaffAction::ApproveHighRisk)
                    && allowed(role, StaffAction::IssueCounterTicket)),
                "{role} could approve its own ticket"
            );
        }
        // The admin sees no member and no audit trail; the auditor acts on nothing.
        let admin = |a| allowed(StaffRole::Admin, a);
        assert!(!admin(StaffAction::LookUpMember) && !admin(StaffAction::ReadAudit));
        let auditor_acts: Vec<_> = StaffAction::ALL
            .into_iter()
            .filter(|a| allowed(StaffRole::Auditor, *a))
            .collect();
        assert_eq!(
            auditor_acts,
            [StaffAction::ReadAudit, StaffAction::ReadAnomalyReports]
        );
        assert!(!allowed(
            StaffRole::Hotline,
            StaffAction::ChangePhoneAtCounter
        ));
    }

    #[test]
    fn role_codes_round_trip_and_unknown_codes_are_refused() {
        for role in StaffRole::ALL {
            assert_eq!(StaffRole::from_code(role.code()), Some(role));
        }
        assert_eq!(StaffRole::from_code("Admin"), None);
        assert_eq!(StaffRole::from_code("root"), None);
        assert_eq!(StaffRole::from_code(""), None);
    }
}
