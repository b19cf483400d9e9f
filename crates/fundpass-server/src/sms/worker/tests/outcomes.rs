//! What the provider senders add to the worker's side: the template values reach the
//! sender, the provider's id is kept, a limit hit is counted and never retried, and a
//! send whose outcome is unknown waits for a delivery report before it is tried again.

use super::*;

#[tokio::test]
async fn the_values_reach_the_gateway_and_its_id_is_kept() {
    let accepted = Ok(SmsAccepted {
        provider_ref: Some("5000:104571066915".into()),
    });
    let h = harness(vec![accepted], WorkerConfig::default());
    h.enqueue("msg-1");

    assert_eq!(h.pass().await.delivered, 1);
    let mut params = h.gateway.params.lock().unwrap()[0].clone();
    params.sort();
    assert_eq!(
        params,
        [
            ("code".to_owned(), "482913".to_owned()),
            ("minutes".to_owned(), "5".to_owned())
        ]
    );
    let (msg, _) = h.store.row("msg-1");
    assert_eq!(msg.provider_ref.as_deref(), Some("5000:104571066915"));
}

#[tokio::test]
async fn a_limit_refusal_is_counted_and_never_retried() {
    let limited = Err(SmsError::Limited(
        "LimitExceeded.PhoneNumberDailyLimit for 138****5678".into(),
    ));
    let h = harness(vec![limited], WorkerConfig::default());
    h.enqueue("msg-1");

    let report = h.pass().await;
    assert_eq!((report.limited, report.claimed()), (1, 1));
    h.clock.advance(Duration::days(2));
    assert_eq!(h.pass().await.claimed(), 0);
    assert_eq!(h.gateway.calls().len(), 1);
    let (msg, gave_up) = h.store.row("msg-1");
    assert!(gave_up && msg.limit_hit && msg.delivered_at.is_none());
}

#[tokio::test]
async fn an_uncertain_send_waits_for_a_report_before_it_is_sent_again() {
    let uncertain = Err(SmsError::Uncertain("timed out".into()));
    let h = harness(vec![uncertain.clone(), uncertain], WorkerConfig::default());
    h.enqueue("msg-1");
    h.enqueue("msg-2");

    assert_eq!(h.pass().await.retried, 2);
    h.clock.advance(Duration::seconds(119));
    assert_eq!(h.pass().await.claimed(), 0, "not before the pause");
    // The provider's report for msg-1 arrives meanwhile: it was sent after all.
    let report = IncomingReceipt {
        provider_ref: Some("biz-1".into()),
        outbox_id: Some("msg-1".into()),
        receipt: fundpass_core::ports::Receipt {
            state: fundpass_core::ports::ReceiptState::Delivered,
            reason: None,
            at: h.clock.now(),
        },
    };
    assert!(h.store.record_receipt(&report).await.unwrap());
    h.clock.advance(Duration::seconds(1));
    let again = h.pass().await;
    assert_eq!((again.delivered, again.claimed()), (1, 1));
    let keys: Vec<String> = h.gateway.calls().into_iter().map(|c| c.0).collect();
    assert_eq!(
        keys,
        ["msg-1", "msg-2", "msg-2"],
        "msg-1 was not sent twice"
    );
}
