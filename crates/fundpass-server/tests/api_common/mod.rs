//! What the JSON API tests share: a client that speaks to `/api/v1` the way the app
//! does, from a chosen address, and a few members with valid documents.

#![allow(dead_code)]

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub use crate::support::Person;
use crate::support::{TestApp, send_from};

pub const WANG: Person = Person {
    account: "100200300401",
    name: "王小明",
    id_number: "110105199003071239",
    phone: "13812345678",
};
pub const LI: Person = Person {
    account: "100200300402",
    name: "李华",
    id_number: "310104198511224568",
    phone: "13987654321",
};
/// Nobody by this description is in the registry.
pub const STRANGER: Person = crate::support::STRANGER;

pub const LOGIN_PASSWORD: &str = "Blue7harbor42";
pub const TRANSACTION_PASSWORD: &str = "739512";

/// One response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// `error.code` of an error envelope.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code: {}", self.text))
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        crate::support::header(&self.headers, name)
    }

    /// Asserts the status and the envelope's code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.code().as_str()),
            (status, code),
            "{}",
            self.text
        );
    }
}

/// The app, as seen from one client address.
pub struct Api<'a> {
    pub app: &'a TestApp,
    pub client: reqwest::Client,
    pub ip: String,
}

impl<'a> Api<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self::from_ip(app, "203.0.113.10")
    }

    pub fn from_ip(app: &'a TestApp, ip: &str) -> Self {
        Self {
            app,
            client: app.client(),
            ip: ip.to_owned(),
        }
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let received = send_from(request, &self.ip).await;
        Reply {
            status: received.status,
            headers: received.headers,
            text: received.body,
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(self.client.post(self.app.url(path)).json(&body))
            .await
    }

    pub async fn post_as(&self, token: &str, path: &str) -> Reply {
        self.send(self.client.post(self.app.url(path)).bearer_auth(token))
            .await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Reply {
        self.send(self.client.get(self.app.url(path)).bearer_auth(token))
            .await
    }

    /// A new captcha's id and (through the dev helper) its answer.
    pub async fn captcha(&self) -> (String, String) {
        let reply = self
            .send(self.client.post(self.app.url("/api/v1/captcha")))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let id = reply.json()["captcha_id"].as_str().unwrap().to_owned();
        let answer = self.app.captcha_answer(&id).await;
        (id, answer)
    }

    /// `POST /api/v1/registration` for `person`, with a solved captcha.
    pub async fn start_registration(&self, person: &Person) -> Reply {
        let (captcha_id, captcha_answer) = self.captcha().await;
        let body = json!({
            "name": person.name, "id_type": "resident_id", "id_number": person.id_number,
            "phone": person.phone, "captcha_id": captcha_id, "captcha_answer": captcha_answer,
        });
        self.post("/api/v1/registration", body).await
    }

    /// Starts a registration that must be accepted and returns its flow id.
    pub async fn flow_for(&self, person: &Person) -> String {
        let reply = self.start_registration(person).await;
        assert_eq!(reply.status, 202, "{}", reply.text);
        reply.json()["flow_id"].as_str().unwrap().to_owned()
    }

    pub async fn submit_code(&self, flow: &str, code: &str) -> Reply {
        self.post(
            "/api/v1/registration/code",
            json!({ "flow_id": flow, "code": code }),
        )
        .await
    }

    pub async fn complete(&self, flow: &str, login: &str, transaction: &str) -> Reply {
        let body = json!({
            "flow_id": flow, "login_password": login, "login_password_confirm": login,
            "transaction_password": transaction, "transaction_password_confirm": transaction,
        });
        self.post("/api/v1/registration/complete", body).await
    }

    /// Takes `person` from ordinary to registered with the standard passwords.
    pub async fn register(&self, person: &Person) {
        let flow = self.flow_for(person).await;
        let code = self.app.last_code_to(person.phone).await;
        let reply = self.submit_code(&flow, &code).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let reply = self
            .complete(&flow, LOGIN_PASSWORD, TRANSACTION_PASSWORD)
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }

    /// `POST /api/v1/login` by account number.
    pub async fn login_by_account(&self, account: &str, password: &str) -> Reply {
        let (captcha_id, captcha_answer) = self.captcha().await;
        let body = json!({
            "account_no": account, "password": password,
            "captcha_id": captcha_id, "captcha_answer": captcha_answer,
        });
        self.post("/api/v1/login", body).await
    }

    /// `POST /api/v1/login` by resident ID number.
    pub async fn login_by_id(&self, id_number: &str, password: &str) -> Reply {
        let (captcha_id, captcha_answer) = self.captcha().await;
        let body = json!({
            "id_type": "resident_id", "id_number": id_number, "password": password,
            "captcha_id": captcha_id, "captcha_answer": captcha_answer,
        });
        self.post("/api/v1/login", body).await
    }

    /// A fresh token for a registered member.
    pub async fn token_for(&self, person: &Person) -> String {
        let reply = self.login_by_account(person.account, LOGIN_PASSWORD).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()["token"].as_str().unwrap().to_owned()
    }
}

/// Imports `person` as an ordinary member.
pub async fn seed(app: &TestApp, person: &Person) {
    app.seed(person).await;
}
