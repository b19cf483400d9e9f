//! Short-lived rows: captchas, rate-limit windows, and the purge that removes them.

use fundpass_core::ports::{
    CaptchaRecord, CaptchaStore, ChangeSet, FlowStore, FlowWrite, RateDecision, RateLimiter,
    UnitOfWork,
};
use time::Duration;

use super::{digest, flow};
use crate::support::{at, backends, ephemeral_backends};

/// Seconds after `at(0)` at which a minute starts, so fixed windows are easy to read.
const MINUTE_START: i64 = 20;

/// `secs` seconds after the start of a whole minute.
fn on(secs: i64) -> time::OffsetDateTime {
    let start = at(MINUTE_START);
    assert_eq!(start.unix_timestamp() % 60, 0);
    start + Duration::seconds(secs)
}

fn captcha(n: u64, expires_secs: i64, dev_answer: Option<&str>) -> CaptchaRecord {
    CaptchaRecord {
        id: digest(n),
        answer_mac: vec![u8::try_from(n).unwrap(); 32],
        expires_at: at(expires_secs),
        dev_answer: dev_answer.map(str::to_owned),
    }
}

#[tokio::test]
async fn a_captcha_can_be_taken_only_once() {
    for backend in ephemeral_backends().await {
        let store = &backend.captchas;
        let dev = captcha(1, 300, Some("7kq2"));
        store.insert_captcha(&dev, at(0)).await.unwrap();
        store
            .insert_captcha(&captcha(2, 300, None), at(0))
            .await
            .unwrap();
        assert_eq!(
            store.dev_captcha_answer(&dev.id).await.unwrap().as_deref(),
            Some("7kq2")
        );
        assert_eq!(store.dev_captcha_answer(&digest(2)).await.unwrap(), None);

        assert_eq!(
            store.take_captcha(&dev.id).await.unwrap(),
            Some(dev.clone())
        );
        assert_eq!(store.take_captcha(&dev.id).await.unwrap(), None);
        assert_eq!(store.dev_captcha_answer(&dev.id).await.unwrap(), None);
        assert_eq!(
            store.take_captcha(&digest(2)).await.unwrap(),
            Some(captcha(2, 300, None))
        );
    }
}

#[tokio::test]
async fn the_rate_limiter_allows_exactly_the_limit_in_each_window() {
    for backend in ephemeral_backends().await {
        let store = &backend.limiter;
        let minute = Duration::minutes(1);
        // on(0) is a whole minute: the window is [on(0), on(60)).
        for second in [0, 10, 59] {
            assert_eq!(
                store
                    .hit("login:ip:1", minute, 3, on(second))
                    .await
                    .unwrap(),
                RateDecision::Allowed
            );
        }
        for second in [59, 59] {
            assert_eq!(
                store
                    .hit("login:ip:1", minute, 3, on(second))
                    .await
                    .unwrap(),
                RateDecision::Limited {
                    retry_after: on(60)
                },
                "{}: the fourth hit waits for the next window, and refused hits do not count",
                backend.name
            );
        }
        assert_eq!(
            store.hit("login:ip:2", minute, 3, on(59)).await.unwrap(),
            RateDecision::Allowed,
            "another key has its own budget"
        );
        for second in [60, 61, 119] {
            assert_eq!(
                store
                    .hit("login:ip:1", minute, 3, on(second))
                    .await
                    .unwrap(),
                RateDecision::Allowed
            );
        }
        assert_eq!(
            store.hit("login:ip:1", minute, 3, on(119)).await.unwrap(),
            RateDecision::Limited {
                retry_after: on(120)
            }
        );
        assert_eq!(
            store.hit("login:ip:3", minute, 0, on(5)).await.unwrap(),
            RateDecision::Limited {
                retry_after: on(60)
            },
            "a limit of zero refuses everything"
        );
        assert!(
            store
                .hit("login:ip:1", Duration::ZERO, 3, on(5))
                .await
                .is_err()
        );
    }
}

#[tokio::test]
async fn purging_removes_expired_captchas_windows_and_day_old_flows_only() {
    for db in backends().await {
        let store = &db.store;
        store
            .insert_captcha(&captcha(1, 100, None), at(0))
            .await
            .unwrap();
        store
            .insert_captcha(&captcha(2, 300, None), at(0))
            .await
            .unwrap();
        let minute = Duration::minutes(1);
        store.hit("a", minute, 1, on(10)).await.unwrap();
        store.hit("a", minute, 1, on(190)).await.unwrap();
        // Flows 1 and 2 (15-minute lifetime) expire at at(900); flow 2 is then updated
        // to live longer.
        let old = flow(1, None);
        let mut long = flow(2, None);
        let change = ChangeSet {
            flows: vec![
                FlowWrite::Insert(old.clone()),
                FlowWrite::Insert(long.clone()),
            ],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();
        long.expires_at = at(200_000);
        let extend = ChangeSet {
            flows: vec![FlowWrite::Update {
                record: long.clone(),
                expected_version: 1,
            }],
            ..ChangeSet::default()
        };
        store.apply(extend).await.unwrap();

        // At at(200): captcha 1 and the first window (ending at on(60)) are over; no
        // flow is a day old.
        assert_eq!(store.purge_expired(at(200)).await.unwrap(), 2);
        assert_eq!(store.take_captcha(&digest(1)).await.unwrap(), None);
        assert!(store.take_captcha(&digest(2)).await.unwrap().is_some());
        assert_eq!(
            store.hit("a", minute, 1, on(190)).await.unwrap(),
            RateDecision::Limited {
                retry_after: on(240)
            },
            "the current window survives"
        );
        assert!(store.flow(&old.id).await.unwrap().is_some());

        // A day after flow 1 expired it goes, with the second window; flow 2 is still
        // within its day.
        let day_after = 900 + 86_400 + 1;
        assert_eq!(store.purge_expired(at(day_after)).await.unwrap(), 2);
        assert_eq!(store.flow(&old.id).await.unwrap(), None);
        assert!(store.flow(&long.id).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn redis_that_does_not_answer_refuses_every_call_as_unavailable() {
    use fundpass_core::ports::{Health, StoreError};
    use fundpass_store::{RedisState, RedisTimeouts};
    // Nothing listens on port 1: every call fails, none is let through.
    let redis = RedisState::open(
        "redis://127.0.0.1:1/0",
        "fundpass-test",
        RedisTimeouts::default(),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let unavailable = |r: Result<(), StoreError>| matches!(r, Err(StoreError::Unavailable(_)));
    assert!(unavailable(redis.ping().await));
    assert!(unavailable(
        redis.insert_captcha(&captcha(1, 300, None), at(0)).await
    ));
    assert!(unavailable(redis.take_captcha(&digest(1)).await.map(drop)));
    assert!(unavailable(
        redis
            .hit("login:ip:1", Duration::minutes(1), 3, on(0))
            .await
            .map(drop)
    ));
    // A guard against hanging on a dead server (each call gives up within a second),
    // not a performance target.
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
