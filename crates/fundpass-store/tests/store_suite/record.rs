//! The member's security record as the store reads it: one member's audit events,
//! newest first, paged by key, filtered by action and outcome, on every backend.

use fundpass_core::audit::Outcome;
use fundpass_core::ports::{ChangeSet, MemberEventStore, MemberEventsQuery, UnitOfWork};

use super::portal::{event, members};
use crate::support::backends;

#[tokio::test]
async fn a_members_events_come_newest_first_by_key_and_never_another_members() {
    for db in backends().await {
        let store = &db.store;
        let found = members(store, 2).await;
        let (a, b) = (found[0].id, found[1].id);
        let mut audit = Vec::new();
        for n in 0..7 {
            let mut e = event(n, if n % 2 == 0 { a } else { b });
            if n == 4 {
                e.action = "login.password".into();
                e.outcome = Outcome::Failure;
            }
            audit.push(e);
        }
        store
            .apply(ChangeSet {
                audit,
                ..ChangeSet::default()
            })
            .await
            .unwrap();
        let query = |before, actions: Option<Vec<&'static str>>, outcome| MemberEventsQuery {
            member: a,
            before,
            actions,
            outcome,
            limit: 2,
        };
        let first = store.member_events(&query(None, None, None)).await.unwrap();
        let steps = |page: &[fundpass_core::audit::AuditRecord]| -> Vec<i64> {
            page.iter()
                .map(|r| r.event.details["step"].as_i64().unwrap())
                .collect()
        };
        assert_eq!(steps(&first), [6, 4], "newest first, two a page");
        assert!(first.iter().all(|r| r.event.member_id == Some(a)));
        let next = store
            .member_events(&query(Some(first[1].seq), None, None))
            .await
            .unwrap();
        assert_eq!(
            steps(&next),
            [2, 0],
            "the next page starts after the last seen"
        );
        let last = store
            .member_events(&query(Some(next[1].seq), None, None))
            .await
            .unwrap();
        assert!(last.is_empty());
        let failed_logins = store
            .member_events(&query(
                None,
                Some(vec!["login.password"]),
                Some(Outcome::Failure),
            ))
            .await
            .unwrap();
        assert_eq!(steps(&failed_logins), [4]);
        let none = store
            .member_events(&query(
                None,
                Some(vec!["login.password"]),
                Some(Outcome::Success),
            ))
            .await
            .unwrap();
        assert!(none.is_empty());
    }
}
