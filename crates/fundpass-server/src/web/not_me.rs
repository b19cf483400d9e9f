//! "This was not me" from the security record: `GET /security/record/{seq}/not-me`
//! says what reporting the event will do and asks to confirm; `POST` reports it. Every
//! session ends (this one too), payouts are held, the phone on file is texted the
//! hotline's number; the page that follows says so and leads to the login page.

use askama::Template;
use axum::response::{IntoResponse as _, Response};
use fundpass_core::record::NotMeError;

use super::auth::Member;
use super::context::{PagePath, Web};
use super::cookies;
use super::csrf::{AnonToken, MemberForm};
use super::error::{self, Internal};
use super::home::TokenForm;
use super::layout::{Page, Reply, date_time};
use crate::record_text::{EntryText, entry_text};

#[derive(Template)]
#[template(path = "not_me.html")]
struct ConfirmView {
    page: Page,
    csrf: String,
    entry: EntryText,
}

#[derive(Template)]
#[template(path = "not_me_done.html")]
struct DoneView {
    page: Page,
    hold_text: String,
    next_text: String,
}

/// `GET /security/record/{seq}/not-me`.
pub(super) async fn confirm(
    PagePath(seq): PagePath<i64>,
    Member { web, auth }: Member,
) -> Result<Response, Internal> {
    let page = web
        .state
        .portal
        .security_record(&auth, seq.checked_add(1), None, 1)
        .await
        .map_err(|e| web.internal(e))?;
    let Some(entry) = page.entries.iter().find(|e| e.seq == seq && e.reportable) else {
        return Ok(error::not_found(&web));
    };
    let view = ConfirmView {
        page: web.page("not_me.title").with_csrf(&auth.session.csrf),
        csrf: auth.session.csrf.clone(),
        entry: entry_text(web.tr, entry),
    };
    Ok(Reply::page(&web, &view)?.into_response())
}

/// `POST /security/record/{seq}/not-me`.
pub(super) async fn report(
    PagePath(seq): PagePath<i64>,
    MemberForm { web, auth, .. }: MemberForm<TokenForm>,
) -> Result<Response, Internal> {
    match web.state.portal.report_not_me(&auth, seq, &web.ctx()).await {
        Ok(report) => done_page(&web, &report.hold.until, report.hotline),
        Err(NotMeError::UnknownEvent | NotMeError::NotReportable) => Ok(error::not_found(&web)),
        Err(NotMeError::Store(e)) => Err(web.internal(e)),
    }
}

/// What happened, on a page no session opens any more: the cookie goes.
fn done_page(
    web: &Web,
    until: &time::OffsetDateTime,
    hotline: String,
) -> Result<Response, Internal> {
    let token = AnonToken::for_page(web);
    let view = DoneView {
        page: web.page("not_me.done_title").with_csrf(&token.value),
        hold_text: web
            .tr
            .format("not_me.done_hold", &[("until", &date_time(*until))]),
        next_text: web.tr.format("not_me.done_next", &[("hotline", &hotline)]),
    };
    Ok(Reply::page(web, &view)?
        .maybe_cookie(token.set_cookie)
        .cookie(cookies::clear_session(&web.state.settings))
        .into_response())
}
