//! The checks `fundpass clients` makes of what the operator gives it, and the
//! webhook secret it makes.

use std::io::Read as _;
use std::path::Path;

use fundpass_core::clients::Scope;
use fundpass_core::crypto::PublicKey;
use fundpass_core::ports::SecretGenerator;
use secrecy::SecretString;

use crate::context::Refusal;

/// Largest public-key file read: a JWK or PEM public key is a few hundred bytes.
const MAX_KEY_FILE_BYTES: u64 = 16 * 1024;
/// Random bytes in a webhook secret; it is handed out and used as their hex text.
pub const WEBHOOK_SECRET_BYTES: usize = 32;

/// A scope list; an unknown name is refused by name.
pub fn parse_scopes(text: &str) -> Result<Vec<Scope>, Refusal> {
    let known = Scope::ALL.map(Scope::code).join(", ");
    let scopes = Scope::parse_list(text).map_err(|name| {
        Refusal::new(
            "unknown_scope",
            format!("unknown scope {name:?}: choose from {known}"),
        )
    })?;
    if scopes.is_empty() {
        return Err(Refusal::new(
            "no_scope",
            format!("give at least one scope: {known}"),
        ));
    }
    Ok(scopes)
}

/// An optional description, for lists and the audit trail.
pub fn parse_description(text: Option<&str>) -> Result<String, Refusal> {
    let text = text.unwrap_or_default().trim();
    if text.chars().count() > 200 || text.chars().any(char::is_control) {
        return Err(Refusal::new(
            "bad_description",
            "the description must be at most 200 printable characters",
        ));
    }
    Ok(text.to_owned())
}

/// Reads a business system's public key (JWK or PEM); a private key is refused with
/// a message saying so.
pub fn read_public_key(path: &Path) -> Result<PublicKey, Refusal> {
    let shown = path.display();
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_KEY_FILE_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| {
            Refusal::new(
                "unreadable_key_file",
                format!("cannot read the public key file {shown}: {e}"),
            )
        })?;
    if text.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(Refusal::new(
            "bad_public_key",
            format!("the public key file {shown} is too large to be a public key"),
        ));
    }
    let jwk_private = text.trim_start().starts_with('{')
        && serde_json::from_str::<serde_json::Value>(&text).is_ok_and(|v| v.get("d").is_some());
    if text.contains("PRIVATE KEY") || jwk_private {
        return Err(Refusal::new(
            "private_key_given",
            format!(
                "{shown} holds a private key: give fundpass only the public key (the private \
                 key stays with the business system)"
            ),
        ));
    }
    PublicKey::parse(&text).map_err(|e| {
        Refusal::new(
            "bad_public_key",
            format!("the public key file {shown} is refused: {e}"),
        )
    })
}

/// Accepts an `https://` URL, or an `http://` one to this machine for local testing:
/// events name members' accounts and must not cross a network in clear.
pub fn check_webhook_url(raw: &str) -> Result<String, Refusal> {
    let url = raw.trim();
    let refuse = |why: &str| {
        Refusal::new(
            "bad_webhook_url",
            format!("the webhook URL {url:?} is refused: {why}"),
        )
    };
    if url.len() > 2000 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(refuse(
            "give one URL, without spaces, of at most 2000 characters",
        ));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(refuse("it must start with https://"));
    };
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(refuse("it must not carry a user name or password"));
    }
    let (host, host_ok, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, after)) => (
                format!("[{}]", addr.to_ascii_lowercase()),
                !addr.is_empty()
                    && addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':')
                    && (after.is_empty() || after.starts_with(':')),
                after.strip_prefix(':').unwrap_or(after),
            ),
            None => return Err(refuse("the IPv6 address lacks its closing ']'")),
        },
        None => {
            let (host, port) = authority.split_once(':').unwrap_or((authority, ""));
            let ok = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
            (host.to_ascii_lowercase(), ok, port)
        }
    };
    let port_ok = port.is_empty()
        || (port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p > 0));
    if !host_ok || !port_ok {
        return Err(refuse("the host or port is not valid"));
    }
    match scheme.as_str() {
        "https" => {}
        "http" if matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]") => {}
        "http" => {
            return Err(refuse(
                "http:// is only for 127.0.0.1, localhost or [::1] (local testing); use https://",
            ));
        }
        _ => return Err(refuse("it must start with https://")),
    }
    Ok(format!("{scheme}://{rest}"))
}

/// `scheme://host[:port]` of a checked URL: what the audit trail records of it (a
/// path or query may carry a receiver's own token).
pub fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{authority}")
}

/// A fresh webhook secret, as the hex text handed to the business system.
pub fn webhook_secret(rng: &dyn SecretGenerator) -> SecretString {
    let mut bytes = [0u8; WEBHOOK_SECRET_BYTES];
    rng.fill(&mut bytes);
    SecretString::from(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_https_or_plain_http_to_this_machine_only() {
        for good in [
            "https://loans.gjj.example/fundpass/events",
            "HTTPS://loans.gjj.example:8443/e?v=1",
            "http://127.0.0.1:9000/hook",
            "http://localhost/hook",
            "http://[::1]:8080/",
        ] {
            assert!(check_webhook_url(good).is_ok(), "{good}");
        }
        assert_eq!(
            check_webhook_url(" HTTPS://loans.example/E ").unwrap(),
            "https://loans.example/E"
        );
        for bad in [
            "http://loans.gjj.example/hook",
            "http://127.0.0.1.evil.example/",
            "http://127.0.0.1@evil.example/",
            "http://10.0.0.5/hook",
            "ftp://loans.example/",
            "loans.example/hook",
            "https://",
            "https://loans.example:99999/",
            "https://loans example/",
            "https://[::1/",
            "https://[::1]8080/",
            "https://loans.example::80/",
        ] {
            let refused = check_webhook_url(bad).unwrap_err();
            assert_eq!(refused.code, "bad_webhook_url", "{bad}");
        }
        let e = check_webhook_url("http://loans.gjj.example/hook").unwrap_err();
        assert!(e.message.contains("use https://"), "{}", e.message);
    }

    #[test]
    fn the_audit_trail_keeps_only_a_webhook_urls_origin() {
        assert_eq!(
            origin("https://loans.example:8443/hook?token=abc"),
            "https://loans.example:8443"
        );
        assert_eq!(origin("http://[::1]:8080/"), "http://[::1]:8080");
    }

    #[test]
    fn an_unknown_scope_is_named_and_an_empty_list_refused() {
        let e = parse_scopes("holds:read,admin").unwrap_err();
        assert_eq!(e.code, "unknown_scope");
        assert!(e.message.contains("\"admin\""), "{}", e.message);
        assert!(e.message.contains("payments:authorize"), "{}", e.message);
        assert_eq!(parse_scopes(" , ").unwrap_err().code, "no_scope");
        assert_eq!(
            parse_scopes("members:read,holds:read").unwrap(),
            [Scope::HoldsRead, Scope::MembersRead]
        );
    }
}
