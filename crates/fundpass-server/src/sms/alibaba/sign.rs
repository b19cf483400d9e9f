//! ACS3-HMAC-SHA256, the V3 request signature of Alibaba Cloud's OpenAPI.
//!
//! Alibaba Cloud's "V3 request structure and signature" document
//! (<https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature>,
//! 中文 <https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature>)
//! defines it:
//!
//! 1. the canonical request: method, the path (`/` for RPC APIs such as SMS), the
//!    query parameters sorted by name with names and values percent-encoded per
//!    RFC 3986, the signed headers as `name:value\n` (names lower-case and sorted,
//!    values trimmed, case kept), their names joined by `;`, and the hex SHA-256 of
//!    the body (also sent as `x-acs-content-sha256`);
//! 2. the string to sign: `ACS3-HMAC-SHA256\n` and the hex SHA-256 of the canonical
//!    request;
//! 3. the signature: hex HMAC-SHA256 of the string to sign under the AccessKey secret
//!    itself (no derived key, unlike Tencent's);
//! 4. `Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=…,Signature=…`.

use crate::sms::signing::{hmac_sha256, percent_encode, sha256_hex};

/// The algorithm's name.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// What a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SigningInput<'a> {
    pub method: &'a str,
    /// `/` for RPC-style APIs.
    pub path: &'a str,
    /// The query parameters, not yet encoded, in any order.
    pub query: &'a [(&'a str, &'a str)],
    /// The signed headers (`host`, every `x-acs-*`, and `content-type` when there is
    /// a body).
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: &'a [u8],
}

/// Every step of a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// Also the query string to send, so that what is sent is what was signed.
    pub canonical_query: String,
    pub canonical_request: String,
    pub canonical_request_hash: String,
    pub string_to_sign: String,
    pub signed_headers: String,
    /// Lower-case hex.
    pub signature: String,
}

/// Signs `input` with the AccessKey secret.
pub fn sign(secret: &[u8], input: &SigningInput<'_>) -> Signed {
    let canonical_query = canonical_query(input.query);
    let mut headers: Vec<(String, &str)> = input
        .headers
        .iter()
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim()))
        .collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
    let signed_headers = names.join(";");
    let canonical_request = format!(
        "{}\n{}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{}",
        input.method,
        input.path,
        sha256_hex(input.payload)
    );
    let canonical_request_hash = sha256_hex(canonical_request.as_bytes());
    let string_to_sign = format!("{ALGORITHM}\n{canonical_request_hash}");
    let signature = hex::encode(hmac_sha256(secret, string_to_sign.as_bytes()));
    Signed {
        canonical_query,
        canonical_request,
        canonical_request_hash,
        string_to_sign,
        signed_headers,
        signature,
    }
}

/// The query parameters sorted by name, each `name=value` percent-encoded, joined by
/// `&`.
pub fn canonical_query(pairs: &[(&str, &str)]) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .map(|(n, v)| (percent_encode(n), percent_encode(v)))
        .collect();
    encoded.sort();
    let parts: Vec<String> = encoded.iter().map(|(n, v)| format!("{n}={v}")).collect();
    parts.join("&")
}

/// The `Authorization` header value.
pub fn authorization(access_key_id: &str, signed: &Signed) -> String {
    format!(
        "{ALGORITHM} Credential={access_key_id},SignedHeaders={},Signature={}",
        signed.signed_headers, signed.signature
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked example of Alibaba Cloud's V3 signature document: ECS RunInstances on
    // ecs.cn-shanghai.aliyuncs.com at 2023-10-26T10:22:32Z with the nonce
    // 3156853299f313e23d1673dc12e1703d, AccessKey `YourAccessKeyId` /
    // `YourAccessKeySecret`, parameters in the query and an empty body. Every value
    // below is printed in the document.
    const EMPTY_HASH: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn the_published_example_is_reproduced_step_by_step() {
        let query = [
            ("RegionId", "cn-shanghai"),
            (
                "ImageId",
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            ),
        ];
        let headers = [
            ("host", "ecs.cn-shanghai.aliyuncs.com"),
            ("x-acs-action", "RunInstances"),
            ("x-acs-content-sha256", EMPTY_HASH),
            ("x-acs-date", "2023-10-26T10:22:32Z"),
            ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
            ("x-acs-version", "2014-05-26"),
        ];
        let input = SigningInput {
            method: "POST",
            path: "/",
            query: &query,
            headers: &headers,
            payload: b"",
        };
        let s = sign(b"YourAccessKeySecret", &input);
        assert_eq!(sha256_hex(b""), EMPTY_HASH);
        assert_eq!(
            s.canonical_query,
            "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
        );
        assert_eq!(
            s.canonical_request,
            format!(
                "POST\n/\n{}\nhost:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\n\
                 x-acs-content-sha256:{EMPTY_HASH}\nx-acs-date:2023-10-26T10:22:32Z\n\
                 x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n\
                 x-acs-version:2014-05-26\n\n\
                 host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;\
                 x-acs-version\n{EMPTY_HASH}",
                s.canonical_query
            )
        );
        assert_eq!(
            s.canonical_request_hash,
            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(
            s.string_to_sign,
            "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(
            s.signature,
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
        assert_eq!(
            authorization("YourAccessKeyId", &s),
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,\
             SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;\
             x-acs-signature-nonce;x-acs-version,\
             Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
    }

    #[test]
    fn template_values_are_encoded_in_the_canonical_query() {
        let q = canonical_query(&[
            ("TemplateParam", r#"{"code":"482913"}"#),
            ("SignName", "公积金"),
            ("PhoneNumbers", "13812345678"),
        ]);
        assert_eq!(
            q,
            "PhoneNumbers=13812345678&SignName=%E5%85%AC%E7%A7%AF%E9%87%91&\
             TemplateParam=%7B%22code%22%3A%22482913%22%7D"
        );
    }
}
