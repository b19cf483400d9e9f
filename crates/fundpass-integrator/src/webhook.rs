//! Checking a webhook from fundpass, as every receiver must before believing it:
//! `Fundpass-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
//! Recompute the MAC over the timestamp given and the raw body bytes, compare in
//! constant time, and refuse a timestamp too far from the receiver's clock (replay
//! window; fundpass's is 5 minutes). Then de-duplicate on the event id.

use std::io::Read as _;
use std::process::ExitCode;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use crate::{out, system};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Fundpass-Signature";
/// The header carrying the event id, the de-duplication key.
pub const EVENT_ID_HEADER: &str = "Fundpass-Event-Id";

/// Why a webhook was not believed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// The header is not `t=<digits>,v1=<64 hex digits>`.
    Malformed(&'static str),
    /// The timestamp is more than the tolerance away from this machine's clock.
    OutsideWindow { age_secs: i64, tolerance_secs: i64 },
    /// No `v1` signature matches the body under the secret.
    Mismatch,
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(why) => write!(f, "the signature header is malformed: {why}"),
            Self::OutsideWindow {
                age_secs,
                tolerance_secs,
            } => write!(
                f,
                "the signature's timestamp is {age_secs} s from this machine's clock, more than \
                 the {tolerance_secs} s allowed: a replay, or a clock that is wrong"
            ),
            Self::Mismatch => f.write_str(
                "the signature does not match the body under this secret \
                 (wrong secret, or the body was changed: check it byte for byte)",
            ),
        }
    }
}

impl std::error::Error for SignatureError {}

/// Checks `header` (the `Fundpass-Signature` value) for `body` at `now`. Several `v1`
/// entries are allowed (one per secret while a secret is rotated); one match suffices.
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (name, value) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed("each part must be name=value"))?;
        match name {
            "t" => {
                let t = value
                    .parse::<i64>()
                    .map_err(|_| SignatureError::Malformed("t must be Unix seconds"))?;
                timestamp = Some((t, value));
            }
            "v1" => {
                let mac = hex::decode(value)
                    .ok()
                    .filter(|m| m.len() == 32)
                    .ok_or(SignatureError::Malformed("v1 must be 64 hex digits"))?;
                signatures.push(mac);
            }
            _ => {} // Later schemes (v2…) are ignored, not refused.
        }
    }
    let (t, t_text) = timestamp.ok_or(SignatureError::Malformed("t is missing"))?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed("v1 is missing"));
    }
    let age_secs = now.saturating_sub(t).saturating_abs();
    if age_secs > tolerance_secs {
        return Err(SignatureError::OutsideWindow {
            age_secs,
            tolerance_secs,
        });
    }
    let expected = mac(secret, t_text, body);
    let matched = signatures.iter().fold(0u8, |any, given| {
        any | expected.ct_eq(given.as_slice()).unwrap_u8()
    });
    if matched == 1 {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// HMAC-SHA256(`secret`, `"<t>.<body>"`), over the timestamp exactly as sent.
pub fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length, so this cannot fail; the fallback keeps the
    // compiler and the lints content without an unwrap.
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().into()
}

/// Options of `verify-webhook`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The client's webhook secret (better given as FUNDPASS_WEBHOOK_SECRET: a command
    /// line is visible to other users of the machine).
    #[arg(long, env = "FUNDPASS_WEBHOOK_SECRET", hide_env_values = true)]
    pub secret: String,
    /// The `Fundpass-Signature` header's value, e.g. `t=1700000000,v1=49f2…`.
    #[arg(long)]
    pub signature: String,
    /// Largest distance, in seconds, between the signature's timestamp and this
    /// machine's clock.
    #[arg(long, default_value_t = 300)]
    pub timestamp_tolerance: i64,
}

/// Reads the body from standard input, exactly as received, and checks it.
pub fn command(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let mut body = Vec::new();
    std::io::stdin().read_to_end(&mut body)?;
    let now = system::now_unix()?;
    match verify(
        args.secret.as_bytes(),
        &args.signature,
        &body,
        now,
        args.timestamp_tolerance,
    ) {
        Ok(()) => {
            out::line(&format!("signature valid: {}", describe(&body)));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("signature NOT valid: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `<type> <id> <data>` of an event body, or a note that it is not one.
pub fn describe(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(event) => format!(
            "{} {} {}",
            event["type"].as_str().unwrap_or("(no type)"),
            event["id"].as_str().unwrap_or("(no id)"),
            event["data"]
        ),
        Err(_) => format!("{} bytes that are not JSON", body.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"secret";
    const T: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"a":1}"#;
    // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
    const HEADER: &str =
        "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686";

    #[test]
    fn the_pinned_vector_verifies() {
        assert_eq!(
            hex::encode(mac(SECRET, "1700000000", BODY)),
            "49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
        assert_eq!(verify(SECRET, HEADER, BODY, T + 10, 300), Ok(()));
        assert_eq!(
            verify(SECRET, HEADER, BODY, T - 10, 300),
            Ok(()),
            "a clock a little behind"
        );
    }

    #[test]
    fn another_body_secret_or_timestamp_does_not_verify() {
        assert_eq!(
            verify(SECRET, HEADER, br#"{"a":2}"#, T, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, HEADER, b"{\"a\":1}\n", T, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"other", HEADER, BODY, T, 300),
            Err(SignatureError::Mismatch)
        );
        let moved = HEADER.replace("t=1700000000", "t=1700000001");
        assert_eq!(
            verify(SECRET, &moved, BODY, T, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_timestamp_outside_the_window_is_refused_even_with_a_good_mac() {
        assert_eq!(
            verify(SECRET, HEADER, BODY, T + 301, 300),
            Err(SignatureError::OutsideWindow {
                age_secs: 301,
                tolerance_secs: 300
            })
        );
        assert!(matches!(
            verify(SECRET, HEADER, BODY, T - 301, 300),
            Err(SignatureError::OutsideWindow { .. })
        ));
    }

    #[test]
    fn one_matching_v1_of_several_suffices_and_malformed_headers_are_named() {
        let rotated = format!("t=1700000000,v1={},{}", "00".repeat(32), &HEADER[13..]);
        assert_eq!(verify(SECRET, &rotated, BODY, T, 300), Ok(()));
        for bad in [
            "",
            "t=1700000000",
            "v1=00",
            "t=soon,v1=00",
            "t=1700000000,v1=xyz",
            "junk",
        ] {
            assert!(
                matches!(
                    verify(SECRET, bad, BODY, T, 300),
                    Err(SignatureError::Malformed(_))
                ),
                "{bad:?}"
            );
        }
    }
}
