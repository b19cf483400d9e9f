//! The member's requests the fault workload makes, one function a step, each saying
//! which answer means it worked: the app's JSON API (captchas read through the dev
//! helper, registration, login, the forgotten-login-password reset) and the counter's
//! PIN-pad pages where a ticket is redeemed.

use serde_json::json;

use super::client::{Answer, Fail, Http, MAX_BACKOFF};
use super::members::{Person, TRANSACTION_PASSWORD};

/// What the PIN-pad page says once the new password is set.
const REDEEMED: &str = "新密码已设置，凭证已失效。";

/// A solved captcha.
pub async fn captcha(http: &Http) -> Result<(String, String), Fail> {
    let issued = http
        .post_json("captcha", "/api/v1/captcha", &json!({}))
        .await?
        .expect(201)?;
    let id = issued.json_str("captcha_id")?;
    let answer = http
        .get("dev captcha", &format!("/dev/captcha/{id}"))
        .await?
        .expect(200)?
        .json_str("answer")?;
    Ok((id, answer))
}

/// `POST path` with `body` and a new solved captcha, again with another captcha after
/// the wait the server asks for while it refuses for now (a refusal may have used
/// the captcha up), up to the client's patience.
pub async fn with_captcha(
    http: &Http,
    label: &'static str,
    path: &str,
    mut body: serde_json::Value,
) -> Result<Answer, Fail> {
    let mut tries = 0;
    loop {
        tries += 1;
        let (captcha_id, captcha_answer) = captcha(http).await?;
        body["captcha_id"] = json!(captcha_id);
        body["captcha_answer"] = json!(captcha_answer);
        let answer = http.post_json_once(label, path, &body).await?;
        match answer.retry_after {
            Some(wait) if answer.asks_to_wait() && tries < http.patience() => {
                tokio::time::sleep(wait.min(MAX_BACKOFF)).await;
            }
            _ => return Ok(answer),
        }
    }
}

/// A login by document number: the app token on 200, `None` on 401.
pub async fn login(http: &Http, who: &Person, password: &str) -> Result<Option<String>, Fail> {
    let answer = login_answer(http, who, password).await?;
    match answer.status.as_u16() {
        200 => answer.json_str("token").map(Some),
        401 => Ok(None),
        _ => Err(answer.refused()),
    }
}

/// A login by document number with a solved captcha, answered as it came.
pub async fn login_answer(http: &Http, who: &Person, password: &str) -> Result<Answer, Fail> {
    let body = json!({
        "id_type": "resident_id", "id_number": who.id_number, "password": password,
    });
    with_captcha(http, "login", "/api/v1/login", body).await
}

/// Whether an app token still opens `GET /api/v1/me` (200) or is refused (401).
pub async fn token_works(http: &Http, token: &str) -> Result<bool, Fail> {
    let answer = http.get_as("me", token, "/api/v1/me").await?;
    match answer.status.as_u16() {
        200 => Ok(true),
        401 => Ok(false),
        _ => Err(answer.refused()),
    }
}

/// `POST /api/v1/registration`: the flow id.
pub async fn registration_start(http: &Http, who: &Person) -> Result<String, Fail> {
    registration_answer(http, who)
        .await?
        .expect(202)?
        .json_str("flow_id")
}

/// `POST /api/v1/registration` with a solved captcha, answered as it came (202 and a
/// code sent, or refused: 429 with `Retry-After` when the phone's limits say no).
pub async fn registration_answer(http: &Http, who: &Person) -> Result<Answer, Fail> {
    let body = json!({
        "name": who.name, "id_type": "resident_id", "id_number": who.id_number,
        "phone": who.phone,
    });
    with_captcha(http, "registration start", "/api/v1/registration", body).await
}

/// `POST /api/v1/registration/code`.
pub async fn registration_code(http: &Http, flow: &str, code: &str) -> Result<(), Fail> {
    let body = json!({ "flow_id": flow, "code": code });
    http.post_json_once("registration code", "/api/v1/registration/code", &body)
        .await?
        .expect(200)
        .map(drop)
}

/// `POST /api/v1/registration/complete`: both passwords set, the member registered.
pub async fn registration_complete(http: &Http, flow: &str, login: &str) -> Result<(), Fail> {
    let body = json!({
        "flow_id": flow,
        "login_password": login, "login_password_confirm": login,
        "transaction_password": TRANSACTION_PASSWORD,
        "transaction_password_confirm": TRANSACTION_PASSWORD,
    });
    http.post_json_once(
        "registration complete",
        "/api/v1/registration/complete",
        &body,
    )
    .await?
    .expect(200)
    .map(drop)
}

/// The forgotten-login-password flow up to its last step: identify with a captcha,
/// prove with the transaction password. The flow id.
pub async fn reset_prepare(http: &Http, who: &Person) -> Result<String, Fail> {
    let body = json!({
        "name": who.name, "id_type": "resident_id", "id_number": who.id_number,
    });
    let flow = with_captcha(http, "reset start", "/api/v1/recovery/login", body)
        .await?
        .expect(201)?
        .json_str("flow")?;
    let body = json!({ "flow": flow, "transaction_password": TRANSACTION_PASSWORD });
    http.post_json_once("reset verify", "/api/v1/recovery/login/verify", &body)
        .await?
        .expect(200)?;
    Ok(flow)
}

/// The last step: the new login password.
pub async fn reset_complete(http: &Http, flow: &str, new: &str) -> Result<(), Fail> {
    let body = json!({ "flow": flow, "new_password": new, "new_password_again": new });
    http.post_json_once("reset complete", "/api/v1/recovery/login/complete", &body)
        .await?
        .expect(200)
        .map(drop)
}

/// The PIN-pad page with `ticket` and the member's document checked: the page that
/// asks for the new password (its CSRF token and redemption id).
pub async fn pinpad_check(
    pad: &Http,
    ticket: &str,
    who: &Person,
) -> Result<(String, String), Fail> {
    let form = pad.get("pinpad", "/counter/pinpad").await?.expect(200)?;
    let csrf = form.field("csrf").ok_or_else(|| form.refused())?;
    let checked = pad
        .post_form(
            "pinpad check",
            "/counter/pinpad",
            &[
                ("csrf", &csrf),
                ("ticket", ticket),
                ("id_type", "resident_id"),
                ("id_number", &who.id_number),
            ],
        )
        .await?
        .expect(200)?;
    let field = |name| checked.field(name).ok_or_else(|| checked.refused());
    Ok((field("csrf")?, field("redemption")?))
}

/// The new login password on the PIN-pad page: the ticket is used.
pub async fn pinpad_redeem(
    pad: &Http,
    (csrf, redemption): &(String, String),
    new: &str,
) -> Result<(), Fail> {
    let done: Answer = pad
        .post_form(
            "pinpad redeem",
            "/counter/pinpad/new",
            &[
                ("csrf", csrf),
                ("redemption", redemption),
                ("login_password", new),
                ("login_password_again", new),
            ],
        )
        .await?
        .expect(200)?;
    if done.body.contains(REDEEMED) {
        Ok(())
    } else {
        Err(done.refused())
    }
}
