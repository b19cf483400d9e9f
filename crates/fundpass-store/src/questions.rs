//! [`SecurityQuestionStore`] over `security_answers`, and the question writes of a unit
//! of work. Only a keyed MAC of each normalised answer is stored.

use async_trait::async_trait;
use fundpass_core::member::{MemberId, SecurityAnswer};
use fundpass_core::ports::{SecurityQuestionStore, StoreError};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::connect::Store;
use crate::errors::db_error;
use crate::members::column;

#[async_trait]
impl SecurityQuestionStore for Store {
    async fn security_answers(&self, member: MemberId) -> Result<Vec<SecurityAnswer>, StoreError> {
        let rows = sqlx::query(
            "SELECT member_id, slot, question, answer_mac FROM security_answers \
             WHERE member_id = $1 ORDER BY slot",
        )
        .bind(member.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(answer_from_row).collect()
    }
}

/// Removes all of a member's questions inside a unit of work (none is not an error).
pub(crate) async fn clear_questions(
    conn: &mut AnyConnection,
    member: MemberId,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM security_answers WHERE member_id = $1")
        .bind(member.0)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Stores one answer inside a unit of work, guarded by the member's existence as secret
/// history is, so an unknown member is `NotFound` on both backends. A slot or question
/// the member already has is `Duplicate` (`security_answers_pkey`,
/// `security_answers_question_key`).
pub(crate) async fn insert_answer(
    conn: &mut AnyConnection,
    answer: &SecurityAnswer,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "INSERT INTO security_answers (member_id, slot, question, answer_mac) \
         SELECT id, $2, $3, $4 FROM members WHERE id = $1",
    )
    .bind(answer.member_id.0)
    .bind(answer.slot)
    .bind(answer.question.as_str())
    .bind(answer.answer_mac.as_slice())
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

fn answer_from_row(row: &AnyRow) -> Result<SecurityAnswer, StoreError> {
    Ok(SecurityAnswer {
        member_id: MemberId(column(row, "member_id")?),
        slot: column(row, "slot")?,
        question: column(row, "question")?,
        answer_mac: column(row, "answer_mac")?,
    })
}
