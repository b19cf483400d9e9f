//! What the fault workload keeps between operations: which members are free for
//! which operation, the ledger of what the server confirmed (and what it turned out
//! to have done when a confirmation never came), and the tally the reports print.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::client::Fail;
use super::members::Person;

/// The operations of the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An ordinary member registers through the app (SMS code from the gateway).
    Register,
    /// A registered member resets a forgotten login password through the app.
    Reset,
    /// A counter clerk issues a reset ticket; the member redeems it on the PIN pad.
    Ticket,
}

impl Kind {
    /// Every kind, in the order the workload cycles through them.
    pub const ALL: [Kind; 3] = [Kind::Register, Kind::Reset, Kind::Ticket];

    /// A word for reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Register => "registrations",
            Self::Reset => "app resets",
            Self::Ticket => "counter tickets",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Register => 0,
            Self::Reset => 1,
            Self::Ticket => 2,
        }
    }
}

/// A registered member and the login password it has now.
#[derive(Debug, Clone)]
pub struct Member {
    pub person: Arc<Person>,
    pub password: String,
}

/// One operation taken from the pools.
#[derive(Debug)]
pub enum Job {
    Register(Arc<Person>),
    Reset(Member),
    Ticket(Member),
}

impl Job {
    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            Self::Register(_) => Kind::Register,
            Self::Reset(_) => Kind::Reset,
            Self::Ticket(_) => Kind::Ticket,
        }
    }

    fn account(&self) -> &str {
        match self {
            Self::Register(p) => &p.account,
            Self::Reset(m) | Self::Ticket(m) => &m.person.account,
        }
    }
}

/// The changes the server made for one member, as far as the client knows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub registered: bool,
    /// Login passwords reset through the app.
    pub resets: u32,
    /// Tickets redeemed.
    pub redeemed: u32,
    /// Tickets the console showed.
    pub issued: u32,
    /// Cases whose opening got no answer (issued or not).
    pub issued_unsure: u32,
}

/// What the operations came to.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Operations completed, by kind.
    pub done: [u64; 3],
    /// Completions the server confirmed with its answer.
    pub acknowledged: u64,
    /// Completions that got no answer and that the server turned out to have made.
    pub found_done: u64,
    /// Completions that got no answer and that the server turned out not to have
    /// made (the operation was done again).
    pub found_not_done: u64,
    /// Operations started again because the server went away before their last step.
    pub restarted: u64,
    /// Answers no step expected, and the first few of them.
    pub refused: u64,
    pub first_refused: Vec<String>,
    /// Broken promises: a session alive after a reset, a password that does not
    /// open the account the server said it was set for.
    pub violations: Vec<String>,
}

impl Tally {
    /// Operations completed of `kind`.
    pub fn of(&self, kind: Kind) -> u64 {
        self.done[kind.index()]
    }

    /// All operations completed.
    pub fn total(&self) -> u64 {
        self.done.iter().sum()
    }
}

/// The pools, the ledger and the tally, behind one lock.
#[derive(Debug, Default)]
pub struct State {
    fresh: Vec<Arc<Person>>,
    /// Registered, never reset: fit for a counter ticket (no recent reset, no hold).
    registered: VecDeque<Member>,
    /// Reset at least once.
    resettable: VecDeque<Member>,
    kinds: Vec<Kind>,
    next: usize,
    pub counts: HashMap<String, Counts>,
    pub tally: Tally,
}

impl State {
    /// Pools of `fresh` ordinary members and of `registered` ones, cycling through
    /// `kinds`.
    pub fn new(fresh: Vec<Arc<Person>>, registered: Vec<Member>, kinds: &[Kind]) -> Self {
        let mut counts = HashMap::new();
        for m in &registered {
            counts.insert(
                m.person.account.clone(),
                Counts {
                    registered: true,
                    ..Counts::default()
                },
            );
        }
        Self {
            fresh,
            registered: registered.into(),
            kinds: kinds.to_vec(),
            counts,
            ..Self::default()
        }
    }

