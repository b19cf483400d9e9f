//! The login window: client `i` logs in as demo member `i mod 6` again and again, a
//! captcha drawn before the window each time, while the probe asks `/readyz`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::StatusCode;

use super::api::{Api, Captcha, DEMO_MEMBERS, Member};
use crate::harness::flood::{self, Measured, Plan};

/// Pre-drawn captchas shared by the clients; each is handed out once.
#[derive(Debug)]
struct Captchas {
    items: Vec<Captcha>,
    next: AtomicUsize,
}

impl Captchas {
    fn take(&self) -> Option<&Captcha> {
        self.items.get(self.next.fetch_add(1, Ordering::Relaxed))
    }
}

/// Runs the window with `concurrency` clients for `duration`; a client stops early
/// when the captchas run out.
pub async fn run(api: &Api, probe_api: &Api, captchas: Vec<Captcha>, plan: &Plan) -> Measured {
    let pool = Arc::new(Captchas {
        items: captchas,
        next: AtomicUsize::new(0),
    });
    let members: Arc<[Member]> = Arc::from(DEMO_MEMBERS.as_slice());
    let api = api.clone();
    let attempt = move |index: usize| {
        let (api, pool, members) = (api.clone(), pool.clone(), members.clone());
        async move {
            let member = *members.get(index % members.len().max(1))?;
            let captcha = pool.take()?;
            Some(api.login(&member, captcha).await)
        }
    };
    let probe_api = probe_api.clone();
    let probe = move || {
        let api = probe_api.clone();
        async move { matches!(api.ready().await, Ok(StatusCode::OK)) }
    };
    flood::run(plan, attempt, probe).await
}

/// The plan of a login window: a login is done when answered 200.
pub fn plan(concurrency: usize, duration: Duration, server_pid: u32) -> Plan {
    Plan {
        concurrency,
        duration,
        success: StatusCode::OK,
        server_pid,
    }
}
