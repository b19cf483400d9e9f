//! The staff console as a counter clerk uses it: accounts made with `fundpass staff
//! add`, a login with password and authenticator code (the secret read from the
//! enrolment page at the first login), and the in-person check that ends in a
//! printed reset ticket.

use std::time::Duration;

use fundpass_core::ports::Clock as _;
use fundpass_server::system::SystemClock;

use super::client::{Answer, Fail, Http};
use super::members::Person;
use super::server::Instance;

/// The counter clerks' password (meets the staff password policy).
const STAFF_PASSWORD: &str = "Quiet!Harbor2026";
/// A card expiry still in the future.
const CARD_EXPIRY: &str = "2036-05-01";
/// Seconds of one authenticator step.
const STEP: i64 = 30;

/// One clerk's account as the harness knows it.
#[derive(Debug, Clone)]
struct Account {
    username: String,
    /// The enrolled secret, once an enrolment is known to have finished.
    secret: Option<String>,
    /// A secret shown on an enrolment page whose confirmation got no answer.
    candidate: Option<String>,
    /// The newest step a code was sent for (a code is good once).
    last_step: i64,
}

/// A console session of one of a few clerk accounts (another account is used when the
/// last one's code for this step is spent).
#[derive(Debug)]
pub struct Console {
    http: Http,
    accounts: Vec<Account>,
}

/// Creates `count` counter clerk accounts; their user names.
pub fn add_clerks(instance: &Instance, count: usize) -> anyhow::Result<Vec<String>> {
    (1..=count)
        .map(|i| {
            let username = format!("clerk{i}");
            instance.run(
                &[
                    "staff",
                    "add",
                    "--username",
                    &username,
                    "--name",
                    &format!("柜员{i}"),
                    "--role",
                    "counter",
                    "--branch-id",
                    "BJ-001",
                    "--branch-name",
                    "东城管理部",
                ],
                &format!("{STAFF_PASSWORD}\n"),
            )?;
            Ok(username)
        })
        .collect()
}

impl Console {
    /// A console with its own cookie jar (`http`) for the clerks `usernames`.
    pub fn new(http: Http, usernames: Vec<String>) -> Self {
        let accounts = usernames
            .into_iter()
            .map(|username| Account {
                username,
                secret: None,
                candidate: None,
                last_step: 0,
            })
            .collect();
        Self { http, accounts }
    }

    /// The in-person check for `who` with a login-password reset: the ticket the
    /// receipt shows.
    pub async fn ticket_for(&mut self, who: &Person) -> Result<String, Fail> {
        let home = self.home().await?;
        let csrf = home.field("csrf").ok_or_else(|| home.refused())?;
        let found = self
            .http
            .post_form(
                "staff lookup",
                "/staff/lookup",
                &[
                    ("csrf", &csrf),
                    ("id_type", "resident_id"),
                    ("id_number", &who.id_number),
                ],
            )
            .await?
            .expect(303)?;
        let member = found.location.clone().ok_or_else(|| found.refused())?;
        let page = self.http.get("staff member", &member).await?.expect(200)?;
        let field = |name| page.field(name).ok_or_else(|| page.refused());
        let (csrf, case_id) = (field("csrf")?, field("case_id")?);
        let receipt = self
            .http
            .post_form(
                "counter case",
                &format!("{member}/counter"),
                &[
                    ("csrf", &csrf),
                    ("case_id", &case_id),
                    ("card_id_type", "resident_id"),
                    ("card_id_number", &who.id_number),
                    ("card_expiry", CARD_EXPIRY),
                    ("form_number", "F-2026-0001"),
                    ("scope", "login"),
                    ("new_phone", ""),
                    ("new_phone_again", ""),
                ],
            )
            .await?
            .expect(200)?;
        ticket_on(&receipt).ok_or_else(|| receipt.refused())
    }

    /// The console's home page as it answers now (200 with a session, a redirect to
    /// the login page without), logging nobody in.
    pub async fn home_page(&self) -> Result<Answer, Fail> {
        self.http.get("staff home", "/staff").await
    }

    /// The console's home page, logging in first when there is no session.
    async fn home(&mut self) -> Result<Answer, Fail> {
        let home = self.http.get("staff home", "/staff").await?;
        if home.status.as_u16() == 200 {
            return Ok(home);
        }
        self.log_in().await?;
        self.http.get("staff home", "/staff").await?.expect(200)
    }