    /// The next operation there are members for, or `None` when no kind has any.
    pub fn take(&mut self) -> Option<Job> {
        for _ in 0..self.kinds.len() {
            let kind = *self.kinds.get(self.next % self.kinds.len().max(1))?;
            self.next += 1;
            let job = match kind {
                Kind::Register => self.fresh.pop().map(Job::Register),
                Kind::Reset => self
                    .resettable
                    .pop_front()
                    .or_else(|| {
                        // Keep a few registered members for tickets, if tickets are due.
                        let keep = if self.kinds.contains(&Kind::Ticket) {
                            4
                        } else {
                            0
                        };
                        (self.registered.len() > keep)
                            .then(|| self.registered.pop_back())
                            .flatten()
                    })
                    .map(Job::Reset),
                Kind::Ticket => self.registered.pop_front().map(Job::Ticket),
            };
            if job.is_some() {
                return job;
            }
        }
        None
    }

    /// Cycles through `kinds` from now on.
    pub fn set_kinds(&mut self, kinds: &[Kind]) {
        self.kinds = kinds.to_vec();
    }

    /// Puts the member of a finished job back: registered members become fit for
    /// tickets, reset ones for more resets. A job that ended in an unexpected answer
    /// leaves its member out, so that one odd state cannot spread.
    pub fn settle(&mut self, job: &Job, outcome: &Result<Member, Fail>) {
        match outcome {
            Ok(member) => {
                self.tally.done[job.kind().index()] += 1;
                match job.kind() {
                    Kind::Register => self.registered.push_back(member.clone()),
                    Kind::Reset | Kind::Ticket => self.resettable.push_back(member.clone()),
                }
            }
            Err(fail) => {
                self.tally.refused += 1;
                if self.tally.first_refused.len() < 5 {
                    self.tally.first_refused.push(format!(
                        "{} for {}: {fail}",
                        job.kind().name(),
                        job.account()
                    ));
                }
            }
        }
    }

    /// Records a completion of `kind` for `account`: `answered` when the server said so,
    /// otherwise found afterwards.
    pub fn completed(&mut self, kind: Kind, account: &str, answered: bool) {
        let counts = self.counts.entry(account.to_owned()).or_default();
        match kind {
            Kind::Register => counts.registered = true,
            Kind::Reset => counts.resets += 1,
            Kind::Ticket => counts.redeemed += 1,
        }
        if answered {
            self.tally.acknowledged += 1;
        } else {
            self.tally.found_done += 1;
        }
    }

    /// Records a ticket shown (`sure`) or a case opening that got no answer.
    pub fn issued(&mut self, account: &str, sure: bool) {
        let counts = self.counts.entry(account.to_owned()).or_default();
        if sure {
            counts.issued += 1;
        } else {
            counts.issued_unsure += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(n: usize) -> Arc<Person> {
        Arc::new(Person {
            account: format!("a{n}"),
            name: "x".into(),
            id_number: format!("id{n}"),
            phone: format!("p{n}"),
        })
    }

    #[test]
    fn kinds_take_turns_and_fall_back_when_a_pool_is_empty() {
        let mut state = State::new(vec![person(1), person(2)], Vec::new(), &Kind::ALL);
        let first = state.take().unwrap();
        assert_eq!(first.kind(), Kind::Register);
        // No registered member yet: the next turns fall back to registering.
        assert_eq!(state.take().unwrap().kind(), Kind::Register);
        assert!(state.take().is_none());
        let member = Member {
            person: person(1),
            password: "p".into(),
        };
        state.settle(&first, &Ok(member));
        assert_eq!(state.tally.of(Kind::Register), 1);
        assert_eq!(state.take().unwrap().kind(), Kind::Ticket);
    }

    #[test]
    fn a_refused_job_keeps_its_member_out_and_is_reported() {
        let mut state = State::new(vec![person(1)], Vec::new(), &[Kind::Register]);
        let job = state.take().unwrap();
        let refused = Fail::Refused {
            label: "registration start",
            status: 400,
            body: "{}".into(),
        };
        state.settle(&job, &Err(refused));
        assert_eq!(state.tally.refused, 1);
        assert!(state.tally.first_refused[0].contains("registrations for a1"));
        assert!(state.take().is_none());
    }

    #[test]
    fn completions_count_per_member_and_by_how_they_were_learnt() {
        let mut state = State::default();
        state.completed(Kind::Reset, "a1", true);
        state.completed(Kind::Reset, "a1", false);
        state.issued("a1", false);
        let counts = state.counts["a1"];
        assert_eq!((counts.resets, counts.issued_unsure), (2, 1));
        assert_eq!((state.tally.acknowledged, state.tally.found_done), (1, 1));
    }
}
