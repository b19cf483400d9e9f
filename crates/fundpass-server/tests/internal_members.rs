//! What a business system may read about a member before paying: holds in force
//! after a reset (which refuse payouts), the member's standing, and whether a
//! member's app token is live (RFC 7662 introspection).

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod internal_common;
mod support;

use api_common::{
    Api, LI, NEW_LOGIN_PASSWORD, TRANSACTION_PASSWORD, WANG, app_with_registered, seed,
};
use fundpass_core::clients::Scope;
use internal_common::{AMOUNT_FEN, Internal, TestClient, details, payment};
use serde_json::json;
use time::Duration;
use time::format_description::well_known::Rfc3339;

#[tokio::test]
async fn after_a_password_reset_payouts_are_refused_until_the_hold_ends() {
    let app = app_with_registered(&WANG).await;
    let client = TestClient::register(&app, "withdrawals", &Scope::ALL).await;
    let internal = Internal::new(&app);
    let api = Api::new(&app);
    api.recover_login_password(&WANG, TRANSACTION_PASSWORD, NEW_LOGIN_PASSWORD)
        .await;
    let reset_at = app.clock_now();
    let until = (reset_at + Duration::hours(24)).format(&Rfc3339).unwrap();
    let token = internal.token(&client).await;

    let body = payment(WANG.account, AMOUNT_FEN, "WD-HOLD-1");
    for reply in [
        internal.create(&token, &body, Some("hold-1")).await,
        internal.verify(&token, &body, TRANSACTION_PASSWORD).await,
    ] {
        reply.assert_error(409, "member_on_hold");
        assert_eq!(
            details(&reply),
            json!({"reason": "login_reset", "until": until}),
            "{}",
            reply.text
        );
    }

    let holds = internal
        .get(
            &token,
            &format!("/internal/v1/members/{}/holds", WANG.account),
        )
        .await;
    assert_eq!(
        (holds.status, holds.json()),
        (
            200,
            json!({
                "account_no": WANG.account,
                "blocks_payouts": true,
                "holds": [{
                    "kind": "login_reset", "channel": "app",
                    "since": reset_at.format(&Rfc3339).unwrap(), "until": until,
                    "blocks_payouts": true,
                }],
            })
        ),
        "{}",
        holds.text
    );
    let standing = internal
        .get(&token, &format!("/internal/v1/members/{}", WANG.account))
        .await;
    assert_eq!(
        (standing.status, standing.json()),
        (
            200,
            json!({
                "account_no": WANG.account, "status": "registered",
                "transaction_password_locked": false,
                "transaction_password_disabled": false,
            })
        ),
        "{}",
        standing.text
    );
    for reply in [&holds, &standing] {
        for private in [WANG.id_number, WANG.phone, WANG.name] {
            assert!(!reply.text.contains(private), "{}", reply.text);
        }
    }

    // The hold ends 24 hours after the reset; then the payout goes through.
    app.clock.advance(Duration::hours(24));
    let token = internal.token(&client).await;
    let reply = internal.create(&token, &body, Some("hold-2")).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let holds = internal
        .get(
            &token,
            &format!("/internal/v1/members/{}/holds", WANG.account),
        )
        .await
        .json();
    assert_eq!(holds["holds"], json!([]), "{holds}");
    assert_eq!(holds["blocks_payouts"], false, "{holds}");
}

#[tokio::test]
async fn a_member_not_registered_online_reads_as_ordinary_and_a_stranger_as_unknown() {
    let app = app_with_registered(&WANG).await;
    seed(&app, &LI).await;
    let client = TestClient::register(&app, "withdrawals", &Scope::ALL).await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;

    let li = internal
        .get(&token, &format!("/internal/v1/members/{}", LI.account))
        .await;
    assert_eq!(li.status, 200, "{}", li.text);
    assert_eq!(li.json()["status"], "ordinary");
    internal
        .create(
            &token,
            &payment(LI.account, AMOUNT_FEN, "WD-LI-1"),
            Some("li-1"),
        )
        .await
        .assert_error(409, "member_not_registered");
    for path in [
        "/internal/v1/members/100200300499",
        "/internal/v1/members/100200300499/holds",
    ] {
        internal
            .get(&token, path)
            .await
            .assert_error(404, "unknown_member");
    }
}

#[tokio::test]
async fn introspection_tells_a_live_app_token_from_a_revoked_one_and_names_face_login_tokens() {
    let app = app_with_registered(&WANG).await;
    let client = TestClient::register(&app, "gateway", &[Scope::TokensIntrospect]).await;
    let internal = Internal::new(&app);
    let token = internal.token(&client).await;
    let api = Api::new(&app);

    let member = api.token_for(&WANG).await;
    let reply = internal.introspect(&token, &member).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(
        (
            &body["active"],
            &body["sub"],
            &body["token_kind"],
            &body["token_type"]
        ),
        (
            &json!(true),
            &json!(WANG.account),
            &json!("member_session"),
            &json!("Bearer")
        ),
        "{body}"
    );
    let now = app.clock_now().unix_timestamp();
    assert_eq!(body["iat"], json!(now), "{body}");
    assert!(body["exp"].as_i64().unwrap() > now, "{body}");
    for private in [WANG.id_number, WANG.phone] {
        assert!(!reply.text.contains(private), "{}", reply.text);
    }

    assert_eq!(api.post_as(&member, "/api/v1/logout").await.status, 204);
    let revoked = internal.introspect(&token, &member).await;
    assert_eq!(
        (revoked.status, revoked.text.as_str()),
        (200, r#"{"active":false}"#)
    );

    let face = api.face_login(&WANG).await;
    let body = internal.introspect(&token, &face).await.json();
    assert_eq!(
        (&body["active"], &body["sub"], &body["token_kind"]),
        (
            &json!(true),
            &json!(WANG.account),
            &json!("face_login_recovery")
        ),
        "{body}"
    );

    let longer = format!("{member}x");
    for garbage in ["garbage", "", longer.as_str(), token.as_str()] {
        let reply = internal.introspect(&token, garbage).await;
        assert_eq!(
            (reply.status, reply.text.as_str()),
            (200, r#"{"active":false}"#),
            "{garbage}"
        );
    }
}

#[tokio::test]
async fn an_app_token_past_its_idle_or_absolute_end_introspects_as_inactive() {
    let app = app_with_registered(&WANG).await;
    let client = TestClient::register(&app, "gateway", &[Scope::TokensIntrospect]).await;
    let internal = Internal::new(&app);
    let api = Api::new(&app);
    let member = api.token_for(&WANG).await;
    let exp = internal
        .introspect(&internal.token(&client).await, &member)
        .await
        .json()["exp"]
        .as_i64()
        .unwrap();

    app.clock
        .advance(Duration::seconds(exp - app.clock_now().unix_timestamp()));
    let reply = internal
        .introspect(&internal.token(&client).await, &member)
        .await;
    assert_eq!(
        (reply.status, reply.text.as_str()),
        (200, r#"{"active":false}"#)
    );
}
