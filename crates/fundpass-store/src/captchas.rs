//! [`CaptchaStore`] over the `captchas` table: single-use challenges, stored as the
//! digest of their id and a keyed MAC of the answer.

use async_trait::async_trait;
use fundpass_core::crypto::TokenDigest;
use fundpass_core::ports::{CaptchaRecord, CaptchaStore, StoreError};
use time::OffsetDateTime;

use crate::codec::{from_micros, hash32, micros};
use crate::connect::Store;
use crate::errors::db_error;
use crate::members::column;

#[async_trait]
impl CaptchaStore for Store {
    /// The row keeps its `expires_at`; [`Store::purge_expired`] removes it after.
    async fn insert_captcha(
        &self,
        record: &CaptchaRecord,
        _now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO captchas (id_digest, answer_mac, expires_at, dev_answer) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&record.id.0[..])
        .bind(record.answer_mac.as_slice())
        .bind(micros(record.expires_at))
        .bind(record.dev_answer.as_deref())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    /// One statement deletes and returns the row, so of any number of concurrent
    /// takers exactly one gets the challenge. An expired challenge is returned too (and
    /// gone): the caller compares `expires_at` with its clock.
    async fn take_captcha(&self, id: &TokenDigest) -> Result<Option<CaptchaRecord>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM captchas WHERE id_digest = $1 \
             RETURNING id_digest, answer_mac, expires_at, dev_answer",
        )
        .bind(&id.0[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(CaptchaRecord {
            id: TokenDigest(hash32(column(&row, "id_digest")?, "captcha id digest")?),
            answer_mac: column(&row, "answer_mac")?,
            expires_at: from_micros(column(&row, "expires_at")?)?,
            dev_answer: column(&row, "dev_answer")?,
        }))
    }

    async fn dev_captcha_answer(&self, id: &TokenDigest) -> Result<Option<String>, StoreError> {
        let answer: Option<Option<String>> =
            sqlx::query_scalar("SELECT dev_answer FROM captchas WHERE id_digest = $1")
                .bind(&id.0[..])
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
        Ok(answer.flatten())
    }

    async fn purge_captchas(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM captchas WHERE expires_at < $1")
            .bind(micros(now))
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected())
    }
}
