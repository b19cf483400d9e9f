//! Removing personal data and codes from gateway error strings before they are logged
//! or stored in the outbox row.

use fundpass_core::identity::Phone;
use fundpass_core::ports::SmsContent;

/// Longest error kept, in characters, so a gateway cannot fill the outbox row.
const MAX_ERROR_CHARS: usize = 200;

/// Digit runs this long or longer are replaced: one-time codes (6 digits) and phone
/// numbers (11) are hidden, while status codes (3) and masked phones (runs of 3 and 4)
/// stay readable.
const MIN_HIDDEN_DIGITS: usize = 6;

/// Returns `error` without the message text, without the full phone number and without
/// any long digit run, cut to [`MAX_ERROR_CHARS`]. Senders are meant to produce clean
/// errors already; this is the worker's second line of defence against a sender (or a
/// gateway it quotes) that echoes what it was sent.
pub(crate) fn scrub(error: &str, phone: &Phone, text: &str) -> String {
    let mut out = error.to_owned();
    if !text.trim().is_empty() {
        out = out.replace(text, "[text]");
    }
    out = out.replace(phone.normalised(), &phone.masked());
    let out = hide_long_digit_runs(&out);
    out.chars().take(MAX_ERROR_CHARS).collect()
}

/// The template values that are secrets: a provider quoting its request back must not
/// leave a one-time code or a reset ticket in a log or the outbox row.
const SECRET_PARAMS: [&str; 2] = ["code", "ticket"];

/// [`scrub`], also removing the secret template values of `content`.
pub(crate) fn scrub_content(error: &str, phone: &Phone, content: &SmsContent) -> String {
    let mut out = error.to_owned();
    for name in SECRET_PARAMS {
        if let Some(value) = content.param(name).filter(|v| !v.trim().is_empty()) {
            out = out.replace(value, "[secret]");
        }
    }
    scrub(&out, phone, &content.text)
}

fn hide_long_digit_runs(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut run = String::new();
    for c in input.chars() {
        if c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        flush(&mut out, &mut run);
        out.push(c);
    }
    flush(&mut out, &mut run);
    out
}

fn flush(out: &mut String, run: &mut String) {
    if run.len() >= MIN_HIDDEN_DIGITS {
        out.push_str("[digits]");
    } else {
        out.push_str(run);
    }
    run.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone() -> Phone {
        Phone::parse("13812345678").unwrap()
    }

    #[test]
    fn text_phone_and_codes_are_removed() {
        let text = "Your code is 482913";
        let raw = format!("rejected {text} for +8613812345678; also 482913 and 13812345678");
        let clean = scrub(&raw, &phone(), text);
        assert!(!clean.contains("482913"), "{clean}");
        assert!(!clean.contains("13812345678"), "{clean}");
        assert!(!clean.contains(text), "{clean}");
        assert!(clean.contains("[text]"), "{clean}");
    }

    #[test]
    fn status_codes_and_masked_phones_stay_readable() {
        let raw = "gateway answered 503 for 138****5678";
        assert_eq!(scrub(raw, &phone(), "hello"), raw);
    }

    #[test]
    fn secret_template_values_are_removed() {
        let content = SmsContent {
            text: "ticket AB-CD-EF".into(),
            params: vec![
                ("ticket".into(), "AB-CD-EF".into()),
                ("hours".into(), "24".into()),
            ],
        };
        let clean = scrub_content("bad param AB-CD-EF for 24 hours", &phone(), &content);
        assert_eq!(clean, "bad param [secret] for 24 hours");
    }

    #[test]
    fn long_errors_are_cut() {
        let raw = "x".repeat(1000);
        assert_eq!(scrub(&raw, &phone(), "t").chars().count(), MAX_ERROR_CHARS);
    }
}
