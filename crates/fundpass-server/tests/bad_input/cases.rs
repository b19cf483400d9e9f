//! The hostile inputs, and which of them each row and field is tried with.
//!
//! Whole-body cases replace or mangle the body; field cases put one hostile value in
//! one field and leave every other field good, so the answer is about that value.

use super::{Body, Expect, Field, Kind, Place, Row, Surface};

/// Marks a value whose echo would be markup if it came back unescaped.
pub const MARKER: &str = "<x-echo a='1'>\"&";

/// What is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// The good body declared as `text/plain`.
    WrongContentType,
    /// The good body with no `Content-Type`.
    NoContentType,
    /// A body that declares 16 KiB and one byte.
    OversizedDeclared,
    /// A body of 16 KiB and one byte, streamed without a length.
    OversizedChunked,
    /// `{"name": "<marker>", ` and nothing more (to a form: the wrong type).
    MalformedJson,
    /// Arrays nested 5,000 deep (10,000 bytes, under the 16 KiB limit).
    DeepJson,
    /// A raw NUL byte inside a JSON string (not the `\u0000` escape).
    RawNulInJson,
    /// Bytes that are not UTF-8 (raw in JSON, percent-encoded elsewhere).
    InvalidUtf8,
    /// A NUL character inside the value.
    Nul,
    /// 100,000 characters.
    Huge,
    /// 5,000 characters: over every field's limit, under the body's.
    Long,
    /// The value's digits in full width (U+FF10…): see [`full_width`].
    FullWidth,
    /// A document number with a look-alike letter: see [`CONFUSABLES`].
    Confusable(usize),
}

/// Look-alikes of the letters and digits of document numbers: a Cyrillic and a Greek
/// X as the check character, the letter O (Latin and Cyrillic) for zero, l and I for
/// one, and a passport number whose leading E is Cyrillic.
pub const CONFUSABLES: [(&str, &str); 7] = [
    ("resident_id", "11010519491231002\u{425}"),
    ("resident_id", "11010519491231002\u{3a7}"),
    ("resident_id", "11O10519491231002X"),
    ("resident_id", "11\u{41e}10519491231002X"),
    ("resident_id", "l1010519491231002X"),
    ("resident_id", "I1010519491231002X"),
    ("passport", "\u{415}12345678"),
];

/// A value to put in a field.
#[derive(Debug, Clone)]
pub struct Hostile {
    pub make: Make,
    /// Placed in a JSON body as raw bytes rather than as a JSON string (which would
    /// escape them).
    pub raw: bool,
    /// Sets the row's `id_type` field too (a passport number is not a resident ID).
    pub id_type: Option<&'static str>,
}

/// How a hostile value is made.
#[derive(Debug, Clone)]
pub enum Make {
    /// These bytes.
    Fixed(Vec<u8>),
    /// From the field's good value as the row filled it in.
    FromGood(fn(&str) -> Vec<u8>),
}

impl Hostile {
    fn text(text: impl Into<String>) -> Self {
        Self {
            make: Make::Fixed(text.into().into_bytes()),
            raw: false,
            id_type: None,
        }
    }

    fn from_good(make: fn(&str) -> Vec<u8>) -> Self {
        Self {
            make: Make::FromGood(make),
            raw: false,
            id_type: None,
        }
    }

    /// The bytes to send in place of `good`.
    pub fn bytes(&self, good: &str) -> Vec<u8> {
        match &self.make {
            Make::Fixed(bytes) => bytes.clone(),
            Make::FromGood(make) => make(good),
        }
    }
}

/// One request of the table: a case, and the field it targets (none for a
/// whole-body case).
#[derive(Debug, Clone)]
pub struct Attempt {
    pub case: Case,
    pub field: Option<Field>,
    pub value: Option<Hostile>,
    /// The same request with the digits in ASCII, whose answer the full-width one
    /// must match (full-width digits in documents and phones are forgiven).
    pub control: Option<Hostile>,
}

impl Attempt {
    /// `case` on `field`, for messages.
    pub fn label(&self) -> String {
        match &self.field {
            Some(f) => format!("{:?} in {}", self.case, f.name),
            None => format!("{:?}", self.case),
        }
    }
}

/// Every attempt for `row`, in order: whole-body cases, then each field's.
pub fn attempts(row: &Row) -> Vec<Attempt> {
    let mut out = Vec::new();
    let whole = |case| Attempt {
        case,
        field: None,
        value: None,
        control: None,
    };
    if row.body != Body::None {
        out.extend(
            [
                Case::WrongContentType,
                Case::NoContentType,
                Case::OversizedDeclared,
                Case::OversizedChunked,
                Case::MalformedJson,
                Case::DeepJson,
            ]
            .map(whole),
        );
        if row.body == Body::Json {
            out.push(whole(Case::RawNulInJson));
        }
    }
    for field in row.fields {
        out.extend(field_attempts(row, field));
    }
    out
}

