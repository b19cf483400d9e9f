//! Tencent Cloud and Alibaba Cloud SMS against stand-ins that check each request as
//! the provider would (signature recomputed from the raw bytes, clock window, nonce
//! never reused) and answer from per-number counters: a code is delivered with the
//! provider's template and values; a limit code is not retried; a 5xx is retried and
//! the text delivered once; a wrong key, a clock out of the window and a reused nonce
//! are refused by the stand-in; delivery reports are recorded on the message and
//! shown on the staff console's member page.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod console_common;
#[path = "sms_providers/mod.rs"]
mod providers;
mod support;
mod web_common;

use std::sync::Arc;

use axum::http::StatusCode;
use console_common::add_staff;
use fundpass_core::ports::{DeliveryState, OutboxMessage};
use fundpass_core::staff::StaffRole;
use providers::alibaba_mock::{AlibabaMock, KEY_SECRET};
use providers::signatures::SameBytes;
use providers::tencent_mock::{SECRET_KEY, TencentMock};
use providers::{alibaba, app, clock_off_by, deliver, os_rng, rows, tencent};
use serde_json::json;
use support::TestApp;
use time::Duration;
use web_common::{Browser, CHEN, ZHANG};

/// Starts a registration for `ZHANG`: a code is queued for the phone on file.
async fn code_queued(app: &TestApp) -> String {
    app.seed(&ZHANG).await;
    Browser::new(app).identify(&ZHANG).await;
    app.last_code_to(ZHANG.phone).await
}

/// The registration code and notice to `ZHANG` (queued in the same instant, so sent
/// in either order): the one limited and the one sent.
async fn limited_and_sent(app: &TestApp) -> (OutboxMessage, OutboxMessage) {
    let mut both = rows(app, "registration_code").await;
    both.extend(rows(app, "registration_done").await);
    assert_eq!(both.len(), 2);
    both.sort_by_key(|m| !m.limit_hit);
    let sent = both.pop().unwrap();
    (both.pop().unwrap(), sent)
}

/// The member page of `ZHANG` as a counter clerk sees it.
async fn staff_sees(app: &TestApp) -> String {
    let clerk = add_staff(app, "li.counter", StaffRole::Counter).await;
    let browser = Browser::from_ip(app, "10.1.0.7");
    browser.staff_login(&clerk).await;
    let (_, page) = browser.member_page(&ZHANG).await;
    assert_eq!(page.status, 200, "{}", page.html);
    page.html
}

#[tokio::test]
async fn a_code_is_delivered_through_tencent_with_its_template_and_values() {
    let app = app().await;
    let mock = TencentMock::start(app.clock.clone(), 10).await;
    let code = code_queued(&app).await;

    let report = deliver(
        &app,
        Arc::new(tencent(&mock.url, SECRET_KEY, app.clock.clone())),
    )
    .await;
    assert_eq!(report.delivered, 1);
    let sent = mock.accepted();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].phone, format!("+86{}", ZHANG.phone));
    assert_eq!(sent[0].template_id, "1110");
    assert_eq!(sent[0].params, [code.as_str(), "5"]);
    let row = rows(&app, "registration_code").await.remove(0);
    assert_eq!(sent[0].session_context, row.id);
    assert_eq!(
        row.provider_ref.as_deref(),
        Some(sent[0].serial_no.as_str())
    );
    assert!(matches!(row.delivery_state(), DeliveryState::Sent { .. }));
}

#[tokio::test]
async fn a_code_is_delivered_through_alibaba_with_the_outbox_id_as_out_id() {
    let app = app().await;
    let mock = AlibabaMock::start(app.clock.clone(), 10).await;
    let code = code_queued(&app).await;

    let sender = alibaba(&mock.url, KEY_SECRET, app.clock.clone(), os_rng());
    assert_eq!(deliver(&app, Arc::new(sender)).await.delivered, 1);
    let sent = mock.accepted();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].phone, ZHANG.phone);
    assert_eq!(sent[0].template_code, "1110");
    assert_eq!(
        sent[0].template_param,
        json!({"code": code, "minutes": "5"})
    );
    let row = rows(&app, "registration_code").await.remove(0);
    assert_eq!(sent[0].out_id, row.id);
    assert_eq!(row.provider_ref.as_deref(), Some(sent[0].biz_id.as_str()));
}

