//! Finding full document and phone numbers in text, in any form a response, a log
//! line or an audit record might carry them: as written, percent-encoded, JSON- or
//! HTML-escaped, base64-encoded, or with the digits grouped by spaces or hyphens.
//!
//! A masked form (`110105********1239`, `138****5678`) breaks the run of digits and
//! is not a hit; only the whole value is.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// What a known value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    DocumentNumber,
    Phone,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Self::DocumentNumber => "a full document number",
            Self::Phone => "a full phone number",
        }
    }
}

/// A value the test process knows to be someone's full document or phone number,
/// upper case (a resident ID's check character `x` is written `X`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Known {
    pub kind: Kind,
    pub value: String,
}

/// One known value found in a text.
#[derive(Debug, Clone)]
pub struct Hit {
    pub kind: Kind,
    /// The value with its middle starred, safe to print.
    pub masked: String,
    /// How the text had to be decoded for the value to appear ("as written", …).
    pub form: &'static str,
    /// Up to 60 characters either side of the value in the text as written (every
    /// known value in it masked), when it appears as written.
    pub context: Option<String>,
}

impl std::fmt::Display for Hit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}), {}",
            self.kind.describe(),
            self.masked,
            self.form
        )?;
        if let Some(context) = &self.context {
            write!(f, ", in «{context}»")?;
        }
        Ok(())
    }
}

/// `value` with all but its first three and last two (phone) or first six and last
/// four (longer) characters starred.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let (head, tail) = if chars.len() >= 15 { (6, 4) } else { (3, 2) };
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < head || i >= chars.len() - tail {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

/// Every value of `known` found in `text`, in any of its decoded forms (each value
/// reported once, in the first form it shows up in).
pub fn find(text: &str, known: &[Known]) -> Vec<Hit> {
    if known.is_empty() {
        return Vec::new();
    }
    let mut hits: Vec<Hit> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (form, decoded) in forms(text) {
        for (known, at) in found_in(&decoded, known) {
            if seen.contains(&known.value.as_str()) {
                continue;
            }
            seen.push(&known.value);
            let context = (form == AS_WRITTEN).then(|| excerpt(text, at));
            hits.push(Hit {
                kind: known.kind,
                masked: mask(&known.value),
                form,
                context,
            });
        }
    }
    hits
}

const AS_WRITTEN: &str = "as written";

/// The text and what each decoding makes of it (percent-decoding and JSON-unescaping
/// twice over, for a value encoded twice, e.g. inside a URL inside a JSON string).
fn forms(text: &str) -> Vec<(&'static str, String)> {
    let percent = percent_decode(text);
    let json = json_unescape(text);
    vec![
        (AS_WRITTEN, text.to_owned()),
        ("percent-decoded", percent_decode(&percent)),
        ("JSON-unescaped", json_unescape(&json)),
        ("HTML-entity-decoded", entity_decode(text)),
        (
            "percent-decoded, then JSON-unescaped",
            json_unescape(&percent),
        ),
        (
            "JSON-unescaped, then percent-decoded",
            percent_decode(&json),
        ),
        ("base64-decoded", base64_segments(text)),
        (
            "percent-decoded, then base64-decoded",
            base64_segments(&percent),
        ),
    ]
}

/// The known values in `text`, each with the byte offset of the run of digits it
/// is in (values that are not digits are looked for as they are).
fn found_in<'k>(text: &str, known: &'k [Known]) -> Vec<(&'k Known, usize)> {
    let runs = digit_runs(text);
    let upper = text.to_ascii_uppercase();
    let mut out = Vec::new();
    for k in known {
        let numeric = k.value.chars().all(|c| c.is_ascii_digit() || c == 'X');
        let at = if numeric {
            runs.iter()
                .find(|(_, digits)| digits.contains(&k.value))
                .map(|(start, _)| *start)
        } else {
            upper.find(&k.value).filter(|at| text.is_char_boundary(*at))
        };
        if let Some(at) = at {
            out.push((k, at));
        }
    }
    out
}

