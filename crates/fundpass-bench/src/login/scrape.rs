//! Reads the server's Prometheus metrics (`server.metrics_bind`) once a second while
//! the window runs, to show the hashing pool's queue and refusals as an operator's
//! dashboard would see them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The metrics followed.
const FOLLOWED: [&str; 4] = [
    "fundpass_hash_pool_busy_workers",
    "fundpass_hash_pool_queue_length",
    "fundpass_hash_pool_refusals_total",
    "fundpass_logins_total{outcome=\"busy\"}",
];

/// What the scrapes saw: for each followed metric its first, largest and last value.
#[derive(Debug, Default)]
pub struct Seen {
    pub scrapes: usize,
    pub failed: usize,
    values: Vec<(f64, f64, f64)>,
}

impl Seen {
    /// One line per metric: first, largest and last value.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "metrics scraped {} times during the window ({} failed)\n",
            self.scrapes, self.failed
        );
        for (name, (first, max, last)) in FOLLOWED.iter().zip(&self.values) {
            out.push_str(&format!(
                "  {name}: first {first}, largest {max}, last {last}\n"
            ));
        }
        out
    }
}

/// The value of `metric` (a name with its labels as rendered, or a bare name) in a
/// Prometheus text exposition.
fn value(text: &str, metric: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == metric).then(|| value.parse().ok()).flatten()
        })
}

/// Scrapes `url` every second until `stop` is set.
pub async fn follow(url: String, stop: Arc<AtomicBool>) -> Seen {
    let client = reqwest::Client::new();
    let mut seen = Seen {
        values: vec![(f64::NAN, f64::NEG_INFINITY, f64::NAN); FOLLOWED.len()],
        ..Seen::default()
    };
    while !stop.load(Ordering::Relaxed) {
        let text = match client.get(&url).send().await {
            Ok(response) => response.text().await.ok(),
            Err(_) => None,
        };
        match text {
            Some(text) => {
                seen.scrapes += 1;
                for (metric, (first, max, last)) in FOLLOWED.iter().zip(&mut seen.values) {
                    if let Some(v) = value(&text, metric) {
                        if first.is_nan() {
                            *first = v;
                        }
                        *max = max.max(v);
                        *last = v;
                    }
                }
            }
            None => seen.failed += 1,
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_by_name_and_labels() {
        let text = "# TYPE fundpass_hash_pool_queue_length gauge\n\
                    fundpass_hash_pool_queue_length 7\n\
                    fundpass_logins_total{outcome=\"ok\"} 12\n\
                    fundpass_logins_total{outcome=\"busy\"} 3\n";
        assert_eq!(value(text, "fundpass_hash_pool_queue_length"), Some(7.0));
        assert_eq!(
            value(text, "fundpass_logins_total{outcome=\"busy\"}"),
            Some(3.0)
        );
        assert_eq!(value(text, "fundpass_hash_pool_refusals_total"), None);
    }
}