#[tokio::test]
async fn tencent_limit_codes_are_not_retried_and_show_on_the_member_page() {
    let app = app().await;
    let mock = TencentMock::start(app.clock.clone(), 10).await;
    app.seed(&ZHANG).await;
    Browser::new(&app).register(&ZHANG).await;
    let sender = Arc::new(tencent(&mock.url, SECRET_KEY, app.clock.clone()));

    assert_eq!(deliver(&app, sender.clone()).await.delivered, 1);
    assert_eq!(
        deliver(&app, sender.clone()).await.limited,
        1,
        "within 30 seconds"
    );
    app.clock.advance(Duration::hours(2));
    assert_eq!(deliver(&app, sender).await.claimed(), 0);
    assert_eq!(mock.calls(), 2);
    assert_eq!(
        mock.refusals(),
        ["LimitExceeded.PhoneNumberThirtySecondLimit"]
    );
    let (limited, sent) = limited_and_sent(&app).await;
    assert!(
        limited.given_up && limited.delivered_at.is_none(),
        "{limited:?}"
    );
    assert!(sent.delivered_at.is_some() && !sent.limit_hit, "{sent:?}");
    let page = staff_sees(&app).await;
    assert!(page.contains("sms-limit_hit"), "{page}");
    assert!(
        page.contains("LimitExceeded.PhoneNumberThirtySecondLimit"),
        "{page}"
    );
}

#[tokio::test]
async fn tencent_counts_texts_per_number_and_day() {
    let app = app().await;
    let mock = TencentMock::start(app.clock.clone(), 1).await;
    app.seed(&ZHANG).await;
    let browser = Browser::new(&app);
    let code_page = browser.identify(&ZHANG).await;
    let sender = Arc::new(tencent(&mock.url, SECRET_KEY, app.clock.clone()));
    assert_eq!(deliver(&app, sender.clone()).await.delivered, 1);

    app.clock.advance(Duration::seconds(61));
    let resent = browser.resend(&code_page).await;
    assert!(resent.status < 400, "{}", resent.html);
    assert_eq!(deliver(&app, sender).await.limited, 1);
    assert_eq!(mock.refusals(), ["LimitExceeded.PhoneNumberDailyLimit"]);
}

#[tokio::test]
async fn alibaba_limit_codes_are_not_retried() {
    let app = app().await;
    let mock = AlibabaMock::start(app.clock.clone(), 10).await;
    app.seed(&ZHANG).await;
    Browser::new(&app).register(&ZHANG).await;
    let sender = Arc::new(alibaba(&mock.url, KEY_SECRET, app.clock.clone(), os_rng()));

    assert_eq!(deliver(&app, sender.clone()).await.delivered, 1);
    assert_eq!(
        deliver(&app, sender.clone()).await.limited,
        1,
        "within a minute"
    );
    app.clock.advance(Duration::hours(2));
    assert_eq!(deliver(&app, sender).await.claimed(), 0);
    assert_eq!(mock.calls(), 2);
    assert_eq!(mock.refusals(), ["isv.BUSINESS_LIMIT_CONTROL"]);
    let (limited, sent) = limited_and_sent(&app).await;
    assert!(limited.given_up && sent.delivered_at.is_some());
}

#[tokio::test]
async fn a_5xx_from_tencent_is_retried_and_the_code_delivered_once() {
    let app = app().await;
    let mock = TencentMock::start(app.clock.clone(), 10).await;
    code_queued(&app).await;
    mock.fail_next_with(StatusCode::SERVICE_UNAVAILABLE);
    let sender = Arc::new(tencent(&mock.url, SECRET_KEY, app.clock.clone()));

    assert_eq!(deliver(&app, sender.clone()).await.retried, 1);
    assert_eq!(deliver(&app, sender.clone()).await.claimed(), 0, "backoff");
    app.clock.advance(Duration::seconds(10));
    assert_eq!(deliver(&app, sender.clone()).await.delivered, 1);
    app.clock.advance(Duration::hours(2));
    assert_eq!(deliver(&app, sender).await.claimed(), 0);
    assert_eq!((mock.calls(), mock.accepted().len()), (2, 1));
}

