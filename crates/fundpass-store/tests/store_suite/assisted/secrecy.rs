//! What a database reader sees of the assisted channels: a sealed new phone and its
//! blind index, a ticket's MAC, a redemption's digest, never the phone, the ticket or
//! the bearer id, in a row or (SQLite) anywhere in the database files.

use fundpass_core::assisted::{AssistedCase, CaseStatus, CaseWrite, ResetTicket};
use fundpass_core::crypto::{Field, OpaqueToken, TokenDigest};
use fundpass_core::ports::{CaseStore, ChangeSet, UnitOfWork};
use fundpass_core::staff::StaffRole;
use fundpass_core::testing::CountingRng;

use super::{case, staff_account};
use crate::portal::{keyring, members};
use crate::support::{at, backends, contains, raw_values};

#[tokio::test]
async fn no_stored_case_holds_a_plaintext_new_phone_ticket_or_redemption_id() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let rng = CountingRng::default();
        let member = members(store, 1).await.remove(0);
        let staff = staff_account(store, "wang.li", StaffRole::Counter).await.id;
        let phone = "13912345678";
        let ticket = ResetTicket::generate(&rng);
        let bearer = OpaqueToken::generate(&rng);
        let reference = "FORM-2026-SECRECY";
        let opened = AssistedCase {
            new_phone: Some(ring.seal(Field::Phone, phone, &rng)),
            new_phone_index: Some(ring.blind_index(Field::Phone, phone)),
            reference: reference.into(),
            check: serde_json::json!({"new_phone": "139****5678"}),
            status: CaseStatus::Issued,
            ticket_mac: Some(ticket.mac(&ring)),
            redeem_token: Some(bearer.digest()),
            ..case(1, member.id, staff, at(0))
        };
        let change = ChangeSet {
            cases: vec![CaseWrite::Insert(opened.clone())],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();

        let grouped = ticket.display();
        let compact = grouped.replace('-', "");
        let secrets = [
            ("the new phone", phone),
            ("the ticket", compact.as_str()),
            ("the grouped ticket", grouped.as_str()),
            ("the redemption id", bearer.expose()),
        ];
        let values = raw_values(&mut db.raw().await, "assisted_cases").await;
        for (what, secret) in secrets {
            assert!(
                !contains(&values, secret.as_bytes()),
                "{what} is stored in plaintext"
            );
        }
        // The inspection itself sees text and blobs.
        assert!(contains(&values, reference.as_bytes()));
        assert!(contains(&values, b"139****5678"));
        let TokenDigest(digest) = bearer.digest();
        assert!(contains(&values, &digest));

        let files = db.sqlite_files();
        let file_bytes: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
        for (what, secret) in secrets {
            assert!(
                !contains(&file_bytes, secret.as_bytes()),
                "{what} is in a database file"
            );
        }
        if !files.is_empty() {
            assert!(
                contains(&file_bytes, reference.as_bytes()),
                "the files grepped hold the case"
            );
        }

        // The sealed phone opens to the new number, with the key.
        let stored = store.case_by_id(&opened.id).await.unwrap().unwrap();
        let sealed = stored.new_phone.unwrap();
        assert_eq!(ring.open(Field::Phone, &sealed).unwrap(), phone);
    }
}
