//! What the portal page tests share: a browser (cookie jar, no redirects followed,
//! its own client address) that reads forms the way a person would, and a few members
//! with valid documents.

// Test helpers: a failed request or a missing field is a failed test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use reqwest::header::HeaderMap;

pub mod recovery;

pub use crate::support::Person;
use crate::support::{TestApp, send_from};

pub const ZHANG: Person = Person {
    account: "200300400501",
    name: "张伟",
    id_number: "110105199003071239",
    phone: "13812345678",
};
pub const CHEN: Person = Person {
    account: "200300400502",
    name: "陈静",
    id_number: "310104198511224568",
    phone: "13987654321",
};
/// Nobody by this description is in the registry.
pub const STRANGER: Person = crate::support::STRANGER;

pub const LOGIN_PASSWORD: &str = "Lantern42river";
pub const TRANSACTION_PASSWORD: &str = "408259";

/// One response, read whole.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub html: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::support::header(&self.headers, name)
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    }

    /// The `Set-Cookie` header of cookie `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// Where a redirect goes.
    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// The value of the hidden (or any) input named `name`.
    pub fn field(&self, name: &str) -> Option<String> {
        field(&self.html, name)
    }

    #[track_caller]
    pub fn assert_redirect(&self, to: &str) {
        assert_eq!(
            (self.status, self.location()),
            (303, Some(to)),
            "{}",
            self.html
        );
    }
}

/// The `value` of the first input named `name` (attributes as the templates write
/// them: `name="…"` before `value="…"`).
pub fn field(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\"");
    let at = html.find(&needle)?;
    let tag_end = html[at..].find('>')? + at;
    let tag = &html[at..tag_end];
    let value = tag.split("value=\"").nth(1)?;
    Some(value.split('"').next()?.to_owned())
}

/// The page with the values of the named inputs and every `data:` image replaced by
/// `…`, for comparing two pages that differ only in fresh random values.
pub fn blank(html: &str, names: &[&str]) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(tag_start) = rest.find('<') {
        let tag_end = rest[tag_start..]
            .find('>')
            .map_or(rest.len(), |e| tag_start + e + 1);
        out.push_str(&rest[..tag_start]);
        let tag = &rest[tag_start..tag_end];
        let named = names.iter().any(|n| tag.contains(&format!("name=\"{n}\"")));
        let tag = if named {
            blank_attribute(tag, "value=\"")
        } else {
            tag.to_owned()
        };
        out.push_str(&blank_attribute(&tag, "src=\"data:"));
        rest = &rest[tag_end..];
    }
    out.push_str(rest);
    out
}

fn blank_attribute(tag: &str, start: &str) -> String {
    match tag.find(start) {
        Some(at) => {
            let value_start = at + start.len();
            let value_end = tag[value_start..]
                .find('"')
                .map_or(tag.len(), |e| value_start + e);
            format!("{}…{}", &tag[..value_start], &tag[value_end..])
        }
        None => tag.to_owned(),
    }
}

