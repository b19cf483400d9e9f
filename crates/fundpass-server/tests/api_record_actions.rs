//! What the member does with the security record in the app: download it whole as
//! JSON or CSV with an integrity value that fails after any one-byte edit, and report
//! an event as "not me", which ends every session, holds payouts (a business system's
//! authorisation is refused) and texts the phone on file the hotline's number.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod internal_common;
mod support;

use api_common::{Api, LI, TRANSACTION_PASSWORD, WANG, app_with_registered, seed};
use fundpass_core::clients::Scope;
use fundpass_core::crypto::PublicKey;
use fundpass_core::member::{AccountNumber, HoldReason};
use fundpass_core::ports::MemberStore as _;
use fundpass_core::record::{VerifyError, verify};
use internal_common::{AMOUNT_FEN, Internal, TestClient, details, payment};
use serde_json::Value;
use support::TestApp;

fn keys(app: &TestApp) -> Vec<(String, PublicKey)> {
    app.keyring
        .receipt_keys()
        .into_iter()
        .map(|(id, key)| (id.as_str().to_owned(), key))
        .collect()
}

/// The raw bytes of a download (a byte-order mark included).
async fn download(
    app: &TestApp,
    token: &str,
    format: &str,
) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let reply = app
        .client()
        .get(app.url(&format!("/api/v1/security-record/export?format={format}")))
        .bearer_auth(token)
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200, "{format}");
    let headers = reply.headers().clone();
    (headers, reply.bytes().await.unwrap().to_vec())
}

/// Every entry of the record through the paged read.
async fn record(app: &TestApp, token: &str) -> Vec<Value> {
    let api = Api::new(app);
    let mut all = Vec::new();
    let mut before = String::new();
    loop {
        let page = api
            .get_as(token, &format!("/api/v1/security-record?limit=100{before}"))
            .await
            .json();
        all.extend(page["entries"].as_array().unwrap().iter().cloned());
        match page["next_before"].as_i64() {
            Some(b) => before = format!("&before={b}"),
            None => return all,
        }
    }
}

#[tokio::test]
async fn json_and_csv_downloads_verify_and_fail_after_any_one_byte_edit() {
    let app = app_with_registered(&WANG).await;
    let api = Api::new(&app);
    let token = api.token_for(&WANG).await;
    let _ = api.login_by_account(WANG.account, "Wrong7password").await;
    let entries = record(&app, &token).await;

    let (headers, json) = download(&app, &token, "json").await;
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"fundpass-security-record-")
    );
    assert_eq!(headers["cache-control"], "no-store");
    let ok = verify(&json, &keys(&app)).unwrap();
    assert_eq!(
        (ok.account_no.as_str(), ok.format.as_str()),
        (WANG.account, "json")
    );
    let doc: Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(doc["record"]["account_no"], WANG.account);
    assert_eq!(
        doc["record"]["entries"].as_array().unwrap().len(),
        entries.len(),
        "the download holds the whole record as the paged read gives it"
    );
    assert_eq!(doc["record"]["entries"][0]["seq"], entries[0]["seq"]);

    let (headers, csv) = download(&app, &token, "csv").await;
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        csv.starts_with(&[0xEF, 0xBB, 0xBF]),
        "UTF-8 byte-order mark"
    );
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(
        text.contains("登录失败") || text.contains("登录"),
        "kinds in words: {text}"
    );
    assert!(text.lines().last().unwrap().starts_with("integrity,"));
    assert_eq!(verify(&csv, &keys(&app)).unwrap().format, "csv");

    for file in [&json, &csv] {
        // A byte of the content (the middle of the file) and one of the signature.
        for at in [file.len() / 2, file.len() - 10] {
            let mut edited = file.clone();
            edited[at] = if edited[at] == b'0' { b'1' } else { b'0' };
            assert!(
                verify(&edited, &keys(&app)).is_err(),
                "byte {at} changed unnoticed"
            );
        }
    }
    let mut cut = csv.clone();
    cut.drain(3..40);
    assert_eq!(verify(&cut, &keys(&app)), Err(VerifyError::ContentChanged));

    // Both downloads are on the record, as copies of the member's data.
    let after = record(&app, &token).await;
    let copies: Vec<&Value> = after.iter().filter(|e| e["kind"] == "data_copy").collect();
    assert_eq!(copies.len(), 2);
    assert_eq!(copies[0]["facts"]["format"], "csv");

    let bad = api
        .get_as(&token, "/api/v1/security-record/export?format=xlsx")
        .await;
    bad.assert_error(400, "bad_json");
}

