//! What a database reader sees: digests, MACs and sealed bytes, never a code, a phone,
//! a captcha answer, a security answer, a document number or a bearer token.

use fundpass_core::crypto::{Field, OneTimeCode, OpaqueToken, TokenDigest};
use fundpass_core::flow::{FlowKind, FlowPolicy, FlowRecord};
use fundpass_core::member::{SecurityAnswer, normalise_answer};
use fundpass_core::ports::{
    CaptchaRecord, CaptchaStore, ChangeSet, FlowWrite, OutboxStore, SecurityQuestionStore,
    SessionWrite, UnitOfWork,
};
use fundpass_core::testing::CountingRng;

use super::{hold, keyring, members, message, session};
use crate::support::{at, backends, contains, raw_values};

#[tokio::test]
async fn no_stored_row_holds_a_plaintext_code_phone_answer_or_token() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let rng = CountingRng::default();
        let member = members(store, 1).await.remove(0);
        let phone = "13912345678";
        let code = OneTimeCode::parse("493817").unwrap();
        let text = format!("【公积金】您的注册验证码为{}，5分钟内有效。", code.expose());
        let flow_token = OpaqueToken::generate(&rng);
        let session_token = OpaqueToken::generate(&rng);
        let captcha_token = OpaqueToken::generate(&rng);
        let answer = "q7m4x";

        let flow_id = flow_token.digest();
        let code_mac = ring.code_mac(FlowKind::Registration.code(), &flow_id.0, &code);
        let flow = FlowRecord::start(
            flow_id,
            FlowKind::Registration,
            Some(member.id),
            code_mac.to_vec(),
            at(0),
            &FlowPolicy::default(),
        );
        let mut live = session(0, member.id, at(0));
        live.token = session_token.digest();
        let sms = message(&ring, 1, Some(member.id), phone, &text, at(0));
        let change = ChangeSet {
            flows: vec![FlowWrite::Insert(flow)],
            sessions: vec![SessionWrite::Insert(live.clone())],
            outbox: vec![sms],
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();
        let captcha = CaptchaRecord {
            id: captcha_token.digest(),
            answer_mac: ring.answer_mac("captcha", answer).to_vec(),
            expires_at: at(300),
            dev_answer: None,
        };
        store.insert_captcha(&captcha, at(0)).await.unwrap();
        store
            .mark_failed("msg-0001", "HTTP 503", Some(at(60)))
            .await
            .unwrap();

        let mut raw = db.raw().await;
        let mut values = Vec::new();
        for table in ["outbox", "flows", "captchas", "sessions"] {
            values.extend(raw_values(&mut raw, table).await);
        }
        for (what, secret) in [
            ("the code", code.expose()),
            ("the phone", phone),
            ("the captcha answer", answer),
            ("the flow id", flow_token.expose()),
            ("the session token", session_token.expose()),
            ("the captcha id", captcha_token.expose()),
        ] {
            assert!(
                !contains(&values, secret.as_bytes()),
                "{what} is stored in plaintext"
            );
        }
        // The inspection itself sees text, blobs and integers.
        assert!(contains(&values, live.csrf.as_bytes()));
        assert!(contains(&values, b"registration_code"));
        let TokenDigest(digest) = session_token.digest();
        assert!(contains(&values, &digest));
        assert!(contains(&values, b"HTTP 503"));

        // The sealed values open to what was sealed, with the key.
        let stored = store.recent_messages(1).await.unwrap().remove(0);
        assert_eq!(ring.open(Field::Phone, &stored.to).unwrap(), phone);
        assert_eq!(ring.open(Field::Message, &stored.body).unwrap(), text);
    }
}

#[tokio::test]
async fn security_answers_holds_and_recovery_flows_hold_no_plaintext_answer_or_document() {
    for db in backends().await {
        let store = &db.store;
        let ring = keyring();
        let member = members(store, 1).await.remove(0);
        let spoken = ["Beijing No. 4 Middle School", "Xiao Ming"];
        let document = "110101199003074514";
        let flow_nonce = "n-4f2c9a7d1e8c";

        let answers: Vec<_> = ["first_school", "childhood_friend"]
            .into_iter()
            .zip(spoken)
            .zip(1..)
            .map(|((question, answer), slot)| SecurityAnswer {
                member_id: member.id,
                slot,
                question: question.to_owned(),
                answer_mac: ring
                    .answer_mac("security_question", &normalise_answer(answer))
                    .to_vec(),
            })
            .collect();
        let subject = ring.answer_mac("face_login", &format!("resident_id:{document}"));
        let face = FlowRecord::face_pending(
            OpaqueToken::generate(&CountingRng::default()).digest(),
            Some(member.id),
            subject.to_vec(),
            flow_nonce.to_owned(),
            at(0),
            &FlowPolicy::default(),
        );
        let change = ChangeSet {
            flows: vec![FlowWrite::Insert(face)],
            holds: vec![hold(member.id, at(0), at(100))],
            security_answers: answers.clone(),
            ..ChangeSet::default()
        };
        store.apply(change).await.unwrap();

        let mut raw = db.raw().await;
        let mut values = Vec::new();
        for table in ["security_answers", "member_holds", "flows"] {
            values.extend(raw_values(&mut raw, table).await);
        }
        for secret in spoken.iter().map(|a| normalise_answer(a)).chain([
            "Beijing".to_owned(),
            "Xiao".to_owned(),
            document.to_owned(),
            document[6..14].to_owned(),
        ]) {
            assert!(
                !contains(&values, secret.as_bytes()),
                "{secret:?} is stored in plaintext"
            );
        }
        // The inspection itself sees the question codes, the MACs, the hold and the nonce.
        assert!(contains(&values, b"childhood_friend"));
        assert!(contains(&values, &answers[0].answer_mac));
        assert!(contains(&values, &subject));
        assert!(contains(&values, b"login_reset"));
        assert!(contains(&values, flow_nonce.as_bytes()));
        assert_eq!(store.security_answers(member.id).await.unwrap(), answers);
    }
}