/// A browser: cookies kept, redirects not followed, requests from `ip`.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub client: reqwest::Client,
    pub ip: String,
    pub accept_language: Option<&'static str>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self::from_ip(app, "198.51.100.7")
    }

    pub fn from_ip(app: &'a TestApp, ip: &str) -> Self {
        crate::support::exposure::know_people(&[ZHANG, CHEN, STRANGER]);
        Self {
            app,
            client: app.client(),
            ip: ip.to_owned(),
            accept_language: None,
        }
    }

    async fn read(&self, request: reqwest::RequestBuilder) -> Page {
        let mut request = request;
        if let Some(lang) = self.accept_language {
            request = request.header("accept-language", lang);
        }
        let received = send_from(request, &self.ip).await;
        Page {
            status: received.status,
            headers: received.headers,
            html: received.body,
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.read(self.client.get(self.app.url(path))).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_with(path, form, &[]).await
    }

    /// A post with extra headers (Origin, Sec-Fetch-Site…).
    pub async fn post_with(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let mut request = self
            .client
            .post(self.app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode_form(form));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.read(request).await
    }

    /// The captcha id on `page` and its answer (dev mode).
    pub async fn solve(&self, page: &Page) -> (String, String) {
        let id = page.field("captcha_id").expect("no captcha on the page");
        let answer = self.app.captcha_answer(&id).await;
        (id, answer)
    }

    /// Fills in and posts the identify form of `person` (the code page comes back).
    pub async fn identify(&self, person: &Person) -> Page {
        let form = self.get("/register").await;
        let (captcha_id, answer) = self.solve(&form).await;
        let csrf = form.field("csrf").unwrap();
        self.post(
            "/register",
            &[
                ("csrf", &csrf),
                ("name", person.name),
                ("id_type", "resident_id"),
                ("id_number", person.id_number),
                ("phone", person.phone),
                ("captcha_id", &captcha_id),
                ("captcha_answer", &answer),
            ],
        )
        .await
    }

    /// Posts the code form of `page` with `code`.
    pub async fn enter_code(&self, page: &Page, code: &str) -> Page {
        let (csrf, flow) = (page.field("csrf").unwrap(), page.field("flow").unwrap());
        self.post(
            "/register/code",
            &[("csrf", &csrf), ("flow", &flow), ("code", code)],
        )
        .await
    }

    /// Posts the resend form of `page`.
    pub async fn resend(&self, page: &Page) -> Page {
        let (csrf, flow) = (page.field("csrf").unwrap(), page.field("flow").unwrap());
        self.post("/register/resend", &[("csrf", &csrf), ("flow", &flow)])
            .await
    }

    /// Posts the passwords form of `page`.
    pub async fn set_passwords(
        &self,
        page: &Page,
        login: [&str; 2],
        transaction: [&str; 2],
    ) -> Page {
        let (csrf, flow) = (page.field("csrf").unwrap(), page.field("flow").unwrap());
        self.post(
            "/register/passwords",
            &[
                ("csrf", &csrf),
                ("flow", &flow),
                ("login_password", login[0]),
                ("login_password_again", login[1]),
                ("transaction_password", transaction[0]),
                ("transaction_password_again", transaction[1]),
            ],
        )
        .await
    }

    /// Registers `person` (already imported) through the three pages.
    pub async fn register(&self, person: &Person) {
        let code_page = self.identify(person).await;
        assert_eq!(code_page.status, 200, "{}", code_page.html);
        let code = self.app.last_code_to(person.phone).await;
        let passwords_page = self.enter_code(&code_page, &code).await;
        assert!(
            passwords_page.html.contains("name=\"login_password\""),
            "{}",
            passwords_page.html
        );
        let done = self
            .set_passwords(
                &passwords_page,
                [LOGIN_PASSWORD, LOGIN_PASSWORD],
                [TRANSACTION_PASSWORD, TRANSACTION_PASSWORD],
            )
            .await;
        assert!(done.html.contains("href=\"/login\""), "{}", done.html);
    }

    /// Posts the login form with a document number.
    pub async fn login(&self, person: &Person, password: &str) -> Page {
        let form = self.get("/login").await;
        let (captcha_id, answer) = self.solve(&form).await;
        let csrf = form.field("csrf").unwrap();
        self.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("by", "document"),
                ("id_type", "resident_id"),
                ("id_number", person.id_number),
                ("account_no", ""),
                ("password", password),
                ("captcha_id", &captcha_id),
                ("captcha_answer", &answer),
            ],
        )
        .await
    }

    /// A freshly fetched login form filled in correctly for `person`, token included,
    /// ready to be posted (or tampered with).
    pub async fn login_form(&self, person: &Person) -> Vec<(&'static str, String)> {
        let form = self.get("/login").await;
        let (captcha_id, answer) = self.solve(&form).await;
        vec![
            ("csrf", form.field("csrf").unwrap()),
            ("by", "document".into()),
            ("id_type", "resident_id".into()),
            ("id_number", person.id_number.into()),
            ("password", LOGIN_PASSWORD.into()),
            ("captcha_id", captcha_id),
            ("captcha_answer", answer),
        ]
    }

    /// Imports `person`, registers them and logs in; returns the login response.
    pub async fn registered_and_logged_in(&self, person: &Person) -> Page {
        self.app.seed(person).await;
        self.register(person).await;
        let page = self.login(person, LOGIN_PASSWORD).await;
        page.assert_redirect("/home");
        page
    }
}

/// `application/x-www-form-urlencoded`, as a browser encodes a form.
pub fn encode_form(form: &[(&str, &str)]) -> String {
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                    char::from(b).to_string()
                }
                b' ' => "+".to_owned(),
                other => format!("%{other:02X}"),
            })
            .collect()
    };
    form.iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The value of a `Set-Cookie` header (`name=value; …` → `value`).
pub fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}
