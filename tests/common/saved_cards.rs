//! A returning shopper: asks for a code, reads it in the sandbox's mail outbox, confirms the email and keeps
//! the session cookie the server set, as a browser would.

use super::TestApp;
use serde_json::{Value, json};
use std::sync::Mutex;

pub struct Returning<'a> {
    pub app: &'a TestApp,
    pub email: String,
    pub address: String,
    cookie: Mutex<Option<String>>,
    /// The last `Set-Cookie` as the server sent it, attributes included.
    pub set_cookie: Mutex<Option<String>>,
}

impl<'a> Returning<'a> {
    pub fn new(app: &'a TestApp, email: &str, address: &str) -> Returning<'a> {
        Returning {
            app,
            email: email.to_owned(),
            address: address.to_owned(),
            cookie: Mutex::new(None),
            set_cookie: Mutex::new(None),
        }
    }

    /// Another browser that presents `other`'s session cookie (for cross-session tests).
    pub fn cookie(&self) -> Option<String> {
        self.cookie.lock().unwrap().clone()
    }

    pub fn use_cookie(&self, cookie: Option<String>) {
        *self.cookie.lock().unwrap() = cookie;
    }

    pub async fn call(&self, name: &str, args: Value) -> (u16, Value) {
        let mut req = self
            .app
            .client
            .post(format!("{}/api/{name}", self.app.url))
            .header("x-forwarded-for", &self.address)
            .json(&args);
        if let Some(cookie) = self.cookie() {
            req = req.header("cookie", cookie);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        if let Some(set) = res.headers().get("set-cookie").and_then(|v| v.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or_default().to_owned();
            *self.cookie.lock().unwrap() = Some(pair);
            *self.set_cookie.lock().unwrap() = Some(set.to_owned());
        }
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Posts one of the checkout's saved-card forms as the page's browser does (same origin, urlencoded, the
    /// session cookie if any) and follows nothing: the answer is always See Other back to the checkout of the
    /// cart the form carried; what the page will say is the `saved` word in that address.
    pub async fn post_form(&self, form: &str, fields: &[(&str, &str)]) -> String {
        let mut fields = fields.to_vec();
        fields.push(("cart", "tee:1"));
        let mut req = self
            .app
            .client
            .post(format!("{}/checkout/saved-cards/{form}", self.app.url))
            .header("x-forwarded-for", &self.address)
            .header("origin", &self.app.url)
            .form(&fields);
        if let Some(cookie) = self.cookie() {
            req = req.header("cookie", cookie);
        }
        let res = req.send().await.unwrap();
        if let Some(set) = res.headers().get("set-cookie").and_then(|v| v.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or_default().to_owned();
            *self.cookie.lock().unwrap() = Some(pair);
            *self.set_cookie.lock().unwrap() = Some(set.to_owned());
        }
        assert_eq!(res.status().as_u16(), 303, "{form}: {:?}", res.text().await);
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let query = location.strip_prefix("/checkout?tee=1&").unwrap_or_else(|| panic!("{form}: back to {location}"));
        let query = query.strip_suffix("#saved-cards").unwrap_or_else(|| panic!("{form}: back to {location}"));
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
        pairs.into_iter().find(|(k, _)| k == "saved").map(|(_, v)| v).unwrap_or_else(|| panic!("no notice: {location}"))
    }

    pub async fn send_code(&self) -> String {
        self.send_code_to(&self.email.clone()).await
    }

    pub async fn send_code_to(&self, email: &str) -> String {
        self.post_form("code", &[("email", email)]).await
    }

    /// The newest code in the outbox for this email.
    pub async fn code(&self) -> Option<String> {
        let page = outbox(self.app, &self.email).await;
        newest_code(&page)
    }

    pub async fn confirm_with(&self, code: &str) -> String {
        self.post_form("confirm", &[("email", &self.email), ("code", code)]).await
    }

    /// Asks for a code and confirms with it; returns the saved cards the page is then given.
    pub async fn confirm(&self) -> Value {
        assert_eq!(self.send_code().await, "code_sent");
        let code = self.code().await.expect("a code in the outbox");
        let told = self.confirm_with(&code).await;
        let (status, cards) = self.list().await;
        assert_eq!(status, 200, "{cards}");
        let expected = if cards.as_array().is_some_and(|c| c.is_empty()) { "no_cards" } else { "confirmed" };
        assert_eq!(told, expected);
        cards
    }

    /// The confirmed email's saved cards, as the checkout page reads them (`saved_cards/list`).
    pub async fn list(&self) -> (u16, Value) {
        let (status, body) = self.call("saved_cards/list", json!({})).await;
        if status == 200 {
            assert_eq!(body["email"], json!(self.email), "{body}");
            (status, body["cards"].clone())
        } else {
            (status, body)
        }
    }

    pub async fn delete(&self, card_id: &str) -> String {
        self.post_form("remove", &[("card_id", card_id)]).await
    }
}

/// The sandbox outbox's page for `to`.
pub async fn outbox(app: &TestApp, to: &str) -> String {
    let res = app.client.get(format!("{}/sandbox/mail", app.url)).query(&[("to", to)]).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

/// The first six-digit run on the page (messages are listed newest first).
pub fn newest_code(page: &str) -> Option<String> {
    let bytes = page.as_bytes();
    (0..bytes.len().saturating_sub(5)).find_map(|i| {
        let run = &bytes[i..i + 6];
        let bounded =
            (i == 0 || !bytes[i - 1].is_ascii_digit()) && bytes.get(i + 6).is_none_or(|b| !b.is_ascii_digit());
        (bounded && run.iter().all(u8::is_ascii_digit)).then(|| String::from_utf8_lossy(run).into_owned())
    })
}
