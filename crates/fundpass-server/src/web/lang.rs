//! The language switch: a small form on every page that sets the language cookie
//! and returns to the page it was on.

use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::cookies;
use super::csrf::{self, Posted};
use super::error::{self, Internal};
use super::layout::Reply;
use crate::i18n;

/// The switch as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct LangForm {
    csrf: String,
    lang: String,
    back: String,
}

/// `POST /lang`: remembers the language, `303` back to the page.
pub(super) async fn switch(Posted { web, form }: Posted<LangForm>) -> Result<Response, Internal> {
    if !csrf::token_valid(&web, &form.csrf).await? {
        tracing::warn!("language switch refused: CSRF token missing or wrong");
        return Ok(error::forbidden(&web));
    }
    let lang = i18n::from_code(&form.lang).unwrap_or(web.tr.lang());
    let reply =
        Reply::see_other(safe_back(&form.back)).cookie(cookies::lang(&web.state.settings, lang));
    Ok(reply.into_response())
}

/// `back` if it is a path on this site, else `/`: never `//host` or `/\host`, which
/// browsers read as another site, and nothing with control characters.
pub(crate) fn safe_back(back: &str) -> &str {
    let local = back.starts_with('/')
        && !back.starts_with("//")
        && back.len() <= 512
        && !back.chars().any(|c| c.is_control() || c == '\\');
    if local { back } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::safe_back;

    #[test]
    fn only_paths_of_this_site_are_returned_to() {
        assert_eq!(safe_back("/login"), "/login");
        assert_eq!(safe_back("/register?x=1"), "/register?x=1");
        assert_eq!(safe_back("//evil.example/"), "/");
        assert_eq!(safe_back("/\\evil.example"), "/");
        assert_eq!(safe_back("https://evil.example/"), "/");
        assert_eq!(safe_back("login"), "/");
        assert_eq!(safe_back("/a\r\nSet-Cookie: x"), "/");
        assert_eq!(safe_back(""), "/");
    }
}
