//! The face results the `face_result` target builds from fuzzed header and claims, and
//! the verdict [`FacePolicy::verify`](crate::face::FacePolicy::verify) documents for each:
//! the first failing check in its documented order.

use serde_json::{Value, json};

use super::{
    Choice, ClaimsCase, Fixture, HeaderCase, Issued, JwsAlg, Key, NONCE, NOW_UNIX, Score,
    expected_subject,
};
use crate::face::{FACE_RESULT_TYP, FaceRejection, MAX_TOKEN_BYTES};
use crate::fuzzing::Violation;

/// Header and claims with every choice made.
#[derive(Debug)]
pub(super) struct Resolved {
    alg: String,
    kid: String,
    typ: Option<String>,
    crit: bool,
    nonce: String,
    subject: String,
    liveness: bool,
    score: f64,
    iat: i64,
    jti: Option<String>,
}

impl Resolved {
    pub(super) fn new(
        signing: &Fixture,
        fixtures: &[Fixture],
        header: &HeaderCase,
        claims: &ClaimsCase,
    ) -> Result<Self, Violation> {
        let alg = match &header.alg {
            Choice::Own => signing.algorithm.code().to_owned(),
            Choice::Other(JwsAlg::EdDsa) => "EdDSA".to_owned(),
            Choice::Other(JwsAlg::Es256) => "ES256".to_owned(),
            Choice::Text(text) => text.clone(),
        };
        let kid = match &header.kid {
            Choice::Own => signing.kid.to_owned(),
            Choice::Other(key) => super::fixture(fixtures, *key)?.kid.to_owned(),
            Choice::Text(text) => text.clone(),
        };
        let typ = header.typ.as_ref().map(|typ| match typ {
            Choice::Own => FACE_RESULT_TYP.to_owned(),
            Choice::Other(()) => "JWT".to_owned(),
            Choice::Text(text) => text.clone(),
        });
        let nonce = match &claims.nonce {
            Choice::Own => NONCE.to_owned(),
            Choice::Other(()) => "n-another-flow".to_owned(),
            Choice::Text(text) => text.clone(),
        };
        let subject = match &claims.subject {
            Choice::Own => expected_subject(),
            Choice::Other(()) => {
                crate::face::subject_hash(crate::identity::IdType::Passport, "E12345678")
            }
            Choice::Text(text) => text.clone(),
        };
        let iat = match claims.issued {
            Issued::SecondsAgo(ago) => NOW_UNIX - i64::from(ago),
            Issued::At(at) => at,
        };
        Ok(Self {
            alg,
            kid,
            typ,
            crit: header.crit,
            nonce,
            subject,
            liveness: claims.liveness,
            score: match claims.score {
                Score::Thousandths(n) => f64::from(n % 1001) / 1000.0,
                Score::Any(score) => score,
            },
            iat,
            jti: claims.jti.clone(),
        })
    }

    pub(super) fn header_json(&self) -> String {
        let mut header = json!({ "alg": self.alg, "kid": self.kid });
        if let Some(typ) = &self.typ {
            header["typ"] = Value::from(typ.as_str());
        }
        if self.crit {
            header["crit"] = json!(["exp"]);
        }
        header.to_string()
    }

    pub(super) fn payload_json(&self) -> String {
        let mut payload = json!({
            "nonce": self.nonce,
            "sub": self.subject,
            "liveness": self.liveness,
            "score": self.score,
            "iat": self.iat,
        });
        if let Some(jti) = &self.jti {
            payload["jti"] = Value::from(jti.as_str());
        }
        payload.to_string()
    }

    /// The verdict for this result signed by `signing`, as the verifier's documentation
    /// orders the checks.
    pub(super) fn expected(
        &self,
        signing: &Fixture,
        token: &str,
        accept_dev_keys: bool,
        fixtures: &[Fixture],
    ) -> Result<(), FaceRejection> {
        let representable = time::OffsetDateTime::from_unix_timestamp(self.iat).is_ok();
        if token.len() > MAX_TOKEN_BYTES
            || self.crit
            || self.typ.as_deref().is_some_and(|t| t != FACE_RESULT_TYP)
            || self.nonce.is_empty()
            || self.subject.is_empty()
            || !(0.0..=1.0).contains(&self.score)
            || !representable
        {
            return Err(FaceRejection::Malformed);
        }
        let pinned = fixtures
            .iter()
            .find(|f| f.key != Key::Untrusted && f.kid == self.kid)
            .ok_or(FaceRejection::UnknownKey)?;
        if self.alg != pinned.algorithm.code() {
            return Err(FaceRejection::AlgorithmMismatch);
        }
        if pinned.key == Key::DevSimulator && !accept_dev_keys {
            return Err(FaceRejection::DevKeyRefused);
        }
        if pinned.key != signing.key {
            return Err(FaceRejection::BadSignature);
        }
        if self.nonce != NONCE {
            return Err(FaceRejection::NonceMismatch);
        }
        if self.iat - NOW_UNIX > 30 {
            return Err(FaceRejection::IssuedInFuture);
        }
        if NOW_UNIX - self.iat > 300 {
            return Err(FaceRejection::Stale);
        }
        if self.subject != expected_subject() {
            return Err(FaceRejection::WrongSubject);
        }
        if !self.liveness {
            return Err(FaceRejection::LivenessFailed);
        }
        if self.score < 0.8 {
            return Err(FaceRejection::LowScore);
        }
        Ok(())
    }
}
