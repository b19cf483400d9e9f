//! Target `totp_code`: what a staff member types into the second-factor field.
//!
//! The input is decoded with `arbitrary` into a [`TotpCase`]: a secret, the time of the
//! check, the step of the last code accepted, and either any text or the right code for
//! a nearby step, typed with spaces around it, changed in one digit, or in full-width
//! digits.
//!
//! Checked: a code is accepted only if it is, once trimmed, exactly the six digits of a
//! step within one step of now and newer than the last one used; the current code is
//! always accepted when no newer step was used; and the step returned is never accepted
//! again.

use arbitrary::{Arbitrary, Unstructured};
use time::OffsetDateTime;

use super::Verdict;
use crate::fuzz_ensure;
use crate::ports::SecretGenerator;
use crate::staff::{TOTP_DIGITS, TOTP_SECRET_LEN, TOTP_STEP_SECS, TotpSecret};

/// 2026-03-01 00:00:00 UTC: checks happen within about 136 years of it.
const BASE_UNIX: i64 = 1_772_323_200;

/// One fuzzed code entry.
#[derive(Debug, Arbitrary)]
pub struct TotpCase {
    secret: [u8; TOTP_SECRET_LEN],
    now: Now,
    code: Code,
    last_step: Option<LastStep>,
}

#[derive(Debug, Arbitrary)]
enum Now {
    /// Seconds after [`BASE_UNIX`].
    After(u32),
    /// Any Unix time, negative and far future included.
    At(i64),
}

#[derive(Debug, Arbitrary)]
enum Code {
    /// Any text.
    Typed(String),
    /// The code of the step `steps` away from now, typed in some way.
    Near { steps: i8, typed: Typing },
}

#[derive(Debug, Arbitrary)]
enum Typing {
    Exactly,
    Surrounded { before: String, after: String },
    FullWidth,
    OneDigitChanged { position: u8, by: u8 },
}

#[derive(Debug, Arbitrary)]
enum LastStep {
    /// Steps relative to the current one.
    Relative(i8),
    Any(i64),
}

/// A random source that hands out the fuzzed secret.
struct FixedBytes([u8; TOTP_SECRET_LEN]);

impl SecretGenerator for FixedBytes {
    fn fill(&self, buf: &mut [u8]) {
        for (slot, byte) in buf.iter_mut().zip(self.0.iter().cycle()) {
            *slot = *byte;
        }
    }
}

/// Target `totp_code`.
pub fn check_totp_code(data: &[u8]) -> Verdict {
    let Ok(case) = TotpCase::arbitrary_take_rest(Unstructured::new(data)) else {
        return Ok(());
    };
    check_case(&case)
}

fn check_case(case: &TotpCase) -> Verdict {
    let secret = TotpSecret::generate(&FixedBytes(case.secret));
    let unix = match case.now {
        Now::After(secs) => BASE_UNIX + i64::from(secs),
        Now::At(at) => at,
    };
    let Ok(now) = OffsetDateTime::from_unix_timestamp(unix) else {
        return Ok(());
    };
    let step_secs = TOTP_STEP_SECS as i64;
    let current = unix.div_euclid(step_secs);
    let code_of = |step: i64| {
        OffsetDateTime::from_unix_timestamp(step.saturating_mul(step_secs))
            .ok()
            .and_then(|at| secret.code_at(at).ok())
    };
    let code = match &case.code {
        Code::Typed(text) => text.clone(),
        Code::Near { steps, typed } => match code_of(current + i64::from(*steps)) {
            Some(code) => type_code(&code, typed),
            None => return Ok(()),
        },
    };
    let last_step = case.last_step.as_ref().map(|last| match last {
        LastStep::Relative(steps) => current + i64::from(*steps),
        LastStep::Any(step) => *step,
    });

    let verdict = secret.verify(&code, now, last_step);
    let trimmed = code.trim();
    if let Ok(step) = verdict {
        fuzz_ensure!(
            (current - 1..=current + 1).contains(&step) && last_step.is_none_or(|l| step > l),
            "{code:?} accepted for step {step} at step {current} after step {last_step:?}"
        );
        fuzz_ensure!(
            trimmed.len() == usize::from(TOTP_DIGITS)
                && trimmed.bytes().all(|b| b.is_ascii_digit())
                && code_of(step).as_deref() == Some(trimmed),
            "{code:?} accepted for step {step}, whose code is {:?}",
            code_of(step)
        );
        let again = secret.verify(&code, now, Some(step));
        fuzz_ensure!(
            again.is_err() || again.is_ok_and(|later| later > step),
            "{code:?} accepted for step {step} a second time: {again:?}"
        );
    }
    if unix >= 0
        && code_of(current).as_deref() == Some(trimmed)
        && last_step.is_none_or(|l| l < current - 1)
    {
        fuzz_ensure!(
            verdict.is_ok_and(|step| step <= current),
            "the current code {code:?} was refused: {verdict:?}"
        );
    }
    Ok(())
}

fn type_code(code: &str, typed: &Typing) -> String {
    match typed {
        Typing::Exactly => code.to_owned(),
        Typing::Surrounded { before, after } => format!("{before}{code}{after}"),
        Typing::FullWidth => code
            .chars()
            .map(|c| char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c))
            .collect(),
        Typing::OneDigitChanged { position, by } => code
            .bytes()
            .enumerate()
            .map(|(i, b)| {
                let shift = if i == usize::from(*position) % code.len().max(1) {
                    1 + by % 9
                } else {
                    0
                };
                char::from(b'0' + (b.wrapping_sub(b'0') % 10 + shift) % 10)
            })
            .collect(),
    }
}
