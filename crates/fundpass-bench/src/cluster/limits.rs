//! Limits that hold across the instances because their state is shared (Redis for
//! the windows and captchas, the database for locks and flows): wrong passwords
//! typed on three instances lock the member; one phone's cooldown and daily cap;
//! one SMS code submitted 50 times at once on three instances works once. Also a
//! flow begun on an instance that is then killed and finished on another.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use super::Report;
use super::control::Cluster;
use crate::crash::api;
use crate::crash::client::Http;
use crate::crash::members::Person;
use crate::crash::receiver::Inbox;

/// Longest wait for a code to reach the gateway.
const CODE_WAIT: Duration = Duration::from_secs(20);

/// Registers `who` with `password`, each step on another instance (the flow lives in
/// the database): start on 1, code on 2, passwords on 3.
pub async fn register(
    cluster: &Cluster,
    inbox: &Inbox,
    who: &Person,
    password: &str,
) -> anyhow::Result<()> {
    let (flow, code) = registration_with_code(cluster, inbox, who).await?;
    api::registration_code(&cluster.instance(2, 3)?, &flow, &code).await?;
    api::registration_complete(&cluster.instance(3, 3)?, &flow, password).await?;
    Ok(())
}

/// A registration begun on instance 1 and the code that reached `who`'s phone.
async fn registration_with_code(
    cluster: &Cluster,
    inbox: &Inbox,
    who: &Person,
) -> anyhow::Result<(String, String)> {
    let mark = inbox.mark();
    let flow = api::registration_start(&cluster.instance(1, 3)?, who).await?;
    let (_, code) = inbox
        .code_after(&who.phone, mark, "验证码", CODE_WAIT)
        .await
        .context("no registration code reached the gateway")?;
    Ok((flow, code))
}

/// Five wrong passwords, typed on instances 1, 2, 3, 1, 2 (no instance sees five),
/// lock the member: the right password is then refused with 423 on instance 3.
pub async fn lockout(
    cluster: &Cluster,
    inbox: &Inbox,
    who: &Person,
    password: &str,
    report: &mut Report,
) -> anyhow::Result<()> {
    register(cluster, inbox, who, password).await?;
    let mut statuses = Vec::new();
    for attempt in 0..5u8 {
        let http = cluster.instance(attempt % 3 + 1, 1)?;
        let answer = api::login_answer(&http, who, "Wrong-password-9z").await?;
        statuses.push(answer.status.as_u16());
    }
    let last = api::login_answer(&cluster.instance(3, 1)?, who, password).await?;
    report.line(format!(
        "lockout: 5 wrong passwords on instances 1,2,3,1,2 answered {statuses:?}; the right one on instance 3 then {}",
        last.status.as_u16()
    ));
    report.check(
        statuses.iter().all(|s| *s == 401 || *s == 423),
        "every wrong password is refused (401, or 423 once locked)",
    );
    report.check(
        last.status.as_u16() == 423,
        "the member is locked after five failures spread over three instances",
    );
    Ok(())
}

