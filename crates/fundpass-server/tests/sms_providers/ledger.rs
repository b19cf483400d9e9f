//! What both provider stand-ins keep the same way: the calls, the error codes answered,
//! the outages a test queued, and the per-number counters the limit codes come from.

use std::collections::{HashMap, VecDeque};

use axum::http::{HeaderMap, StatusCode};
use time::OffsetDateTime;

/// Which per-number limit a text would break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Too soon after the last text to the number.
    Gap,
    /// The number's texts for the day are used up.
    Daily,
}

#[derive(Default)]
pub struct Ledger {
    pub calls: u32,
    /// The error codes answered, in order.
    pub refusals: Vec<String>,
    outages: VecDeque<StatusCode>,
    last_by_phone: HashMap<String, OffsetDateTime>,
    today_by_phone: HashMap<String, u32>,
}

impl Ledger {
    /// Counts a call; the status to answer it with when a test queued an outage.
    pub fn call(&mut self) -> Option<StatusCode> {
        self.calls += 1;
        self.outages.pop_front()
    }

    /// The next call answers with `status` and an empty body.
    pub fn fail_next_with(&mut self, status: StatusCode) {
        self.outages.push_back(status);
    }

    /// Counts a text to `phone` unless the last one went less than `gap_seconds` ago or
    /// `daily` texts already went.
    pub fn take(
        &mut self,
        phone: &str,
        now: OffsetDateTime,
        gap_seconds: i64,
        daily: u32,
    ) -> Result<(), Limit> {
        if let Some(last) = self.last_by_phone.get(phone)
            && (now - *last).whole_seconds() < gap_seconds
        {
            return Err(Limit::Gap);
        }
        let today = self.today_by_phone.entry(phone.to_owned()).or_default();
        if *today >= daily {
            return Err(Limit::Daily);
        }
        *today += 1;
        self.last_by_phone.insert(phone.to_owned(), now);
        Ok(())
    }
}

/// A request header's value; empty when missing or not text.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}
