//! The member's security record as the app reads it: `GET /api/v1/security-record`
//! shows every event about the member's own account, newest first, paged by `before`
//! and filtered by kind, and agrees event for event with the auditor's trail.

// The whole file is test code, helpers included: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_common;
mod support;

use api_common::{Api, LI, LOGIN_PASSWORD, WANG};
use fundpass_core::audit::AuditRecord;
use fundpass_core::member::MemberId;
use fundpass_core::ports::AuditStore as _;
use fundpass_core::record::kind_of;
use serde_json::Value;
use support::TestApp;

/// WANG and LI registered, each with a few logins, failed logins and a logout, their
/// events interleaved in the trail; WANG's token and both member ids.
async fn two_members(app: &TestApp) -> (String, MemberId, MemberId) {
    let wang = app.seed(&WANG).await;
    let li = app.seed(&LI).await;
    let api = Api::from_ip(app, "203.0.113.1");
    api.register(&WANG).await;
    let li_api = Api::from_ip(app, "198.51.100.7");
    li_api.register(&LI).await;
    app.clock.advance(time::Duration::seconds(61));
    for _ in 0..2 {
        let _ = api.login_by_account(WANG.account, "Wrong7password").await;
        let _ = li_api.login_by_account(LI.account, "Wrong7password").await;
        let li_token = li_api.token_for(&LI).await;
        let _ = li_api.post_as(&li_token, "/api/v1/logout").await;
        let token = api.token_for(&WANG).await;
        let _ = api.post_as(&token, "/api/v1/logout").await;
    }
    (api.token_for(&WANG).await, wang, li)
}

async fn record(app: &TestApp, token: &str, query: &str) -> Value {
    let api = Api::from_ip(app, "203.0.113.1");
    let reply = api
        .get_as(token, &format!("/api/v1/security-record{query}"))
        .await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.text);
    reply.json()
}

fn seqs(page: &Value) -> Vec<i64> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect()
}

/// Every page of the record with `query` (`&kind=…`), following `next_before`.
async fn all_pages(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let b = before.map(|b| format!("&before={b}")).unwrap_or_default();
        let page = record(app, token, &format!("?limit=3{b}{query}")).await;
        entries.extend(page["entries"].as_array().unwrap().iter().cloned());
        match page["next_before"].as_i64() {
            Some(next) => before = Some(next),
            None => return entries,
        }
    }
}

async fn trail(app: &TestApp) -> Vec<AuditRecord> {
    app.store.records_after(0, 10_000).await.unwrap()
}

#[tokio::test]
async fn a_members_record_never_shows_another_members_events_whatever_is_asked() {
    let app = TestApp::spawn().await;
    let (token, wang, li) = two_members(&app).await;
    let trail = trail(&app).await;
    let of_li: Vec<i64> = trail
        .iter()
        .filter(|r| r.event.member_id == Some(li))
        .map(|r| r.seq)
        .collect();
    assert!(of_li.len() >= 4, "LI has events: {of_li:?}");
    let of_wang: Vec<i64> = trail
        .iter()
        .filter(|r| r.event.member_id == Some(wang))
        .map(|r| r.seq)
        .collect();
    let mut befores = vec![
        String::new(),
        "?before=0".into(),
        "?before=-5".into(),
        format!("?before={}", i64::MAX),
    ];
    for seq in &of_li {
        befores.push(format!("?before={}", seq + 1));
        befores.push(format!("?before={seq}&kind=login_failed"));
        befores.push(format!("?before={}&kind=login", seq + 1));
        befores.push(format!("?before={}&kind=session", seq + 1));
    }
    let mut seen = 0;
    for query in befores {
        let page = record(&app, &token, &query).await;
        for seq in seqs(&page) {
            assert!(
                !of_li.contains(&seq),
                "{query}: LI's event {seq} on WANG's record"
            );
            assert!(of_wang.contains(&seq), "{query}: {seq} is not WANG's");
            seen += 1;
        }
    }
    assert!(seen > 0, "WANG's own events were shown");
}

#[tokio::test]
async fn the_record_and_the_auditors_trail_agree_event_for_event() {
    let app = TestApp::spawn().await;
    let (token, wang, _) = two_members(&app).await;
    let shown: Vec<(i64, String)> = all_pages(&app, &token, "")
        .await
        .iter()
        .map(|e| {
            (
                e["seq"].as_i64().unwrap(),
                e["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut audited: Vec<(i64, String)> = trail(&app)
        .await
        .into_iter()
        .filter(|r| r.event.member_id == Some(wang))
        .filter_map(|r| {
            kind_of(&r.event.action, r.event.outcome).map(|k| (r.seq, k.code().to_owned()))
        })
        .collect();
    audited.reverse();
    assert!(audited.len() >= 8, "{audited:?}");
    assert_eq!(shown, audited);
}

#[tokio::test]
async fn paging_by_before_returns_each_event_once_newest_first() {
    let app = TestApp::spawn().await;
    let (token, _, _) = two_members(&app).await;
    let whole = seqs(&record(&app, &token, "?limit=100").await);
    let paged: Vec<i64> = all_pages(&app, &token, "")
        .await
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert!(whole.len() > 3, "more than one page: {whole:?}");
    assert_eq!(paged, whole);
    assert!(
        paged.windows(2).all(|w| w[0] > w[1]),
        "newest first: {paged:?}"
    );
    let first = record(&app, &token, "?limit=3").await;
    assert_eq!(first["entries"].as_array().unwrap().len(), 3);
    assert_eq!(first["next_before"].as_i64(), Some(whole[2]));
}

#[tokio::test]
async fn the_filter_by_kind_shows_only_that_kind() {
    let app = TestApp::spawn().await;
    let (token, _, _) = two_members(&app).await;
    let failed = all_pages(&app, &token, "&kind=login_failed").await;
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed.iter().all(|e| e["kind"] == "login_failed"));
    assert!(failed.iter().all(|e| e["outcome"] == "failure"));
    let logins = all_pages(&app, &token, "&kind=login").await;
    assert_eq!(logins.len(), 3, "{logins:?}");
    assert!(
        logins
            .iter()
            .all(|e| e["kind"] == "login" && e["channel"] == "app")
    );
    let sessions = all_pages(&app, &token, "&kind=session").await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let everything = all_pages(&app, &token, "").await;
    assert!(everything.len() > failed.len() + logins.len() + sessions.len());
}

#[tokio::test]
async fn an_unknown_kind_or_before_is_refused_in_the_envelope() {
    let app = TestApp::spawn().await;
    let (token, _, _) = two_members(&app).await;
    let api = Api::from_ip(&app, "203.0.113.1");
    for query in ["?kind=everything", "?before=yesterday", "?limit=-1"] {
        let reply = api
            .get_as(&token, &format!("/api/v1/security-record{query}"))
            .await;
        reply.assert_error(400, "bad_json");
    }
    let reply = api.get_as("not-a-token", "/api/v1/security-record").await;
    assert_eq!(reply.status, 401, "{}", reply.text);
}

#[tokio::test]
async fn the_record_shows_no_full_document_phone_or_address() {
    let app = TestApp::spawn().await;
    let (token, _, _) = two_members(&app).await;
    let text = serde_json::to_string(&all_pages(&app, &token, "").await).unwrap();
    assert!(text.contains("203.0.113.*"), "masked address shown: {text}");
    for secret in [WANG.id_number, WANG.phone, "203.0.113.1", LOGIN_PASSWORD] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}