#[tokio::test]
async fn not_me_ends_every_session_holds_payouts_and_texts_the_hotline() {
    let app = app_with_registered(&WANG).await;
    seed(&app, &LI).await;
    let api = Api::new(&app);
    let phone_token = api.token_for(&WANG).await;
    let token = api.token_for(&WANG).await;
    let login = record(&app, &token)
        .await
        .into_iter()
        .find(|e| e["kind"] == "login" && e["reportable"] == true)
        .expect("a reportable login");
    let seq = login["seq"].as_i64().unwrap();
    let texts_before = app.sms_to(WANG.phone).await.len();

    let reply = api
        .post_as(&token, &format!("/api/v1/security-record/{seq}/not-me"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["signed_out"], true);
    assert_eq!(body["hotline"], "12329");

    for t in [&token, &phone_token] {
        api.get_as(t, "/api/v1/me")
            .await
            .assert_error(401, "unauthorized");
    }
    let texts = app.sms_to(WANG.phone).await;
    assert_eq!(texts.len(), texts_before + 1);
    assert!(
        texts
            .iter()
            .any(|t| t.contains("12329") && t.contains("非本人")),
        "{texts:?}"
    );
    let member = app
        .store
        .member_by_account(&AccountNumber::parse(WANG.account).unwrap())
        .await
        .unwrap()
        .unwrap();
    let holds = app.active_holds_of(WANG.account).await;
    assert!(
        holds
            .iter()
            .any(|h| h.reason == HoldReason::ReportedByMember)
    );

    // A business system's payout is refused while the hold lasts.
    let client = TestClient::register(&app, "withdrawals", &Scope::ALL).await;
    let internal = Internal::new(&app);
    let bearer = internal.token(&client).await;
    let body = payment(WANG.account, AMOUNT_FEN, "WD-NOT-ME-1");
    for refused in [
        internal.create(&bearer, &body, Some("not-me-1")).await,
        internal.verify(&bearer, &body, TRANSACTION_PASSWORD).await,
    ] {
        refused.assert_error(409, "member_on_hold");
        assert_eq!(details(&refused)["reason"], "reported_by_member");
    }

    // The report is on the member's record and in the auditor's trail.
    let token = api.token_for(&WANG).await;
    let after = record(&app, &token).await;
    let report = after.iter().find(|e| e["kind"] == "not_me").unwrap();
    assert_eq!(report["facts"]["reported_kind"], "login");
    // The text itself is on the record as an SMS notice: its purpose, never its words.
    let notice = after
        .iter()
        .find(|e| e["kind"] == "sms_notice" && e["facts"]["purpose"] == "not_me")
        .expect("the notice on the record");
    assert_eq!(notice["facts"].as_object().unwrap().len(), 1, "{notice}");
    let audited = app.audit_events().await;
    assert!(audited.iter().any(|e| e.action == "member.not_me"
        && e.member_id == Some(member.id)
        && e.details["reported_seq"] == seq));
}

#[tokio::test]
async fn only_ones_own_successful_logins_resets_and_changes_can_be_reported() {
    let app = app_with_registered(&WANG).await;
    seed(&app, &LI).await;
    Api::from_ip(&app, "198.51.100.7").register(&LI).await;
    let api = Api::new(&app);
    let _ = api.login_by_account(WANG.account, "Wrong7password").await;
    let token = api.token_for(&WANG).await;
    let li_token = api.token_for(&LI).await;
    let entries = record(&app, &token).await;
    let failed = entries
        .iter()
        .find(|e| e["kind"] == "login_failed")
        .unwrap();
    assert_eq!(failed["reportable"], false);
    let li_login = record(&app, &li_token)
        .await
        .into_iter()
        .find(|e| e["kind"] == "login")
        .unwrap();

    let path = |seq: &Value| format!("/api/v1/security-record/{seq}/not-me");
    api.post_as(&token, &path(&failed["seq"]))
        .await
        .assert_error(409, "not_reportable");
    api.post_as(&token, &path(&li_login["seq"]))
        .await
        .assert_error(404, "event_not_found");
    api.post_as(&token, "/api/v1/security-record/99999999/not-me")
        .await
        .assert_error(404, "event_not_found");
    // Nothing happened: the session lives, no hold, no report.
    assert_eq!(api.get_as(&token, "/api/v1/me").await.status, 200);
    assert!(
        !app.audit_events()
            .await
            .iter()
            .any(|e| e.action == "member.not_me")
    );
}
