//! Login at the use-case level: transparent rehashing, and parallel attempts on one
//! member (every failure counts; simultaneous successes all succeed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use fundpass_core::audit::Channel;
use fundpass_core::credentials::{HashParams, PasswordHasher};
use fundpass_core::member::{CredentialUpdate, MemberStatus};
use fundpass_core::portal::{LoginIdentifier, RequestContext};
use fundpass_core::ports::MemberStore;
use fundpass_core::session::ClientKind;
use fundpass_server::system::OsSecrets;
use support::TestApp;

fn ctx() -> RequestContext {
    RequestContext {
        channel: Channel::App,
        ip: Some("127.0.0.1".into()),
        user_agent: None,
    }
}

/// A registered member whose login hash was made with `params`; returns its hash.
async fn registered(
    app: &TestApp,
    params: HashParams,
) -> (fundpass_core::member::MemberId, String) {
    let id = app
        .seed_member("100200300400", "张三", "110105199003071239", "13800000001")
        .await;
    let hasher = PasswordHasher::new(params).unwrap();
    let hash = hasher
        .hash(&app.keyring, "Lily2026pass", &OsSecrets)
        .unwrap();
    let member = app.store.member_by_id(id).await.unwrap().unwrap();
    let mut update = CredentialUpdate::from_record(&member, app.clock_now());
    update.status = MemberStatus::Registered;
    update.login_hash = Some(hash.clone());
    app.store
        .update_credentials(id, member.version, &update)
        .await
        .unwrap();
    (id, hash)
}

/// The test harness's own Argon2 costs, so stored hashes need no rehash.
const FAST: HashParams = HashParams {
    m_kib: 256,
    t: 1,
    p: 1,
};

fn account() -> LoginIdentifier {
    LoginIdentifier::Account("100200300400".into())
}

#[tokio::test]
async fn parallel_wrong_passwords_each_count_towards_the_lock() {
    let app = TestApp::spawn().await;
    let (id, _) = registered(&app, FAST).await;
    let attempts = (0..4).map(|_| {
        let portal = app.portal.clone();
        tokio::spawn(async move {
            portal
                .login(&account(), "Wrong2026pass", ClientKind::App, &ctx())
                .await
        })
    });
    for a in attempts {
        assert!(a.await.unwrap().is_err());
    }
    let member = app.store.member_by_id(id).await.unwrap().unwrap();
    assert_eq!(
        member.login_lock.failures, 4,
        "no parallel failure was lost"
    );
    let fifth = app
        .portal
        .login(&account(), "Wrong2026pass", ClientKind::App, &ctx())
        .await;
    assert!(
        matches!(fifth, Err(fundpass_core::portal::LoginError::Locked { .. })),
        "{fifth:?}"
    );
}

#[tokio::test]
async fn simultaneous_correct_logins_of_one_member_all_succeed() {
    let app = TestApp::spawn().await;
    registered(&app, FAST).await;
    let _ = app
        .portal
        .login(&account(), "Wrong2026pass", ClientKind::App, &ctx())
        .await;
    let logins = (0..6).map(|_| {
        let portal = app.portal.clone();
        tokio::spawn(async move {
            portal
                .login(&account(), "Lily2026pass", ClientKind::App, &ctx())
                .await
        })
    });
    for l in logins {
        assert!(l.await.unwrap().is_ok());
    }
}

#[tokio::test]
async fn a_weak_stored_hash_is_remade_at_the_next_successful_login() {
    let app = TestApp::spawn().await;
    let (id, old_hash) = registered(
        &app,
        HashParams {
            m_kib: 64,
            t: 1,
            p: 1,
        },
    )
    .await;

    let wrong = app
        .portal
        .login(
            &LoginIdentifier::Account("100200300400".into()),
            "Wrong2026pass",
            ClientKind::App,
            &ctx(),
        )
        .await;
    assert!(wrong.is_err());
    let after_failure = app.store.member_by_id(id).await.unwrap().unwrap();
    assert_eq!(
        after_failure.login_hash.as_deref(),
        Some(old_hash.as_str()),
        "a failed login changes no hash"
    );

    app.portal
        .login(
            &LoginIdentifier::Account("100200300400".into()),
            "Lily2026pass",
            ClientKind::App,
            &ctx(),
        )
        .await
        .unwrap();
    let after = app.store.member_by_id(id).await.unwrap().unwrap();
    let new_hash = after.login_hash.unwrap();
    assert!(old_hash.contains("m=64,"), "{old_hash}");
    assert!(new_hash.contains("m=256,t=1,p=1"), "{new_hash}");
    assert!(
        app.portal
            .hasher
            .verify(&app.keyring, "Lily2026pass", &new_hash)
            .unwrap()
    );
}

#[tokio::test]
async fn a_frozen_member_with_the_right_password_gets_the_generic_answer() {
    let app = TestApp::spawn().await;
    let (id, _) = registered(&app, FAST).await;
    let member = app.store.member_by_id(id).await.unwrap().unwrap();
    let update = CredentialUpdate {
        status: MemberStatus::Frozen,
        ..CredentialUpdate::from_record(&member, app.clock_now())
    };
    app.store
        .update_credentials(id, member.version, &update)
        .await
        .unwrap();
    let frozen = app
        .portal
        .login(&account(), "Lily2026pass", ClientKind::App, &ctx())
        .await;
    assert!(
        matches!(
            frozen,
            Err(fundpass_core::portal::LoginError::InvalidCredentials)
        ),
        "{frozen:?}"
    );
    let unknown = app
        .portal
        .login(
            &LoginIdentifier::Account("999888777666".into()),
            "Lily2026pass",
            ClientKind::App,
            &ctx(),
        )
        .await;
    assert!(
        matches!(
            unknown,
            Err(fundpass_core::portal::LoginError::InvalidCredentials)
        ),
        "{unknown:?}"
    );
}
