//! Image captchas: single use, five minutes, only a keyed MAC of the answer stored.
//! The image itself is drawn by an adapter; the rules live here.

use time::{Duration, OffsetDateTime};

use super::Portal;
use crate::crypto::OpaqueToken;
use crate::ports::{CaptchaRecord, StoreError};

/// How long a captcha can be answered.
pub const CAPTCHA_TTL: Duration = Duration::minutes(5);

const PURPOSE: &str = "captcha";

/// A new challenge: the id to send with the answer, and when it expires.
#[derive(Debug, Clone)]
pub struct IssuedCaptcha {
    pub id: OpaqueToken,
    pub expires_at: OffsetDateTime,
}

/// Why a captcha answer was refused. Either way the challenge is used up and the
/// client must show a new one.
#[derive(Debug, thiserror::Error)]
pub enum CaptchaError {
    #[error("the captcha answer is wrong")]
    Wrong,
    #[error("the captcha has expired or was already used")]
    Expired,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Canonical form of a typed answer: no spaces, full-width characters (typed with a
/// Chinese input method) as their ASCII forms, lower case.
pub fn normalise(answer: &str) -> String {
    answer
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(crate::identity::to_ascii_width)
        .flat_map(char::to_lowercase)
        .collect()
}

/// A challenge answered right and taken from the store.
#[derive(Debug)]
pub struct AnsweredCaptcha(CaptchaRecord);

impl Portal {
    /// Stores a challenge whose correct answer is `answer` (drawn by the caller).
    pub async fn issue_captcha(&self, answer: &str) -> Result<IssuedCaptcha, StoreError> {
        let id = OpaqueToken::generate(self.rng.as_ref());
        let now = self.clock.now();
        let expires_at = now + CAPTCHA_TTL;
        let normalised = normalise(answer);
        let record = CaptchaRecord {
            id: id.digest(),
            answer_mac: self.keyring.answer_mac(PURPOSE, &normalised).to_vec(),
            expires_at,
            dev_answer: self.policy.dev_mode.then_some(normalised),
        };
        self.captchas.insert_captcha(&record, now).await?;
        crate::metrics::captcha_issued();
        Ok(IssuedCaptcha { id, expires_at })
    }

    /// Checks and uses up a challenge.
    pub async fn check_captcha(&self, id: &str, answer: &str) -> Result<(), CaptchaError> {
        self.answer_captcha(id, answer).await.map(drop)
    }

    /// Checks and takes a challenge, keeping it so that it can be given back with
    /// [`Portal::give_back_captcha`] when the request it guarded was refused before
    /// anything was tried.
    pub async fn answer_captcha(
        &self,
        id: &str,
        answer: &str,
    ) -> Result<AnsweredCaptcha, CaptchaError> {
        let answered = self.take_captcha(id, answer).await;
        match &answered {
            Err(CaptchaError::Wrong) => crate::metrics::captcha_failed("wrong"),
            Err(CaptchaError::Expired) => crate::metrics::captcha_failed("expired"),
            _ => {}
        }
        answered
    }

    async fn take_captcha(&self, id: &str, answer: &str) -> Result<AnsweredCaptcha, CaptchaError> {
        let Some(id) = OpaqueToken::parse(id.trim()) else {
            return Err(CaptchaError::Expired);
        };
        let Some(record) = self.captchas.take_captcha(&id.digest()).await? else {
            return Err(CaptchaError::Expired);
        };
        if self.clock.now() >= record.expires_at {
            return Err(CaptchaError::Expired);
        }
        let mac = self.keyring.answer_mac(PURPOSE, &normalise(answer));
        if subtle::ConstantTimeEq::ct_eq(&mac[..], &record.answer_mac[..]).into() {
            Ok(AnsweredCaptcha(record))
        } else {
            Err(CaptchaError::Wrong)
        }
    }

    /// Puts a rightly answered challenge back, unchanged (same id, answer and expiry),
    /// for a request refused before any password was checked — the CPU pool was full —
    /// so the member's retry is not refused for a busy service. It was taken, so two
    /// requests never hold it at once: it still guards one attempt at a time.
    pub async fn give_back_captcha(&self, captcha: AnsweredCaptcha) -> Result<(), StoreError> {
        let now = self.clock.now();
        if now >= captcha.0.expires_at {
            return Ok(());
        }
        self.captchas.insert_captcha(&captcha.0, now).await
    }

    /// The answer of a live challenge, in dev mode only (for automated tests).
    pub async fn dev_captcha_answer(&self, id: &str) -> Result<Option<String>, StoreError> {
        if !self.policy.dev_mode {
            return Ok(None);
        }
        match OpaqueToken::parse(id.trim()) {
            Some(id) => self.captchas.dev_captcha_answer(&id.digest()).await,
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_compare_without_case_or_spaces() {
        assert_eq!(normalise(" aB 3k\tQ "), "ab3kq");
        assert_eq!(normalise("ＡＢ\u{3000}３ｋ９"), "ab3k9");
        assert_eq!(normalise("  AB 3K\t9 "), "ab3k9");
        assert_eq!(normalise("ab3k9"), normalise("AB3K9"));
        assert_ne!(normalise("AB3K8"), normalise("AB3K9"));
        assert_eq!(normalise(""), "");
    }
}
