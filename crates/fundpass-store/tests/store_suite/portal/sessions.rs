//! Sessions: listing, activity, and ending one or all of a member's sessions.

use fundpass_core::ports::{ChangeSet, SessionStore, SessionWrite, UnitOfWork};
use fundpass_core::session::{ClientKind, SessionScope};

use super::{digest, members, session};
use crate::support::{at, backends};

#[tokio::test]
async fn a_member_sees_their_newest_sessions_first_revoked_ones_included() {
    for db in backends().await {
        let store = &db.store;
        let both = members(store, 2).await;
        let (alice, bob) = (both[0].id, both[1].id);
        let mut app = session(3, alice, at(30));
        app.client = ClientKind::App;
        app.ip = None;
        app.user_agent = None;
        let mut sessions: Vec<_> = (1..=25)
            .map(|n| {
                SessionWrite::Insert(session(100 + n, alice, at(100 + i64::try_from(n).unwrap())))
            })
            .collect();
        sessions.extend([
            SessionWrite::Insert(session(1, alice, at(10))),
            SessionWrite::Insert(app.clone()),
            SessionWrite::Insert(session(2, bob, at(20))),
            SessionWrite::Revoke {
                token: digest(125),
                at: at(200),
            },
        ]);
        let change = ChangeSet {
            sessions,
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();

        let listed = store.member_sessions(alice).await.unwrap();
        assert_eq!(listed.len(), 20, "at most 20 are listed");
        assert_eq!(listed[0].token, digest(125));
        assert_eq!(listed[0].revoked_at, Some(at(200)));
        assert_eq!(listed[19].token, digest(106));
        assert!(listed.iter().all(|s| s.member_id == alice));
        assert_eq!(store.session(&digest(3)).await.unwrap(), Some(app));
        assert_eq!(store.session(&digest(999)).await.unwrap(), None);
        assert_eq!(store.member_sessions(bob).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn revoking_ends_one_session_and_revoking_all_ends_only_that_members() {
    for db in backends().await {
        let store = &db.store;
        let both = members(store, 2).await;
        let (alice, bob) = (both[0].id, both[1].id);
        let change = ChangeSet {
            sessions: vec![
                SessionWrite::Insert(session(1, alice, at(0))),
                SessionWrite::Insert(session(2, alice, at(1))),
                SessionWrite::Insert(session(3, alice, at(2))),
                SessionWrite::Insert(session(4, bob, at(3))),
            ],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();
        let revoke = |sessions| ChangeSet {
            sessions,
            ..ChangeSet::default()
        };

        store
            .apply(revoke(vec![SessionWrite::Revoke {
                token: digest(1),
                at: at(10),
            }]))
            .await
            .unwrap();
        let revoked_at =
            |n| async move { store.session(&digest(n)).await.unwrap().unwrap().revoked_at };
        assert_eq!(revoked_at(1).await, Some(at(10)));
        assert_eq!(revoked_at(2).await, None);

        store
            .apply(revoke(vec![SessionWrite::RevokeAll {
                member: alice,
                at: at(20),
            }]))
            .await
            .unwrap();
        assert_eq!(
            revoked_at(1).await,
            Some(at(10)),
            "the first revocation time stays"
        );
        assert_eq!(revoked_at(2).await, Some(at(20)));
        assert_eq!(revoked_at(3).await, Some(at(20)));
        assert_eq!(
            revoked_at(4).await,
            None,
            "another member's session is untouched"
        );
    }
}

#[tokio::test]
async fn touching_a_session_only_moves_its_last_activity_forward() {
    for db in backends().await {
        let store = &db.store;
        let alice = members(store, 1).await[0].id;
        let change = ChangeSet {
            sessions: vec![SessionWrite::Insert(session(1, alice, at(0)))],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();
        let last_seen = || async {
            store
                .session(&digest(1))
                .await
                .unwrap()
                .unwrap()
                .last_seen_at
        };

        store.touch_session(&digest(1), at(90)).await.unwrap();
        assert_eq!(last_seen().await, at(90));
        store.touch_session(&digest(1), at(60)).await.unwrap();
        assert_eq!(
            last_seen().await,
            at(90),
            "a late request does not move it back"
        );
        store.touch_session(&digest(2), at(60)).await.unwrap();
    }
}

#[tokio::test]
async fn a_recovery_session_stays_one_and_sessions_stored_without_a_scope_are_full() {
    for db in backends().await {
        let store = &db.store;
        let alice = members(store, 1).await[0].id;
        let mut face = session(1, alice, at(0));
        face.client = ClientKind::App;
        face.scope = SessionScope::Recovery;
        let change = ChangeSet {
            sessions: vec![SessionWrite::Insert(face.clone())],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();
        assert_eq!(store.session(&digest(1)).await.unwrap(), Some(face.clone()));
        assert_eq!(store.member_sessions(alice).await.unwrap(), [face]);

        // A row written before scopes existed (no scope given) is a full login; a scope
        // the schema does not know is refused.
        let mut raw = db.raw().await;
        sqlx::query(
            "INSERT INTO sessions (token_digest, member_id, client, csrf, created_at, \
             last_seen_at) VALUES ($1, $2, 'web', 'c', 0, 0)",
        )
        .bind(&digest(2).0[..])
        .bind(alice.0)
        .execute(&mut raw)
        .await
        .unwrap();
        let old = store.session(&digest(2)).await.unwrap().unwrap();
        assert_eq!(old.scope, SessionScope::Full);
        let refused = sqlx::query(
            "INSERT INTO sessions (token_digest, member_id, client, scope, csrf, created_at, \
             last_seen_at) VALUES ($1, $2, 'web', 'admin', 'c', 0, 0)",
        )
        .bind(&digest(3).0[..])
        .bind(alice.0)
        .execute(&mut raw)
        .await;
        assert!(refused.is_err(), "an unknown scope is stored");
    }
}

#[tokio::test]
async fn the_live_list_has_every_unrevoked_recent_session_however_many_old_ones_there_are() {
    for db in backends().await {
        let store = &db.store;
        let both = members(store, 2).await;
        let (alice, bob) = (both[0].id, both[1].id);
        // One session kept in use since the start, then 30 newer ones that went idle.
        let mut kept = session(1, alice, at(0));
        kept.last_seen_at = at(5_000);
        let mut sessions: Vec<_> = (2..=31)
            .map(|n| SessionWrite::Insert(session(n, alice, at(100 + i64::try_from(n).unwrap()))))
            .collect();
        let mut recent = session(40, alice, at(4_000));
        recent.last_seen_at = at(4_900);
        let mut revoked = session(41, alice, at(4_000));
        revoked.last_seen_at = at(4_950);
        let mut theirs = session(42, bob, at(4_000));
        theirs.last_seen_at = at(4_990);
        sessions.extend([
            SessionWrite::Insert(kept.clone()),
            SessionWrite::Insert(recent.clone()),
            SessionWrite::Insert(revoked),
            SessionWrite::Insert(theirs),
            SessionWrite::Revoke {
                token: digest(41),
                at: at(4_960),
            },
        ]);
        let change = ChangeSet {
            sessions,
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();

        assert_eq!(
            store.live_member_sessions(alice, at(4_000)).await.unwrap(),
            [kept, recent],
            "most recently used first; idle, revoked and other members' ones left out"
        );
        assert_eq!(store.member_sessions(alice).await.unwrap().len(), 20);
        assert!(
            !store
                .member_sessions(alice)
                .await
                .unwrap()
                .iter()
                .any(|s| s.token == digest(1)),
            "the newest-20 list had lost the session still in use"
        );
        assert!(
            store
                .live_member_sessions(alice, at(5_000))
                .await
                .unwrap()
                .is_empty(),
            "used at the cut-off is not after it"
        );
    }
}
