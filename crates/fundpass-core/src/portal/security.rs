//! The member's security record: holds in force, and security questions (seed 000),
//! an extra factor for the hotline that is never enough on its own.

use subtle::ConstantTimeEq as _;

use super::{Authenticated, Portal, RequestContext};
use crate::audit::Outcome;
use crate::member::{
    Hold, MemberId, QuestionError, SecurityAnswer, check_questions, normalise_answer,
};
use crate::ports::{ChangeSet, SmsPurpose, StoreError};

/// Why setting security questions failed.
#[derive(Debug, thiserror::Error)]
pub enum QuestionsError {
    #[error(transparent)]
    Invalid(#[from] QuestionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Portal {
    fn answer_purpose(member: MemberId, question: &str) -> String {
        format!("security-answer:{}:{question}", member.0)
    }

    /// The holds in force on the logged-in member.
    pub async fn holds_of(&self, auth: &Authenticated) -> Result<Vec<Hold>, StoreError> {
        self.store
            .active_holds(auth.member.id, self.clock.now())
            .await
    }

    /// The codes of the member's chosen questions, in order (never the answers).
    pub async fn security_questions_of(&self, member: MemberId) -> Result<Vec<String>, StoreError> {
        Ok(self
            .store
            .security_answers(member)
            .await?
            .into_iter()
            .map(|a| a.question)
            .collect())
    }

    /// Replaces the member's security questions; the phone on file is told.
    pub async fn set_security_questions(
        &self,
        auth: &Authenticated,
        chosen: &[(String, String)],
        ctx: &RequestContext,
    ) -> Result<(), QuestionsError> {
        let checked = check_questions(chosen)?;
        let member = auth.member.id;
        let answers = checked
            .iter()
            .zip(1..)
            .map(|((question, answer), slot)| SecurityAnswer {
                member_id: member,
                slot,
                question: question.clone(),
                answer_mac: self
                    .keyring
                    .answer_mac(&Self::answer_purpose(member, question), answer)
                    .to_vec(),
            })
            .collect();
        let phone = self.phone_on_file(&auth.member)?;
        let text = self.notice_text(&self.templates.questions_changed);
        let event = self
            .recovery_event(
                "security_questions.set",
                Outcome::Success,
                Some(member),
                ctx,
            )
            .details(serde_json::json!({"count": checked.len()}));
        self.store
            .apply(ChangeSet {
                clear_questions: vec![member],
                security_answers: answers,
                outbox: vec![self.outbox_message(
                    Some(member),
                    SmsPurpose::QuestionsNotice,
                    &phone,
                    &text,
                )],
                audit: vec![event],
                ..ChangeSet::default()
            })
            .await?;
        Ok(())
    }

    /// Compares answers given for a member (at the hotline) with the stored ones:
    /// for each question asked, whether the answer matched. A question the member has
    /// not set up never matches.
    pub async fn check_security_answers(
        &self,
        member: MemberId,
        given: &[(String, String)],
    ) -> Result<Vec<(String, bool)>, StoreError> {
        let stored = self.store.security_answers(member).await?;
        Ok(given
            .iter()
            .map(|(question, answer)| {
                let normalised = normalise_answer(answer);
                let ok = !normalised.is_empty()
                    && stored.iter().any(|s| {
                        s.question == *question
                            && bool::from(
                                self.keyring
                                    .answer_mac(
                                        &Self::answer_purpose(member, question),
                                        &normalised,
                                    )
                                    .ct_eq(s.answer_mac.as_slice()),
                            )
                    });
                (question.clone(), ok)
            })
            .collect())
    }
}
