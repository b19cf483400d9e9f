//! Reading the `Cookie` header and writing the portal's three cookies: the session,
//! the CSRF token of anonymous forms, and the language choice.
//!
//! None has a `Domain` (host-only), all have `Path=/` and `HttpOnly`, and all are
//! `Secure` when the deployment says cookies are (which the `__Host-` names require).

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

use crate::i18n::{self, LANG_COOKIE, Lang};
use crate::state::ServerSettings;

/// The value of cookie `name`, if the request carries it (the first one wins).
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
}

fn attributes(settings: &ServerSettings, same_site: &str) -> String {
    let secure = if settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("; Path=/; HttpOnly; SameSite={same_site}{secure}")
}

/// The session cookie: `Lax` so a link from elsewhere lands logged in, but a form
/// posted from elsewhere does not carry it; no `Max-Age`, so it ends with the
/// browser (the server's idle and absolute limits end it sooner).
pub fn session(settings: &ServerSettings, token: &str) -> String {
    format!(
        "{}={token}{}",
        settings.session_cookie(),
        attributes(settings, "Lax")
    )
}

/// Removes the session cookie.
pub fn clear_session(settings: &ServerSettings) -> String {
    format!(
        "{}={}; Max-Age=0",
        settings.session_cookie(),
        attributes(settings, "Lax")
    )
}

/// The staff console's session cookie: `Strict`, so no link or form from elsewhere
/// ever arrives with it.
pub fn staff(settings: &ServerSettings, token: &str) -> String {
    format!(
        "{}={token}{}",
        settings.staff_cookie(),
        attributes(settings, "Strict")
    )
}

/// Removes the staff console's session cookie.
pub fn clear_staff(settings: &ServerSettings) -> String {
    format!(
        "{}=; Max-Age=0{}",
        settings.staff_cookie(),
        attributes(settings, "Strict")
    )
}

/// The double-submit token of anonymous forms: `Strict`, never sent cross-site.
pub fn csrf(settings: &ServerSettings, token: &str) -> String {
    format!(
        "{}={token}{}",
        settings.csrf_cookie(),
        attributes(settings, "Strict")
    )
}

/// The language chosen with the switch, kept for a year.
pub fn lang(settings: &ServerSettings, lang: Lang) -> String {
    format!(
        "{LANG_COOKIE}={}{}; Max-Age=31536000",
        i18n::code(lang),
        attributes(settings, "Lax")
    )
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;
    use crate::state::Mode;

    fn settings(secure: bool) -> ServerSettings {
        ServerSettings {
            mode: Mode::Dev,
            secure_cookies: secure,
            public_origin: "http://localhost".into(),
            trust_forwarded_for: false,
            internal_listener: false,
        }
    }

    #[test]
    fn cookies_are_found_among_several() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("a=1; fundpass_session=abc"),
        );
        headers.append(COOKIE, HeaderValue::from_static("fundpass_lang=en"));
        assert_eq!(read(&headers, "fundpass_session"), Some("abc"));
        assert_eq!(read(&headers, "fundpass_lang"), Some("en"));
        assert_eq!(read(&headers, "fundpass"), None);
    }

    #[test]
    fn secure_deployments_get_host_prefixed_secure_cookies() {
        let c = session(&settings(true), "t");
        assert!(
            c.starts_with("__Host-fundpass_session=t; Path=/; HttpOnly; SameSite=Lax; Secure"),
            "{c}"
        );
        let c = csrf(&settings(false), "t");
        assert_eq!(c, "fundpass_csrf=t; Path=/; HttpOnly; SameSite=Strict");
        assert!(clear_session(&settings(false)).ends_with("Max-Age=0"));
        assert!(!lang(&settings(false), Lang::En).contains("Domain"));
    }
}
