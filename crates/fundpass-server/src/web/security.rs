//! The security menu (the source's 辅助功能): the way to a forgotten transaction
//! password, the security questions, and the holds in force on the account, which
//! the home page lists too.
//!
//! Security questions are an extra check the service hotline may ask, never enough
//! on their own; the page lists which questions are set and never any answer.

use askama::Template;
use fundpass_core::audit::Channel;
use fundpass_core::member::{
    Hold, HoldReason, MAX_ANSWER_CHARS, MAX_QUESTIONS, QUESTION_CODES, QuestionError,
};
use fundpass_core::portal::{Authenticated, QuestionsError};
use serde::Deserialize;

use super::auth::Member;
use super::context::Web;
use super::csrf::{MemberForm, csrf_field};
use super::error::{FieldErrors, Internal, Refusal};
use super::layout::{Choice, Page, Reply, date_time};
use super::recovery::finish;

/// A hold as the member reads it.
#[derive(Debug, Clone)]
pub(super) struct HoldView {
    /// What changed.
    pub what: &'static str,
    /// When.
    pub at: String,
    /// Through which channel.
    pub channel: &'static str,
    /// When the hold ends.
    pub until: String,
}

/// The holds in force on the member, newest first, as shown.
pub(super) async fn holds(web: &Web, auth: &Authenticated) -> Result<Vec<HoldView>, Internal> {
    let mut holds = web
        .state
        .portal
        .holds_of(auth)
        .await
        .map_err(|e| web.internal(e))?;
    holds.sort_by_key(|h| std::cmp::Reverse(h.created_at));
    Ok(holds.iter().map(|h| hold_view(web, h)).collect())
}

pub(super) fn hold_view(web: &Web, hold: &Hold) -> HoldView {
    let what = match hold.reason {
        HoldReason::LoginReset => "hold.login_reset",
        HoldReason::TransactionReset => "hold.transaction_reset",
        HoldReason::PhoneChange => "hold.phone_change",
        HoldReason::ReportedByMember => "hold.reported_by_member",
    };
    let channel = match hold.channel {
        Channel::Web => "channel.web",
        Channel::App => "channel.app",
        Channel::Counter => "channel.counter",
        Channel::Hotline => "channel.hotline",
        Channel::Internal | Channel::Cli | Channel::System => "channel.centre",
    };
    HoldView {
        what: web.tr.get(what),
        at: date_time(hold.created_at),
        channel: web.tr.get(channel),
        until: date_time(hold.until),
    }
}

/// What the holds list says they mean, with the hotline to call.
pub(super) fn holds_hint(web: &Web) -> String {
    web.tr.format(
        "hold.hint",
        &[("hotline", &web.state.portal.templates.hotline)],
    )
}

#[derive(Template)]
#[template(path = "security.html")]
struct MenuView {
    page: Page,
    holds: Vec<HoldView>,
    holds_hint: String,
}

/// `GET /security`: the menu and the holds.
pub(super) async fn menu(Member { web, auth }: Member) -> Result<Reply, Internal> {
    let view = MenuView {
        page: web.page("security.title").with_csrf(&auth.session.csrf),
        holds: holds(&web, &auth).await?,
        holds_hint: holds_hint(&web),
    };
    Reply::page(&web, &view)
}

/// The questions form as posted: the `question` and `answer` fields in the order
/// the page lists them (pairs of the n-th of each), plus the token.
#[derive(Deserialize)]
#[serde(from = "Vec<(String, String)>")]
pub(super) struct QuestionsForm {
    csrf: String,
    rows: Vec<(String, String)>,
}

impl From<Vec<(String, String)>> for QuestionsForm {
    fn from(pairs: Vec<(String, String)>) -> Self {
        let mut csrf = String::new();
        let (mut questions, mut answers) = (Vec::new(), Vec::new());
        for (name, value) in pairs {
            match name.as_str() {
                "csrf" => csrf = value,
                "question" => questions.push(value),
                "answer" => answers.push(value),
                _ => {}
            }
        }
        answers.resize(answers.len().max(questions.len()), String::new());
        questions.resize(answers.len(), String::new());
        Self {
            csrf,
            rows: questions.into_iter().zip(answers).collect(),
        }
    }
}

csrf_field!(QuestionsForm);

/// Field ids of the rows the page shows (`FieldError` names are static).
const QUESTION_FIELDS: [&str; MAX_QUESTIONS] = ["question_1", "question_2", "question_3"];
const ANSWER_FIELDS: [&str; MAX_QUESTIONS] = ["answer_1", "answer_2", "answer_3"];

/// One row of the form: a question to choose and its answer (always empty).
struct RowView {
    number: usize,
    question_field: &'static str,
    answer_field: &'static str,
    choices: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "questions.html")]
struct QuestionsView {
    page: Page,
    csrf: String,
    /// The texts of the questions set, in order.
    set: Vec<&'static str>,
    rows: Vec<RowView>,
    saved: bool,
    max_hint: String,
}

pub(super) use crate::i18n::question_key;

/// `GET /security/questions`.
pub(super) async fn questions_form(Member { web, auth }: Member) -> Result<Reply, Internal> {
    questions_page(&web, &auth, &[], false, None).await
}