#[tokio::test]
async fn a_5xx_from_alibaba_is_retried_and_the_code_delivered_once() {
    let app = app().await;
    let mock = AlibabaMock::start(app.clock.clone(), 10).await;
    code_queued(&app).await;
    mock.fail_next_with(StatusCode::BAD_GATEWAY);
    let sender = Arc::new(alibaba(&mock.url, KEY_SECRET, app.clock.clone(), os_rng()));

    assert_eq!(deliver(&app, sender.clone()).await.retried, 1);
    app.clock.advance(Duration::seconds(10));
    assert_eq!(deliver(&app, sender.clone()).await.delivered, 1);
    app.clock.advance(Duration::hours(2));
    assert_eq!(deliver(&app, sender).await.claimed(), 0);
    assert_eq!((mock.calls(), mock.accepted().len()), (2, 1));
}

#[tokio::test]
async fn a_wrong_tencent_key_is_refused_by_the_stand_in_and_not_retried() {
    let app = app().await;
    let mock = TencentMock::start(app.clock.clone(), 10).await;
    code_queued(&app).await;
    let sender = Arc::new(tencent(&mock.url, "not-the-key", app.clock.clone()));

    assert_eq!(deliver(&app, sender.clone()).await.failed, 1);
    app.clock.advance(Duration::hours(2));
    assert_eq!(deliver(&app, sender).await.claimed(), 0);
    assert_eq!(mock.refusals(), ["AuthFailure.SignatureFailure"]);
    assert!(mock.accepted().is_empty());
    let row = rows(&app, "registration_code").await.remove(0);
    let error = row.last_error.unwrap();
    assert!(error.contains("AuthFailure.SignatureFailure"), "{error}");
}

#[tokio::test]
async fn a_wrong_alibaba_secret_is_refused_by_the_stand_in() {
    let app = app().await;
    let mock = AlibabaMock::start(app.clock.clone(), 10).await;
    code_queued(&app).await;
    let sender = alibaba(&mock.url, "not-the-secret", app.clock.clone(), os_rng());

    assert_eq!(deliver(&app, Arc::new(sender)).await.failed, 1);
    assert_eq!(mock.refusals(), ["SignatureDoesNotMatch"]);
    let error = rows(&app, "registration_code").await[0]
        .last_error
        .clone()
        .unwrap();
    assert!(error.contains("SignatureDoesNotMatch"), "{error}");
}

#[tokio::test]
async fn tencent_refuses_a_clock_more_than_five_minutes_off() {
    let app = app().await;
    let mock = TencentMock::start(app.clock.clone(), 10).await;
    code_queued(&app).await;
    let fast = tencent(
        &mock.url,
        SECRET_KEY,
        clock_off_by(&app, Duration::minutes(6)),
    );
    assert_eq!(deliver(&app, Arc::new(fast)).await.failed, 1);
    assert_eq!(mock.refusals(), ["AuthFailure.SignatureExpire"]);

    app.seed(&CHEN).await;
    Browser::new(&app).identify(&CHEN).await;
    let close = tencent(
        &mock.url,
        SECRET_KEY,
        clock_off_by(&app, -Duration::minutes(4)),
    );
    assert_eq!(deliver(&app, Arc::new(close)).await.delivered, 1);
}

#[tokio::test]
async fn alibaba_refuses_a_clock_more_than_fifteen_minutes_off() {
    let app = app().await;
    let mock = AlibabaMock::start(app.clock.clone(), 10).await;
    code_queued(&app).await;
    let slow = clock_off_by(&app, -Duration::minutes(16));
    let sender = alibaba(&mock.url, KEY_SECRET, slow, os_rng());
    assert_eq!(deliver(&app, Arc::new(sender)).await.failed, 1);
    assert_eq!(mock.refusals(), ["InvalidTimeStamp.Expired"]);

    app.seed(&CHEN).await;
    Browser::new(&app).identify(&CHEN).await;
    let close = clock_off_by(&app, Duration::minutes(14));
    let sender = alibaba(&mock.url, KEY_SECRET, close, os_rng());
    assert_eq!(deliver(&app, Arc::new(sender)).await.delivered, 1);
}

#[tokio::test]
async fn alibaba_refuses_a_reused_nonce() {
    let app = app().await;
    let mock = AlibabaMock::start(app.clock.clone(), 10).await;
    for person in [&ZHANG, &CHEN] {
        app.seed(person).await;
        Browser::new(&app).identify(person).await;
    }
    let sender = alibaba(
        &mock.url,
        KEY_SECRET,
        app.clock.clone(),
        Arc::new(SameBytes),
    );

    let report = deliver(&app, Arc::new(sender)).await;
    assert_eq!((report.delivered, report.failed), (1, 1));
    assert_eq!(mock.refusals(), ["SignatureNonceUsed"]);
}
