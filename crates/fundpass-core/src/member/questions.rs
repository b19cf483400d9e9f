//! Security questions (seed 000): up to three per member, chosen from a fixed list,
//! answers normalised and stored only as keyed MACs. They are an extra factor for the
//! hotline's checklist and never enough on their own to recover anything.

use unicode_normalization::UnicodeNormalization as _;

use super::MemberId;

/// Questions a member may choose from; the texts live in the pages' message files
/// under `question.<code>`.
pub const QUESTION_CODES: &[&str] = &[
    "first_school",
    "childhood_friend",
    "first_employer",
    "favourite_teacher",
    "parents_hometown",
    "first_street",
];

/// Questions per member.
pub const MAX_QUESTIONS: usize = 3;

/// Longest answer, in characters after normalising.
pub const MAX_ANSWER_CHARS: usize = 64;

/// One stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityAnswer {
    pub member_id: MemberId,
    /// 1-based position.
    pub slot: i32,
    pub question: String,
    pub answer_mac: Vec<u8>,
}

/// Why a set of questions was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuestionError {
    #[error("choose between one and {MAX_QUESTIONS} questions")]
    Count,
    #[error("unknown question {0:?}")]
    UnknownQuestion(String),
    #[error("the same question was chosen twice")]
    Repeated,
    #[error("answer {slot} is empty")]
    EmptyAnswer { slot: usize },
    #[error("answer {slot} is longer than {MAX_ANSWER_CHARS} characters")]
    LongAnswer { slot: usize },
}

/// The form an answer is compared in: Unicode NFKC (full-width letters and digits
/// become ordinary ones), lower case, and without spaces or punctuation, so "Beijing
/// No. 4 Middle School" and "beijing no4 middle school" agree.
pub fn normalise_answer(raw: &str) -> String {
    raw.nfkc()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Checks a member's chosen questions and answers; returns the normalised answers in
/// order.
pub fn check_questions(
    chosen: &[(String, String)],
) -> Result<Vec<(String, String)>, QuestionError> {
    if chosen.is_empty() || chosen.len() > MAX_QUESTIONS {
        return Err(QuestionError::Count);
    }
    let mut out: Vec<(String, String)> = Vec::with_capacity(chosen.len());
    for (i, (question, answer)) in chosen.iter().enumerate() {
        let slot = i + 1;
        if !QUESTION_CODES.contains(&question.as_str()) {
            return Err(QuestionError::UnknownQuestion(
                question.chars().take(40).collect(),
            ));
        }
        if out.iter().any(|(q, _)| q == question) {
            return Err(QuestionError::Repeated);
        }
        if answer.chars().count() > MAX_ANSWER_CHARS * 4 {
            return Err(QuestionError::LongAnswer { slot });
        }
        let normalised = normalise_answer(answer);
        if normalised.is_empty() {
            return Err(QuestionError::EmptyAnswer { slot });
        }
        if normalised.chars().count() > MAX_ANSWER_CHARS {
            return Err(QuestionError::LongAnswer { slot });
        }
        out.push((question.clone(), normalised));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn answers_are_compared_without_case_width_spaces_or_punctuation() {
        assert_eq!(
            normalise_answer("  Beijing No. 4 Middle-School "),
            normalise_answer("beijing no4 middleschool")
        );
        assert_eq!(normalise_answer("ＡＢＣ１２３"), "abc123");
        assert_eq!(normalise_answer("北京 四中"), "北京四中");
    }

    #[test]
    fn bad_sets_of_questions_get_specific_errors() {
        assert_eq!(check_questions(&[]), Err(QuestionError::Count));
        assert_eq!(
            check_questions(&q(&[
                ("first_school", "a"),
                ("first_employer", "b"),
                ("first_street", "c"),
                ("childhood_friend", "d")
            ])),
            Err(QuestionError::Count)
        );
        assert_eq!(
            check_questions(&q(&[("pet", "a")])),
            Err(QuestionError::UnknownQuestion("pet".into()))
        );
        assert_eq!(
            check_questions(&q(&[("first_school", "a"), ("first_school", "b")])),
            Err(QuestionError::Repeated)
        );
        assert_eq!(
            check_questions(&q(&[("first_school", " .. ")])),
            Err(QuestionError::EmptyAnswer { slot: 1 })
        );
        let long = "a".repeat(MAX_ANSWER_CHARS + 1);
        assert_eq!(
            check_questions(&q(&[("first_school", "x"), ("first_street", &long)])),
            Err(QuestionError::LongAnswer { slot: 2 })
        );
        assert_eq!(
            check_questions(&q(&[("first_school", "Beijing No.4")])).unwrap(),
            q(&[("first_school", "beijingno4")])
        );
    }
}
