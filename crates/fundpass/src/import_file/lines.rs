//! Line numbers of CSV records, counted from the bytes themselves.
//!
//! The CSV parser's own line count is off for files with Windows line endings (CRLF),
//! which spreadsheet programs write: a row on line 21 was reported on line 20. And the
//! position the parser gives a record is where it began to look for it, which may be
//! before line endings and blank lines that come first. So the source is read through
//! [`NewlineCounter`], which notes each run of line-ending bytes (`\r`, `\n`) and how
//! many line breaks it holds, counted as text editors and the CSV parser count them:
//! `\n`, `\r\n` and a lone `\r` (old Mac files) are one break each. A record found from
//! byte `b` on is on line 1 + every break before `b` + those of a run of line endings
//! that `b` is in (the record starts after it). Only the runs of the bytes read ahead
//! but not yet passed are kept, so memory does not grow with the file.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Mutex, PoisonError};

/// A run of consecutive `\r` and `\n` bytes, `[start, end)`.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: u64,
    end: u64,
    /// Line breaks in the run: each `\r`, and each `\n` that does not follow a `\r`.
    newlines: u64,
    /// Whether the run's last byte is `\r` (a `\n` next completes that break).
    ends_with_cr: bool,
}

/// The line endings seen so far.
#[derive(Debug, Default)]
struct Seen {
    /// Newlines of the runs already passed.
    passed: u64,
    /// Runs read but not yet passed, in order.
    ahead: VecDeque<Run>,
}

/// Answers "on which line does the record found from byte `b` start?" for bytes read
/// through its [`NewlineCounter`], for positions that never go backwards.
#[derive(Debug, Clone, Default)]
pub struct LineIndex(Arc<Mutex<Seen>>);

impl LineIndex {
    /// The 1-based line of the first byte at or after `offset` that is not a line
    /// ending.
    pub fn line_at(&self, offset: u64) -> u64 {
        let mut seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(run) = seen.ahead.front().copied().filter(|r| r.end <= offset) {
            seen.ahead.pop_front();
            seen.passed += run.newlines;
        }
        let within = seen
            .ahead
            .front()
            .filter(|r| r.start <= offset)
            .map_or(0, |r| r.newlines);
        seen.passed + within + 1
    }
}

/// A reader that notes the runs of line endings it passes on.
pub struct NewlineCounter<R> {
    inner: R,
    read: u64,
    index: LineIndex,
}

impl<R> std::fmt::Debug for NewlineCounter<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewlineCounter")
            .field("read", &self.read)
            .finish_non_exhaustive()
    }
}

impl<R: Read> NewlineCounter<R> {
    pub fn new(inner: R) -> (Self, LineIndex) {
        let index = LineIndex::default();
        (
            Self {
                inner,
                read: 0,
                index: index.clone(),
            },
            index,
        )
    }
}

impl<R: Read> Read for NewlineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut seen = self.index.0.lock().unwrap_or_else(PoisonError::into_inner);
        for (i, byte) in buf[..n].iter().enumerate() {
            if !matches!(byte, b'\r' | b'\n') {
                continue;
            }
            let at = self.read + i as u64;
            let cr = *byte == b'\r';
            match seen.ahead.back_mut().filter(|r| r.end == at) {
                // The run goes on (also across two reads).
                Some(run) => {
                    run.newlines += u64::from(cr || !run.ends_with_cr);
                    run.end = at + 1;
                    run.ends_with_cr = cr;
                }
                None => seen.ahead.push_back(Run {
                    start: at,
                    end: at + 1,
                    newlines: 1,
                    ends_with_cr: cr,
                }),
            }
        }
        self.read += n as u64;
        Ok(n)
    }
}
