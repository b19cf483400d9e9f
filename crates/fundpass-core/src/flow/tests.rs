use super::*;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-11-23 08:00 UTC);

fn flow(member: Option<MemberId>) -> FlowRecord {
    FlowRecord::start(
        TokenDigest([1; 32]),
        FlowKind::Registration,
        member,
        vec![9; 32],
        T0,
        &FlowPolicy::default(),
    )
}

#[test]
fn the_right_code_moves_the_flow_on_once() {
    let p = FlowPolicy::default();
    let (f, ok) = flow(Some(MemberId(7))).enter_code(true, T0, &p);
    assert_eq!(ok, Ok(()));
    assert_eq!(f.state, FlowState::Verified);
    assert!(f.code_mac.is_empty(), "a used code is forgotten");
    assert_eq!(f.enter_code(true, T0, &p).1, Err(FlowError::WrongStep));
    assert_eq!(f.ready_to_complete(T0), Ok(MemberId(7)));
    assert_eq!(f.complete(T0).unwrap().state, FlowState::Completed);
}

#[test]
fn a_flow_with_nobody_behind_it_never_accepts_a_code() {
    let p = FlowPolicy::default();
    let (f, e) = flow(None).enter_code(true, T0, &p);
    assert_eq!(e, Err(FlowError::WrongCode { remaining: 4 }));
    assert_eq!(f.wrong_codes, 1);
}

#[test]
fn five_wrong_codes_kill_the_flow_even_across_a_resend() {
    let p = FlowPolicy::default();
    let mut f = flow(Some(MemberId(7)));
    for _ in 0..4 {
        f = f.enter_code(false, T0, &p).0;
    }
    f = f
        .resend(vec![8; 32], T0 + Duration::seconds(60), &p)
        .unwrap();
    assert_eq!(f.wrong_codes, 4);
    let (dead, e) = f.enter_code(false, T0 + Duration::seconds(61), &p);
    assert_eq!(e, Err(FlowError::Dead));
    assert_eq!(dead.state, FlowState::Dead);
    assert_eq!(
        dead.enter_code(true, T0 + Duration::seconds(62), &p).1,
        Err(FlowError::Dead)
    );
}

#[test]
fn codes_expire_after_five_minutes_and_flows_after_fifteen() {
    let p = FlowPolicy::default();
    let f = flow(Some(MemberId(7)));
    assert_eq!(
        f.enter_code(true, T0 + Duration::minutes(5), &p).1,
        Err(FlowError::CodeExpired)
    );
    let f = f
        .resend(vec![8; 32], T0 + Duration::minutes(6), &p)
        .unwrap();
    assert_eq!(f.enter_code(true, T0 + Duration::minutes(7), &p).1, Ok(()));
    assert_eq!(
        f.enter_code(true, T0 + Duration::minutes(15), &p).1,
        Err(FlowError::Expired)
    );
}

#[test]
fn resends_wait_a_minute_and_are_capped() {
    let p = FlowPolicy::default();
    let mut f = flow(Some(MemberId(7)));
    assert_eq!(
        f.resend(vec![], T0 + Duration::seconds(59), &p),
        Err(FlowError::ResendTooSoon {
            retry_after: T0 + Duration::seconds(60)
        })
    );
    for i in 1..5 {
        f = f.resend(vec![], T0 + Duration::minutes(i), &p).unwrap();
    }
    assert_eq!(f.sends, 5);
    assert_eq!(
        f.resend(vec![], T0 + Duration::minutes(9), &p),
        Err(FlowError::TooManySends)
    );
}

/// What a step returns: the flow to store and whether it went ahead.
type Step = (FlowRecord, Result<(), FlowError>);

const STATES: [FlowState; 6] = [
    FlowState::Identified,
    FlowState::FacePending,
    FlowState::CodeSent,
    FlowState::Verified,
    FlowState::Completed,
    FlowState::Dead,
];

fn in_state(state: FlowState) -> FlowRecord {
    FlowRecord {
        state,
        code_expires_at: T0 + Duration::minutes(5),
        ..FlowRecord::face_pending(
            TokenDigest([2; 32]),
            Some(MemberId(7)),
            vec![3; 32],
            "nonce".into(),
            T0,
            &FlowPolicy::default(),
        )
    }
}

#[test]
fn stored_codes_round_trip() {
    for s in STATES {
        assert_eq!(FlowState::from_code(s.code()), Some(s));
    }
    for k in [
        FlowKind::Registration,
        FlowKind::ForgotLogin,
        FlowKind::ForgotTransaction,
        FlowKind::FaceLogin,
    ] {
        assert_eq!(FlowKind::from_code(k.code()), Some(k));
    }
    assert_eq!(FlowState::from_code("code_verified"), None);
}

