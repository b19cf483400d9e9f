//! What the SMS providers add to an outbox row: the sealed template parameters, the
//! provider's id of an accepted message, a refusal for a sending limit, and the
//! carrier's delivery report, matched by the provider's id or by the outbox id.

use fundpass_core::crypto::Field;
use fundpass_core::ports::{
    ChangeSet, DeliveryState, IncomingReceipt, OutboxStore, Receipt, ReceiptState, UnitOfWork,
};

use super::{keyring, members, message};
use crate::support::{at, backends};

fn report(
    provider_ref: Option<&str>,
    outbox_id: Option<&str>,
    state: ReceiptState,
    secs: i64,
) -> IncomingReceipt {
    IncomingReceipt {
        provider_ref: provider_ref.map(str::to_owned),
        outbox_id: outbox_id.map(str::to_owned),
        receipt: Receipt {
            state,
            reason: Some("DELIVRD".into()),
            at: at(secs),
        },
    }
}

#[tokio::test]
async fn parameters_stay_sealed_and_a_report_is_recorded_on_the_message_it_names() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let member = members(store, 1).await.remove(0);
        let change = ChangeSet {
            outbox: vec![
                message(&ring, 1, Some(member.id), "13800138000", "a", at(0)),
                message(&ring, 2, Some(member.id), "13800138000", "b", at(1)),
            ],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();
        let listed = store.member_messages(member.id, 10).await.unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].id, "msg-0002", "newest first");
        let sealed = listed[0].params.clone().unwrap();
        assert_eq!(
            ring.open(Field::Message, &sealed).unwrap(),
            r#"{"code":"482913"}"#
        );

        store
            .mark_delivered("msg-0001", at(5), Some("5000:1045710669157053657849499619"))
            .await
            .unwrap();
        let by_serial = report(
            Some("5000:1045710669157053657849499619"),
            None,
            ReceiptState::Delivered,
            9,
        );
        assert!(store.record_receipt(&by_serial).await.unwrap());
        let unknown = report(Some("5000:0"), None, ReceiptState::Failed, 9);
        assert!(!store.record_receipt(&unknown).await.unwrap());
        let nobody = report(None, Some("msg-9999"), ReceiptState::Failed, 9);
        assert!(!store.record_receipt(&nobody).await.unwrap());

        let rows = store.member_messages(member.id, 10).await.unwrap();
        let first = rows.iter().find(|m| m.id == "msg-0001").unwrap();
        assert_eq!(
            first.delivery_state(),
            DeliveryState::Delivered { at: at(9) }
        );
        let second = rows.iter().find(|m| m.id == "msg-0002").unwrap();
        assert_eq!(second.delivery_state(), DeliveryState::Queued);
        assert!(second.receipt.is_none(), "an unknown id changed nothing");
    }
}

#[tokio::test]
async fn a_report_by_outbox_id_settles_a_send_whose_answer_was_lost() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let change = ChangeSet {
            outbox: vec![message(&ring, 1, None, "13800138000", "a", at(0))],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();
        store.claim_due(at(0), at(30), 10).await.unwrap();
        store
            .mark_failed("msg-0001", "outcome unknown", Some(at(120)))
            .await
            .unwrap();

        let failed = report(Some("900619"), Some("msg-0001"), ReceiptState::Failed, 40);
        assert!(store.record_receipt(&failed).await.unwrap());
        assert!(
            store
                .claim_due(at(500), at(530), 10)
                .await
                .unwrap()
                .is_empty(),
            "the provider had it: it is not sent again"
        );
        let row = store.recent_messages(1).await.unwrap().remove(0);
        assert_eq!(row.provider_ref.as_deref(), Some("900619"));
        assert_eq!(row.delivered_at, Some(at(40)));
        assert_eq!(
            row.delivery_state(),
            DeliveryState::Undelivered {
                at: at(40),
                reason: Some("DELIVRD".into())
            }
        );
    }
}

#[tokio::test]
async fn a_limit_refusal_is_given_up_and_counted() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let change = ChangeSet {
            outbox: vec![message(&ring, 1, None, "13800138000", "a", at(0))],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();
        store
            .mark_limited("msg-0001", "LimitExceeded.PhoneNumberDailyLimit")
            .await
            .unwrap();
        assert!(
            store
                .claim_due(at(99_999), at(100_030), 10)
                .await
                .unwrap()
                .is_empty()
        );
        let row = store.recent_messages(1).await.unwrap().remove(0);
        assert!(row.limit_hit && row.given_up);
        assert_eq!(
            row.delivery_state(),
            DeliveryState::LimitHit {
                error: "LimitExceeded.PhoneNumberDailyLimit".into()
            }
        );
    }
}
