//! The member's side of the console tests: registering, logging in, the texts a
//! phone receives, and redeeming a ticket on the PIN-pad page or online.

use fundpass_core::assisted::TICKET_ALPHABET;
use fundpass_core::member::MemberId;

use crate::support::TestApp;
use crate::web_common::{Browser, Page, Person};

pub const NEW_LOGIN_PASSWORD: &str = "Harbour77sunrise";
pub const NEW_TRANSACTION_PASSWORD: &str = "503718";

/// The `ABCD-EFGH-JKMN` ticket in a text message.
pub fn ticket_in(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(14).find_map(|w| {
        let ok = w.iter().enumerate().all(|(i, c)| match i {
            4 | 9 => *c == '-',
            _ => u8::try_from(*c).is_ok_and(|b| TICKET_ALPHABET.contains(&b)),
        });
        ok.then(|| w.iter().collect())
    })
}

/// Whether `text` holds a ticket anywhere (four, four and four of the ticket
/// alphabet, dash-separated).
pub fn holds_a_ticket(text: &str) -> bool {
    ticket_in(text).is_some()
}

/// Imports and registers `person` from the member's own browser (address 198.51.100.20)
/// and lets the registration code's minute pass.
pub async fn registered(app: &TestApp, person: &Person) -> MemberId {
    let id = app.seed(person).await;
    Browser::from_ip(app, "198.51.100.20")
        .register(person)
        .await;
    app.clock.advance(time::Duration::seconds(61));
    id
}

/// How many texts to `phone` contain `needle` (texts sent in the same instant come
/// back in no particular order, so tests count rather than take the newest).
pub async fn texts_with(app: &TestApp, phone: &str, needle: &str) -> usize {
    app.sms_to(phone)
        .await
        .iter()
        .filter(|t| t.contains(needle))
        .count()
}

/// Whether `person` logs in with `password` from a fresh browser.
pub async fn logs_in(app: &TestApp, person: &Person, password: &str) -> bool {
    let page = Browser::from_ip(app, "192.0.2.77")
        .login(person, password)
        .await;
    page.status == 303 && page.location() == Some("/home")
}

/// Ticket redemption, as the member does it.
impl Browser<'_> {
    /// The member's side: the ticket and document on `start` (`/counter/pinpad` or
    /// `/ticket`).
    pub async fn check_ticket(&self, start: &str, ticket: &str, person: &Person) -> Page {
        let form = self.get(start).await;
        assert_eq!(form.status, 200, "{}", form.html);
        let csrf = form.field("csrf").unwrap();
        self.post(
            start,
            &[
                ("csrf", &csrf),
                ("ticket", ticket),
                ("id_type", "resident_id"),
                ("id_number", person.id_number),
            ],
        )
        .await
    }

    /// Posts the new secrets on the page `checked` came back with (only the fields
    /// the page asks for).
    pub async fn new_secrets(
        &self,
        start: &str,
        checked: &Page,
        login: &str,
        transaction: &str,
    ) -> Page {
        let csrf = checked.field("csrf").unwrap();
        let redemption = checked
            .field("redemption")
            .expect("no redemption on the page");
        let mut form = vec![("csrf", csrf.as_str()), ("redemption", redemption.as_str())];
        if checked.html.contains("name=\"login_password\"") {
            form.extend([("login_password", login), ("login_password_again", login)]);
        }
        if checked.html.contains("name=\"transaction_password\"") {
            form.extend([
                ("transaction_password", transaction),
                ("transaction_password_again", transaction),
            ]);
        }
        self.post(&format!("{start}/new"), &form).await
    }

    /// The whole redemption with the standard new secrets; the last page.
    pub async fn redeem(&self, start: &str, ticket: &str, person: &Person) -> Page {
        let checked = self.check_ticket(start, ticket, person).await;
        assert!(
            checked.html.contains("name=\"redemption\""),
            "{}",
            checked.html
        );
        self.new_secrets(
            start,
            &checked,
            NEW_LOGIN_PASSWORD,
            NEW_TRANSACTION_PASSWORD,
        )
        .await
    }
}

/// Whether a page is the end of a successful redemption.
pub fn redeemed(page: &Page) -> bool {
    page.status == 200 && page.html.contains("新密码已设置，凭证已失效。")
}
