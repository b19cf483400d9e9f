//! The providers' request signatures, checked by the stand-ins as the providers
//! document them and recomputed from the raw request (headers, query string and body
//! bytes) with `hmac` and `sha2` directly, never with fundpass's own signer:
//! Tencent Cloud's TC3-HMAC-SHA256 for any product (`sms`, `faceid`) and Alibaba
//! Cloud's ACS3-HMAC-SHA256 with its date window and single-use nonce.
//!
//! Shared by the SMS and the face-verification stand-ins; mounted next to the SMS
//! stand-ins' `ledger` module, whose `header` it reads requests with.

use std::collections::HashSet;

use axum::http::{HeaderMap, StatusCode};
use fundpass_server::sms::signing::{percent_decode, percent_encode};
use hmac::{Hmac, KeyInit, Mac as _};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ledger::header;

/// Tencent's allowance between its clock and the request's `X-TC-Timestamp`.
pub const TC3_SKEW_SECONDS: i64 = 300;
/// Alibaba's allowance for `x-acs-date`.
pub const ACS3_SKEW_SECONDS: i64 = 15 * 60;

/// An access key as the stand-in knows it (Tencent `SecretId`/`SecretKey`, Alibaba
/// `AccessKeyId`/`AccessKeySecret`).
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub id: &'static str,
    pub secret: &'static str,
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

pub fn hex_hmac(key: &[u8], message: &[u8]) -> String {
    hex::encode(hmac(key, message))
}

/// The credential, signed header names and signature of an `Authorization` value
/// (after its `<algorithm> Credential=`), its parts separated by `separator`.
fn parts<'a>(rest: &'a str, separator: &str) -> Option<(&'a str, &'a str, &'a str)> {
    let mut parts = rest.split(separator);
    let credential = parts.next()?;
    let signed_headers = parts.next()?.strip_prefix("SignedHeaders=")?;
    let signature = parts.next()?.strip_prefix("Signature=")?;
    Some((credential, signed_headers, signature))
}

/// Tencent's checks of `Authorization` for the product `service`, from the raw
/// request: the error code and message Tencent answers when one fails.
pub fn check_tc3(
    key: Key,
    service: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<(), (&'static str, &'static str)> {
    let failure = ("AuthFailure.SignatureFailure", "signature does not match");
    let authorization = header(headers, "authorization");
    let rest = authorization
        .strip_prefix("TC3-HMAC-SHA256 Credential=")
        .ok_or(("AuthFailure.InvalidAuthorization", "not TC3"))?;
    let (credential, signed_headers, signature) = parts(rest, ", ").ok_or(failure)?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [secret_id, date, scope_service, "tc3_request"] = scope.as_slice() else {
        return Err(failure);
    };
    if *secret_id != key.id {
        return Err(("AuthFailure.SecretIdNotFound", "unknown SecretId"));
    }
    let timestamp: i64 = header(headers, "x-tc-timestamp")
        .parse()
        .map_err(|_| failure)?;
    if (now.unix_timestamp() - timestamp).abs() > TC3_SKEW_SECONDS {
        return Err(("AuthFailure.SignatureExpire", "the signature has expired"));
    }
    let utc_date = OffsetDateTime::from_unix_timestamp(timestamp)
        .unwrap()
        .date();
    let names: Vec<&str> = signed_headers.split(';').collect();
    if *date != utc_date.to_string()
        || *scope_service != service
        || !names.contains(&"content-type")
        || !names.contains(&"host")
    {
        return Err(failure);
    }
    let canonical_headers: String = names
        .iter()
        .map(|n| format!("{n}:{}\n", header(headers, n).trim().to_ascii_lowercase()))
        .collect();
    let canonical = format!(
        "POST\n/\n\n{canonical_headers}\n{signed_headers}\n{}",
        sha256_hex(body)
    );
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let derived = hmac(format!("TC3{}", key.secret).as_bytes(), date.as_bytes());
    let derived = hmac(&derived, service.as_bytes());
    let derived = hmac(&derived, b"tc3_request");
    if hex_hmac(&derived, to_sign.as_bytes()) != signature {
        return Err(failure);
    }
    Ok(())
}

/// An RPC-style request's query parameters, decoded, once Alibaba's checks of its V3
/// signature passed: `x-acs-content-sha256` against the body, `x-acs-date` within 15
/// minutes of `now`, the signature over the raw query, headers and body, and
/// `x-acs-signature-nonce` not in `nonces` (where it is then kept). A failure is the
/// HTTP status and code Alibaba answers.
pub fn check_acs3(
    key: Key,
    nonces: &mut HashSet<String>,
    raw_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Vec<(String, String)>, (StatusCode, &'static str)> {
    let params = parameters(raw_query).ok_or((StatusCode::BAD_REQUEST, "InvalidParameter"))?;
    let bad = (StatusCode::BAD_REQUEST, "SignatureDoesNotMatch");
    let rest = header(headers, "authorization")
        .strip_prefix("ACS3-HMAC-SHA256 Credential=")
        .ok_or((StatusCode::BAD_REQUEST, "IncompleteSignature"))?;
    let (key_id, signed, signature) = parts(rest, ",").ok_or(bad)?;
    if key_id != key.id {
        return Err((StatusCode::NOT_FOUND, "InvalidAccessKeyId.NotFound"));
    }
    let date = OffsetDateTime::parse(header(headers, "x-acs-date"), &Rfc3339)
        .map_err(|_| (StatusCode::BAD_REQUEST, "InvalidTimeStamp.Format"))?;
    if (now - date).whole_seconds().abs() > ACS3_SKEW_SECONDS {
        return Err((StatusCode::BAD_REQUEST, "InvalidTimeStamp.Expired"));
    }
    if header(headers, "x-acs-content-sha256") != sha256_hex(body) {
        return Err((StatusCode::BAD_REQUEST, "ContentSHA256NotMatch"));
    }
    let names: Vec<&str> = signed.split(';').collect();
    let required = [
        "host",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
    ];
    if !required.iter().all(|r| names.contains(r)) {
        return Err(bad);
    }
    let mut query: Vec<(String, String)> = params
        .iter()
        .map(|(n, v)| (percent_encode(n), percent_encode(v)))
        .collect();
    query.sort();
    let query: Vec<String> = query.iter().map(|(n, v)| format!("{n}={v}")).collect();
    let canonical_headers: String = names
        .iter()
        .map(|n| format!("{n}:{}\n", header(headers, n).trim()))
        .collect();
    let canonical = format!(
        "POST\n/\n{}\n{canonical_headers}\n{signed}\n{}",
        query.join("&"),
        sha256_hex(body)
    );
    let to_sign = format!("ACS3-HMAC-SHA256\n{}", sha256_hex(canonical.as_bytes()));
    if hex_hmac(key.secret.as_bytes(), to_sign.as_bytes()) != signature {
        return Err(bad);
    }
    let nonce = header(headers, "x-acs-signature-nonce").to_owned();
    if nonce.is_empty() || !nonces.insert(nonce) {
        return Err((StatusCode::BAD_REQUEST, "SignatureNonceUsed"));
    }
    Ok(params)
}

/// The query's parameters, decoded.
pub fn parameters(raw: &str) -> Option<Vec<(String, String)>> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(name)?, percent_decode(value)?))
        })
        .collect()
}

/// A generator that always gives the same bytes, so that every nonce a signer draws is
/// the same: what a stand-in must refuse the second time.
pub struct SameBytes;

impl fundpass_core::ports::SecretGenerator for SameBytes {
    fn fill(&self, buf: &mut [u8]) {
        buf.fill(7);
    }
}