/// Every step is taken from exactly one state; from every other state it is refused
/// without changing the flow (a dead flow says so).
#[test]
fn each_step_moves_the_flow_on_only_from_its_own_state() {
    let p = FlowPolicy::default();
    for state in STATES {
        let f = in_state(state);
        let refused = if state == FlowState::Dead {
            FlowError::Dead
        } else {
            FlowError::WrongStep
        };
        let steps: [(FlowState, Step); 4] = [
            (FlowState::Identified, f.enter_proof(true, T0, &p)),
            (FlowState::FacePending, f.enter_face_result(true, T0, &p)),
            (FlowState::CodeSent, f.enter_code(true, T0, &p)),
            (
                FlowState::Identified,
                f.send_first_code(true, vec![1], T0, &p),
            ),
        ];
        for (from, (next, result)) in steps {
            if from == state {
                assert_eq!(result, Ok(()), "{state:?}");
                assert_ne!(next, f);
            } else {
                assert_eq!(result, Err(refused), "{state:?} refuses a step of {from:?}");
                assert_eq!(next, f, "a refused step changes nothing");
            }
        }
        assert_eq!(
            f.complete(T0).is_ok(),
            state == FlowState::Verified,
            "{state:?}"
        );
    }
}

#[test]
fn a_right_proof_verifies_and_wrong_ones_count_to_five() {
    let p = FlowPolicy::default();
    let f = FlowRecord::identified(
        TokenDigest([4; 32]),
        FlowKind::ForgotLogin,
        Some(MemberId(7)),
        vec![5; 32],
        T0,
        &p,
    );
    assert_eq!(f.state, FlowState::Identified);
    assert_eq!(f.sends, 0, "no code is sent at identify");
    let (ok, r) = f.enter_proof(true, T0, &p);
    assert_eq!((ok.state, r), (FlowState::Verified, Ok(())));
    let mut g = f.clone();
    for remaining in (1..5).rev() {
        let (next, r) = g.enter_proof(false, T0, &p);
        assert_eq!(r, Err(FlowError::WrongProof { remaining }));
        g = next;
    }
    assert_eq!(
        g.enter_proof(true, T0, &p).1,
        Ok(()),
        "the fifth try may still be right"
    );
    let (dead, r) = g.enter_proof(false, T0, &p);
    assert_eq!(r, Err(FlowError::Dead));
    assert_eq!(dead.state, FlowState::Dead);
    assert_eq!(dead.enter_proof(true, T0, &p).1, Err(FlowError::Dead));
}

#[test]
fn a_flow_that_matched_nobody_never_accepts_a_proof_or_sends_a_code() {
    let p = FlowPolicy::default();
    let f = FlowRecord::identified(
        TokenDigest([4; 32]),
        FlowKind::ForgotLogin,
        None,
        vec![5; 32],
        T0,
        &p,
    );
    assert_eq!(
        f.enter_proof(true, T0, &p).1,
        Err(FlowError::WrongProof { remaining: 4 })
    );
    let (next, r) = f.send_first_code(true, vec![1], T0, &p);
    assert_eq!(r, Err(FlowError::WrongProof { remaining: 4 }));
    assert_eq!(next.sends, 0);
}

#[test]
fn a_wrong_phone_sends_nothing_and_counts() {
    let p = FlowPolicy::default();
    let f = in_state(FlowState::Identified);
    let (next, r) = f.send_first_code(false, vec![1], T0, &p);
    assert_eq!(r, Err(FlowError::WrongProof { remaining: 4 }));
    assert_eq!(
        (next.state, next.sends, next.wrong_codes),
        (FlowState::Identified, 0, 1)
    );
    let (sent, r) = next.send_first_code(true, vec![1], T0 + Duration::minutes(1), &p);
    assert_eq!(r, Ok(()));
    assert_eq!(sent.state, FlowState::CodeSent);
    assert_eq!(sent.code_expires_at, T0 + Duration::minutes(6));
    assert_eq!(sent.sends, 1);
}

#[test]
fn three_rejected_face_results_kill_the_flow() {
    let p = FlowPolicy::default();
    let mut f = in_state(FlowState::FacePending);
    assert_eq!(f.nonce.as_deref(), Some("nonce"));
    for remaining in [2, 1] {
        let (next, r) = f.enter_face_result(false, T0, &p);
        assert_eq!(r, Err(FlowError::WrongProof { remaining }));
        f = next;
    }
    let (dead, r) = f.enter_face_result(false, T0, &p);
    assert_eq!(r, Err(FlowError::Dead));
    assert_eq!(dead.state, FlowState::Dead);
    assert_eq!(dead.enter_face_result(true, T0, &p).1, Err(FlowError::Dead));
}

#[test]
fn recovery_flows_expire_after_fifteen_minutes() {
    let p = FlowPolicy::default();
    let f = in_state(FlowState::Identified);
    assert_eq!(
        f.enter_proof(true, T0 + Duration::minutes(15), &p).1,
        Err(FlowError::Expired)
    );
    let face = in_state(FlowState::FacePending);
    assert_eq!(
        face.enter_face_result(true, T0 + Duration::minutes(15), &p)
            .1,
        Err(FlowError::Expired)
    );
}
