//! Staff accounts: round trip, unique user names, optimistic updates, no plaintext
//! second-factor secret at rest, and (PostgreSQL) the application role's grants.

use fundpass_core::crypto::{BlindIndex, Field};
use fundpass_core::member::LockState;
use fundpass_core::ports::{StaffStore, StoreError};
use fundpass_core::staff::{
    Branch, NewStaff, StaffId, StaffRole, StaffStatus, TotpSecret, Username,
};
use fundpass_core::testing::CountingRng;
use sqlx::Connection;

use crate::portal::keyring;
use crate::support::{at, backends, contains, postgres, raw_values};

/// A new account `name` with `role` at a Beijing office, created at `at(0)`.
pub fn new_staff(name: &str, role: StaffRole) -> NewStaff {
    NewStaff {
        username: Username::parse(name).unwrap(),
        display_name: format!("测试 {name}"),
        role,
        branch: Branch {
            id: "BJ-DC-01".into(),
            name: "东城管理部".into(),
        },
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${name}"),
        member_index: None,
        created_at: at(0),
    }
}

#[tokio::test]
async fn a_staff_account_survives_the_round_trip() {
    for db in backends().await {
        let store = &db.store;
        assert!(
            store.list_staff().await.unwrap().is_empty(),
            "none after install"
        );
        let mut new = new_staff("wang.li", StaffRole::Counter);
        new.member_index = Some(BlindIndex::from_bytes(vec![7; 32]));
        let created = store.insert_staff(&new).await.unwrap();
        assert_eq!(created.username.as_str(), "wang.li");
        assert_eq!(created.display_name, "测试 wang.li");
        assert_eq!(created.role, StaffRole::Counter);
        assert_eq!(created.branch, new.branch);
        assert_eq!(created.password_hash, new.password_hash);
        assert_eq!(created.password_changed_at, at(0));
        assert_eq!(created.status, StaffStatus::Active);
        assert!(created.needs_mfa_enrolment());
        assert_eq!(created.totp_last_step, None);
        assert_eq!(created.lock, LockState::default());
        assert_eq!(created.member_index, new.member_index);
        assert_eq!((created.created_at, created.updated_at), (at(0), at(0)));
        assert_eq!(created.version, 1);

        let by_name = store
            .staff_by_username(&Username::parse("Wang.Li").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(by_name.id, created.id);
        let by_id = store.staff_by_id(created.id).await.unwrap().unwrap();
        assert_eq!(by_id.username, created.username);
        assert!(
            store
                .staff_by_username(&Username::parse("nobody").unwrap())
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.staff_by_id(StaffId(9_999)).await.unwrap().is_none());

        store
            .insert_staff(&new_staff("admin", StaffRole::Admin))
            .await
            .unwrap();
        let names: Vec<String> = store
            .list_staff()
            .await
            .unwrap()
            .iter()
            .map(|s| s.username.to_string())
            .collect();
        assert_eq!(names, ["admin", "wang.li"]);
    }
}

#[tokio::test]
async fn a_user_name_can_be_taken_only_once() {
    for db in backends().await {
        let store = &db.store;
        store
            .insert_staff(&new_staff("zhao", StaffRole::Hotline))
            .await
            .unwrap();
        let again = store
            .insert_staff(&new_staff("zhao", StaffRole::Admin))
            .await
            .unwrap_err();
        assert!(
            matches!(&again, StoreError::Duplicate(c) if c == "staff_username_key"),
            "{again:?}"
        );
        assert_eq!(store.list_staff().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn every_mutable_field_is_updated_and_a_stale_version_conflicts() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let rng = CountingRng::default();
        let read = store
            .insert_staff(&new_staff("li.na", StaffRole::Counter))
            .await
            .unwrap();
        let mut changed = read.clone();
        changed.display_name = "李娜".into();
        changed.role = StaffRole::Supervisor;
        changed.branch = Branch {
            id: "ICBC-0102".into(),
            name: "工商银行西城支行".into(),
        };
        changed.password_hash = "$argon2id$new".into();
        changed.password_changed_at = at(50);
        changed.totp_secret = Some(TotpSecret::generate(&rng).seal(&ring, &rng));
        changed.totp_last_step = Some(58_333_335);
        changed.lock = LockState {
            failures: 3,
            lock_count: 1,
            locked_until: Some(at(900)),
        };
        changed.member_index = Some(BlindIndex::from_bytes(vec![9; 32]));
        changed.disable(at(60));
        store.update_staff(read.version, &changed).await.unwrap();

        let back = store.staff_by_id(read.id).await.unwrap().unwrap();
        assert_eq!(back.version, read.version + 1);
        assert_eq!(back.display_name, "李娜");
        assert_eq!(back.role, StaffRole::Supervisor);
        assert_eq!(back.branch, changed.branch);
        assert_eq!(back.password_hash, "$argon2id$new");
        assert_eq!(back.password_changed_at, at(50));
        assert_eq!(back.totp_secret, changed.totp_secret);
        assert_eq!(back.totp_last_step, Some(58_333_335));
        assert_eq!(back.lock, changed.lock);
        assert_eq!(back.member_index, changed.member_index);
        assert_eq!(back.status, StaffStatus::Disabled);
        assert_eq!(back.updated_at, at(60));
        assert_eq!(back.created_at, at(0));

        // A second writer that read the old version loses, and changes nothing.
        let mut stale = read.clone();
        stale.display_name = "stale".into();
        let lost = store.update_staff(read.version, &stale).await.unwrap_err();
        assert!(matches!(lost, StoreError::Conflict), "{lost:?}");
        let still = store.staff_by_id(read.id).await.unwrap().unwrap();
        assert_eq!(still.display_name, "李娜");

        let mut gone = back.clone();
        gone.id = StaffId(9_999);
        let missing = store.update_staff(back.version, &gone).await.unwrap_err();
        assert!(matches!(missing, StoreError::NotFound), "{missing:?}");

        // An MFA reset stores no secret and no step.
        let mut reset = back.clone();
        reset.reset_mfa(at(70));
        store.update_staff(back.version, &reset).await.unwrap();
        let after = store.staff_by_id(read.id).await.unwrap().unwrap();
        assert!(after.needs_mfa_enrolment());
        assert_eq!(after.totp_last_step, None);
    }
}

/// The base32 secret an authenticator app is given never appears in a stored value,
/// nor (SQLite) anywhere in the database files.
#[tokio::test]
async fn no_plaintext_totp_secret_is_stored() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let rng = CountingRng::default();
        let mut staff = store
            .insert_staff(&new_staff("sun.qi", StaffRole::Hotline))
            .await
            .unwrap();
        let secret = TotpSecret::generate(&rng);
        let uri = secret.enrolment_uri("sun.qi").unwrap();
        let base32 = secret_param(uri_text(&uri));
        let expected = staff.version;
        staff.totp_secret = Some(secret.seal(&ring, &rng));
        store.update_staff(expected, &staff).await.unwrap();

        let values = raw_values(&mut db.raw().await, "staff").await;
        assert!(
            !contains(&values, base32.as_bytes()),
            "base32 secret stored"
        );
        let stored = store.staff_by_id(staff.id).await.unwrap().unwrap();
        let sealed = stored.totp_secret.unwrap();
        assert_eq!(ring.open(Field::TotpSecret, &sealed).unwrap(), base32);
        for file in db.sqlite_files() {
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                !bytes.windows(base32.len()).any(|w| w == base32.as_bytes()),
                "{} holds the secret",
                file.display()
            );
        }
    }
}

