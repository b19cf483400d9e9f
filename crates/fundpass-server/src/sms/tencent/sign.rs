//! TC3-HMAC-SHA256, the request signature of Tencent Cloud API 3.0.
//!
//! Tencent's "签名方法 v3" document (<https://cloud.tencent.com/document/api/213/30654>,
//! English <https://www.tencentcloud.com/document/api/213/33224>) defines it in four
//! steps, each kept apart here so the tests can pin every intermediate value:
//!
//! 1. the canonical request: method, `/`, the query string (empty for POST), the
//!    signed headers as `name:value\n` (names lower-case, sorted), their names joined
//!    by `;`, and the hex SHA-256 of the body;
//! 2. the string to sign: `TC3-HMAC-SHA256`, the timestamp, the credential scope
//!    `<UTC date>/<service>/tc3_request`, and the hex SHA-256 of the canonical request;
//! 3. the signing key: HMAC-SHA256 chained from `"TC3" + SecretKey` over the UTC date,
//!    the service and `tc3_request`; the signature is the hex HMAC of the string to
//!    sign under it;
//! 4. the `Authorization` header naming the SecretId, the scope and the signed headers.
//!
//! The date is the UTC date of the timestamp: signing with China's date fails every
//! night between 00:00 and 08:00 Beijing time.

use time::OffsetDateTime;

use crate::sms::signing::{hmac_sha256, sha256_hex};

/// The algorithm's name, first in the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// What a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SigningInput<'a> {
    /// `POST` for every call fundpass makes.
    pub method: &'a str,
    /// The canonical query string; empty for POST.
    pub query: &'a str,
    /// The signed headers as sent (any case, any order; values are trimmed).
    pub headers: &'a [(&'a str, &'a str)],
    /// The body, byte for byte as sent.
    pub payload: &'a [u8],
    /// The product (`sms`, `cvm`): the first label of the endpoint's host name.
    pub service: &'a str,
    /// `X-TC-Timestamp`, Unix seconds.
    pub timestamp: i64,
}

/// Every step of a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub payload_hash: String,
    pub canonical_request: String,
    pub canonical_request_hash: String,
    pub credential_scope: String,
    pub string_to_sign: String,
    pub secret_date: [u8; 32],
    pub secret_service: [u8; 32],
    pub secret_signing: [u8; 32],
    pub signed_headers: String,
    /// Lower-case hex.
    pub signature: String,
}

/// The timestamp is outside the range of dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the timestamp {0} is not a date")]
pub struct BadTimestamp(pub i64);

/// Signs `input` with `secret_key`.
pub fn sign(secret_key: &[u8], input: &SigningInput<'_>) -> Result<Signed, BadTimestamp> {
    let date = OffsetDateTime::from_unix_timestamp(input.timestamp)
        .map_err(|_| BadTimestamp(input.timestamp))?
        .date();
    let date = format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    );
    let (canonical_headers, signed_headers) = canonical_headers(input.headers);
    let payload_hash = sha256_hex(input.payload);
    let canonical_request = format!(
        "{}\n/\n{}\n{canonical_headers}\n{signed_headers}\n{payload_hash}",
        input.method, input.query
    );
    let canonical_request_hash = sha256_hex(canonical_request.as_bytes());
    let credential_scope = format!("{date}/{}/tc3_request", input.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{credential_scope}\n{canonical_request_hash}",
        input.timestamp
    );
    let mut key = b"TC3".to_vec();
    key.extend_from_slice(secret_key);
    let secret_date = hmac_sha256(&key, date.as_bytes());
    let secret_service = hmac_sha256(&secret_date, input.service.as_bytes());
    let secret_signing = hmac_sha256(&secret_service, b"tc3_request");
    let signature = hex::encode(hmac_sha256(&secret_signing, string_to_sign.as_bytes()));
    Ok(Signed {
        payload_hash,
        canonical_request,
        canonical_request_hash,
        credential_scope,
        string_to_sign,
        secret_date,
        secret_service,
        secret_signing,
        signed_headers,
        signature,
    })
}

/// The `Authorization` header value for a signature made with `secret_id`'s key.
pub fn authorization(secret_id: &str, signed: &Signed) -> String {
    format!(
        "{ALGORITHM} Credential={secret_id}/{}, SignedHeaders={}, Signature={}",
        signed.credential_scope, signed.signed_headers, signed.signature
    )
}

