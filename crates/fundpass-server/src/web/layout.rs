//! The frame every page shares (title, language switch, development banner, error
//! summary) and the one way a page becomes a response: HTML, `no-store`, and any
//! cookies or `Retry-After` the handler adds.

use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use fundpass_core::identity::IdType;
use time::OffsetDateTime;
use time::macros::offset;

use super::context::Web;
use super::error::{FieldErrors, Internal, Refusal};
use crate::i18n::Tr;

/// Data of the base layout; every view has one as its `page` field.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    tr: Tr,
    title: &'static str,
    /// Shows the development banner.
    pub dev: bool,
    /// Token for the language switch form (the switch is left out without one).
    pub csrf: Option<String>,
    /// Where the language switch returns to.
    pub back: String,
    /// Listed in the summary at the top and next to their fields.
    pub errors: FieldErrors,
}

impl Page {
    /// A page titled with message `title`.
    pub fn new(tr: Tr, title: &'static str, dev: bool, back: String) -> Self {
        Self {
            tr,
            title,
            dev,
            csrf: None,
            back,
            errors: FieldErrors::default(),
        }
    }

    /// Adds the token the page's forms (and the language switch) carry.
    pub fn with_csrf(mut self, csrf: &str) -> Self {
        self.csrf = Some(csrf.to_owned());
        self
    }

    /// Shows these errors.
    pub fn with_errors(mut self, errors: FieldErrors) -> Self {
        self.errors = errors;
        self
    }

    /// Shows the errors of `refusal`, when there is one.
    pub fn with_refusal(self, refusal: Option<&Refusal>) -> Self {
        match refusal {
            Some(r) => self.with_errors(r.errors.clone()),
            None => self,
        }
    }

    /// The text of message `key` in the page's language.
    pub fn t(&self, key: &'static str) -> &'static str {
        self.tr.get(key)
    }

    /// The page title.
    pub fn title(&self) -> &'static str {
        self.tr.get(self.title)
    }

    /// `zh-CN` or `en`, for `<html lang>`.
    pub fn lang_code(&self) -> &'static str {
        self.tr.code()
    }
}

/// A page or redirect about to be sent.
#[derive(Debug)]
pub(crate) struct Reply {
    status: StatusCode,
    body: String,
    headers: Vec<(HeaderName, String)>,
}

impl Reply {
    /// A rendered page, `200 OK` unless changed.
    pub fn page(web: &Web, view: &impl Template) -> Result<Self, Internal> {
        let body = view.render().map_err(|e| web.internal(e))?;
        Ok(Self::from_body(StatusCode::OK, body))
    }

    /// A page re-rendered after a refusal: its status and `Retry-After`.
    pub fn refused(web: &Web, view: &impl Template, refusal: &Refusal) -> Result<Self, Internal> {
        let reply = Self::page(web, view)?.status(refusal.status);
        Ok(match refusal.retry_after {
            Some(seconds) => reply.header(RETRY_AFTER, seconds.to_string()),
            None => reply,
        })
    }

    /// A page rendered elsewhere.
    pub fn from_body(status: StatusCode, body: String) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
        }
    }

    /// `303 See Other` to a path of this site.
    pub fn see_other(location: &str) -> Self {
        Self {
            status: StatusCode::SEE_OTHER,
            body: String::new(),
            headers: vec![(LOCATION, location.to_owned())],
        }
    }

    /// Changes the status.
    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Adds a `Set-Cookie` header.
    pub fn cookie(self, cookie: String) -> Self {
        self.header(SET_COOKIE, cookie)
    }

    /// Adds a `Set-Cookie` header when there is one.
    pub fn maybe_cookie(self, cookie: Option<String>) -> Self {
        match cookie {
            Some(cookie) => self.cookie(cookie),
            None => self,
        }
    }

    fn header(mut self, name: HeaderName, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        // Pages show personal data and carry tokens: never stored by any cache.
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        for (name, value) in self.headers {
            match HeaderValue::try_from(value) {
                Ok(value) => {
                    headers.append(name, value);
                }
                Err(err) => {
                    tracing::error!(header = %name, error = %err, "a response header could not be encoded");
                    return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                }
            }
        }
        response
    }
}

/// One option of a `<select>`.
#[derive(Debug, Clone)]
pub(crate) struct Choice {
    /// What is posted.
    pub value: &'static str,
    /// What is shown.
    pub label: &'static str,
    /// Chosen when the page is shown.
    pub selected: bool,
}

/// The document types, in the order forms list them, `selected` chosen (the resident
/// ID card when nothing valid was chosen).
pub(crate) fn id_type_choices(tr: Tr, selected: &str) -> Vec<Choice> {
    let selected = IdType::from_code(selected).unwrap_or(IdType::ResidentId);
    IdType::ALL
        .into_iter()
        .map(|t| Choice {
            value: t.code(),
            label: tr.id_type(t),
            selected: t == selected,
        })
        .collect()
}

/// A moment in China Standard Time (UTC+8), the time members read.
pub(crate) fn china(at: OffsetDateTime) -> OffsetDateTime {
    at.to_offset(offset!(+8))
}

/// `HH:MM` in China time, with the date in front when it is not today.
pub(crate) fn clock_time(now: OffsetDateTime, at: OffsetDateTime) -> String {
    let (now, at) = (china(now), china(at));
    let time = format!("{:02}:{:02}", at.hour(), at.minute());
    if at.date() == now.date() {
        time
    } else {
        format!("{} {time}", at.date())
    }
}

/// `YYYY-MM-DD HH:MM` in China time.
pub(crate) fn date_time(at: OffsetDateTime) -> String {
    let at = china(at);
    format!("{} {:02}:{:02}", at.date(), at.hour(), at.minute())
}

/// Whole seconds from `now` until `until`, at least one (for `Retry-After`).
pub(crate) fn seconds_until(now: OffsetDateTime, until: OffsetDateTime) -> u64 {
    u64::try_from((until - now).whole_seconds())
        .unwrap_or(0)
        .max(1)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn times_are_shown_in_china_time_with_the_date_when_not_today() {
        let now = datetime!(2026-11-23 02:00 UTC);
        assert_eq!(clock_time(now, datetime!(2026-11-23 02:15 UTC)), "10:15");
        assert_eq!(
            clock_time(now, datetime!(2026-11-23 16:30 UTC)),
            "2026-11-24 00:30"
        );
        assert_eq!(
            date_time(datetime!(2026-11-23 02:00 UTC)),
            "2026-11-23 10:00"
        );
        assert_eq!(seconds_until(now, now), 1);
        assert_eq!(seconds_until(now, datetime!(2026-11-23 02:01 UTC)), 60);
    }
}
