//! The outbox against what the gateway received: every message delivered, each key
//! received once by the phone (a key the worker sent again after losing the gateway's
//! answer is counted apart: the gateway drops it by its idempotency key, as the
//! webhook's contract asks), nothing received that the outbox does not hold, and each
//! phone's messages arriving in the order they were written.

use std::collections::{HashMap, HashSet};

use super::checks::Message;
use super::receiver::{Delivery, arrivals_by_key};

/// Outbox purposes that tell a member of a completed change.
pub const NOTICES: [&str; 3] = ["reset_notice", "registration_done", "ticket_issued"];

/// What the comparison found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deliveries {
    /// Outbox messages, and notices of completed changes among them.
    pub messages: usize,
    pub notices: usize,
    /// Messages (and notices) whose key the gateway received.
    pub received: usize,
    pub notices_received: usize,
    /// Arrivals of a key the gateway already had.
    pub resent: usize,
    /// Messages the gateway never received (delivered or not, given up or not).
    pub missing: Vec<String>,
    /// Messages given up by the worker.
    pub given_up: usize,
    /// Keys received that are no outbox message.
    pub unknown: usize,
    /// Phones that received more than one message, and those whose messages came out
    /// of the order they were written in (with the first such pair of each).
    pub phones: usize,
    pub out_of_order: Vec<String>,
}

/// Compares the outbox with the gateway's arrivals.
pub fn compare(outbox: &[Message], arrivals: &[Delivery]) -> Deliveries {
    let counts = arrivals_by_key(arrivals);
    let by_id: HashMap<&str, &Message> = outbox.iter().map(|m| (m.id.as_str(), m)).collect();
    let mut found = Deliveries {
        messages: outbox.len(),
        ..Deliveries::default()
    };
    for message in outbox {
        let notice = NOTICES.contains(&message.purpose.as_str());
        found.notices += usize::from(notice);
        found.given_up += usize::from(message.given_up);
        match counts.get(message.id.as_str()) {
            Some(n) => {
                found.received += 1;
                found.notices_received += usize::from(notice);
                found.resent += usize::try_from(n - 1).unwrap_or(0);
            }
            None => found.missing.push(format!(
                "{} {} ({})",
                message.purpose,
                message.id,
                if message.delivered {
                    "marked delivered"
                } else {
                    "not delivered"
                }
            )),
        }
    }
    found.unknown = counts.keys().filter(|k| !by_id.contains_key(*k)).count();
    let (phones, out_of_order) = order_per_phone(&by_id, arrivals);
    found.phones = phones;
    found.out_of_order = out_of_order;
    found
}

/// For each phone, its messages' first arrivals against the order they were written
/// in (`created_at`, then id, as the worker sorts a batch): how many phones got more
/// than one message, and the first inversion of each phone that had one.
fn order_per_phone(by_id: &HashMap<&str, &Message>, arrivals: &[Delivery]) -> (usize, Vec<String>) {
    let mut seen = HashSet::new();
    let mut per_phone: HashMap<&str, Vec<&Message>> = HashMap::new();
    for arrival in arrivals {
        if !seen.insert(arrival.key.as_str()) {
            continue;
        }
        if let Some(message) = by_id.get(arrival.key.as_str()) {
            per_phone.entry(&arrival.phone).or_default().push(message);
        }
    }
    let mut phones = 0;
    let mut inversions = Vec::new();
    for (phone, messages) in &per_phone {
        phones += usize::from(messages.len() > 1);
        let first_inversion = messages
            .windows(2)
            .find(|pair| (pair[0].created_at, &pair[0].id) > (pair[1].created_at, &pair[1].id));
        if let Some(pair) = first_inversion {
            inversions.push(format!(
                "{phone}: {} written {} µs after {} arrived first",
                pair[0].purpose,
                pair[0].created_at - pair[1].created_at,
                pair[1].purpose
            ));
        }
    }
    inversions.sort();
    (phones, inversions)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn message(id: &str, purpose: &str, created_at: i64) -> Message {
        Message {
            id: id.into(),
            member_id: Some(1),
            purpose: purpose.into(),
            created_at,
            delivered: true,
            given_up: false,
        }
    }

    fn arrival(key: &str, phone: &str) -> Delivery {
        Delivery {
            key: key.into(),
            phone: phone.into(),
            text: String::new(),
            at: Instant::now(),
        }
    }

    #[test]
    fn each_message_received_once_in_order_is_clean() {
        let outbox = [
            message("a", "reset_notice", 1),
            message("b", "reset_notice", 2),
        ];
        let found = compare(&outbox, &[arrival("a", "p"), arrival("b", "p")]);
        assert_eq!(
            (found.received, found.notices_received, found.resent),
            (2, 2, 0)
        );
        assert!(found.missing.is_empty() && found.out_of_order.is_empty());
        assert_eq!(found.phones, 1);
    }

    #[test]
    fn resends_missing_unknown_and_reordering_are_each_counted() {
        let outbox = [
            message("a", "reset_notice", 1),
            message("b", "registration_code", 2),
            message("c", "ticket_issued", 3),
        ];
        let arrivals = [
            arrival("b", "p"),
            arrival("a", "p"),
            arrival("a", "p"),
            arrival("x", "q"),
        ];
        let found = compare(&outbox, &arrivals);
        assert_eq!((found.messages, found.notices), (3, 2));
        assert_eq!((found.resent, found.unknown), (1, 1));
        assert_eq!(found.missing.len(), 1);
        assert!(found.missing[0].starts_with("ticket_issued c"));
        assert_eq!(found.out_of_order.len(), 1);
    }
}
