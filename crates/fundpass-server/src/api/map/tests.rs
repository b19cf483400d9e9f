//! Each refusal of a use case and the code and status the app gets for it.

use fundpass_core::identity::IdNumberError;
use fundpass_core::ports::DatabaseUnavailable;
use time::macros::datetime;

use super::*;

#[test]
fn lock_and_rate_limit_say_when_to_retry() {
    let now = datetime!(2026-11-23 02:00 UTC);
    let locked = login(
        LoginError::Locked {
            until: now + time::Duration::minutes(15),
        },
        now,
    );
    assert_eq!(locked.code(), ErrorCode::Locked);
    let limited = registration(
        RegistrationError::RateLimited {
            retry_after: now + time::Duration::seconds(30),
        },
        now,
    );
    assert_eq!(limited.code(), ErrorCode::RateLimited);
}

#[test]
fn flow_errors_have_their_own_codes() {
    let now = datetime!(2026-11-23 02:00 UTC);
    let codes: Vec<ErrorCode> = [
        FlowError::Expired,
        FlowError::WrongStep,
        FlowError::CodeExpired,
        FlowError::WrongCode { remaining: 2 },
        FlowError::Dead,
        FlowError::ResendTooSoon { retry_after: now },
        FlowError::TooManySends,
    ]
    .into_iter()
    .map(|e| flow(e, now).code())
    .collect();
    let unique: std::collections::BTreeSet<_> = codes.iter().map(|c| format!("{c:?}")).collect();
    assert_eq!(unique.len(), codes.len());
}

#[test]
fn each_recovery_refusal_has_its_code_and_status() {
    let now = datetime!(2026-11-23 02:00 UTC);
    let later = now + time::Duration::hours(14);
    let cases = [
        (
            RecoveryError::NotVerified { remaining: 3 },
            "not_verified",
            400,
        ),
        (RecoveryError::NotYourAccount, "not_your_account", 403),
        (
            RecoveryError::TransactionLocked { until: later },
            "transaction_locked",
            423,
        ),
        (
            RecoveryError::TransactionDisabled,
            "transaction_disabled",
            423,
        ),
        (
            RecoveryError::CodesLocked { until: later },
            "codes_locked",
            423,
        ),
        (
            RecoveryError::Face(FaceRejection::Stale),
            "face_rejected",
            400,
        ),
        (RecoveryError::FaceReplayed, "face_replayed", 409),
        (
            RecoveryError::FaceAttemptsExhausted { until: None },
            "face_attempts_exhausted",
            423,
        ),
        (RecoveryError::FaceNotEligible, "face_not_eligible", 403),
        (
            RecoveryError::FaceProviderUnavailable("down".into()),
            "face_provider_unavailable",
            503,
        ),
        (RecoveryError::FaceUnfinished, "face_unfinished", 409),
        (
            RecoveryError::FaceDocumentUnsupported,
            "face_document_unsupported",
            400,
        ),
        (
            RecoveryError::FaceMetaInfoRequired,
            "face_meta_info_required",
            400,
        ),
        (RecoveryError::UnknownFlow, "unknown_flow", 404),
        (RecoveryError::Flow(FlowError::Expired), "flow_expired", 410),
        (
            RecoveryError::Flow(FlowError::WrongProof { remaining: 1 }),
            "not_verified",
            400,
        ),
        (RecoveryError::Conflict, "conflict", 409),
        (
            RecoveryError::Store(StoreError::Backend("x".into())),
            "internal",
            500,
        ),
        (
            RecoveryError::Secret {
                violations: Vec::new(),
                mismatch: true,
            },
            "password_policy",
            422,
        ),
    ];
    for (error, code, status) in cases {
        let mapped = recovery(error, now);
        assert_eq!(
            (
                serde_json::to_value(mapped.code()).unwrap(),
                mapped.code().status().as_u16()
            ),
            (json!(code), status)
        );
    }
}

#[test]
fn a_refused_face_result_names_the_check_that_failed() {
    let error = face(FaceRejection::LivenessFailed);
    assert_eq!(error.code(), ErrorCode::FaceRejected);
    let text = format!("{error:?}");
    assert!(text.contains("liveness_failed"), "{text}");
    assert!(text.contains("The liveness check failed."), "{text}");
}

#[test]
fn an_unknown_question_is_not_echoed() {
    let error = questions(QuestionsError::Invalid(QuestionError::UnknownQuestion(
        "my secret pet".into(),
    )));
    assert_eq!(error.code(), ErrorCode::BadQuestions);
    assert!(!format!("{error:?}").contains("pet"));
}

#[test]
fn store_failures_are_internal_but_races_are_conflicts_and_outages_busy() {
    assert_eq!(
        store(StoreError::Backend("disk".into())).code(),
        ErrorCode::Internal
    );
    assert_eq!(store(StoreError::Conflict).code(), ErrorCode::Conflict);
    let down = StoreError::Unavailable(DatabaseUnavailable("connection refused".into()));
    assert_eq!(store(down).code(), ErrorCode::Busy);
    let bad = registration(
        RegistrationError::BadIdNumber(IdNumberError::Empty),
        datetime!(2026-11-23 02:00 UTC),
    );
    assert_eq!(bad.code(), ErrorCode::BadIdNumber);
}
