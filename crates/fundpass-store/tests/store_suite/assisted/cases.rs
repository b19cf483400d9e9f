//! Assisted cases: every field stored, found by ticket and by redemption, one case per
//! ticket, one winner per version, and the supervisors' queue in order.

use fundpass_core::assisted::{AssistedCase, CaseStatus, CaseWrite, ResetScope, ResetTicket, Risk};
use fundpass_core::audit::Channel;
use fundpass_core::crypto::{Field, OpaqueToken};
use fundpass_core::ports::{AuditStore, CaseStore, ChangeSet, StoreError, UnitOfWork};
use fundpass_core::staff::StaffRole;
use fundpass_core::testing::CountingRng;

use super::{case, case_id, staff_account};
use crate::portal::{event, keyring, members, verified_chain_length};
use crate::support::{at, backends};

fn cases(writes: Vec<CaseWrite>) -> ChangeSet {
    ChangeSet {
        cases: writes,
        ..ChangeSet::default()
    }
}

#[tokio::test]
async fn a_case_survives_the_round_trip_with_every_field_set_or_empty() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let rng = CountingRng::default();
        let member = members(store, 1).await.remove(0);
        let counter = staff_account(store, "wang.li", StaffRole::Counter).await;
        let supervisor = staff_account(store, "chen.jie", StaffRole::Supervisor).await;
        let phone = "13912345678";
        let full = AssistedCase {
            scope: Some(ResetScope::Both),
            new_phone: Some(ring.seal(Field::Phone, phone, &rng)),
            new_phone_index: Some(ring.blind_index(Field::Phone, phone)),
            check: serde_json::json!({
                "document": "居民身份证 1101**********4514",
                "original_seen": true,
                "send_sms": false,
                "pages": [1, 2],
            }),
            risks: vec![Risk::RecentReset, Risk::BothWithPhoneChange],
            status: CaseStatus::Issued,
            approved_by: Some(supervisor.id),
            approved_at: Some(at(20)),
            ticket_mac: Some(ResetTicket::generate(&rng).mac(&ring)),
            ticket_expires_at: Some(at(86_400)),
            issued_at: Some(at(30)),
            redeem_token: Some(OpaqueToken::generate(&rng).digest()),
            redeem_expires_at: Some(at(900)),
            wrong_tries: 2,
            redeemed_at: Some(at(600)),
            updated_at: at(600),
            version: 4,
            ..case(1, member.id, counter.id, at(10))
        };
        let mut hotline = case(2, member.id, counter.id, at(11));
        hotline.channel = Channel::Hotline;
        hotline.scope = None;
        hotline.check = serde_json::json!({});
        store
            .apply(cases(vec![
                CaseWrite::Insert(full.clone()),
                CaseWrite::Insert(hotline.clone()),
            ]))
            .await
            .unwrap();

        let stored = store.case_by_id(&full.id).await.unwrap();
        assert_eq!(stored.as_ref(), Some(&full));
        let sealed = stored.unwrap().new_phone.unwrap();
        assert_eq!(ring.open(Field::Phone, &sealed).unwrap(), phone);
        assert_eq!(store.case_by_id(&hotline.id).await.unwrap(), Some(hotline));
        assert_eq!(store.case_by_id(&case_id(3)).await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_case_is_found_by_its_ticket_and_by_its_redemption_under_way() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let rng = CountingRng::default();
        let member = members(store, 1).await.remove(0);
        let staff = staff_account(store, "wang.li", StaffRole::Counter).await.id;
        let (ticket, other_ticket) = (ResetTicket::generate(&rng), ResetTicket::generate(&rng));
        let (bearer, other_bearer) = (OpaqueToken::generate(&rng), OpaqueToken::generate(&rng));
        let mut issued = case(1, member.id, staff, at(0));
        issued.status = CaseStatus::Issued;
        issued.ticket_mac = Some(ticket.mac(&ring));
        issued.redeem_token = Some(bearer.digest());
        let plain = case(2, member.id, staff, at(1));
        store
            .apply(cases(vec![
                CaseWrite::Insert(issued.clone()),
                CaseWrite::Insert(plain),
            ]))
            .await
            .unwrap();

        let by_ticket = store.case_by_ticket(&ticket.mac(&ring)).await.unwrap();
        assert_eq!(by_ticket, Some(issued.clone()));
        let by_bearer = store.case_by_redeem_token(&bearer.digest()).await.unwrap();
        assert_eq!(by_bearer, Some(issued));
        let unknown = other_ticket.mac(&ring);
        assert_eq!(store.case_by_ticket(&unknown).await.unwrap(), None);
        let unknown = other_bearer.digest();
        assert_eq!(store.case_by_redeem_token(&unknown).await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_ticket_belongs_to_one_case_only_while_cases_without_one_are_many() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let rng = CountingRng::default();
        let member = members(store, 1).await.remove(0);
        let staff = staff_account(store, "wang.li", StaffRole::Counter).await.id;
        let mac = ResetTicket::generate(&rng).mac(&ring);
        let mut first = case(1, member.id, staff, at(0));
        first.ticket_mac = Some(mac.clone());
        let (second, third) = (
            case(2, member.id, staff, at(1)),
            case(3, member.id, staff, at(2)),
        );
        let setup = cases(vec![
            CaseWrite::Insert(first.clone()),
            CaseWrite::Insert(second.clone()),
            CaseWrite::Insert(third),
        ]);
        store.apply(setup).await.unwrap();

        let mut copy = case(4, member.id, staff, at(3));
        copy.ticket_mac = Some(mac.clone());
        let issued_twice = AssistedCase {
            ticket_mac: Some(mac.clone()),
            ..second.clone()
        };
        for write in [
            CaseWrite::Insert(copy),
            CaseWrite::Update {
                record: issued_twice,
                expected_version: second.version,
            },
        ] {
            let refused = store.apply(cases(vec![write])).await.unwrap_err();
            assert!(
                matches!(&refused, StoreError::Duplicate(c) if c == "assisted_cases_ticket_key"),
                "{refused:?}"
            );
        }
        assert_eq!(store.case_by_ticket(&mac).await.unwrap(), Some(first));
        assert_eq!(store.case_by_id(&second.id).await.unwrap(), Some(second));
        assert_eq!(store.case_by_id(&case_id(4)).await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_stale_case_version_changes_nothing_and_undoes_the_rest_of_the_change() {
    for db in backends().await {
        let store = &db.store;
        let member = members(store, 1).await.remove(0);
        let staff = staff_account(store, "wang.li", StaffRole::Counter).await.id;
        let supervisor = staff_account(store, "chen.jie", StaffRole::Supervisor)
            .await
            .id;
        let (first, second) = (
            case(1, member.id, staff, at(0)),
            case(2, member.id, staff, at(1)),
        );
        store
            .apply(cases(vec![
                CaseWrite::Insert(first.clone()),
                CaseWrite::Insert(second.clone()),
            ]))
            .await
            .unwrap();
        let approve = |c: &AssistedCase| AssistedCase {
            status: CaseStatus::Approved,
            approved_by: Some(supervisor),
            approved_at: Some(at(50)),
            updated_at: at(50),
            version: c.version + 1,
            ..c.clone()
        };

        // The first case's update is sound and is written first (ids in order); the
        // second's read is stale, so neither lands, nor the audit event.
        let change = ChangeSet {
            cases: vec![
                CaseWrite::Update {
                    record: approve(&second),
                    expected_version: second.version + 5,
                },
                CaseWrite::Update {
                    record: approve(&first),
                    expected_version: first.version,
                },
            ],
            audit: vec![event(50, member.id)],
            ..ChangeSet::default()
        };
        let refused = store.apply(change).await;
        assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");
        assert_eq!(
            store.case_by_id(&first.id).await.unwrap(),
            Some(first.clone())
        );
        assert_eq!(store.case_by_id(&second.id).await.unwrap(), Some(second));
        assert_eq!(store.head().await.unwrap(), None);

        // On the version read it lands, and the stored version moves on by one.
        let sound = ChangeSet {
            cases: vec![CaseWrite::Update {
                record: approve(&first),
                expected_version: first.version,
            }],
            audit: vec![event(51, member.id)],
            ..ChangeSet::default()
        };
        store.apply(sound).await.unwrap();
        let stored = store.case_by_id(&first.id).await.unwrap().unwrap();
        assert_eq!(stored, approve(&first));
        assert_eq!(stored.version, first.version + 1);
        assert_eq!(verified_chain_length(store).await, 1);

        let ghost = CaseWrite::Update {
            record: case(9, member.id, staff, at(0)),
            expected_version: 1,
        };
        let missing = store.apply(cases(vec![ghost])).await;
        assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_parallel_updates_of_one_case_exactly_one_lands() {
    for db in backends().await {
        let member = members(&db.store, 1).await.remove(0);
        let staff = staff_account(&db.store, "wang.li", StaffRole::Counter)
            .await
            .id;
        let mut read = case(1, member.id, staff, at(0));
        read.status = CaseStatus::Issued;
        db.store
            .apply(cases(vec![CaseWrite::Insert(read.clone())]))
            .await
            .unwrap();
        // Several rounds, each a race of two wrong documents typed with the same ticket.
        for round in 0..5 {
            let tasks: Vec<_> = [1, 2]
                .into_iter()
                .map(|tries| {
                    let store = db.store.clone();
                    let change = ChangeSet {
                        cases: vec![CaseWrite::Update {
                            record: AssistedCase {
                                wrong_tries: read.wrong_tries + tries,
                                ..read.clone()
                            },
                            expected_version: read.version,
                        }],
                        audit: vec![event(round, member.id)],
                        ..ChangeSet::default()
                    };
                    tokio::spawn(async move { store.apply(change).await })
                })
                .collect();
            let mut landed = 0;
            for task in tasks {
                match task.await.unwrap() {
                    Ok(()) => landed += 1,
                    Err(StoreError::Conflict) => {}
                    Err(other) => panic!("unexpected {other:?}"),
                }
            }
            assert_eq!(landed, 1, "round {round}");
            let stored = db.store.case_by_id(&read.id).await.unwrap().unwrap();
            assert_eq!(stored.version, read.version + 1);
            assert!([1, 2].contains(&(stored.wrong_tries - read.wrong_tries)));
            read = stored;
        }
        assert_eq!(verified_chain_length(&db.store).await, 5);
    }
}

#[tokio::test]
async fn cases_awaiting_a_supervisor_are_listed_oldest_first() {
    for db in backends().await {
        let store = &db.store;
        let member = members(store, 1).await.remove(0);
        let staff = staff_account(store, "wang.li", StaffRole::Counter).await.id;
        let mut approved = case(0, member.id, staff, at(0));
        approved.status = CaseStatus::Approved;
        let latest = case(1, member.id, staff, at(30));
        let early = case(2, member.id, staff, at(10));
        let early_too = case(3, member.id, staff, at(10));
        store
            .apply(cases(
                [&approved, &latest, &early_too, &early]
                    .map(|c| CaseWrite::Insert(c.clone()))
                    .to_vec(),
            ))
            .await
            .unwrap();

        let queue = store.cases_awaiting_approval(10).await.unwrap();
        assert_eq!(queue, [early.clone(), early_too, latest]);
        let first = store.cases_awaiting_approval(1).await.unwrap();
        assert_eq!(first, [early]);
    }
}