/// Runs of at least 11 digits (full-width digits read as digits, an `X` or `x`
/// straight after a digit kept as `X`, one space, hyphen or no-break space between
/// two digits skipped), with the byte offset each starts at.
fn digit_runs(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut run = String::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if let Some(digit) = digit(c) {
            if run.is_empty() {
                start = at;
            }
            run.push(digit);
            continue;
        }
        let after_digit = run.ends_with(|l: char| l.is_ascii_digit());
        if matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ') && after_digit {
            run.push('X');
            continue;
        }
        let separator = matches!(c, ' ' | '-' | '\u{a0}' | '\u{2009}' | '\u{202f}' | '\t');
        if separator && after_digit && chars.peek().is_some_and(|(_, n)| digit(*n).is_some()) {
            continue;
        }
        if run.len() >= 11 {
            out.push((start, std::mem::take(&mut run)));
        }
        run.clear();
    }
    if run.len() >= 11 {
        out.push((start, run));
    }
    out
}

fn digit(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')),
        _ => None,
    }
}

/// Up to 60 characters either side of byte `at`, every run of 11 or more digits in
/// it starred in the middle.
fn excerpt(text: &str, at: usize) -> String {
    let before: String = {
        let mut chars: Vec<char> = text[..at].chars().rev().take(60).collect();
        chars.reverse();
        chars.into_iter().collect()
    };
    let after: String = text[at..].chars().take(80).collect();
    let around = format!("{before}{after}");
    let mut masked = around.clone();
    for (_, run) in digit_runs(&around) {
        masked = masked.replace(&run, &mask(&run));
    }
    masked.replace(['\n', '\r'], " ")
}

/// `%XX` decoded and `+` read as a space (as forms and query strings encode).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// JSON string escapes (`\uXXXX`, surrogate pairs included, `\"`, `\\`, `\/`, …)
/// decoded wherever they are in `text`.
pub fn json_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') => {
                let unit = hex4(&mut chars);
                match unit {
                    Some(high @ 0xD800..=0xDBFF) => {
                        let low = {
                            let mut ahead = chars.clone();
                            (ahead.next() == Some('\\') && ahead.next() == Some('u'))
                                .then(|| hex4(&mut ahead).map(|l| (l, ahead)))
                                .flatten()
                        };
                        match low {
                            Some((low @ 0xDC00..=0xDFFF, ahead)) => {
                                let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                                chars = ahead;
                            }
                            _ => out.push('\u{fffd}'),
                        }
                    }
                    Some(unit) => out.push(char::from_u32(unit).unwrap_or('\u{fffd}')),
                    None => out.push_str("\\u"),
                }
            }
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b' | 'f') => out.push(' '),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn hex4(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<u32> {
    let mut ahead = chars.clone();
    let hex: String = (0..4).filter_map(|_| ahead.next()).collect();
    let value = (hex.len() == 4)
        .then(|| u32::from_str_radix(&hex, 16).ok())
        .flatten()?;
    *chars = ahead;
    Some(value)
}

/// Numeric character references (`&#49;`, `&#x31;`) decoded.
pub fn entity_decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("&#") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 2..];
        let decoded = tail.find(';').and_then(|end| {
            let number = &tail[..end];
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => number.parse().ok(),
            }?;
            Some((char::from_u32(code)?, end + 1))
        });
        match decoded {
            Some((c, used)) => {
                out.push(c);
                rest = &tail[used..];
            }
            None => {
                out.push_str("&#");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every run of 16 or more base64 or base64url characters, decoded (one per line;
/// what is not text comes out as replacement characters).
pub fn base64_segments(text: &str) -> String {
    let engine = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_');
    let mut out = String::new();
    for segment in text.split(|c: char| !is_b64(c)) {
        if segment.len() < 16 {
            continue;
        }
        let mut url: String = segment
            .chars()
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                other => other,
            })
            .collect();
        if url.len() % 4 == 1 {
            url.pop();
        }
        if let Ok(bytes) = engine.decode(&url) {
            out.push_str(&String::from_utf8_lossy(&bytes));
            out.push('\n');
        }
    }
    out
}