fn uri_text(uri: &secrecy::SecretString) -> &str {
    use secrecy::ExposeSecret as _;
    uri.expose_secret()
}

/// The `secret=` parameter of an otpauth URI.
fn secret_param(uri: &str) -> String {
    let start = uri.find("secret=").unwrap() + "secret=".len();
    uri[start..].split('&').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_application_role_keeps_staff_accounts_but_cannot_delete_them() {
    let Some(mut db) = postgres().await else {
        eprintln!("skipped: set FUNDPASS_TEST_POSTGRES_URL to run PostgreSQL tests");
        return;
    };
    let (app, app_url, _) = db.app_role_store("fp_staff").await;
    let created = app
        .insert_staff(&new_staff("qian", StaffRole::Counter))
        .await
        .unwrap();
    let mut changed = created.clone();
    changed.disable(at(5));
    app.update_staff(created.version, &changed).await.unwrap();
    assert_eq!(app.list_staff().await.unwrap().len(), 1);
    assert!(
        app.staff_by_username(&created.username)
            .await
            .unwrap()
            .is_some()
    );

    let mut conn = sqlx::AnyConnection::connect(&app_url).await.unwrap();
    for sql in ["DELETE FROM staff", "TRUNCATE staff"] {
        let refused = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        let code = refused
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.into_owned());
        assert_eq!(code.as_deref(), Some("42501"), "{sql:?}: {refused}");
    }
    conn.close().await.unwrap();
}
