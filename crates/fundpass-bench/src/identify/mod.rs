//! `identify`: whether the anonymous identify steps take as long for details that
//! match nobody as for a member's. Each step is called in interleaved pairs (a
//! member's details, then well-formed details nobody holds, the order alternating),
//! one request at a time over one connection, the captcha drawn before the timed
//! part; the report gives each side's median and trimmed mean and how far apart they
//! are (the project's target: under 5 %).
//!
//! Steps: registration's identify (a member not yet registered, and a registered
//! member, each against nobody), the forgotten-login-password identify, and the face
//! login's start. The forgotten-transaction-password step is not anonymous (the
//! member is logged in and only their own details are compared), and the hotline's
//! look-ups are made by logged-in staff.

mod server;

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use fundpass_core::member::ImportRow;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::harness::stats::{ms, percentile};
use server::Server;

/// Options of `identify`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Timed pairs per step (after the warm-up pairs).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(10..=100_000))]
    pub pairs: u64,
    /// Untimed pairs per step before the timed ones.
    #[arg(long, default_value_t = 30)]
    pub warmup: u64,
    /// Members of each kind the pairs rotate over.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub members: u64,
    /// The server's `[portal] identify_floor_ms` (0: answer as soon as the work is
    /// done, to see the difference the floor hides).
    #[arg(long, default_value_t = fundpass_core::portal::DEFAULT_IDENTIFY_FLOOR_MS)]
    pub identify_floor_ms: i64,
}

/// Made-up documents from this index on are in nobody's hands.
const NOBODY_FROM: usize = 5_000_000;
/// The largest acceptable difference between the two sides' medians, in percent.
const TARGET_PERCENT: f64 = 5.0;

/// One step and the two kinds of details it is timed with.
struct Step {
    label: &'static str,
    path: &'static str,
    /// The body for a member's details (or nobody's), given the captcha.
    body: fn(&ImportRow, &Captcha) -> Value,
    /// Which registry the member side comes from.
    members: Side,
}

#[derive(Clone, Copy)]
enum Side {
    Registered,
    Ordinary,
}

const STEPS: [Step; 4] = [
    Step {
        label: "registration (not yet registered)",
        path: "/api/v1/registration",
        body: registration,
        members: Side::Ordinary,
    },
    Step {
        label: "registration (already registered)",
        path: "/api/v1/registration",
        body: registration,
        members: Side::Registered,
    },
    Step {
        label: "forgotten login password",
        path: "/api/v1/recovery/login",
        body: forgot_login,
        members: Side::Registered,
    },
    Step {
        label: "face login start",
        path: "/api/v1/face/start",
        body: face_start,
        members: Side::Registered,
    },
];

fn registration(row: &ImportRow, captcha: &Captcha) -> Value {
    json!({
        "name": row.name, "id_type": row.id_type, "id_number": row.id_number,
        "phone": row.phone, "captcha_id": captcha.id, "captcha_answer": captcha.answer,
    })
}

fn forgot_login(row: &ImportRow, captcha: &Captcha) -> Value {
    json!({
        "name": row.name, "id_type": row.id_type, "id_number": row.id_number,
        "captcha_id": captcha.id, "captcha_answer": captcha.answer,
    })
}

fn face_start(row: &ImportRow, _: &Captcha) -> Value {
    json!({ "id_type": row.id_type, "id_number": row.id_number })
}

/// A captcha and its answer from the dev tools.
struct Captcha {
    id: String,
    answer: String,
}

#[derive(Deserialize)]
struct Issued {
    captcha_id: String,
}

#[derive(Deserialize)]
struct Answer {
    answer: String,
}

/// The client: one connection, and a new client address for every request.
struct Client {
    http: reqwest::Client,
    base: String,
    next_address: u32,
}

impl Client {
    fn address(&mut self) -> String {
        self.next_address += 1;
        let [_, b, c, d] = self.next_address.to_be_bytes();
        format!("10.{b}.{c}.{d}")
    }

    async fn captcha(&mut self) -> anyhow::Result<Captcha> {
        let address = self.address();
        let issued: Issued = self
            .http
            .post(format!("{}/api/v1/captcha", self.base))
            .header("x-forwarded-for", address)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let answer: Answer = self
            .http
            .get(format!("{}/dev/captcha/{}", self.base, issued.captcha_id))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(Captcha {
            id: issued.captcha_id,
            answer: answer.answer,
        })
    }

    /// One timed call; fails unless the step accepted the details.
    async fn timed(&mut self, step: &Step, row: &ImportRow) -> anyhow::Result<Duration> {
        let captcha = self.captcha().await?;
        let body = (step.body)(row, &captcha);
        let request = self
            .http
            .post(format!("{}{}", self.base, step.path))
            .header("x-forwarded-for", self.address())
            .json(&body);
        let started = Instant::now();
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        let took = started.elapsed();
        if !status.is_success() {
            bail!("{} answered {status}: {text}", step.path);
        }
        Ok(took)
    }
}

/// The two sides' latencies for one step.
struct Timings {
    member: Vec<Duration>,
    nobody: Vec<Duration>,
}

