//! Events business systems learn of without asking: a hold's end, an account frozen
//! and unfrozen by the fund, and a payment verified on a PIN pad.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod internal_common;
mod support;

use api_common::{Api, LOGIN_PASSWORD, TRANSACTION_PASSWORD, WANG, app_with_registered};
use fundpass_core::audit::Channel;
use fundpass_core::clients::Scope;
use fundpass_core::member::{AccountNumber, HoldReason, MemberStatus};
use fundpass_core::portal::{FreezeError, RequestContext};
use fundpass_core::ports::{ChangeSet, MemberStore, UnitOfWork};
use internal_common::{
    AMOUNT_FEN, Internal, KeyKind, Receiver, TestClient, drain, last_of, payment, types,
};
use time::Duration;

#[tokio::test]
async fn a_holds_end_is_announced_once_when_its_time_has_passed() {
    let app = app_with_registered(&WANG).await;
    let receiver = Receiver::start(&[]).await;
    TestClient::register_with(
        &app,
        "withdrawals",
        KeyKind::Ed25519,
        &[Scope::HoldsRead],
        Some(&receiver.url),
    )
    .await;
    let member = app
        .store
        .member_by_account(&AccountNumber::parse(WANG.account).unwrap())
        .await
        .unwrap()
        .unwrap();
    let hold = app.portal.policy.holds.hold(
        member.id,
        HoldReason::PhoneChange,
        Channel::Counter,
        app.clock_now(),
    );
    let until = hold.until;
    app.store
        .apply(ChangeSet {
            holds: vec![hold],
            ..ChangeSet::default()
        })
        .await
        .unwrap();

    assert_eq!(
        app.portal.announce_ended_holds(100).await.unwrap(),
        0,
        "still in force"
    );
    app.clock.advance(Duration::hours(72));
    assert_eq!(app.portal.announce_ended_holds(100).await.unwrap(), 1);
    assert_eq!(
        app.portal.announce_ended_holds(100).await.unwrap(),
        0,
        "announced once"
    );
    drain(&app).await;
    assert_eq!(types(&receiver), ["hold.ended"]);
    let event = last_of(&receiver, "hold.ended");
    assert_eq!(event["data"]["account_no"], WANG.account);
    assert_eq!(event["data"]["reason"], "phone_change");
    assert_eq!(
        event["data"]["until"],
        until
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    );
}

#[tokio::test]
async fn parallel_announcers_on_several_instances_announce_each_end_once() {
    let app = app_with_registered(&WANG).await;
    let receiver = Receiver::start(&[]).await;
    TestClient::register_with(
        &app,
        "withdrawals",
        KeyKind::Ed25519,
        &[Scope::HoldsRead],
        Some(&receiver.url),
    )
    .await;
    let member = app
        .store
        .member_by_account(&AccountNumber::parse(WANG.account).unwrap())
        .await
        .unwrap()
        .unwrap();
    let now = app.clock_now();
    let holds = (0..5)
        .map(|i| {
            app.portal.policy.holds.hold(
                member.id,
                HoldReason::LoginReset,
                Channel::Web,
                now + Duration::seconds(i),
            )
        })
        .collect();
    app.store
        .apply(ChangeSet {
            holds,
            ..ChangeSet::default()
        })
        .await
        .unwrap();
    app.clock.advance(Duration::hours(25));
    let mut runs = Vec::new();
    for _ in 0..8 {
        let portal = app.portal.clone();
        runs.push(tokio::spawn(async move {
            portal.announce_ended_holds(100).await
        }));
    }
    let mut announced = 0;
    for r in runs {
        announced += r.await.unwrap().unwrap();
    }
    announced += app.portal.announce_ended_holds(100).await.unwrap();
    assert_eq!(announced, 5);
    drain(&app).await;
    assert_eq!(types(&receiver).len(), 5, "each end once");
}

#[tokio::test]
async fn a_frozen_account_cannot_log_in_or_be_paid_and_business_systems_are_told() {
    let app = app_with_registered(&WANG).await;
    let receiver = Receiver::start(&[]).await;
    let client = TestClient::register_with(
        &app,
        "withdrawals",
        KeyKind::Ed25519,
        &[Scope::PaymentsAuthorize, Scope::MembersRead],
        Some(&receiver.url),
    )
    .await;
    let api = Api::new(&app);
    let member_token = api.token_for(&WANG).await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let ops = RequestContext {
        channel: Channel::Cli,
        ip: None,
        user_agent: None,
    };

    let frozen = app
        .portal
        .set_frozen(
            WANG.account,
            true,
            "court order 110105199003071239",
            "ops",
            &ops,
        )
        .await
        .unwrap();
    assert_eq!(frozen.status, MemberStatus::Frozen);
    assert!(matches!(
        app.portal
            .set_frozen(WANG.account, true, "again", "ops", &ops)
            .await,
        Err(FreezeError::AlreadyFrozen)
    ));
    assert_eq!(
        api.get_as(&member_token, "/api/v1/me").await.status,
        401,
        "sessions end"
    );
    assert_eq!(
        api.login_by_account(WANG.account, LOGIN_PASSWORD)
            .await
            .status,
        401
    );
    let refused = internal
        .create(
            &token,
            &payment(WANG.account, AMOUNT_FEN, "WD-F-1"),
            Some("f-1"),
        )
        .await;
    refused.assert_error(409, "member_frozen");
    let standing = internal
        .get(&token, &format!("/internal/v1/members/{}", WANG.account))
        .await;
    assert_eq!(standing.json()["status"], "frozen");
    let audit = app.audit_events().await;
    let row = audit.iter().find(|e| e.action == "member.freeze").unwrap();
    let text = row.details.to_string();
    assert!(!text.contains("110105199003071239"), "{text}");

    app.portal
        .set_frozen(WANG.account, false, "order lifted", "ops", &ops)
        .await
        .unwrap();
    assert_eq!(
        api.login_by_account(WANG.account, LOGIN_PASSWORD)
            .await
            .status,
        200
    );
    drain(&app).await;
    assert_eq!(types(&receiver), ["account.frozen", "account.unfrozen"]);
    assert_eq!(
        last_of(&receiver, "account.frozen")["data"]["account_no"],
        WANG.account
    );
}

#[tokio::test]
async fn a_payment_verified_on_a_pin_pad_is_told_to_the_system_that_asked() {
    let app = app_with_registered(&WANG).await;
    let receiver = Receiver::start(&[]).await;
    let client = TestClient::register_with(
        &app,
        "withdrawals",
        KeyKind::Ed25519,
        &[Scope::PaymentsAuthorize],
        Some(&receiver.url),
    )
    .await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let reply = internal
        .verify(
            &token,
            &payment(WANG.account, AMOUNT_FEN, "POS-EV-1"),
            TRANSACTION_PASSWORD,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    drain(&app).await;
    let event = last_of(&receiver, "authorization.confirmed");
    assert_eq!(event["data"]["business_ref"], "POS-EV-1");
    assert_eq!(event["data"]["authorization_id"], reply.json()["id"]);
}
