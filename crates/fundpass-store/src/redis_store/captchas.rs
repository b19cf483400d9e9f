//! [`CaptchaStore`] in Redis: one key per challenge, `<prefix>:captcha:<hex digest of
//! the id>`, expiring with the challenge.

use async_trait::async_trait;
use fundpass_core::crypto::TokenDigest;
use fundpass_core::ports::{CaptchaRecord, CaptchaStore, StoreError};
use serde_json::json;
use time::OffsetDateTime;

use super::{RedisState, ttl_millis};
use crate::codec::{from_micros, micros};

impl RedisState {
    fn captcha_key(&self, id: &TokenDigest) -> String {
        self.key("captcha", &hex::encode(id.0))
    }
}

#[async_trait]
impl CaptchaStore for RedisState {
    /// `SET … NX PX`: a challenge given back after it was taken lands again with the
    /// time it has left; one already expired is not stored (taking it would fail
    /// anyway).
    async fn insert_captcha(
        &self,
        record: &CaptchaRecord,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        if now >= record.expires_at {
            return Ok(());
        }
        let key = self.captcha_key(&record.id);
        let value = json!({
            "mac": hex::encode(&record.answer_mac),
            "expires_at": micros(record.expires_at),
            "dev_answer": record.dev_answer,
        })
        .to_string();
        let ttl = ttl_millis(now, record.expires_at);
        self.call(|mut conn| async move {
            redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("NX")
                .arg("PX")
                .arg(ttl)
                .query_async::<Option<String>>(&mut conn)
                .await
        })
        .await
        .map(drop)
    }

    /// `GETDEL`: of any number of concurrent takers exactly one gets the challenge.
    async fn take_captcha(&self, id: &TokenDigest) -> Result<Option<CaptchaRecord>, StoreError> {
        let key = self.captcha_key(id);
        let value: Option<String> =
            self.call(|mut conn| async move {
                redis::cmd("GETDEL").arg(key).query_async(&mut conn).await
            })
            .await?;
        value.map(|v| decode(id, &v)).transpose()
    }

    async fn dev_captcha_answer(&self, id: &TokenDigest) -> Result<Option<String>, StoreError> {
        let key = self.captcha_key(id);
        let value: Option<String> = self
            .call(|mut conn| async move { redis::cmd("GET").arg(key).query_async(&mut conn).await })
            .await?;
        Ok(value
            .map(|v| decode(id, &v))
            .transpose()?
            .and_then(|record| record.dev_answer))
    }

    /// Redis drops a challenge when it expires: nothing is left to purge.
    async fn purge_captchas(&self, _now: OffsetDateTime) -> Result<u64, StoreError> {
        Ok(0)
    }
}

/// The challenge stored under `id`'s key.
fn decode(id: &TokenDigest, value: &str) -> Result<CaptchaRecord, StoreError> {
    let bad = || StoreError::Backend("a captcha in Redis is not fundpass's".into());
    let v: serde_json::Value = serde_json::from_str(value).map_err(|_| bad())?;
    let answer_mac = v["mac"]
        .as_str()
        .and_then(|m| hex::decode(m).ok())
        .ok_or_else(bad)?;
    let expires_at = from_micros(v["expires_at"].as_i64().ok_or_else(bad)?)?;
    let dev_answer = match &v["dev_answer"] {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        _ => return Err(bad()),
    };
    Ok(CaptchaRecord {
        id: *id,
        answer_mac,
        expires_at,
        dev_answer,
    })
}