/// Runs the benchmark and prints its report.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let members = usize::try_from(args.members)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("fundpass-server")
        .enable_all()
        .build()?;
    eprintln!("setting up: {members} registered and {members} ordinary members…");
    let floor = time::Duration::milliseconds(args.identify_floor_ms.max(0));
    let server = runtime.block_on(Server::start(members, members, floor))?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot build the HTTP client")?;
    let mut client = Client {
        http: client,
        base: server.base_url.clone(),
        next_address: 0,
    };
    let measured = runtime.block_on(async {
        let mut all = Vec::new();
        for step in &STEPS {
            eprintln!("timing: {}…", step.label);
            all.push(time_step(&mut client, &server, step, args).await?);
            server.check_alive()?;
        }
        anyhow::Ok(all)
    });
    let stopped = runtime.block_on(server.stop());
    let measured = measured?;
    stopped?;
    print(args, &measured);
    Ok(())
}

async fn time_step(
    client: &mut Client,
    server: &Server,
    step: &Step,
    args: &Args,
) -> anyhow::Result<Timings> {
    let pool = match step.members {
        Side::Registered => &server.registered,
        Side::Ordinary => &server.ordinary,
    };
    let mut timings = Timings {
        member: Vec::new(),
        nobody: Vec::new(),
    };
    let total = usize::try_from(args.warmup + args.pairs)?;
    let warmup = usize::try_from(args.warmup)?;
    for i in 0..total {
        let member = &pool[i % pool.len()];
        // Nobody's details: the member's name (and, for registration, a phone of
        // the same shape) with a well-formed document no one holds.
        let stranger = crate::authorize::setup::row(NOBODY_FROM + i);
        let nobody = ImportRow {
            name: member.name.clone(),
            ..stranger
        };
        let (first, second) = if i % 2 == 0 {
            (
                client.timed(step, member).await?,
                client.timed(step, &nobody).await?,
            )
        } else {
            let n = client.timed(step, &nobody).await?;
            (client.timed(step, member).await?, n)
        };
        if i >= warmup {
            timings.member.push(first);
            timings.nobody.push(second);
        }
    }
    Ok(timings)
}

/// The mean of the middle 80 % (the slowest and fastest tenth left out).
fn trimmed_mean(sorted: &[Duration]) -> Duration {
    let cut = sorted.len() / 10;
    let middle = &sorted[cut..sorted.len() - cut];
    let total: Duration = middle.iter().sum();
    total / u32::try_from(middle.len().max(1)).unwrap_or(1)
}

/// How much longer (positive) or shorter the member's side took, in percent.
fn difference(member: Duration, nobody: Duration) -> f64 {
    (member.as_secs_f64() - nobody.as_secs_f64()) / nobody.as_secs_f64() * 100.0
}

#[allow(clippy::print_stdout)]
fn print(args: &Args, measured: &[Timings]) {
    println!(
        "identify steps: {} interleaved pairs each ({} warm-up pairs not counted), one connection, loopback, identify floor {} ms",
        args.pairs, args.warmup, args.identify_floor_ms
    );
    println!(
        "{:<36} {:>11} {:>11} {:>9} {:>12} {:>12} {:>9}",
        "step", "member p50", "nobody p50", "diff", "member mean", "nobody mean", "diff"
    );
    let mut worst: f64 = 0.0;
    for (step, t) in STEPS.iter().zip(measured) {
        let (mut m, mut n) = (t.member.clone(), t.nobody.clone());
        m.sort_unstable();
        n.sort_unstable();
        let (mp, np) = (
            percentile(&m, 50.0).unwrap_or_default(),
            percentile(&n, 50.0).unwrap_or_default(),
        );
        let (mm, nm) = (trimmed_mean(&m), trimmed_mean(&n));
        let (dp, dm) = (difference(mp, np), difference(mm, nm));
        worst = worst.max(dp.abs()).max(dm.abs());
        println!(
            "{:<36} {:>8.3} ms {:>8.3} ms {:>+8.1}% {:>9.3} ms {:>9.3} ms {:>+8.1}%",
            step.label,
            ms(mp),
            ms(np),
            dp,
            ms(mm),
            ms(nm),
            dm
        );
    }
    let verdict = if worst < TARGET_PERCENT {
        "met"
    } else {
        "MISSED"
    };
    println!("largest difference {worst:.1} % (target < {TARGET_PERCENT} %: {verdict})");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trimmed_mean_leaves_out_each_tenth() {
        let sorted: Vec<Duration> = (1..=10)
            .map(|v| Duration::from_millis(if v == 10 { 1000 } else { v }))
            .collect();
        // 2 to 9 are left: 44 ms over 8.
        assert_eq!(trimmed_mean(&sorted), Duration::from_micros(5500));
    }

    #[test]
    fn the_difference_is_relative_to_nobody() {
        let d = difference(Duration::from_micros(1400), Duration::from_micros(1000));
        assert!((d - 40.0).abs() < 1e-9);
    }

    #[test]
    fn nobody_holds_the_documents_the_benchmark_makes_up_for_strangers() {
        assert_ne!(
            crate::authorize::setup::row(NOBODY_FROM).id_number,
            crate::authorize::setup::row(0).id_number
        );
    }
}
