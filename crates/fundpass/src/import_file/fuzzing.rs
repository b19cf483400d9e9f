//! The properties the `import_rows` fuzz target (`fuzz/`) checks, as one function from
//! the fuzzer's bytes to a verdict, so that the target and the test replaying its saved
//! corpus (`tests/fuzz_corpus.rs`) make the same checks. The first byte chooses the
//! format (even: CSV, odd: JSON Lines); the rest is the file.
//!
//! For any file: reading ends; rows come in rising line order, on lines the file has
//! (line breaks counted as editors count them: `\n`, `\r\n`, a lone `\r`), at offsets
//! within it; and no message about a row or the header quotes six digits
//! in a row (a document or phone number from the file).

use fundpass_core::fuzz_ensure;
use fundpass_core::fuzzing::{Verdict, has_digit_run};

use super::{Format, RowReader};

/// See the module documentation.
pub fn check_import_rows(data: &[u8]) -> Verdict {
    let Some((&selector, file)) = data.split_first() else {
        return Ok(());
    };
    let format = if selector % 2 == 0 {
        Format::Csv
    } else {
        Format::Jsonl
    };
    let mut reader = match RowReader::new(Box::new(std::io::Cursor::new(file.to_vec())), format) {
        Ok(reader) => reader,
        Err(err) => {
            let message = format!("{err:#}");
            fuzz_ensure!(
                !has_digit_run(&message, 6),
                "the refusal of the file quotes a number: {message}"
            );
            return Ok(());
        }
    };
    // Line breaks as editors count them: `\n`, `\r\n` and a lone `\r` are one each.
    let newlines = file
        .iter()
        .enumerate()
        .filter(|&(i, b)| *b == b'\r' || (*b == b'\n' && (i == 0 || file[i - 1] != b'\r')))
        .count() as u64;
    let mut last_line = 0;
    // Each row takes at least one byte of the file, or ends it.
    for _ in 0..=file.len() + 1 {
        let row = match reader.next_row() {
            Ok(Some(row)) => row,
            Ok(None) => return Ok(()),
            Err(err) => {
                let message = format!("{err:#}");
                fuzz_ensure!(
                    !has_digit_run(&message, 6),
                    "a read error quotes a number: {message}"
                );
                return Ok(());
            }
        };
        fuzz_ensure!(
            row.line > last_line,
            "line {} after line {last_line}",
            row.line
        );
        fuzz_ensure!(
            row.line <= newlines + 1,
            "line {} in a file of {} lines",
            row.line,
            newlines + 1
        );
        fuzz_ensure!(
            row.offset <= file.len() as u64,
            "offset {} past the end ({} bytes)",
            row.offset,
            file.len()
        );
        if let Err(message) = &row.row {
            fuzz_ensure!(
                !has_digit_run(message, 6),
                "the message for line {} quotes a number: {message}",
                row.line
            );
        }
        last_line = row.line;
    }
    Err(fundpass_core::fuzzing::Violation(
        "more rows than the file has bytes: reading does not end".to_owned(),
    ))
}
