//! The few calls of fundpass's JSON API (and its dev-mode helpers) the benchmark makes:
//! captchas, registering the demo members, logging in, and the readiness check.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::harness::flood::Reply;

/// A demo member the benchmark registers and then logs in as.
#[derive(Debug, Clone, Copy)]
pub struct Member {
    /// Name as on the document.
    pub name: &'static str,
    /// The API's document type code.
    pub id_type: &'static str,
    /// Document number.
    pub id_number: &'static str,
    /// The phone on file, where the registration code goes.
    pub phone: &'static str,
}

/// The members `fundpass serve --demo` imports (`crates/fundpass/src/demo.rs`, a
/// binary crate the benchmark cannot depend on). Logins spread over all of them.
pub const DEMO_MEMBERS: [Member; 6] = [
    Member {
        name: "张三",
        id_type: "resident_id",
        id_number: "110105199003071239",
        phone: "13800000001",
    },
    Member {
        name: "李四",
        id_type: "resident_id",
        id_number: "310115198511224567",
        phone: "13900000002",
    },
    Member {
        name: "王五",
        id_type: "resident_id",
        id_number: "44030519920615789X",
        phone: "15000000003",
    },
    Member {
        name: "赵六",
        id_type: "resident_id",
        id_number: "510107197809012340",
        phone: "18600000004",
    },
    Member {
        name: "陈小红",
        id_type: "resident_id",
        id_number: "330106199502285677",
        phone: "17700000005",
    },
    Member {
        name: "Maria Lopez",
        id_type: "passport",
        id_number: "E12345678",
        phone: "13600000006",
    },
];

/// Login password given to every demo member (meets the standard policy).
pub const LOGIN_PASSWORD: &str = "Bench2026pass";
/// Transaction password given to every demo member (no run, pattern, date or tail).
const TRANSACTION_PASSWORD: &str = "135792";

/// A solved captcha, drawn before the timed window so drawing costs nothing in it.
#[derive(Debug, Clone)]
pub struct Captcha {
    /// `captcha_id` to send.
    pub id: String,
    /// The answer, read from `/dev/captcha/{id}`.
    pub answer: String,
}

/// A client of one fundpass server.
#[derive(Debug, Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
}

#[derive(Deserialize)]
struct CaptchaIssued {
    captcha_id: String,
}

#[derive(Deserialize)]
struct CaptchaAnswer {
    answer: String,
}

#[derive(Deserialize)]
struct FlowStarted {
    flow_id: String,
}

#[derive(Deserialize)]
struct OutboxMessage {
    to: String,
    purpose: String,
    text: String,
    created_at: String,
}

