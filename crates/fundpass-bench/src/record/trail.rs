//! The audit trail the record is read from: one member's long history of the things
//! members do (logins, failed logins, log-outs, payouts, the odd password change),
//! with other members' events interleaved at random so the reader's events are spread
//! through the whole trail, written through the store's normal path (the `audit`
//! vector of a [`ChangeSet`], chained by [`UnitOfWork::apply`]) in big change sets.

use std::time::{Duration, Instant};

use fundpass_core::audit::{Actor, ActorKind, AuditEvent, Channel, Outcome};
use fundpass_core::member::MemberId;
use fundpass_core::ports::{ChangeSet, UnitOfWork as _};
use fundpass_store::Store;
use time::OffsetDateTime;

/// What members do, as the record shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Login,
    LoginFailed,
    /// A login refused while locked.
    Locked,
    Logout,
    Payout,
    PasswordChange,
}

/// How often each act happens, per thousand events: a member logs in and out a lot,
/// mistypes now and then, is paid out sometimes and changes the password rarely.
pub const MIX: [(Act, u64); 6] = [
    (Act::Login, 560),
    (Act::LoginFailed, 190),
    (Act::Locked, 10),
    (Act::Logout, 150),
    (Act::Payout, 89),
    (Act::PasswordChange, 1),
];

/// How many events the trail holds and how they are written.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// The reader's events.
    pub events: u64,
    /// Other members, and events of each.
    pub others: u64,
    pub other_events: u64,
    /// Events per change set.
    pub batch: usize,
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// The reader's events of each act, in [`MIX`] order.
    pub reader: [u64; MIX.len()],
    /// Every event in the trail.
    pub total: u64,
    pub change_sets: u64,
    pub elapsed: Duration,
}

impl Written {
    /// The reader's events of `act`.
    pub fn of(&self, act: Act) -> u64 {
        MIX.iter()
            .zip(self.reader)
            .find(|((a, _), _)| *a == act)
            .map(|(_, n)| n)
            .unwrap_or(0)
    }
}

/// splitmix64: the same trail on every run, without a dependency.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform enough below `n` (> 0) for a benchmark's data.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn act(&mut self) -> (usize, Act) {
        let mut roll = self.below(1000);
        for (i, (act, weight)) in MIX.iter().enumerate() {
            if roll < *weight {
                return (i, *act);
            }
            roll -= weight;
        }
        (0, Act::Login)
    }
}

/// The event `act` writes, as the portal or the internal API would write it.
fn event(act: Act, member: MemberId, at: OffsetDateTime, n: u64) -> AuditEvent {
    let member_actor = Actor {
        kind: ActorKind::Member,
        id: Some(member.0.to_string()),
    };
    let channel = if n.is_multiple_of(3) {
        Channel::App
    } else {
        Channel::Web
    };
    let login = |outcome, reason: &str| {
        AuditEvent::new(at, member_actor.clone(), "login.password", channel, outcome)
            .details(serde_json::json!({ "reason": reason }))
    };
    let e = match act {
        Act::Login => login(Outcome::Success, "ok"),
        Act::LoginFailed => login(Outcome::Failure, "wrong_password"),
        Act::Locked => login(Outcome::Denied, "locked"),
        Act::Logout => AuditEvent::new(
            at,
            member_actor.clone(),
            "session.logout",
            channel,
            Outcome::Success,
        ),
        Act::PasswordChange => AuditEvent::new(
            at,
            member_actor.clone(),
            "password.change.login",
            channel,
            Outcome::Success,
        ),
        Act::Payout => AuditEvent::new(
            at,
            Actor {
                kind: ActorKind::BusinessSystem,
                id: Some("bench-payments".to_owned()),
            },
            "payout.create",
            Channel::Internal,
            Outcome::Success,
        )
        .details(serde_json::json!({
            "authorization_id": format!("auth-{n:012}"),
            "client": "bench-payments",
            "business_ref": format!("WD{n:010}"),
            "payee_account": format!("6222{:012}", n % 1_000_000_000_000),
            "amount_fen": 100_000 + (n % 5_000) * 100,
            "purpose": "withdrawal.rent",
            "mode": "confirm",
            "state": "pending",
        })),
    };
    e.member(member).ip(format!("203.0.113.{}", n % 250 + 1))
}

/// Writes the trail: `shape.events` of `members[0]`, `shape.other_events` of each
/// of the others, shuffled together and spread over the last three years, oldest
/// first, `shape.batch` events per change set.
pub async fn write(
    store: &Store,
    members: &[MemberId],
    shape: Shape,
    now: OffsetDateTime,
) -> anyhow::Result<Written> {
    let reader = *members
        .first()
        .ok_or_else(|| anyhow::anyhow!("no members"))?;
    let others = members.get(1..).unwrap_or_default();
    let mut rng = Rng(0x5EC0_2D00);
    // Each other member's slots, shuffled (Fisher–Yates).
    let mut other_slots: Vec<MemberId> = others
        .iter()
        .flat_map(|m| std::iter::repeat_n(*m, shape.other_events as usize))
        .collect();
    for i in (1..other_slots.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        other_slots.swap(i, j);
    }
    let total = shape.events + other_slots.len() as u64;
    let span = time::Duration::days(3 * 365);
    let step = span / (total.max(1) as f64);
    let start = now - span;
    let mut written = Written {
        total,
        ..Written::default()
    };
    let (mut reader_left, mut other_next) = (shape.events, 0_usize);
    let started = Instant::now();
    let mut batch = Vec::with_capacity(shape.batch);
    for n in 0..total {
        let others_left = (other_slots.len() - other_next) as u64;
        let member = if rng.below(reader_left + others_left) < others_left {
            other_next += 1;
            other_slots[other_next - 1]
        } else {
            reader_left -= 1;
            reader
        };
        let (index, act) = rng.act();
        if member == reader {
            written.reader[index] += 1;
        }
        batch.push(event(act, member, start + step * (n as f64), n));
        if batch.len() >= shape.batch || n + 1 == total {
            let audit = std::mem::replace(&mut batch, Vec::with_capacity(shape.batch));
            store
                .apply(ChangeSet {
                    audit,
                    ..ChangeSet::default()
                })
                .await?;
            written.change_sets += 1;
            if written.change_sets.is_multiple_of(20) {
                eprintln!(
                    "  {} of {total} events written ({:.1} s)",
                    n + 1,
                    started.elapsed().as_secs_f64()
                );
            }
        }
    }
    written.elapsed = started.elapsed();
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_adds_up_to_a_thousand_and_every_act_is_member_facing() {
        assert_eq!(MIX.iter().map(|(_, w)| w).sum::<u64>(), 1000);
        let at = OffsetDateTime::UNIX_EPOCH;
        for (act, _) in MIX {
            let e = event(act, MemberId(7), at, 1);
            assert!(
                fundpass_core::record::kind_of(&e.action, e.outcome).is_some(),
                "{act:?} shows on the record"
            );
            assert_eq!(e.member_id, Some(MemberId(7)));
        }
    }

    #[test]
    fn the_rolls_follow_the_mix() {
        let mut rng = Rng(1);
        let changes = (0..200_000)
            .filter(|_| rng.act().1 == Act::PasswordChange)
            .count();
        assert!((100..=300).contains(&changes), "{changes} of 200,000");
    }
}
