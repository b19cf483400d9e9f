//! The properties the fuzz targets in `fuzz/` check, as functions from the fuzzer's bytes
//! to a verdict, so that the targets and the tests that replay the saved corpus
//! (`tests/fuzz_corpus.rs`) run the very same checks.
//!
//! Each `check_*` function takes one fuzz input exactly as libFuzzer hands it over (and as
//! it is saved under `fuzz/corpus/<target>/`), runs the code under test on it and returns
//! the first property the code broke. A panic inside the code under test is a finding
//! too: the fuzzer reports it, and the replaying test fails on it.
//!
//! Nothing here is used by the service itself.

pub mod face;
pub mod identity;
pub mod totp;

use std::fmt;

/// A property of the code under test that one input broke, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Violation {}

/// The verdict on one fuzz input.
pub type Verdict = Result<(), Violation>;

/// Returns a [`Violation`] with the formatted message from the enclosing function when
/// the condition does not hold.
#[doc(hidden)]
#[macro_export]
macro_rules! fuzz_ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err($crate::fuzzing::Violation(format!($($message)+)));
        }
    };
}

/// Whether `text` holds a run of `at_least` ASCII digits or more: no refusal message
/// should, since none may repeat the number it refuses.
pub fn has_digit_run(text: &str, at_least: usize) -> bool {
    text.as_bytes()
        .split(|b| !b.is_ascii_digit())
        .any(|run| run.len() >= at_least)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_runs_are_counted_between_other_characters() {
        assert!(has_digit_run("born 19491231", 5));
        assert!(!has_digit_run("characters 7 to 14, year 1870", 5));
        assert!(!has_digit_run("", 1));
    }
}
