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
    assert_eq!(f.state, FlowState::CodeVerified);
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