    /// Password, then the authenticator code of an account whose code for the current
    /// step is not spent (waiting for the next step when every one is).
    async fn log_in(&mut self) -> Result<(), Fail> {
        let (index, step) = loop {
            let now = SystemClock.now().unix_timestamp();
            let step = now / STEP;
            if let Some(i) = self.accounts.iter().position(|a| a.last_step < step) {
                break (i, step);
            }
            let wait = u64::try_from(STEP - now % STEP).unwrap_or(1);
            tokio::time::sleep(Duration::from_secs(wait)).await;
        };
        let username = self.accounts[index].username.clone();
        let form = self
            .http
            .get("staff login", "/staff/login")
            .await?
            .expect(200)?;
        let csrf = form.field("csrf").ok_or_else(|| form.refused())?;
        self.http
            .post_form(
                "staff password",
                "/staff/login",
                &[
                    ("csrf", &csrf),
                    ("username", &username),
                    ("password", STAFF_PASSWORD),
                ],
            )
            .await?
            .expect(303)?;
        let mfa = self
            .http
            .get("staff mfa", "/staff/mfa")
            .await?
            .expect(200)?;
        let csrf = mfa.field("csrf").ok_or_else(|| mfa.refused())?;
        let account = &mut self.accounts[index];
        // An enrolment page shows a new secret; otherwise the enrolled one is asked
        // for, which is the last one shown if its confirmation got no answer.
        let secret = match (secret_on(&mfa), &account.secret, &account.candidate) {
            (Some(shown), _, _) => shown,
            (None, Some(known), _) => known.clone(),
            (None, None, Some(shown)) => shown.clone(),
            (None, None, None) => return Err(mfa.refused()),
        };
        let code = code_at(&secret, step * STEP).ok_or_else(|| mfa.refused())?;
        account.last_step = step;
        account.candidate = Some(secret.clone());
        self.http
            .post_form(
                "staff code",
                "/staff/mfa",
                &[("csrf", &csrf), ("code", &code)],
            )
            .await?
            .expect(303)?;
        let account = &mut self.accounts[index];
        account.secret = Some(secret);
        account.candidate = None;
        Ok(())
    }
}

/// The base32 secret an enrolment page shows, spaces removed.
fn secret_on(page: &Answer) -> Option<String> {
    let start = page.body.find("<code id=\"totp-secret\">")? + "<code id=\"totp-secret\">".len();
    let end = page.body[start..].find("</code>")? + start;
    Some(page.body[start..end].replace(' ', ""))
}

/// The ticket printed on a receipt.
fn ticket_on(page: &Answer) -> Option<String> {
    let start = page.body.find("id=\"ticket\">")? + "id=\"ticket\">".len();
    let end = page.body[start..].find('<')? + start;
    Some(page.body[start..end].trim().to_owned())
}

/// The code an authenticator shows at unix time `at` for `base32` (SHA-1, 6 digits,
/// 30-second steps).
fn code_at(base32: &str, at: i64) -> Option<String> {
    let secret = totp_rs::Secret::try_from_base32(base32).ok()?;
    let totp = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(secret)
        .build()
        .ok()?;
    Some(totp.generate(u64::try_from(at).ok()?).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    fn page(body: &str) -> Answer {
        Answer {
            label: "page",
            status: StatusCode::OK,
            retry_after: None,
            location: None,
            body: body.to_owned(),
        }
    }

    #[test]
    fn the_secret_and_the_ticket_are_read_from_their_pages() {
        let mfa = page(r#"<p><code id="totp-secret">JBSW Y3DP EHPK 3PXP</code></p>"#);
        assert_eq!(secret_on(&mfa).as_deref(), Some("JBSWY3DPEHPK3PXP"));
        let receipt = page(r#"<strong id="ticket"> ABCD-EFGH-JKMN </strong>"#);
        assert_eq!(ticket_on(&receipt).as_deref(), Some("ABCD-EFGH-JKMN"));
        assert_eq!(ticket_on(&mfa), None);
    }

    #[test]
    fn codes_follow_rfc_6238() {
        // RFC 6238's SHA-1 test secret "12345678901234567890" in base32, at 59 s.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(code_at(secret, 59).as_deref(), Some("287082"));
        assert_eq!(code_at(secret, 1_111_111_109).as_deref(), Some("081804"));
    }
}