/// `name:value\n` per header (lower-case names, trimmed values, sorted by name) and
/// the names joined by `;`.
fn canonical_headers(headers: &[(&str, &str)]) -> (String, String) {
    let mut lines: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase()))
        .collect();
    lines.sort();
    let canonical = lines.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let names: Vec<&str> = lines.iter().map(|(n, _)| n.as_str()).collect();
    (canonical, names.join(";"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The two published examples of Tencent's signature document: CVM
    // DescribeInstances in ap-guangzhou at 1551113065 (2019-02-25 UTC), signed once
    // with the SecretKey `Gu5t9xGARNpq86cd98joQYCN3EXAMPLE` (the older page and the
    // intl-en page, <https://www.tencentcloud.com/document/api/213/33224>) and once
    // with `Gu5t9xGARNpq86cd98joQYCN3*******` (the current page,
    // <https://cloud.tencent.com/document/api/213/30654>). The payload hash, the
    // canonical-request hash and both signatures are the documents' own; the derived
    // keys, which the documents do not print, were computed independently with
    // Python's `hmac` and `hashlib` from the documents' pseudocode.
    const PAYLOAD: &str =
        r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    const HEADERS: [(&str, &str); 2] = [
        ("Content-Type", "application/json; charset=utf-8"),
        ("Host", "cvm.tencentcloudapi.com"),
    ];

    fn example(secret_key: &str) -> Signed {
        let input = SigningInput {
            method: "POST",
            query: "",
            headers: &HEADERS,
            payload: PAYLOAD.as_bytes(),
            service: "cvm",
            timestamp: 1_551_113_065,
        };
        sign(secret_key.as_bytes(), &input).unwrap()
    }

    #[test]
    fn the_published_example_with_the_example_key_is_reproduced_step_by_step() {
        let s = example("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE");
        assert_eq!(
            s.payload_hash,
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            s.canonical_request,
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\n\
             host:cvm.tencentcloudapi.com\n\ncontent-type;host\n\
             35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            s.canonical_request_hash,
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(s.credential_scope, "2019-02-25/cvm/tc3_request");
        assert_eq!(
            s.string_to_sign,
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n\
             5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(
            hex::encode(s.secret_date),
            "d1308c81fe71cfd4e06437bbc067b2b8a3d2d8c0e375d547f15c41d5214b395a"
        );
        assert_eq!(
            hex::encode(s.secret_service),
            "3c7cb7c7795393edc14fd2e0e6434a518564b4504b88e94f5d11bf59ba3e7050"
        );
        assert_eq!(
            hex::encode(s.secret_signing),
            "ac658d5dde49e9bfdd14e04e062f66b05d9f637d44b8a8d845327d4a77f666b1"
        );
        assert_eq!(
            s.signature,
            "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
        assert_eq!(
            authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", &s),
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/\
             tc3_request, SignedHeaders=content-type;host, \
             Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
    }

    #[test]
    fn the_published_example_with_the_masked_key_is_reproduced_step_by_step() {
        let s = example("Gu5t9xGARNpq86cd98joQYCN3*******");
        assert_eq!(
            s.payload_hash,
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            s.canonical_request_hash,
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(
            hex::encode(s.secret_date),
            "f1cb4d518a0eda9d5cbbfdb7850983f1e603eeae484edea76e4dd8d8deb5556e"
        );
        assert_eq!(
            hex::encode(s.secret_service),
            "e7c609ce81bea53546bed2cc904778bef9ca14082e48e67883443ed64e227cd7"
        );
        assert_eq!(
            hex::encode(s.secret_signing),
            "8aa8ab5755582f576e94bcfe383b8e29325b0ca90c3590d569221c6a63a091ed"
        );
        assert_eq!(
            s.signature,
            "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
    }

    #[test]
    fn the_date_is_the_utc_date_of_the_timestamp() {
        // 2019-02-26 00:44:25 in Beijing is still the 25th in UTC.
        let s = example("k");
        assert!(s.credential_scope.starts_with("2019-02-25/"));
        let next_day = SigningInput {
            timestamp: 1_551_113_065 + 8 * 3600,
            method: "POST",
            query: "",
            headers: &HEADERS,
            payload: b"",
            service: "sms",
        };
        let s = sign(b"k", &next_day).unwrap();
        assert_eq!(s.credential_scope, "2019-02-26/sms/tc3_request");
        let never = SigningInput {
            timestamp: i64::MAX,
            ..next_day
        };
        assert_eq!(sign(b"k", &never), Err(BadTimestamp(i64::MAX)));
    }
}
