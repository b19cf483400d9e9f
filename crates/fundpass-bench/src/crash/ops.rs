//! The fault workload's operations, each start to finish and each riding out a
//! server that goes away: a step that gets no answer (or a 503 after the client's
//! patience) waits for the server and is tried again when it is safe to, and a last
//! step whose answer was lost is settled by asking the server what happened (which
//! password now logs in) before the operation is done again or counted as done.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use super::api;
use super::client::{Fail, Http, MAX_BACKOFF};
use super::console::Console;
use super::members::{Passwords, Person};
use super::receiver::Inbox;
use super::workload::{Counts, Job, Kind, Member, State, Tally};

/// Tries of one step, or of one operation, before it is given up.
const MAX_TRIES: u32 = 50;
/// Longest wait for the server to answer `/readyz` again.
const BACK_WITHIN: Duration = Duration::from_secs(120);
/// Longest wait for a registration code to reach the gateway before asking again.
const CODE_WAIT: Duration = Duration::from_secs(8);

/// The workload one run's clients share.
#[derive(Debug)]
pub struct Workload {
    http: Http,
    inbox: Arc<Inbox>,
    console: tokio::sync::Mutex<Console>,
    passwords: Passwords,
    state: Mutex<State>,
    ready_url: String,
    probe: reqwest::Client,
    pads: AtomicU32,
}

/// Whether a failure leaves the step's effect unknown: no answer, or the server
/// refusing for now past the client's patience.
fn unsure(fail: &Fail) -> bool {
    matches!(fail, Fail::Down(_)) || matches!(fail, Fail::Refused { status, .. } if *status == 503)
}

