//! Driving the forgotten-password journeys and the security pages.

use super::{Browser, Page, Person};

impl Browser<'_> {
    /// The forgotten-login-password identify form of `person`, filled in and posted.
    pub async fn forgot_identify(&self, person: &Person) -> Page {
        let form = self.get("/forgot-password").await;
        assert_eq!(form.status, 200, "{}", form.html);
        let (captcha_id, answer) = self.solve(&form).await;
        self.post(
            "/forgot-password",
            &[
                ("csrf", &form.field("csrf").unwrap()),
                ("name", person.name),
                ("id_type", "resident_id"),
                ("id_number", person.id_number),
                ("captcha_id", &captcha_id),
                ("captcha_answer", &answer),
            ],
        )
        .await
    }

    /// Posts the form of `page` to `path` with its token and flow and `fields`.
    pub async fn post_step(&self, page: &Page, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = page.field("csrf").expect("no token on the page");
        let flow = page.field("flow").expect("no flow on the page");
        let mut form = vec![("csrf", csrf.as_str()), ("flow", flow.as_str())];
        form.extend_from_slice(fields);
        self.post(path, &form).await
    }

    pub async fn forgot_verify(&self, page: &Page, transaction_password: &str) -> Page {
        self.post_step(
            page,
            "/forgot-password/verify",
            &[("transaction_password", transaction_password)],
        )
        .await
    }

    pub async fn forgot_new(&self, page: &Page, password: [&str; 2]) -> Page {
        self.post_step(
            page,
            "/forgot-password/new",
            &[
                ("new_password", password[0]),
                ("new_password_again", password[1]),
            ],
        )
        .await
    }

    /// The logged-in member's forgotten-transaction-password identify form, posted with
    /// `person`'s details.
    pub async fn transaction_identify(&self, person: &Person) -> Page {
        let form = self.get("/security/transaction-password").await;
        assert_eq!(form.status, 200, "{}", form.html);
        let (captcha_id, answer) = self.solve(&form).await;
        self.post(
            "/security/transaction-password",
            &[
                ("csrf", &form.field("csrf").unwrap()),
                ("name", person.name),
                ("id_type", "resident_id"),
                ("id_number", person.id_number),
                ("captcha_id", &captcha_id),
                ("captcha_answer", &answer),
            ],
        )
        .await
    }

    pub async fn transaction_phone(&self, page: &Page, phone: &str) -> Page {
        self.post_step(
            page,
            "/security/transaction-password/phone",
            &[("phone", phone)],
        )
        .await
    }

    pub async fn transaction_code(&self, page: &Page, code: &str) -> Page {
        self.post_step(
            page,
            "/security/transaction-password/code",
            &[("code", code)],
        )
        .await
    }

    pub async fn transaction_resend(&self, page: &Page) -> Page {
        self.post_step(page, "/security/transaction-password/resend", &[])
            .await
    }

    pub async fn transaction_new(&self, page: &Page, password: [&str; 2]) -> Page {
        self.post_step(
            page,
            "/security/transaction-password/new",
            &[
                ("new_password", password[0]),
                ("new_password_again", password[1]),
            ],
        )
        .await
    }

    /// Posts the security-questions form with these (question, answer) rows.
    pub async fn set_questions(&self, rows: &[(&str, &str)]) -> Page {
        let form = self.get("/security/questions").await;
        let csrf = form.field("csrf").unwrap();
        let mut fields = vec![("csrf", csrf.as_str())];
        for (question, answer) in rows {
            fields.push(("question", question));
            fields.push(("answer", answer));
        }
        self.post("/security/questions", &fields).await
    }
}
