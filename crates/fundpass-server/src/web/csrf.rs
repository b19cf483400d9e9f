//! Cross-site request forgery defences for every state-changing form.
//!
//! Two layers, both required:
//! - **Origin**: a POST whose `Origin` header is present and is neither the configured
//!   public origin nor this request's own origin, or whose `Sec-Fetch-Site` says
//!   `cross-site`, is refused before anything else is looked at.
//! - **Token**: anonymous forms carry a random token that is also in an `HttpOnly`,
//!   `SameSite=Strict` cookie (double submit: another site can make a browser send
//!   the cookie in no case, and cannot read it to copy it into a form); logged-in forms
//!   carry the session's own token, checked against the session record. Tokens are
//!   compared in constant time.
//!
//! A refusal is a 403 page.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, RawForm, Request};
use axum::http::header::{CONTENT_TYPE, HOST, ORIGIN};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, RequestPartsExt as _};
use fundpass_core::crypto::OpaqueToken;
use fundpass_core::portal::Authenticated;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq as _;

use super::auth;
use super::context::Web;
use super::cookies;
use super::error;
use crate::state::{AppState, ServerSettings};

/// A form that carries a CSRF token in its `csrf` field.
pub(crate) trait CsrfField {
    /// The submitted token (empty when missing).
    fn csrf(&self) -> &str;
}

/// Implements [`CsrfField`] for forms that keep the token in a field named `csrf`, as
/// every form of the portal does.
macro_rules! csrf_field {
    ($($form:ty),+ $(,)?) => {
        $(
            impl $crate::web::csrf::CsrfField for $form {
                fn csrf(&self) -> &str {
                    &self.csrf
                }
            }
        )+
    };
}
pub(super) use csrf_field;

/// Whether two tokens are equal and not empty, without leaking where they differ.
pub(crate) fn tokens_match(expected: &str, given: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// Whether a state-changing request may come from where it says it comes from.
/// `authority` is the request's own host and port (from `Host`, or from the URI
/// under HTTP/2, which has no `Host` header); the scheme is `https` exactly when the
/// deployment uses secure cookies.
pub(crate) fn same_origin(
    headers: &HeaderMap,
    authority: Option<&str>,
    settings: &ServerSettings,
) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site.is_some_and(|v| v.trim().eq_ignore_ascii_case("cross-site")) {
        return false;
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim();
    // Browsers send `Origin: null` on form posts from pages served with
    // `Referrer-Policy: no-referrer`; the browser's own `Sec-Fetch-Site`, which a
    // page cannot forge, then says whether the post came from this site. The token
    // check still follows.
    if origin == "null" {
        return fetch_site.is_some_and(|v| v.trim().eq_ignore_ascii_case("same-origin"));
    }
    if origin.eq_ignore_ascii_case(settings.public_origin.trim_end_matches('/')) {
        return true;
    }
    let scheme = if settings.secure_cookies {
        "https"
    } else {
        "http"
    };
    authority.is_some_and(|host| origin.eq_ignore_ascii_case(&format!("{scheme}://{host}")))
}

/// The anonymous-form token for a page: the browser's cookie when it holds a
/// well-formed one, else a new token and the cookie to set.
#[derive(Debug)]
pub(crate) struct AnonToken {
    /// Goes in the forms' hidden `csrf` field.
    pub value: String,
    /// The cookie to set when the token is new.
    pub set_cookie: Option<String>,
}

impl AnonToken {
    /// Reads or makes the token of the request in `web`.
    pub fn for_page(web: &Web) -> Self {
        let settings = &web.state.settings;
        match web
            .cookie(settings.csrf_cookie())
            .and_then(OpaqueToken::parse)
        {
            Some(token) => Self {
                value: token.expose().to_owned(),
                set_cookie: None,
            },
            None => {
                let token = OpaqueToken::generate(web.state.portal.rng.as_ref());
                let value = token.expose().to_owned();
                Self {
                    set_cookie: Some(cookies::csrf(settings, &value)),
                    value,
                }
            }
        }
    }
}

/// A form that passed the origin check; its token is not checked yet.
#[derive(Debug)]
pub(crate) struct Posted<T> {
    /// The request.
    pub web: Web,
    /// The parsed form.
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let Ok(web) = parts.extract_with_state::<Web, _>(state).await;
        let authority = parts
            .headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()));
        if !same_origin(&parts.headers, authority, &state.settings) {
            tracing::warn!(path = %web.path, "form refused: foreign origin");
            return Err(error::forbidden(&web));
        }
        match read_form(Request::from_parts(parts, body), state).await {
            Ok(form) => Ok(Self { web, form }),
            Err(FormRefusal::Unreadable) => {
                tracing::warn!(path = %web.path, "form refused: not UTF-8 text, or a NUL in it");
                Err(error::bad_request(&web))
            }
            Err(FormRefusal::Status(status)) => Err(error::bad_body(&web, status)),
        }
    }
}