/// `POST /security/questions`: replaces the member's questions. Rows left empty are
/// skipped; an answer without a question is refused here.
pub(super) async fn save_questions(
    MemberForm { web, auth, form }: MemberForm<QuestionsForm>,
) -> Result<Reply, Internal> {
    let mut rows = Vec::new();
    let mut chosen = Vec::new();
    for (i, (question, answer)) in form.rows.iter().enumerate() {
        if question.is_empty() && answer.trim().is_empty() {
            continue;
        }
        if question.is_empty() {
            let refusal = Refusal::new(
                QUESTION_FIELDS.get(i).copied(),
                web.tr.get("questions.choose_question"),
            );
            return questions_page(&web, &auth, &form.rows, false, Some(refusal)).await;
        }
        rows.push(i);
        chosen.push((question.clone(), answer.clone()));
    }
    match web
        .state
        .portal
        .set_security_questions(&auth, &chosen, &web.ctx())
        .await
    {
        Ok(()) => questions_page(&web, &auth, &[], true, None).await,
        Err(QuestionsError::Invalid(err)) => {
            let refusal = question_refusal(&web, &form.rows, &rows, err);
            questions_page(&web, &auth, &form.rows, false, Some(refusal)).await
        }
        Err(QuestionsError::Store(e)) => Err(web.internal(e)),
    }
}

/// The message for refused questions, next to the row it is about. `rows[k]` is the
/// form row of the k-th question the core was given.
fn question_refusal(
    web: &Web,
    posted: &[(String, String)],
    rows: &[usize],
    err: QuestionError,
) -> Refusal {
    let tr = web.tr;
    // The core counts answers from 1, in the order it was given them.
    let row_of = |slot: usize| slot.checked_sub(1).and_then(|k| rows.get(k)).copied();
    let max = MAX_QUESTIONS.to_string();
    match err {
        QuestionError::Count => Refusal::new(None, tr.format("questions.count", &[("max", &max)])),
        QuestionError::UnknownQuestion(_) => {
            let row = rows.iter().copied().find(|&r| {
                posted
                    .get(r)
                    .is_some_and(|(q, _)| !QUESTION_CODES.contains(&q.as_str()))
            });
            Refusal::new(
                row.and_then(|r| QUESTION_FIELDS.get(r).copied()),
                tr.get("questions.unknown"),
            )
        }
        QuestionError::Repeated => {
            let question = |r: usize| posted.get(r).map(|(q, _)| q);
            let row = rows.iter().copied().find(|&r| {
                rows.iter()
                    .any(|&earlier| earlier < r && question(earlier) == question(r))
            });
            Refusal::new(
                row.and_then(|r| QUESTION_FIELDS.get(r).copied()),
                tr.get("questions.repeated"),
            )
        }
        QuestionError::EmptyAnswer { slot } => Refusal::new(
            row_of(slot).and_then(|r| ANSWER_FIELDS.get(r).copied()),
            tr.get("questions.empty_answer"),
        ),
        QuestionError::LongAnswer { slot } => Refusal::new(
            row_of(slot).and_then(|r| ANSWER_FIELDS.get(r).copied()),
            tr.format(
                "questions.long_answer",
                &[("max", &MAX_ANSWER_CHARS.to_string())],
            ),
        ),
    }
}

/// The page: the questions set, and the form with `posted` questions (or, with none
/// posted, the questions set) chosen; answers never come back.
async fn questions_page(
    web: &Web,
    auth: &Authenticated,
    posted: &[(String, String)],
    saved: bool,
    refusal: Option<Refusal>,
) -> Result<Reply, Internal> {
    let set = web
        .state
        .portal
        .security_questions_of(auth.member.id)
        .await
        .map_err(|e| web.internal(e))?;
    let errors: FieldErrors = refusal
        .as_ref()
        .map(|r| r.errors.clone())
        .unwrap_or_default();
    let rows = QUESTION_FIELDS
        .iter()
        .zip(ANSWER_FIELDS)
        .enumerate()
        .map(|(i, (&question_field, answer_field))| {
            // After a refusal the questions just posted; otherwise those set now.
            let selected = if posted.is_empty() {
                set.get(i).map_or("", String::as_str)
            } else {
                posted.get(i).map_or("", |(q, _)| q.as_str())
            };
            RowView {
                number: i + 1,
                question_field,
                answer_field,
                choices: question_choices(web, selected),
            }
        })
        .collect();
    let view = QuestionsView {
        page: web
            .page("questions.title")
            .with_csrf(&auth.session.csrf)
            .with_errors(errors),
        csrf: auth.session.csrf.clone(),
        set: set
            .iter()
            .map(|code| {
                web.tr
                    .get(question_key(code).unwrap_or("questions.retired"))
            })
            .collect(),
        rows,
        saved,
        max_hint: web
            .tr
            .format("questions.max_hint", &[("max", &MAX_QUESTIONS.to_string())]),
    };
    finish(web, &view, refusal.as_ref())
}

/// "Not set" and every question, `selected` chosen.
fn question_choices(web: &Web, selected: &str) -> Vec<Choice> {
    let none = Choice {
        value: "",
        label: web.tr.get("questions.none"),
        selected: selected.is_empty(),
    };
    let questions = QUESTION_CODES.iter().filter_map(|&code| {
        question_key(code).map(|key| Choice {
            value: code,
            label: web.tr.get(key),
            selected: code == selected,
        })
    });
    std::iter::once(none).chain(questions).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_question_of_the_core_has_a_text() {
        for code in QUESTION_CODES {
            assert!(question_key(code).is_some(), "{code}");
        }
    }

    #[test]
    fn questions_and_answers_are_paired_in_order_and_blank_rows_kept() {
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let form = QuestionsForm::from(vec![
            pair("csrf", "t"),
            pair("question", "first_school"),
            pair("answer", "No. 4"),
            pair("question", ""),
            pair("answer", ""),
            pair("question", "first_street"),
        ]);
        assert_eq!(form.csrf, "t");
        assert_eq!(
            form.rows,
            vec![
                pair("first_school", "No. 4"),
                pair("", ""),
                pair("first_street", ""),
            ]
        );
    }
}
