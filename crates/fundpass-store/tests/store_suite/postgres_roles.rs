//! PostgreSQL only: the documented grants let the application work and stop it from
//! rewriting the audit trail.

use fundpass_core::audit::{Actor, ActorKind, AuditEvent, ChainVerifier, Channel, Outcome};
use fundpass_core::member::{CredentialUpdate, MemberStatus, SecretKind};
use fundpass_core::ports::{AuditStore, MemberStore};
use sqlx::{AnyConnection, Connection};

use crate::support::{account, at, import, member, postgres};

#[tokio::test]
async fn the_application_role_can_append_but_not_rewrite_the_audit_trail() {
    let Some(mut db) = postgres().await else {
        eprintln!("skipped: set FUNDPASS_TEST_POSTGRES_URL to run PostgreSQL tests");
        return;
    };
    // Every connection of this store runs `SET ROLE` to the application role.
    let (app, app_url, role) = db.app_role_store("fp_app").await;
    let user: String = {
        let mut conn = AnyConnection::connect(&app_url).await.unwrap();
        let user = sqlx::query_scalar("SELECT current_user::text")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        user
    };
    assert_eq!(user, role);

    // What the application does works under the grants.
    import(&app, &[member(1), member(2)], at(0)).await;
    import(&app, &[member(2)], at(1)).await;
    let record = app.member_by_account(&account(1)).await.unwrap().unwrap();
    let mut update = CredentialUpdate::from_record(&record, at(2));
    update.status = MemberStatus::Registered;
    app.update_credentials(record.id, record.version, &update)
        .await
        .unwrap();
    app.push_secret_history(record.id, SecretKind::Login, "h1", at(2))
        .await
        .unwrap();
    let actor = Actor {
        kind: ActorKind::Member,
        id: Some(record.id.0.to_string()),
    };
    for n in 0..3 {
        let event = AuditEvent::new(
            at(n),
            actor.clone(),
            "login.password",
            Channel::Web,
            Outcome::Success,
        );
        app.append(&event).await.unwrap();
    }

    // Rewriting the trail is refused by privilege, before any trigger runs.
    let mut conn = AnyConnection::connect(&app_url).await.unwrap();
    for sql in [
        "UPDATE audit_events SET outcome = 'failure' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 3",
        "TRUNCATE audit_events",
        "DELETE FROM members",
        "DROP TRIGGER audit_events_no_update_or_delete ON audit_events",
    ] {
        let refused = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        let code = refused
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.into_owned());
        assert!(
            matches!(code.as_deref(), Some("42501")),
            "{sql:?} should be refused for lack of privilege, got {refused}"
        );
    }
    conn.close().await.unwrap();

    let mut verifier = ChainVerifier::new();
    for record in app.records_after(0, 100).await.unwrap() {
        verifier.check(&record).unwrap();
    }
    assert_eq!(verifier.finish(app.head().await.unwrap()), Ok(3));
    app.close().await;
}