/// Why a form's body was not read.
#[derive(Debug)]
pub(super) enum FormRefusal {
    /// Not url-encoded, too large, or not fitting the form: the status axum gives.
    Status(StatusCode),
    /// Not UTF-8 text, or a NUL in it, once decoded.
    Unreadable,
}

/// Reads the url-encoded body of `request` as `T`, the way [`Posted`] does once the
/// origin check has passed (the `web_form_body` fuzz target runs it too).
pub(super) async fn read_form<T: DeserializeOwned, S: Send + Sync>(
    request: Request,
    state: &S,
) -> Result<T, FormRefusal> {
    let bytes = match RawForm::from_request(request, state).await {
        Ok(RawForm(bytes)) => bytes,
        Err(rejection) => return Err(FormRefusal::Status(rejection.status())),
    };
    if !readable(&bytes) {
        return Err(FormRefusal::Unreadable);
    }
    match Form::<T>::from_request(form_request(bytes), state).await {
        Ok(Form(form)) => Ok(form),
        Err(rejection) => Err(FormRefusal::Status(rejection.status())),
    }
}

/// Whether every name and value of a url-encoded body is UTF-8 text without a NUL
/// once decoded, as a browser sends it. `Form` would replace bytes that are not UTF-8
/// and keep NULs, and the page would then go on with text nobody typed.
fn readable(body: &[u8]) -> bool {
    body.split(|b| matches!(b, b'&' | b'=')).all(|part| {
        let mut decoded = Vec::with_capacity(part.len());
        let mut rest = part;
        while let Some((&byte, tail)) = rest.split_first() {
            let hex = tail
                .get(..2)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match (byte, hex) {
                (b'%', Some(decoded_byte)) => {
                    decoded.push(decoded_byte);
                    rest = &tail[2..];
                }
                (b'+', _) => {
                    decoded.push(b' ');
                    rest = tail;
                }
                (other, _) => {
                    decoded.push(other);
                    rest = tail;
                }
            }
        }
        std::str::from_utf8(&decoded).is_ok_and(|text| !text.contains('\0'))
    })
}

/// A url-encoded `POST` of `bytes`, for `Form` to read once [`RawForm`] has checked
/// the content type and the size.
fn form_request(bytes: Bytes) -> Request {
    let mut request = Request::new(Body::from(bytes));
    *request.method_mut() = Method::POST;
    request.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    request
}

/// An anonymous form whose token matches the browser's CSRF cookie.
#[derive(Debug)]
pub(crate) struct AnonForm<T> {
    /// The request.
    pub web: Web,
    /// The parsed form.
    pub form: T,
}

impl<T: DeserializeOwned + CsrfField + Send> FromRequest<AppState> for AnonForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let Posted { web, form } = Posted::<T>::from_request(req, state).await?;
        let cookie = web.cookie(state.settings.csrf_cookie()).unwrap_or_default();
        if !tokens_match(cookie, form.csrf()) {
            tracing::warn!(path = %web.path, "form refused: CSRF token missing or wrong");
            return Err(error::forbidden(&web));
        }
        Ok(Self { web, form })
    }
}