impl Api {
    /// A client of `base_url` (loopback, plain HTTP, never through a proxy) keeping up
    /// to `connections` idle connections.
    pub fn new(base_url: &str, connections: usize) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(connections)
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self {
            client,
            base: base_url.to_owned(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The status of `GET /readyz`.
    pub async fn ready(&self) -> anyhow::Result<StatusCode> {
        Ok(self.client.get(self.url("/readyz")).send().await?.status())
    }

    /// A new captcha with its answer.
    pub async fn captcha(&self) -> anyhow::Result<Captcha> {
        let issued: CaptchaIssued =
            expect_json(self.client.post(self.url("/api/v1/captcha")).send().await?).await?;
        let answer: CaptchaAnswer = expect_json(
            self.client
                .get(self.url(&format!("/dev/captcha/{}", issued.captcha_id)))
                .send()
                .await?,
        )
        .await?;
        Ok(Captcha {
            id: issued.captcha_id,
            answer: answer.answer,
        })
    }

    /// One login attempt with a document number: 200 logged in, 503 pool full,
    /// 429 rate-limited.
    pub async fn login(&self, member: &Member, captcha: &Captcha) -> anyhow::Result<Reply> {
        let body = json!({
            "id_type": member.id_type, "id_number": member.id_number, "password": LOGIN_PASSWORD,
            "captcha_id": captcha.id, "captcha_answer": captcha.answer,
        });
        let response = self
            .client
            .post(self.url("/api/v1/login"))
            .json(&body)
            .send()
            .await?;
        let expected = [
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::SERVICE_UNAVAILABLE,
        ];
        Ok(Reply::read(response, &expected).await)
    }

    /// Registers `member` (ordinary → registered) the way the app does: identify with a
    /// captcha, the SMS code from the dev outbox, then both passwords.
    pub async fn register(&self, member: &Member) -> anyhow::Result<()> {
        let captcha = self.captcha().await?;
        let body = json!({
            "name": member.name, "id_type": member.id_type, "id_number": member.id_number,
            "phone": member.phone, "captcha_id": captcha.id, "captcha_answer": captcha.answer,
        });
        let started: FlowStarted = expect_json(
            self.client
                .post(self.url("/api/v1/registration"))
                .json(&body)
                .send()
                .await?,
        )
        .await?;
        let code = self.sms_code(member.phone).await?;
        let body = json!({ "flow_id": started.flow_id, "code": code });
        expect_ok(
            self.client
                .post(self.url("/api/v1/registration/code"))
                .json(&body)
                .send()
                .await?,
        )
        .await?;
        let body = json!({
            "flow_id": started.flow_id,
            "login_password": LOGIN_PASSWORD, "login_password_confirm": LOGIN_PASSWORD,
            "transaction_password": TRANSACTION_PASSWORD, "transaction_password_confirm": TRANSACTION_PASSWORD,
        });
        expect_ok(
            self.client
                .post(self.url("/api/v1/registration/complete"))
                .json(&body)
                .send()
                .await?,
        )
        .await
    }

    /// The newest registration code sent to `phone`, waiting up to 10 s for the outbox.
    async fn sms_code(&self, phone: &str) -> anyhow::Result<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let outbox: Vec<OutboxMessage> =
                expect_json(self.client.get(self.url("/dev/outbox.json")).send().await?).await?;
            let newest = outbox
                .iter()
                .filter(|m| m.purpose == "registration_code" && same_phone(&m.to, phone))
                .max_by(|a, b| a.created_at.cmp(&b.created_at));
            if let Some(code) = newest.and_then(|m| six_digit_code(&m.text)) {
                return Ok(code);
            }
            if Instant::now() >= deadline {
                bail!("no registration code for {phone} in the dev outbox after 10 s");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Whether an outbox recipient is `phone`, however the outbox formats it (country
/// code, spaces, masking): the last four digits decide, which is enough among the
/// demo members.
fn same_phone(to: &str, phone: &str) -> bool {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let (to, phone) = (digits(to), digits(phone));
    to.len() >= 4 && phone.len() >= 4 && to[to.len() - 4..] == phone[phone.len() - 4..]
}

/// The first run of exactly six digits in an SMS text.
fn six_digit_code(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 6)
        .map(str::to_owned)
}

async fn expect_ok(response: reqwest::Response) -> anyhow::Result<()> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let url = response.url().path().to_owned();
    let body = response.text().await.unwrap_or_default();
    bail!("{url} answered {status}: {body}")
}

async fn expect_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> anyhow::Result<T> {
    let status = response.status();
    let url = response.url().path().to_owned();
    let body = response.text().await?;
    if !status.is_success() {
        bail!("{url} answered {status}: {body}");
    }
    serde_json::from_str(&body).with_context(|| format!("unexpected answer from {url}: {body}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_is_the_six_digit_number_not_the_hotline_or_the_minutes() {
        let text = "【公积金】您的注册验证码为 482913，5分钟内有效。如非本人操作请致电12329。";
        assert_eq!(six_digit_code(text).as_deref(), Some("482913"));
        assert_eq!(six_digit_code("call 12329 or 13800000001"), None);
    }

    #[test]
    fn outbox_recipients_match_with_or_without_country_code() {
        assert!(same_phone("+86 138 0000 0001", "13800000001"));
        assert!(same_phone("138****0001", "13800000001"));
        assert!(!same_phone("13900000002", "13800000001"));
    }
}
