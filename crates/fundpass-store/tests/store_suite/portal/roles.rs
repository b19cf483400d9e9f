//! PostgreSQL only: the documented grants cover everything the portal does, and no
//! more than it needs.

use fundpass_core::ports::{
    CaptchaRecord, CaptchaStore, ChangeSet, FlowWrite, Health, HoldStore, OutboxStore, RateLimiter,
    SecurityQuestionStore, SessionStore, SessionWrite, UnitOfWork,
};
use sqlx::{AnyConnection, Connection};
use time::Duration;

use super::{answers, digest, event, flow, hold, keyring, members, message, session};
use crate::support::{at, postgres};

#[tokio::test]
async fn the_application_role_can_run_the_portal_but_not_erase_sessions_or_messages() {
    let Some(mut db) = postgres().await else {
        eprintln!("skipped: set FUNDPASS_TEST_POSTGRES_URL to run PostgreSQL tests");
        return;
    };
    let member = members(&db.store, 1).await.remove(0);
    let (app, app_url, _) = db.app_role_store("fp_portal").await;

    let ring = keyring();
    let started = flow(1, Some(member.id));
    let change = ChangeSet {
        flows: vec![FlowWrite::Insert(started.clone())],
        sessions: vec![SessionWrite::Insert(session(1, member.id, at(0)))],
        throttles: vec![fundpass_core::ports::ThrottleWrite {
            key: fundpass_core::crypto::BlindIndex::from_bytes(vec![1; 32]),
            expected: fundpass_core::member::LockState::default(),
            next: fundpass_core::member::LockState::default(),
        }],
        outbox: vec![message(
            &ring,
            1,
            Some(member.id),
            "13800138000",
            "x",
            at(0),
        )],
        audit: vec![event(0, member.id)],
        ..ChangeSet::default()
    };
    app.apply(change).await.unwrap();
    let step = ChangeSet {
        flows: vec![FlowWrite::Update {
            record: started.clone(),
            expected_version: started.version,
        }],
        sessions: vec![SessionWrite::RevokeAll {
            member: member.id,
            at: at(5),
        }],
        ..ChangeSet::default()
    };
    app.apply(step).await.unwrap();
    app.touch_session(&digest(1), at(9)).await.unwrap();
    let captcha = CaptchaRecord {
        id: digest(2),
        answer_mac: vec![2; 32],
        expires_at: at(300),
        dev_answer: None,
    };
    app.insert_captcha(&captcha, at(0)).await.unwrap();
    assert!(app.take_captcha(&digest(2)).await.unwrap().is_some());
    app.hit("k", Duration::minutes(1), 5, at(0)).await.unwrap();
    let claimed = app.claim_due(at(0), at(30), 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    app.mark_failed("msg-0001", "timeout", Some(at(40)))
        .await
        .unwrap();
    app.mark_delivered("msg-0001", at(41), None).await.unwrap();
    app.purge_expired(at(1_000_000)).await.unwrap();
    Health::ping(&app).await.unwrap();

    let mut conn = AnyConnection::connect(&app_url).await.unwrap();
    for sql in [
        "DELETE FROM sessions",
        "DELETE FROM outbox",
        "DELETE FROM login_throttles",
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

#[tokio::test]
async fn the_application_role_can_place_holds_and_replace_answers_but_not_lift_a_hold() {
    let Some(mut db) = postgres().await else {
        eprintln!("skipped: set FUNDPASS_TEST_POSTGRES_URL to run PostgreSQL tests");
        return;
    };
    let member = members(&db.store, 1).await.remove(0);
    let (app, app_url, _) = db.app_role_store("fp_recovery").await;

    let placed = vec![
        hold(member.id, at(0), at(100)),
        hold(member.id, at(1), at(200)),
    ];
    let change = ChangeSet {
        holds: placed.clone(),
        security_answers: answers(member.id, &["first_school", "first_street"], 1),
        ..ChangeSet::default()
    };
    app.apply(change).await.unwrap();
    let replaced = answers(member.id, &["first_employer"], 2);
    let change = ChangeSet {
        clear_questions: vec![member.id],
        security_answers: replaced.clone(),
        ..ChangeSet::default()
    };
    app.apply(change).await.unwrap();
    assert_eq!(
        app.active_holds(member.id, at(50)).await.unwrap(),
        [placed[1].clone(), placed[0].clone()]
    );
    assert_eq!(app.security_answers(member.id).await.unwrap(), replaced);

    let mut conn = AnyConnection::connect(&app_url).await.unwrap();
    for sql in [
        "UPDATE member_holds SET until = 0",
        "DELETE FROM member_holds",
        "TRUNCATE member_holds",
        "UPDATE security_answers SET question = 'first_street'",
        "TRUNCATE security_answers",
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
