//! Face login through the query-by-token providers (Tencent Cloud FaceID, Alibaba
//! Cloud ID Verification) against stand-ins that check each request as the provider
//! would and answer the outcome a test scripts for each handle: the member gets a
//! recovery-only token from the provider's own result, and every way a result can be
//! refused (used, stale, someone else's, failed, forged by the app, unfinished,
//! provider down, refused by the provider, for a non-member) has its answer.
//!
//! Most tests are written once and run for each provider (`test_name::tencent`,
//! `test_name::alibaba`); what only one provider has is tested on its own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
#[path = "face_providers/mod.rs"]
mod providers;
mod support;

use std::sync::Arc;

use api_common::{Api, LI, STRANGER, WANG, assert_audited, audit_events, seed, without};
use axum::http::StatusCode;
use fundpass_core::audit::Outcome as Audited;
use providers::alibaba_mock::{PRODUCT_CODE, SCENE_ID};
use providers::signatures::SameBytes;
use providers::{
    Adapter, META_INFO, Outcome, Provider, SIMILARITY, StandIn, assert_rejected, world,
};
use serde_json::json;
use time::Duration;

/// Runs each test written for any provider once per provider.
macro_rules! for_each_provider {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test]
            async fn tencent() {
                super::$test(super::Provider::Tencent).await;
            }
            #[tokio::test]
            async fn alibaba() {
                super::$test(super::Provider::Alibaba).await;
            }
        }
    )*};
}

for_each_provider!(
    a_member_logs_in_by_face_and_recovers_with_the_token,
    a_completed_check_is_not_fetched_again,
    a_result_past_the_handles_lifetime_is_stale,
    failed_checks_end_their_flow_and_the_third_locks_the_document,
    the_apps_own_report_carries_no_authority,
    an_unfinished_check_leaves_the_flow_for_later,
    a_provider_outage_is_answered_with_retry_after,
    a_wrong_secret_is_refused_by_the_stand_in,
    a_signing_clock_out_of_the_providers_window_is_refused,
    a_non_members_check_reads_like_a_members_until_it_passes,
    starts_the_provider_cannot_check_are_refused_before_asking_it,
    a_handle_given_out_twice_binds_only_one_flow,
);