/// One phone, code requests on the instances in turn: a second request within the
/// cooldown is refused on another instance; after the cooldown another instance
/// sends; once the daily cap is used up, a request after the cooldown is refused
/// until the day ends.
pub async fn sms_limits(
    cluster: &Cluster,
    who: &Person,
    (cooldown, daily_cap): (Duration, u32),
    report: &mut Report,
) -> anyhow::Result<()> {
    // The cooldown is counted in fixed windows of `cooldown` from the epoch: start
    // just inside one, so that a request and the one right after it share a window.
    let now = fundpass_core::ports::Clock::now(&fundpass_server::system::SystemClock);
    let into = Duration::from_nanos(
        u64::try_from(
            now.unix_timestamp_nanos()
                .rem_euclid(cooldown.as_nanos() as i128),
        )
        .unwrap_or(0),
    );
    tokio::time::sleep(cooldown.saturating_sub(into) + Duration::from_millis(100)).await;
    let mut sent = 0u32;
    let mut cooldown_refusals = 0u32;
    let mut day_refusal = None;
    let started = Instant::now();
    let mut turn = 0u8;
    while started.elapsed() < Duration::from_secs(60) && day_refusal.is_none() {
        let http = cluster.instance(turn % 3 + 1, 1)?;
        let again = cluster.instance((turn + 1) % 3 + 1, 1)?;
        turn += 1;
        let first = api::registration_answer(&http, who).await?;
        let wait = match first.status.as_u16() {
            202 => {
                sent += 1;
                // At once, on the next instance: inside the cooldown.
                let second = api::registration_answer(&again, who).await?;
                match (second.status.as_u16(), second.retry_after) {
                    (429, Some(after)) if after <= Duration::from_secs(60) => {
                        cooldown_refusals += 1;
                        after
                    }
                    (status, _) => {
                        bail!("a second code request within the cooldown answered {status}")
                    }
                }
            }
            429 => match first.retry_after {
                Some(after) if after > Duration::from_secs(60) => {
                    day_refusal = Some(after);
                    Duration::ZERO
                }
                Some(after) => after,
                None => bail!("a refused code request came without Retry-After"),
            },
            status => bail!("a code request answered {status}"),
        };
        tokio::time::sleep(wait + Duration::from_millis(100)).await;
    }
    report.line(format!(
        "SMS limits of one phone: {sent} codes sent, {cooldown_refusals} requests refused within the cooldown on another instance, then refused for the day (Retry-After {} s)",
        day_refusal.map_or(0, |d| d.as_secs())
    ));
    report.check(
        sent == daily_cap,
        "the phone's daily cap holds across the instances",
    );
    report.check(
        cooldown_refusals == sent,
        "the phone's cooldown holds across the instances",
    );
    report.check(day_refusal.is_some(), "the day's refusal came");
    Ok(())
}

/// One registration code submitted 50 times at once, spread over the three
/// instances: exactly one submission is accepted.
pub async fn one_code_once(
    cluster: &Cluster,
    inbox: &Inbox,
    who: &Person,
    report: &mut Report,
) -> anyhow::Result<()> {
    let (flow, code) = registration_with_code(cluster, inbox, who).await?;
    let clients: Vec<Http> = (1..=3)
        .map(|n| cluster.instance(n, 1))
        .collect::<anyhow::Result<_>>()?;
    let body = serde_json::json!({ "flow_id": flow, "code": code });
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let (http, body) = (clients[i % 3].clone(), body.clone());
        tasks.spawn(async move {
            http.post_json_once("registration code", "/api/v1/registration/code", &body)
                .await
                .map(|a| a.status.as_u16())
        });
    }
    let mut statuses = std::collections::BTreeMap::new();
    while let Some(answer) = tasks.join_next().await {
        let key = answer?.map_or(0, |s| s);
        *statuses.entry(key).or_insert(0u32) += 1;
    }
    let accepted = statuses.get(&200).copied().unwrap_or(0);
    report.line(format!(
        "one SMS code submitted 50 times at once on three instances: statuses {statuses:?} (0: no answer)"
    ));
    report.check(accepted == 1, "one code is accepted exactly once");
    report.check(
        !statuses.contains_key(&0) && statuses.keys().all(|s| *s < 500),
        "every submission is answered, none with a server error",
    );
    Ok(())
}

/// A forgotten-login-password reset begun and proven on instance 1, instance 1
/// killed, the new password set on instance 2 and logging in on instance 3.
pub async fn handover(
    cluster: &Cluster,
    inbox: &Inbox,
    who: &Person,
    passwords: (&str, &str),
    report: &mut Report,
) -> anyhow::Result<()> {
    let (old, new) = passwords;
    register(cluster, inbox, who, old).await?;
    let flow = api::reset_prepare(&cluster.instance(1, 3)?, who).await?;
    cluster.kill_instance(1)?;
    let finished = api::reset_complete(&cluster.instance(2, 3)?, &flow, new).await;
    let token = api::login(&cluster.instance(3, 3)?, who, new).await?;
    let old_refused = api::login(&cluster.instance(3, 3)?, who, old)
        .await?
        .is_none();
    cluster.start_instance(1)?;
    report.line(format!(
        "instance killed mid-recovery: the reset begun on instance 1 finished on instance 2: {}; the new password logs in on instance 3: {}; the old one refused: {old_refused}",
        finished.as_ref().map_or_else(ToString::to_string, |()| "yes".into()),
        token.is_some()
    ));
    report.check(
        finished.is_ok() && token.is_some() && old_refused,
        "a recovery survives the loss of the instance it began on",
    );
    Ok(())
}
