//! Reading import files row by row, with the line each row came from.
//!
//! Read errors are turned into messages that name the problem without repeating field
//! values: a malformed row may well hold an ID number.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{Context as _, bail};
use fundpass_core::member::ImportRow;

pub mod fuzzing;
mod lines;

use lines::{LineIndex, NewlineCounter};

/// Import file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated, UTF-8, header `account_no,name,id_type,id_number,phone`.
    Csv,
    /// One JSON object per line with the same five string fields.
    Jsonl,
}

impl Format {
    /// Picks the format from the file name.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "jsonl" | "ndjson" => Some(Self::Jsonl),
            _ => None,
        }
    }
}

/// The columns an import file must have.
pub const COLUMNS: [&str; 5] = ["account_no", "name", "id_type", "id_number", "phone"];

/// One row read: its line number, the bytes read so far (for progress), and the row or
/// why it could not be read.
#[derive(Debug)]
pub struct ReadRow {
    pub line: u64,
    pub offset: u64,
    pub row: Result<ImportRow, String>,
}

/// A row-by-row reader over either format.
pub enum RowReader {
    Csv(csv::Reader<NewlineCounter<Box<dyn Read + Send>>>, LineIndex),
    Jsonl {
        lines: BufReader<Box<dyn Read + Send>>,
        line: u64,
        offset: u64,
        buf: String,
    },
}

impl std::fmt::Debug for RowReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Csv(..) => "RowReader::Csv",
            Self::Jsonl { .. } => "RowReader::Jsonl",
        })
    }
}

impl RowReader {
    /// Opens `path`; for CSV the header is checked at once.
    pub fn open(path: &Path, format: Format) -> anyhow::Result<Self> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        Self::new(Box::new(file), format)
    }

    /// Reads from any source (tests use byte slices).
    pub fn new(source: Box<dyn Read + Send>, format: Format) -> anyhow::Result<Self> {
        match format {
            Format::Csv => {
                let (source, lines) = NewlineCounter::new(source);
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .from_reader(source);
                let headers: Vec<String> = reader
                    .headers()
                    .context("cannot read the CSV header line")?
                    .iter()
                    .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
                    .collect();
                check_header(&headers)?;
                reader.set_headers(csv::StringRecord::from(headers));
                Ok(Self::Csv(reader, lines))
            }
            Format::Jsonl => Ok(Self::Jsonl {
                lines: BufReader::with_capacity(1 << 16, source),
                line: 0,
                offset: 0,
                buf: String::new(),
            }),
        }
    }

    /// The next row, or `None` at the end of the file. I/O errors end the import.
    pub fn next_row(&mut self) -> anyhow::Result<Option<ReadRow>> {
        match self {
            Self::Csv(reader, lines) => {
                let mut record = csv::StringRecord::new();
                match reader.read_record(&mut record) {
                    Ok(false) => Ok(None),
                    Ok(true) => {
                        let offset = record.position().map_or(0, csv::Position::byte);
                        let line = lines.line_at(offset);
                        let row = record
                            .deserialize::<ImportRow>(reader.headers().ok())
                            .map_err(|_| {
                                "the row cannot be read as the five text columns".to_owned()
                            });
                        Ok(Some(ReadRow { line, offset, row }))
                    }
                    Err(err) => csv_row_error(err, lines),
                }
            }
            Self::Jsonl {
                lines,
                line,
                offset,
                buf,
            } => loop {
                buf.clear();
                let n = lines
                    .read_line(buf)
                    .context("cannot read the import file")?;
                if n == 0 {
                    return Ok(None);
                }
                *line += 1;
                *offset += n as u64;
                if buf.trim().is_empty() {
                    continue;
                }
                let row = serde_json::from_str::<ImportRow>(buf).map_err(json_problem);
                return Ok(Some(ReadRow {
                    line: *line,
                    offset: *offset,
                    row,
                }));
            },
        }
    }
}

fn check_header(headers: &[String]) -> anyhow::Result<()> {
    let missing: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| !headers.iter().any(|h| h == c))
        .collect();
    let extra: Vec<String> = headers
        .iter()
        .filter(|h| !COLUMNS.contains(&h.as_str()))
        .map(|h| quoted_name(h))
        .collect();
    if !missing.is_empty() || !extra.is_empty() || headers.len() != COLUMNS.len() {
        bail!(
            "the CSV header must be exactly {} (missing: {}; unexpected: {})",
            COLUMNS.join(","),
            if missing.is_empty() {
                "none".to_owned()
            } else {
                missing.join(",")
            },
            if extra.is_empty() {
                "none".to_owned()
            } else {
                extra.join(",")
            },
        );
    }
    Ok(())
}

fn csv_row_error(err: csv::Error, lines: &LineIndex) -> anyhow::Result<Option<ReadRow>> {
    let offset = err.position().map_or(0, csv::Position::byte);
    let message = match err.kind() {
        csv::ErrorKind::UnequalLengths { len, .. } => {
            format!("the row has {len} fields, the header has {}", COLUMNS.len())
        }
        csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8 text".to_owned(),
        _ => bail!("cannot read the CSV file: {err}"),
    };
    Ok(Some(ReadRow {
        line: lines.line_at(offset),
        offset,
        row: Err(message),
    }))
}

/// A column or field name as an error message may quote it: at most 40 characters,
/// and digits shown as `#` when the name holds six or more in a row, since a name
/// that looks like a document or phone number may be one pasted in the wrong place.
fn quoted_name(name: &str) -> String {
    let short: String = name.chars().take(40).collect();
    if fundpass_core::fuzzing::has_digit_run(&short, 6) {
        short
            .chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .collect()
    } else {
        short
    }
}