/// A 32-digit lower-case hex order reference.
fn is_order_ref(value: &serde_json::Value) -> bool {
    value
        .as_str()
        .is_some_and(|v| v.len() == 32 && v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// What the adapter sent for one check of WANG with `handle`: the person, the
/// order reference and meta information, and no image or video asked for.
fn assert_sent_as_documented(stand_in: &StandIn, handle: &str) {
    let provider = stand_in.provider;
    let begun = stand_in.calls_of(provider.begin_action());
    let fetched = stand_in.calls_of(provider.result_action());
    assert_eq!(begun.len(), 1, "{begun:?}");
    let (expected_begin, expected_result) = match provider {
        Provider::Tencent => {
            let extra = &begun[0]["Extra"];
            assert!(is_order_ref(extra), "{extra}");
            let begin = json!({
                "CompareLib": "BUSINESS", "IdCard": WANG.id_number, "Name": WANG.name,
                "Extra": extra, "Meta": META_INFO,
            });
            let result =
                json!({"FaceIdToken": handle, "IsNeedVideo": false, "IsNeedBestFrame": false});
            (begin, result)
        }
        Provider::Alibaba => {
            let order = &begun[0]["OuterOrderNo"];
            assert!(is_order_ref(order), "{order}");
            let begin = json!({
                "SceneId": SCENE_ID, "OuterOrderNo": order, "ProductCode": PRODUCT_CODE,
                "CertType": "IDENTITY_CARD", "CertName": WANG.name, "CertNo": WANG.id_number,
                "MetaInfo": META_INFO,
            });
            (begin, json!({"SceneId": SCENE_ID, "CertifyId": handle}))
        }
    };
    assert_eq!(begun[0], expected_begin);
    assert_eq!(fetched, [expected_result]);
}

async fn a_member_logs_in_by_face_and_recovers_with_the_token(provider: Provider) {
    let (app, stand_in) = world(provider, Adapter::default()).await;
    let api = Api::new(&app);

    let started = api.provider_start(&WANG).await;
    assert_eq!(started.status, 201, "{}", started.text);
    let body = started.json();
    let (flow, handle) = (
        body["flow"].as_str().unwrap(),
        body["nonce"].as_str().unwrap(),
    );
    assert_eq!(body["provider"], provider.name());
    assert_eq!(stand_in.handles(), [handle]);

    let reply = api.provider_complete(flow).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["scope"], "recovery");
    let token = reply.json()["token"].as_str().unwrap().to_owned();
    let recovery = api.start_forgot_transaction(&token, &WANG).await;
    assert_eq!(recovery.status, 201, "{}", recovery.text);
    assert_sent_as_documented(&stand_in, handle);

    let events = audit_events(&app).await;
    let result = events.iter().find(|e| e.action == "face.result").unwrap();
    assert_eq!(result.outcome, Audited::Success);
    // Exactly these fields: no image, no document number.
    assert_eq!(
        result.details,
        json!({
            "provider": provider.name(), "provider_code": provider.pass_code(),
            "similarity": SIMILARITY, "provider_ref": handle,
        })
    );
    assert_audited(&events, &["face.start", "face.result"], &WANG, &[]);
}

async fn a_completed_check_is_not_fetched_again(provider: Provider) {
    let (app, stand_in) = world(provider, Adapter::default()).await;
    let api = Api::new(&app);
    let (flow, _) = api.provider_check(&WANG).await;
    assert_eq!(api.provider_complete(&flow).await.status, 200);

    api.provider_complete(&flow)
        .await
        .assert_error(409, "face_replayed");
    assert_eq!(stand_in.calls_of(provider.result_action()).len(), 1);
}

async fn a_result_past_the_handles_lifetime_is_stale(provider: Provider) {
    let short = Adapter {
        handle_lifetime: Duration::minutes(2),
        ..Adapter::default()
    };
    let (app, stand_in) = world(provider, short).await;
    let api = Api::new(&app);
    // The flow lives 15 minutes; the handle 2.
    let (flow, _) = api.provider_check(&WANG).await;
    app.clock.advance(Duration::minutes(3));
    assert_rejected(&api.provider_complete(&flow).await, "stale");

    // The provider's own word that the handle is past its life (Tencent 15,
    // Alibaba 406) is stale too.
    let (flow, handle) = api.provider_check(&WANG).await;
    stand_in.script(&handle, Outcome::Expired);
    assert_rejected(&api.provider_complete(&flow).await, "stale");
}

async fn failed_checks_end_their_flow_and_the_third_locks_the_document(provider: Provider) {
    let (app, stand_in) = world(provider, Adapter::default()).await;
    let api = Api::new(&app);
    let failures = [
        (provider.liveness_failed(), "liveness_failed"),
        (provider.low_score(), "low_score"),
    ];
    for (code, reason) in failures {
        let (flow, handle) = api.provider_check(&WANG).await;
        stand_in.script(&handle, Outcome::Failed(code));
        assert_rejected(&api.provider_complete(&flow).await, reason);
        // One handle, one check: the refused flow is over.
        api.provider_complete(&flow)
            .await
            .assert_error(409, "face_replayed");
    }
    let (flow, handle) = api.provider_check(&WANG).await;
    stand_in.script(&handle, Outcome::Failed(provider.liveness_failed()));
    api.provider_complete(&flow)
        .await
        .assert_error(423, "face_attempts_exhausted");

    api.provider_start(&WANG)
        .await
        .assert_error(423, "face_attempts_exhausted");
    assert_eq!(stand_in.calls_of(provider.begin_action()).len(), 3);
    assert_eq!(stand_in.calls_of(provider.result_action()).len(), 3);
}

async fn the_apps_own_report_carries_no_authority(provider: Provider) {
    let (app, stand_in) = world(provider, Adapter::default()).await;
    let api = Api::new(&app);
    let (flow, handle) = api.provider_check(&WANG).await;
    stand_in.script(&handle, Outcome::Failed(provider.liveness_failed()));
    // A passing result for this very handle, signed by a key the app trusts for
    // signed results (the dev simulator's): with a provider it is not read.
    let forged = api
        .dev_face_result(&handle, WANG.id_number, json!({}))
        .await;

    let reply = api.face_complete(&flow, &forged).await;
    assert_rejected(&reply, "liveness_failed");
    assert_eq!(stand_in.calls_of(provider.result_action()).len(), 1);
}

async fn an_unfinished_check_leaves_the_flow_for_later(provider: Provider) {
    let (app, stand_in) = world(provider, Adapter::default()).await;
    let api = Api::new(&app);
    let (flow, handle) = api.provider_check(&WANG).await;
    stand_in.script(&handle, Outcome::Unfinished);
    for _ in 0..2 {
        api.provider_complete(&flow)
            .await
            .assert_error(409, "face_unfinished");
    }

    stand_in.script(&handle, Outcome::default());
    let reply = api.provider_complete(&flow).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

async fn a_provider_outage_is_answered_with_retry_after(provider: Provider) {
    let (app, stand_in) = world(provider, Adapter::default()).await;
    let api = Api::new(&app);
    stand_in.fail_next_with(StatusCode::BAD_GATEWAY);
    let reply = api.provider_start(&WANG).await;
    reply.assert_error(503, "face_provider_unavailable");
    assert_eq!(reply.header("retry-after"), Some("30"));

    let (flow, _) = api.provider_check(&WANG).await;
    for _ in 0..2 {
        stand_in.fail_next_with(StatusCode::INTERNAL_SERVER_ERROR);
        let reply = api.provider_complete(&flow).await;
        reply.assert_error(503, "face_provider_unavailable");
        assert_eq!(reply.header("retry-after"), Some("30"));
    }
    let reply = api.provider_complete(&flow).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(stand_in.calls_of(provider.result_action()).len(), 3);
}

async fn a_wrong_secret_is_refused_by_the_stand_in(provider: Provider) {
    let wrong = Adapter {
        right_secret: false,
        ..Adapter::default()
    };
    let (app, stand_in) = world(provider, wrong).await;
    let reply = Api::new(&app).provider_start(&WANG).await;
    reply.assert_error(503, "face_provider_unavailable");
    assert_eq!(stand_in.refusals(), [provider.signature_refusal()]);
    assert!(stand_in.handles().is_empty());
}

async fn a_signing_clock_out_of_the_providers_window_is_refused(provider: Provider) {
    let (window, refusal) = provider.clock_window();
    for (offset, refused) in [
        (window + Duration::minutes(1), true),
        (-(window + Duration::minutes(1)), true),
        (window - Duration::minutes(1), false),
    ] {
        let off = Adapter {
            clock_offset: offset,
            ..Adapter::default()
        };
        let (app, stand_in) = world(provider, off).await;
        let reply = Api::new(&app).provider_start(&WANG).await;
        if refused {
            reply.assert_error(503, "face_provider_unavailable");
            assert_eq!(stand_in.refusals(), [refusal], "{offset}");
        } else {
            assert_eq!(reply.status, 201, "{offset}: {}", reply.text);
        }
    }
}

async fn a_non_members_check_reads_like_a_members_until_it_passes(provider: Provider) {
    let (app, _stand_in) = world(provider, Adapter::default()).await;
    seed(&app, &LI).await;
    // The same answer to the start, from two addresses, for a member and a stranger.
    let mut challenges = Vec::new();
    for (person, ip) in [(&WANG, "203.0.113.1"), (&STRANGER, "203.0.113.2")] {
        let reply = Api::from_ip(&app, ip).provider_start(person).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        challenges.push(without(&reply, &["flow", "nonce"]));
    }
    assert_eq!(challenges[0], challenges[1]);

    let api = Api::new(&app);
    // The provider passes them (as the people they are): they are not registered.
    for person in [&STRANGER, &LI] {
        let (flow, _) = api.provider_check(person).await;
        api.provider_complete(&flow)
            .await
            .assert_error(403, "face_not_eligible");
    }
}

async fn starts_the_provider_cannot_check_are_refused_before_asking_it(provider: Provider) {
    let (app, stand_in) = world(provider, Adapter::default()).await;
    let api = Api::new(&app);
    let start = |fields: serde_json::Value| api.post("/api/v1/face/start", fields);
    let passport = json!({
        "id_type": "passport", "id_number": "E12345678", "name": WANG.name, "meta_info": META_INFO,
    });
    start(passport)
        .await
        .assert_error(400, "face_document_unsupported");
    for name in [json!(null), json!("  ")] {
        let unnamed = json!({
            "id_type": "resident_id", "id_number": WANG.id_number, "name": name,
            "meta_info": META_INFO,
        });
        start(unnamed).await.assert_error(400, "bad_name");
    }
    assert!(stand_in.calls_of(provider.begin_action()).is_empty());

    // Alibaba needs the SDK's meta information; Tencent takes a check without it.
    let bare = json!({"id_type": "resident_id", "id_number": WANG.id_number, "name": WANG.name});
    let reply = start(bare).await;
    match provider {
        Provider::Alibaba => {
            reply.assert_error(400, "face_meta_info_required");
            assert!(stand_in.calls_of(provider.begin_action()).is_empty());
        }
        Provider::Tencent => {
            assert_eq!(reply.status, 201, "{}", reply.text);
            let begun = stand_in.calls_of(provider.begin_action());
            assert_eq!(begun[0].get("Meta"), None, "{}", begun[0]);
        }
    }
}

async fn a_handle_given_out_twice_binds_only_one_flow(provider: Provider) {
    let (app, stand_in) = world(provider, Adapter::default()).await;
    let api = Api::new(&app);
    stand_in.repeat_handles();
    let (first, _) = api.provider_check(&WANG).await;

    api.provider_start(&WANG)
        .await
        .assert_error(503, "face_provider_unavailable");
    let handles = stand_in.handles();
    assert_eq!(handles.len(), 2);
    assert_eq!(handles[0], handles[1]);
    let reply = api.provider_complete(&first).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[tokio::test]
async fn tencent_results_naming_someone_else_or_another_flows_reference_are_refused() {
    let (app, stand_in) = world(Provider::Tencent, Adapter::default()).await;
    let api = Api::new(&app);
    api.provider_check(&WANG).await;
    let another_flows = stand_in.calls_of("GetFaceIdToken")[0]["Extra"]
        .as_str()
        .unwrap()
        .to_owned();
    let cases = [
        (
            Outcome::Names {
                id_card: LI.id_number,
                name: WANG.name,
            },
            "wrong_subject",
        ),
        (
            Outcome::Names {
                id_card: WANG.id_number,
                name: LI.name,
            },
            "wrong_subject",
        ),
        (Outcome::Extra(another_flows), "nonce_mismatch"),
    ];
    for (outcome, reason) in cases {
        let (flow, handle) = api.provider_check(&WANG).await;
        stand_in.script(&handle, outcome);
        assert_rejected(&api.provider_complete(&flow).await, reason);
    }
}

#[tokio::test]
async fn alibaba_sub_code_201_is_someone_elses() {
    let (app, stand_in) = world(Provider::Alibaba, Adapter::default()).await;
    let api = Api::new(&app);
    let (flow, handle) = api.provider_check(&WANG).await;
    stand_in.script(&handle, Outcome::Failed("201"));
    assert_rejected(&api.provider_complete(&flow).await, "wrong_subject");
}

#[tokio::test]
async fn alibaba_refuses_a_reused_nonce() {
    let same = Adapter {
        rng: Arc::new(SameBytes),
        ..Adapter::default()
    };
    let (app, stand_in) = world(Provider::Alibaba, same).await;
    let api = Api::new(&app);
    api.provider_check(&WANG).await;
    api.provider_start(&WANG)
        .await
        .assert_error(503, "face_provider_unavailable");
    assert_eq!(stand_in.refusals(), ["SignatureNonceUsed"]);
}