/// A logged-in member's form whose token matches their session's. Without a live
/// session the member is sent to the login page.
#[derive(Debug)]
pub(crate) struct MemberForm<T> {
    /// The request.
    pub web: Web,
    /// The member and their session.
    pub auth: Authenticated,
    /// The parsed form.
    pub form: T,
}

impl<T: DeserializeOwned + CsrfField + Send> FromRequest<AppState> for MemberForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let Posted { web, form } = Posted::<T>::from_request(req, state).await?;
        let auth = match auth::current(&web).await {
            Ok(Some(auth)) => auth,
            Ok(None) => return Err(auth::to_login(&web)),
            Err(internal) => return Err(internal.into_response()),
        };
        if !tokens_match(&auth.session.csrf, form.csrf()) {
            tracing::warn!(path = %web.path, "form refused: session CSRF token missing or wrong");
            return Err(error::forbidden(&web));
        }
        Ok(Self { web, auth, form })
    }
}

/// Whether `token` is valid for this request any way: the session's token when a
/// member is logged in, the staff session's at the console, or the anonymous
/// cookie's (the language switch is on every page, logged in or not).
pub(crate) async fn token_valid(web: &Web, token: &str) -> Result<bool, error::Internal> {
    let anon = web
        .cookie(web.state.settings.csrf_cookie())
        .unwrap_or_default();
    if tokens_match(anon, token) {
        return Ok(true);
    }
    if auth::current(web)
        .await?
        .is_some_and(|auth| tokens_match(&auth.session.csrf, token))
    {
        return Ok(true);
    }
    Ok(super::console::current_staff(web)
        .await?
        .is_some_and(|auth| tokens_match(&auth.session.csrf, token)))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;
    use crate::state::Mode;

    fn settings() -> ServerSettings {
        ServerSettings {
            mode: Mode::Dev,
            secure_cookies: false,
            public_origin: "https://gjj.example.gov.cn".into(),
            trust_forwarded_for: false,
            internal_listener: false,
        }
    }

    /// Whether a request with these headers passes (`host` as the authority).
    fn passes(pairs: &[(&'static str, &'static str)]) -> bool {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        let host = h.get("host").and_then(|v| v.to_str().ok());
        same_origin(&h, host, &settings())
    }

    #[test]
    fn same_site_origins_pass_and_foreign_ones_do_not() {
        let host = ("host", "127.0.0.1:8080");
        assert!(passes(&[host]));
        assert!(passes(&[host, ("origin", "http://127.0.0.1:8080")]));
        assert!(passes(&[
            ("host", "x"),
            ("origin", "https://gjj.example.gov.cn")
        ]));
        assert!(passes(&[host, ("sec-fetch-site", "same-origin")]));
        assert!(!passes(&[host, ("origin", "http://evil.example")]));
        assert!(
            !passes(&[host, ("origin", "https://127.0.0.1:8080")]),
            "another scheme is another origin"
        );
        assert!(!passes(&[host, ("origin", "null")]));
        assert!(
            passes(&[host, ("origin", "null"), ("sec-fetch-site", "same-origin")]),
            "a no-referrer page posting to its own site"
        );
        assert!(!passes(&[
            host,
            ("origin", "null"),
            ("sec-fetch-site", "same-site")
        ]));
        assert!(!passes(&[host, ("sec-fetch-site", "cross-site")]));
        assert!(
            !passes(&[("origin", "http://127.0.0.1:8080")]),
            "no authority to compare with"
        );
    }

    #[test]
    fn only_utf8_text_without_nul_is_readable() {
        assert!(readable(
            b"csrf=abc&name=%E5%BC%A0+%E4%BC%9F&empty=&%zz=100%"
        ));
        assert!(!readable(b"name=%FF%FEa"));
        assert!(!readable(b"name=\xff"));
        assert!(!readable(b"name=a%00b"));
        assert!(!readable(b"na%00me=a"));
    }

    #[test]
    fn empty_or_different_tokens_never_match() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("abc", "ab"));
        assert!(!tokens_match("", ""));
    }
}
