//! Delivery reports: each provider's callback format recorded on the message it names
//! (an unknown id changes nothing), refused without the path token or from outside
//! the allowed networks, shown on the staff console's member page, and described by
//! the OpenAPI document served beside the endpoints.

use std::sync::Arc;

use fundpass_core::ports::DeliveryState;
use serde_json::json;

use super::alibaba_mock::{AlibabaMock, KEY_SECRET};
use super::tencent_mock::{SECRET_KEY, TencentMock};
use super::{RECEIPT_TOKEN, alibaba, app, deliver, os_rng, rows, tencent};
use crate::support::TestApp;
use crate::{code_queued, staff_sees};

/// Posts `reports` to the report endpoint of `provider` as from `ip`.
async fn report(
    app: &TestApp,
    provider: &str,
    token: &str,
    ip: &str,
    reports: serde_json::Value,
) -> (u16, String) {
    let url = app.url(&format!("/sms/receipts/{provider}/{token}"));
    let response = app
        .client()
        .post(url)
        .header("x-forwarded-for", ip)
        .json(&reports)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn an_alibaba_delivery_report_is_recorded_and_shown_on_the_member_page() {
    let app = app().await;
    let mock = AlibabaMock::start(app.clock.clone(), 10).await;
    let code = code_queued(&app).await;
    let sender = alibaba(&mock.url, KEY_SECRET, app.clock.clone(), os_rng());
    deliver(&app, Arc::new(sender)).await;
    let sent = mock.accepted().remove(0);

    let unknown = json!([{"success": true, "biz_id": "1^0", "out_id": "0123456789abcdef0123456789abcdef",
        "report_time": "2026-11-23 10:01:00", "err_code": "DELIVERED"}]);
    let (status, body) = report(&app, "alibaba", RECEIPT_TOKEN, "127.0.0.1", unknown).await;
    assert_eq!((status, body.as_str()), (200, r#"{"code":0,"msg":"成功"}"#));
    assert!(
        rows(&app, "registration_code").await[0].receipt.is_none(),
        "unknown id: nothing changed"
    );

    let delivered = json!([{"phone_number": "1381234****", "send_time": "2026-11-23 10:00:10",
        "report_time": "2026-11-23 10:01:00", "success": true, "err_code": "DELIVERED",
        "err_msg": "用户接收成功", "sms_size": "1", "biz_id": sent.biz_id, "out_id": sent.out_id}]);
    let refused = report(
        &app,
        "alibaba",
        "wrong-token-wrong-token-wrong-token",
        "127.0.0.1",
        delivered.clone(),
    )
    .await;
    assert_eq!(refused.0, 404);
    let outside = report(
        &app,
        "alibaba",
        RECEIPT_TOKEN,
        "192.0.2.1",
        delivered.clone(),
    )
    .await;
    assert_eq!(outside.0, 404);
    assert!(rows(&app, "registration_code").await[0].receipt.is_none());
    let (status, _) = report(&app, "alibaba", RECEIPT_TOKEN, "10.9.3.4", delivered).await;
    assert_eq!(status, 200);

    let row = rows(&app, "registration_code").await.remove(0);
    let at = time::macros::datetime!(2026-11-23 02:01 UTC);
    assert_eq!(row.delivery_state(), DeliveryState::Delivered { at });
    let page = staff_sees(&app).await;
    assert!(page.contains("sms-delivered"), "{page}");
    assert!(page.contains("2026-11-23 10:01"), "{page}");
    assert!(!page.contains(&code), "the code never reaches the console");
}

#[tokio::test]
async fn a_tencent_failure_report_is_recorded_with_the_carriers_reason() {
    let app = app().await;
    let mock = TencentMock::start(app.clock.clone(), 10).await;
    code_queued(&app).await;
    deliver(
        &app,
        Arc::new(tencent(&mock.url, SECRET_KEY, app.clock.clone())),
    )
    .await;
    let sent = mock.accepted().remove(0);

    let failed = json!([{"user_receive_time": "2026-11-23 10:02:00", "nationcode": "86",
        "mobile": "1381234****", "report_status": "FAIL", "errmsg": "MK:0001",
        "description": "空号", "sid": sent.serial_no}]);
    let (status, body) = report(&app, "tencent", RECEIPT_TOKEN, "127.0.0.1", failed).await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"result":0,"errmsg":"OK"}"#)
    );
    let row = rows(&app, "registration_code").await.remove(0);
    assert_eq!(
        row.delivery_state(),
        DeliveryState::Undelivered {
            at: time::macros::datetime!(2026-11-23 02:02 UTC),
            reason: Some("MK:0001 空号".into())
        }
    );
    let page = staff_sees(&app).await;
    assert!(
        page.contains("sms-undelivered") && page.contains("MK:0001 空号"),
        "{page}"
    );
}

#[tokio::test]
async fn the_report_endpoints_are_described_by_the_document_served_beside_them() {
    let app = app().await;
    let response = app
        .client()
        .get(app.url("/sms/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let served: serde_json::Value = response.json().await.unwrap();
    let built = serde_json::to_value(fundpass_server::sms::receipts::openapi_document()).unwrap();
    assert_eq!(served, built);
    let paths = served["paths"].as_object().unwrap();
    assert!(paths.contains_key("/sms/receipts/tencent/{token}"));
    assert!(paths.contains_key("/sms/receipts/alibaba/{token}"));
    let not_json = app
        .client()
        .post(app.url(&format!("/sms/receipts/tencent/{RECEIPT_TOKEN}")))
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(
        not_json.status(),
        415,
        "documented like the app API's bodies"
    );
}
