//! `/qualification`: where the member's yearly benefit qualification check stands (due
//! date, window, last and recent checks) and the relatives whose checks they may run.
//! The face check itself runs in the app, whose provider SDK does the liveness check;
//! the page says so.

use askama::Template;
use fundpass_core::qualification::{QualificationError, QualificationView};

use super::auth::Member;
use super::context::Web;
use super::error::Internal;
use super::layout::{Page, Reply, date_time};

/// One check as listed.
struct CheckRow {
    at: String,
    channel: &'static str,
    gap_months: u32,
}

/// A member's (or a relative's) standing as shown.
struct Standing {
    account_no: String,
    status: &'static str,
    suspended: bool,
    due_date: String,
    opens_on: String,
    face_check_open: bool,
    recent: Vec<CheckRow>,
}

#[derive(Template)]
#[template(path = "qualification.html")]
struct QualificationPage {
    page: Page,
    /// `None`: no benefit on file.
    own: Option<Standing>,
    relatives: Vec<Standing>,
}

/// `GET /qualification`.
pub(super) async fn page(Member { web, auth }: Member) -> Result<Reply, Internal> {
    let own = match web.state.portal.my_qualification(&auth).await {
        Ok(q) => Some(standing(&web, &q)),
        Err(QualificationError::NotEntitled) => None,
        Err(e) => return Err(web.internal(e)),
    };
    let relatives = web
        .state
        .portal
        .my_relatives(&auth)
        .await
        .map_err(|e| web.internal(e))?;
    let view = QualificationPage {
        page: web
            .page("qualification.title")
            .with_csrf(&auth.session.csrf),
        own,
        relatives: relatives.iter().map(|q| standing(&web, q)).collect(),
    };
    Reply::page(&web, &view)
}

fn standing(web: &Web, q: &QualificationView) -> Standing {
    Standing {
        account_no: q.account_no.clone(),
        status: web
            .tr
            .find(&format!("qualification.status_{}", q.status.code()))
            .unwrap_or(""),
        suspended: q.suspended_since.is_some(),
        due_date: q.due_date.to_string(),
        opens_on: q.opens_on.to_string(),
        face_check_open: q.face_check_open,
        recent: q
            .recent
            .iter()
            .map(|c| CheckRow {
                at: date_time(c.checked_at),
                channel: crate::record_text::value_text(web.tr, c.channel.code()),
                gap_months: c.gap_months,
            })
            .collect(),
    }
}
