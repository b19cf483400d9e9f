//! PostgreSQL only: the documented grants let the staff console work and keep its
//! sessions, cases and checklists from being erased.

use fundpass_core::assisted::{AssistedCase, CaseStatus, CaseWrite, CheckWrite, HotlineCheck};
use fundpass_core::member::PiiUpdate;
use fundpass_core::ports::{
    CaseStore, ChangeSet, PiiWrite, StaffSessionStore, StaffStore, StaffWrite, UnitOfWork,
};
use fundpass_core::staff::{StaffRole, StaffSessionWrite};
use sqlx::{AnyConnection, Connection};

use super::{case, check, staff_session};
use crate::portal::{digest, event, hold, members};
use crate::staff::new_staff;
use crate::support::{at, postgres};

#[tokio::test]
async fn the_application_role_can_run_the_console_but_not_erase_its_record() {
    let Some(mut db) = postgres().await else {
        eprintln!("skipped: set FUNDPASS_TEST_POSTGRES_URL to run PostgreSQL tests");
        return;
    };
    let member = members(&db.store, 1).await.remove(0);
    let (app, app_url, _) = db.app_role_store("fp_console").await;
    let staff = app
        .insert_staff(&new_staff("wang.li", StaffRole::Counter))
        .await
        .unwrap();

    let opened = case(1, member.id, staff.id, at(0));
    let checked = check(2, staff.id, Some(member.id), at(0));
    let open = ChangeSet {
        staff_sessions: vec![StaffSessionWrite::Insert(staff_session(1, staff.id, at(0)))],
        cases: vec![CaseWrite::Insert(opened.clone())],
        checks: vec![CheckWrite::Insert(checked.clone())],
        holds: vec![hold(member.id, at(0), at(100))],
        audit: vec![event(0, member.id)],
        ..ChangeSet::default()
    };
    app.apply(open).await.unwrap();
    let mut failed = staff.clone();
    failed.lock.failures = 1;
    let issue = ChangeSet {
        staff: vec![StaffWrite {
            record: failed,
            expected_version: staff.version,
        }],
        staff_sessions: vec![StaffSessionWrite::RevokeAll {
            staff: staff.id,
            at: at(5),
        }],
        cases: vec![CaseWrite::Update {
            record: AssistedCase {
                status: CaseStatus::Approved,
                ..opened.clone()
            },
            expected_version: opened.version,
        }],
        checks: vec![CheckWrite::Update {
            record: HotlineCheck {
                used_at: Some(at(5)),
                ..checked.clone()
            },
            expected_version: checked.version,
        }],
        pii: vec![PiiWrite {
            id: member.id,
            expected_version: member.version,
            update: PiiUpdate {
                id_number: member.id_number.clone(),
                id_number_index: member.id_number_index.clone(),
                phone: member.phone.clone(),
                phone_index: member.phone_index.clone(),
                at: at(5),
            },
        }],
        ..ChangeSet::default()
    };
    app.apply(issue).await.unwrap();
    app.touch_staff_session(&digest(1), at(9)).await.unwrap();
    assert!(app.staff_session(&digest(1)).await.unwrap().is_some());
    assert!(app.case_by_id(&opened.id).await.unwrap().is_some());
    assert!(app.cases_awaiting_approval(5).await.unwrap().is_empty());
    assert_eq!(app.last_reset_at(member.id).await.unwrap(), Some(at(0)));
    assert!(app.hotline_check(&checked.id).await.unwrap().is_some());

    let mut conn = AnyConnection::connect(&app_url).await.unwrap();
    for sql in [
        "DELETE FROM staff_sessions",
        "DELETE FROM assisted_cases",
        "DELETE FROM hotline_checks",
        "TRUNCATE assisted_cases",
    ] {
        let refused = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        let code = refused
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.into_owned());
        assert_eq!(code.as_deref(), Some("42501"), "{sql:?}: {refused}");
    }
    conn.close().await.unwrap();
    app.close().await;
}
