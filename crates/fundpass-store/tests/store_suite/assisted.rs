//! The staff console's ports: staff sessions, staff account writes, assisted cases,
//! hotline checklists, new phones on file and the last reset, and the grants they need.
//! Shared builders here; the tests in the files below.

mod cases;
mod checks;
mod members;
mod roles;
mod secrecy;
mod sessions;
mod staff;

use fundpass_core::assisted::{AssistedCase, CaseStatus, HotlineCheck, ResetScope};
use fundpass_core::audit::Channel;
use fundpass_core::member::MemberId;
use fundpass_core::ports::StaffStore;
use fundpass_core::staff::{StaffId, StaffLevel, StaffRecord, StaffRole, StaffSessionRecord};
use fundpass_store::Store;
use time::OffsetDateTime;

use crate::portal::digest;
use crate::staff::new_staff;

/// Creates staff account `name` with `role`.
pub async fn staff_account(store: &Store, name: &str, role: StaffRole) -> StaffRecord {
    store.insert_staff(&new_staff(name, role)).await.unwrap()
}

/// The id of test case or checklist `n`: 32 hex digits, like the console's random ids,
/// ordered as `n` is.
pub fn case_id(n: u64) -> String {
    format!("{n:032x}")
}

/// A live console session `n` of `staff` after the TOTP step, created at `created`.
pub fn staff_session(n: u64, staff: StaffId, created: OffsetDateTime) -> StaffSessionRecord {
    StaffSessionRecord {
        token: digest(n),
        staff_id: staff,
        level: StaffLevel::Mfa,
        pending_totp: None,
        csrf: format!("staff-csrf-{n}"),
        created_at: created,
        last_seen_at: created,
        ip: Some("10.1.2.3".into()),
        user_agent: Some("Mozilla/5.0 柜台".into()),
        revoked_at: None,
    }
}

/// A counter case `n` for `member` opened by `staff` at `created`, waiting for a
/// supervisor, with nothing issued yet.
pub fn case(n: u64, member: MemberId, staff: StaffId, created: OffsetDateTime) -> AssistedCase {
    AssistedCase {
        id: case_id(n),
        member_id: member,
        channel: Channel::Counter,
        scope: Some(ResetScope::Login),
        new_phone: None,
        new_phone_index: None,
        staff_id: staff,
        branch_id: "BJ-DC-01".into(),
        reference: format!("FORM-2026-{n:05}"),
        check: serde_json::json!({"document": "original_seen", "photo_match": true}),
        risks: Vec::new(),
        status: CaseStatus::AwaitingApproval,
        approved_by: None,
        approved_at: None,
        ticket_mac: None,
        ticket_expires_at: None,
        issued_at: None,
        redeem_token: None,
        redeem_expires_at: None,
        wrong_tries: 0,
        redeemed_at: None,
        created_at: created,
        updated_at: created,
        version: 1,
    }
}

/// A passed hotline checklist `n` run by `staff` on `member` at `created`.
pub fn check(
    n: u64,
    staff: StaffId,
    member: Option<MemberId>,
    created: OffsetDateTime,
) -> HotlineCheck {
    HotlineCheck {
        id: case_id(n),
        staff_id: staff,
        call_id: format!("CALL-{n:06}"),
        member_id: member,
        items: vec![
            ("document".into(), true),
            ("name".into(), true),
            ("question_1".into(), true),
        ],
        passed: true,
        created_at: created,
        expires_at: created + time::Duration::minutes(30),
        used_at: None,
        version: 1,
    }
}
