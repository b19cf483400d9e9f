//! What the recoveries and face login keep in a flow: the subject's MAC, the face nonce,
//! and the kinds and states of their own.

use fundpass_core::flow::{FlowKind, FlowPolicy, FlowRecord, FlowState};
use fundpass_core::ports::{ChangeSet, FlowStore, FlowWrite, StoreError, UnitOfWork};

use super::{digest, flow, members};
use crate::support::{at, backends, bytes};

#[tokio::test]
async fn recovery_and_face_login_flows_keep_their_subject_nonce_kind_and_state() {
    for db in backends().await {
        let store = &db.store;
        let member = members(store, 1).await.remove(0);
        let policy = FlowPolicy::default();
        let forgot_login = FlowRecord::identified(
            digest(1),
            FlowKind::ForgotLogin,
            Some(member.id),
            bytes(1, 20, 32),
            at(0),
            &policy,
        );
        // An identify step that matched nobody keeps only the subject's MAC.
        let forgot_transaction = FlowRecord::identified(
            digest(2),
            FlowKind::ForgotTransaction,
            None,
            bytes(2, 20, 32),
            at(0),
            &policy,
        );
        let face = FlowRecord::face_pending(
            digest(3),
            Some(member.id),
            bytes(3, 20, 32),
            "n-4f2c9a7d1e8c人脸".into(),
            at(0),
            &policy,
        );
        let registration = flow(4, Some(member.id));
        let started = [&forgot_login, &forgot_transaction, &face, &registration];
        let insert = ChangeSet {
            flows: started
                .iter()
                .map(|f| FlowWrite::Insert((*f).clone()))
                .collect(),
            ..ChangeSet::default()
        };
        store.apply(insert).await.unwrap();
        for f in started {
            assert_eq!(store.flow(&f.id).await.unwrap().as_ref(), Some(f));
        }
        assert_eq!(
            store
                .flow(&registration.id)
                .await
                .unwrap()
                .unwrap()
                .subject_key,
            None
        );

        // Updates move the subject and the nonce too (a new face attempt, a re-identify).
        let verified = FlowRecord {
            state: FlowState::Verified,
            nonce: None,
            ..face.clone()
        };
        let code_sent = FlowRecord {
            state: FlowState::CodeSent,
            subject_key: Some(bytes(22, 20, 32)),
            nonce: Some("n-second".into()),
            sends: 1,
            ..forgot_transaction.clone()
        };
        let step = ChangeSet {
            flows: [&verified, &code_sent]
                .into_iter()
                .map(|f| FlowWrite::Update {
                    record: f.clone(),
                    expected_version: f.version,
                })
                .collect(),
            ..ChangeSet::default()
        };
        store.apply(step).await.unwrap();
        for f in [verified, code_sent] {
            let expected = FlowRecord {
                version: f.version + 1,
                ..f.clone()
            };
            assert_eq!(store.flow(&f.id).await.unwrap(), Some(expected));
        }
    }
}

#[tokio::test]
async fn a_flow_of_an_unknown_kind_or_state_is_refused_on_reading() {
    for db in backends().await {
        let store = &db.store;
        let insert = ChangeSet {
            flows: vec![
                FlowWrite::Insert(flow(1, None)),
                FlowWrite::Insert(flow(2, None)),
            ],
            ..ChangeSet::default()
        };
        store.apply(insert).await.unwrap();
        let mut raw = db.raw().await;
        for (sql, id) in [
            ("UPDATE flows SET kind = 'teleport' WHERE id_digest = $1", 1),
            (
                "UPDATE flows SET state = 'code_verified' WHERE id_digest = $1",
                2,
            ),
        ] {
            sqlx::query(sql)
                .bind(&digest(id).0[..])
                .execute(&mut raw)
                .await
                .unwrap();
            let refused = store.flow(&digest(id)).await;
            assert!(
                matches!(&refused, Err(StoreError::Backend(m)) if m.contains("is not valid")),
                "{refused:?}"
            );
        }
    }
}