/// The hostile values tried in `field`.
fn field_attempts(row: &Row, field: &Field) -> Vec<Attempt> {
    let mut out = Vec::new();
    let mut push = |case, value: Hostile, control| {
        out.push(Attempt {
            case,
            field: Some(*field),
            value: Some(value),
            control,
        });
    };
    push(
        Case::InvalidUtf8,
        Hostile {
            raw: true,
            ..Hostile::from_good(|good| [&[0xff_u8, 0xfe, b'a'][..], good.as_bytes()].concat())
        },
        None,
    );
    match field.kind {
        // A header cannot carry a NUL at all.
        _ if matches!(field.place, Place::Bearer | Place::Header) => {}
        Kind::Document | Kind::Phone | Kind::Digits => {
            push(Case::Nul, Hostile::from_good(|g| with_nul(g, "")), None);
        }
        Kind::Text | Kind::Secret | Kind::Token | Kind::Choice => {
            push(Case::Nul, Hostile::from_good(|g| with_nul(g, MARKER)), None);
        }
        Kind::Answer => {}
    }
    push(
        Case::Huge,
        Hostile::text(format!("{MARKER}{}", "9".repeat(100_000))),
        None,
    );
    push(
        Case::Long,
        Hostile::text(format!("{MARKER}{}", "9".repeat(5_000))),
        None,
    );
    match field.kind {
        Kind::Document => {
            // A number with a wrong check character: read as digits, the full-width
            // form is refused for the check character, as the ASCII form is.
            let ascii = "110105194912310021";
            push(
                Case::FullWidth,
                Hostile::text(full_width(ascii)),
                Some(Hostile::text(ascii)),
            );
            for (i, (id_type, number)) in CONFUSABLES.iter().enumerate() {
                let mut value = Hostile::text(*number);
                if *id_type != "resident_id" {
                    if !has_id_type(row) {
                        continue;
                    }
                    value.id_type = Some(id_type);
                }
                push(Case::Confusable(i), value, None);
            }
        }
        Kind::Phone => {
            // Eleven digits that are not a mobile number.
            let ascii = "12345678901";
            push(
                Case::FullWidth,
                Hostile::text(full_width(ascii)),
                Some(Hostile::text(ascii)),
            );
        }
        Kind::Digits | Kind::Secret => {
            push(
                Case::FullWidth,
                Hostile::from_good(|g| full_width(g).into_bytes()),
                None,
            );
        }
        Kind::Text | Kind::Answer | Kind::Token | Kind::Choice => {}
    }
    out
}

fn has_id_type(row: &Row) -> bool {
    row.fields.iter().any(|f| f.name.ends_with("id_type"))
}

/// `good` with a NUL in the middle, after `prefix`.
fn with_nul(good: &str, prefix: &str) -> Vec<u8> {
    let mid = good
        .char_indices()
        .nth(good.chars().count() / 2)
        .map_or(good.len(), |(i, _)| i);
    let (head, tail) = good.split_at(mid);
    format!("{prefix}{head}\0{tail}").into_bytes()
}

/// ASCII digits as their full-width forms (`1` → `１`).
pub fn full_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(u32::from(c) - u32::from('0') + 0xFF10).unwrap_or(c),
            other => other,
        })
        .collect()
}

/// What `attempt` on `row` must get.
pub fn expectation(row: &Row, attempt: &Attempt) -> Expect {
    let too_large = match row.surface {
        Surface::Api | Surface::Internal | Surface::OAuth => Expect::Code(&["payload_too_large"]),
        Surface::Web => Expect::Status(413),
    };
    let wrong_type = match row.surface {
        Surface::OAuth => Expect::Code(&["invalid_request"]),
        Surface::Web => Expect::Status(415),
        Surface::Api | Surface::Internal => Expect::Code(&["unsupported_media_type"]),
    };
    let bad_json = Expect::Code(&["bad_json"]);
    match (attempt.case, row.body, attempt.field.map(|f| f.place)) {
        (Case::WrongContentType | Case::NoContentType, _, _) => wrong_type,
        (Case::OversizedDeclared | Case::OversizedChunked, _, _) => too_large,
        (Case::Huge, Body::Json | Body::Form, Some(Place::Body)) => too_large,
        // A JSON client posting to a form endpoint sent the wrong type.
        (Case::MalformedJson | Case::DeepJson, Body::Form, _) => wrong_type,
        (Case::MalformedJson | Case::DeepJson | Case::RawNulInJson, _, _) => bad_json,
        (Case::InvalidUtf8, Body::Json, Some(Place::Body)) => bad_json,
        // No browser sends either: the whole form is refused before it is read.
        (Case::InvalidUtf8 | Case::Nul, Body::Form, Some(Place::Body))
            if row.surface == Surface::Web =>
        {
            Expect::Status(400)
        }
        // hyper refuses a request line this long before any handler.
        (Case::Huge, _, Some(Place::Path | Place::Query)) => Expect::Status(414),
        _ => attempt
            .field
            .map_or(Expect::Status(400), |field| field.expect),
    }
}