/// Explains a JSON row error without quoting values from the row.
fn json_problem(err: serde_json::Error) -> String {
    use serde_json::error::Category;
    match err.classify() {
        Category::Syntax | Category::Eof => format!("not valid JSON (column {})", err.column()),
        Category::Data => {
            let text = err.to_string();
            let field = |marker: &str| {
                text.split_once(marker)
                    .and_then(|(_, rest)| rest.split('`').next())
                    .map(quoted_name)
            };
            if let Some(f) = field("unknown field `") {
                format!("unexpected field {f:?} (allowed: {})", COLUMNS.join(", "))
            } else if let Some(f) = field("missing field `") {
                format!("missing field {f:?}")
            } else {
                format!("every field must be a text string ({})", COLUMNS.join(", "))
            }
        }
        Category::Io => "cannot read the line".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(format: Format, text: &'static str) -> Vec<(u64, Result<ImportRow, String>)> {
        let mut r = RowReader::new(Box::new(text.as_bytes()), format).unwrap();
        let mut out = Vec::new();
        while let Some(row) = r.next_row().unwrap() {
            out.push((row.line, row.row));
        }
        out
    }

    #[test]
    fn csv_rows_carry_their_line_numbers_and_columns_may_be_reordered() {
        let got = rows(
            Format::Csv,
            "\u{feff}name,account_no,id_type,id_number,phone\n张三,100200300,resident_id,11010519491231002X,13812345678\n李四,100200301,passport,E1234567,13912345678\n",
        );
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, 2);
        assert_eq!(got[1].0, 3);
        assert_eq!(got[0].1.as_ref().unwrap().name, "张三");
        assert_eq!(got[1].1.as_ref().unwrap().account_no, "100200301");
    }

    /// The line each row is reported on.
    fn lines_of(text: &'static str) -> Vec<u64> {
        rows(Format::Csv, text)
            .into_iter()
            .map(|(l, _)| l)
            .collect()
    }

    #[test]
    fn line_numbers_are_right_whatever_the_line_endings() {
        const HEADER: &str = "account_no,name,id_type,id_number,phone";
        const ROW: &str = "100200300,张三,resident_id,11010519491231002X,13812345678";
        for (ending, bom) in [
            ("\n", ""),
            ("\r\n", ""),
            ("\r\n", "\u{feff}"),
            ("\n", "\u{feff}"),
            ("\r", ""),
        ] {
            // 21 lines: the header and 20 rows, the last without a line ending.
            let mut text = format!("{bom}{HEADER}");
            for _ in 0..20 {
                text.push_str(ending);
                text.push_str(ROW);
            }
            let text: &'static str = Box::leak(text.into_boxed_str());
            let expected: Vec<u64> = (2..=21).collect();
            assert_eq!(lines_of(text), expected, "ending {ending:?}, bom {bom:?}");
        }
        // A quoted field with a line break inside takes two lines; blank lines count.
        let quoted = "account_no,name,id_type,id_number,phone\r\n1,\"a\r\nb\",x,y,z\r\n\r\n2,c,x,y,z\r\n3,d\r\n";
        assert_eq!(lines_of(quoted), [2, 5, 6]);
        let quoted_lf =
            "account_no,name,id_type,id_number,phone\n1,\"a\nb\",x,y,z\n\n2,c,x,y,z\n3,d\n";
        assert_eq!(lines_of(quoted_lf), [2, 5, 6]);
        // A lone `\r` ends a row (the CSV parser's reading, and editors'), also in the
        // middle of a file that otherwise ends its lines with `\r\n`; found by the
        // import_rows fuzz target, where two rows were both reported on line 2.
        let lone_cr = "account_no,name,id_type,id_number,phone\r\n1,a,x,y,z\r2,b,x,y,z\r\n3,c\r\n";
        assert_eq!(lines_of(lone_cr), [2, 3, 4]);
    }

    #[test]
    fn a_csv_header_with_missing_or_extra_columns_is_refused() {
        let err = RowReader::new(
            Box::new(&b"account_no,name,id_number,phone,email\n"[..]),
            Format::Csv,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("missing: id_type") && err.contains("unexpected: email"),
            "{err}"
        );
    }

    #[test]
    fn a_short_csv_row_is_reported_on_its_line() {
        let got = rows(
            Format::Csv,
            "account_no,name,id_type,id_number,phone\n1,2,3\n",
        );
        assert_eq!(got[0].0, 2);
        assert_eq!(
            got[0].1.as_ref().unwrap_err(),
            "the row has 3 fields, the header has 5"
        );
    }

    #[test]
    fn json_line_errors_never_quote_the_values() {
        let got = rows(
            Format::Jsonl,
            "{\"account_no\":\"100200300\",\"name\":\"a\",\"id_type\":\"resident_id\",\"id_number\":11010519491231002,\"phone\":\"13812345678\"}\n\n{\"account_no\":\"1\"\n{\"account_no\":\"1\",\"name\":\"a\",\"id_type\":\"x\",\"id_number\":\"y\",\"phone\":\"z\",\"email\":\"e\"}\n",
        );
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].0, 1);
        let first = got[0].1.as_ref().unwrap_err();
        assert!(!first.contains("11010519491231002"), "{first}");
        assert_eq!(got[1].0, 3);
        assert!(got[1].1.as_ref().unwrap_err().starts_with("not valid JSON"));
        assert_eq!(got[2].0, 4);
        assert!(
            got[2]
                .1
                .as_ref()
                .unwrap_err()
                .contains("unexpected field \"email\"")
        );
    }
}