impl Workload {
    /// A workload on the server `http` speaks to, codes read from `inbox`, tickets
    /// issued through `console`, members in `state`.
    pub fn new(
        http: Http,
        inbox: Arc<Inbox>,
        console: Console,
        state: State,
        base_url: &str,
    ) -> anyhow::Result<Self> {
        let probe = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(1))
            .build()?;
        Ok(Self {
            http,
            inbox,
            console: tokio::sync::Mutex::new(console),
            passwords: Passwords::default(),
            state: Mutex::new(state),
            ready_url: format!("{base_url}/readyz"),
            probe,
            pads: AtomicU32::new(0),
        })
    }

    /// Runs the next operation there are members for: its kind when it completed,
    /// the answer that stopped it otherwise, `None` when the pools are empty.
    pub async fn next(&self) -> Option<Result<Kind, Fail>> {
        let job = self.with_state(State::take)?;
        let kind = job.kind();
        let outcome = match &job {
            Job::Register(person) => self.register(person.clone()).await,
            Job::Reset(member) => self.reset(member.clone()).await,
            Job::Ticket(member) => self.ticket(member.clone()).await,
        };
        self.with_state(|s| s.settle(&job, &outcome));
        Some(outcome.map(|_| kind))
    }

    /// A copy of the pools, the ledger and the tally.
    pub fn snapshot(&self) -> (HashMap<String, Counts>, Tally) {
        self.with_state(|s| (s.counts.clone(), s.tally.clone()))
    }

    /// The clerks' console home page as it answers now (a page read, not a change).
    pub async fn console_page(&self) -> Result<super::client::Answer, Fail> {
        self.console.lock().await.home_page().await
    }

    /// Cycles through `kinds` from the next operation on.
    pub fn set_kinds(&self, kinds: &[Kind]) {
        self.with_state(|s| s.set_kinds(kinds));
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut state)
    }

    /// Waits until `/readyz` answers 200.
    async fn back(&self) -> Result<(), Fail> {
        let deadline = Instant::now() + BACK_WITHIN;
        loop {
            let ready = self.probe.get(&self.ready_url).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Fail::Down("the server did not come back".into()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits before trying again after `fail`: until the server is back when it did
    /// not answer, for as long as it asks when it refused for now.
    async fn wait_after(&self, fail: &Fail) -> Result<(), Fail> {
        match fail {
            Fail::Down(_) => self.back().await,
            Fail::Refused { .. } => {
                tokio::time::sleep(MAX_BACKOFF).await;
                Ok(())
            }
        }
    }

    /// Runs `step` until it gets a sure answer, waiting for the server between tries.
    /// Only for steps that may be repeated.
    async fn answered<T, F, Fut>(&self, step: F) -> Result<T, Fail>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, Fail>>,
    {
        for _ in 0..MAX_TRIES {
            match step().await {
                Err(fail) if unsure(&fail) => self.wait_after(&fail).await?,
                other => return other,
            }
        }
        Err(Fail::Down(format!(
            "no sure answer after {MAX_TRIES} tries"
        )))
    }

    /// An app token of `member`; a member whose password does not log in is a broken
    /// promise.
    async fn token(&self, member: &Member) -> Result<String, Fail> {
        let token = self
            .answered(|| api::login(&self.http, &member.person, &member.password))
            .await?;
        token.ok_or_else(|| self.violation(&member.person, "its login password does not log in"))
    }

    /// After a change that ended every session: `token` must be refused.
    async fn expect_ended(&self, token: &str, who: &Person) -> Result<(), Fail> {
        if self
            .answered(|| api::token_works(&self.http, token))
            .await?
        {
            self.violation(who, "an app session survived a reset");
        }
        Ok(())
    }

    fn violation(&self, who: &Person, what: &str) -> Fail {
        let text = format!("member {}: {what}", who.account);
        self.with_state(|s| s.tally.violations.push(text.clone()));
        Fail::Refused {
            label: "check",
            status: 0,
            body: text,
        }
    }

    /// After a last step without an answer: whether `new` (`true`) or the old
    /// password logs in now.
    async fn settled(&self, who: &Person, new: &str, old: Option<&str>) -> Result<bool, Fail> {
        self.back().await?;
        let done = if self
            .answered(|| api::login(&self.http, who, new))
            .await?
            .is_some()
        {
            true
        } else {
            match old {
                None => false,
                Some(old)
                    if self
                        .answered(|| api::login(&self.http, who, old))
                        .await?
                        .is_some() =>
                {
                    false
                }
                Some(_) => {
                    return Err(self.violation(who, "neither the old nor the new password logs in"));
                }
            }
        };
        self.with_state(|s| s.tally.found_not_done += u64::from(!done));
        Ok(done)
    }

    /// The address of another counter's PIN pad (each counter's device has its own,
    /// and the server limits ticket checks per address).
    fn next_pad(&self) -> String {
        let n = self.pads.fetch_add(1, Ordering::Relaxed);
        format!("10.8.{}.{}", n / 250 % 250, n % 250 + 1)
    }

    fn completed(&self, kind: Kind, who: &Person, answered: bool) {
        self.with_state(|s| s.completed(kind, &who.account, answered));
    }

    fn restarted(&self) {
        self.with_state(|s| s.tally.restarted += 1);
    }

    async fn register(&self, person: Arc<Person>) -> Result<Member, Fail> {
        let password = self.passwords.fresh();
        for _ in 0..MAX_TRIES {
            let mark = self.inbox.mark();
            let flow = match api::registration_start(&self.http, &person).await {
                Err(fail) if unsure(&fail) => {
                    self.wait_after(&fail).await?;
                    self.restarted();
                    continue;
                }
                other => other?,
            };
            match self.enter_code(&person, &flow, mark).await {
                Ok(true) => {}
                Ok(false) => {
                    self.restarted();
                    continue;
                }
                Err(fail) if unsure(&fail) => {
                    self.wait_after(&fail).await?;
                    self.restarted();
                    continue;
                }
                Err(fail) => return Err(fail),
            }
            let done = match api::registration_complete(&self.http, &flow, &password).await {
                Ok(()) => Some(true),
                Err(fail) if unsure(&fail) => self
                    .settled(&person, &password, None)
                    .await?
                    .then_some(false),
                Err(fail) => return Err(fail),
            };
            if let Some(answered) = done {
                self.completed(Kind::Register, &person, answered);
                return Ok(Member { person, password });
            }
            self.restarted();
        }
        Err(Fail::Down("registration gave up".into()))
    }

    /// Types the registration code that reached `person`'s phone after `mark`:
    /// `false` when none came. A code of an earlier attempt may arrive after the new
    /// one was asked for (delivery is retried after a kill); the server then says it
    /// is wrong, and the next code to arrive is typed instead.
    async fn enter_code(&self, person: &Person, flow: &str, mut mark: usize) -> Result<bool, Fail> {
        for _ in 0..3 {
            let found = self
                .inbox
                .code_after(&person.phone, mark, "验证码", CODE_WAIT)
                .await;
            let Some((at, code)) = found else {
                return Ok(false);
            };
            match api::registration_code(&self.http, flow, &code).await {
                Ok(()) => return Ok(true),
                Err(Fail::Refused { status: 400, .. }) => mark = at + 1,
                Err(fail) => return Err(fail),
            }
        }
        Ok(false)
    }

    async fn reset(&self, mut member: Member) -> Result<Member, Fail> {
        for _ in 0..MAX_TRIES {
            let token = self.token(&member).await?;
            let new = self.passwords.fresh();
            let flow = match api::reset_prepare(&self.http, &member.person).await {
                Err(fail) if unsure(&fail) => {
                    self.wait_after(&fail).await?;
                    self.restarted();
                    continue;
                }
                other => other?,
            };
            let done = match api::reset_complete(&self.http, &flow, &new).await {
                Ok(()) => Some(true),
                Err(fail) if unsure(&fail) => self
                    .settled(&member.person, &new, Some(&member.password))
                    .await?
                    .then_some(false),
                Err(fail) => return Err(fail),
            };
            if let Some(answered) = done {
                return self
                    .after_reset(Kind::Reset, &mut member, new, &token, answered)
                    .await;
            }
            self.restarted();
        }
        Err(Fail::Down("reset gave up".into()))
    }

    async fn ticket(&self, mut member: Member) -> Result<Member, Fail> {
        for _ in 0..MAX_TRIES {
            let token = self.token(&member).await?;
            let issued = self.console.lock().await.ticket_for(&member.person).await;
            let account = member.person.account.clone();
            let ticket = match issued {
                Ok(ticket) => {
                    self.with_state(|s| s.issued(&account, true));
                    ticket
                }
                Err(fail) if unsure(&fail) => {
                    self.with_state(|s| s.issued(&account, false));
                    self.wait_after(&fail).await?;
                    self.restarted();
                    continue;
                }
                Err(fail) => return Err(fail),
            };
            let pad = self
                .http
                .fresh(Some(&self.next_pad()))
                .map_err(|e| Fail::Down(e.to_string()))?;
            let new = self.passwords.fresh();
            let checked = match api::pinpad_check(&pad, &ticket, &member.person).await {
                Err(fail) if unsure(&fail) => {
                    self.wait_after(&fail).await?;
                    self.restarted();
                    continue;
                }
                other => other?,
            };
            let done = match api::pinpad_redeem(&pad, &checked, &new).await {
                Ok(()) => Some(true),
                Err(fail) if unsure(&fail) => self
                    .settled(&member.person, &new, Some(&member.password))
                    .await?
                    .then_some(false),
                Err(fail) => return Err(fail),
            };
            if let Some(answered) = done {
                return self
                    .after_reset(Kind::Ticket, &mut member, new, &token, answered)
                    .await;
            }
            self.restarted();
        }
        Err(Fail::Down("ticket gave up".into()))
    }

    /// A reset the server made: counted (`answered`: this client saw the answer), the
    /// new password kept, the session from before checked to be ended.
    async fn after_reset(
        &self,
        kind: Kind,
        member: &mut Member,
        new: String,
        token: &str,
        answered: bool,
    ) -> Result<Member, Fail> {
        self.completed(kind, &member.person, answered);
        member.password = new;
        self.expect_ended(token, &member.person).await?;
        Ok(member.clone())
    }
}
