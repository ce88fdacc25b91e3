//! Drives the back office over HTTP as a merchant's browser does: forms posted, redirects read, the session
//! cookie carried by hand.

use super::TestApp;
use reqwest::{StatusCode, header};

pub const EMAIL: &str = "owner@example.com";
pub const PASSWORD: &str = "correct horse battery staple";

/// Settings that create the merchant user at start-up.
pub const USER: [(&str, &str); 2] = [("MERCHANT_EMAIL", EMAIL), ("MERCHANT_PASSWORD", PASSWORD)];

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookie: Option<String>,
    pub csp: Option<String>,
    pub body: String,
}

pub struct MerchantBrowser<'a> {
    pub app: &'a TestApp,
    pub cookie: Option<String>,
}

impl<'a> MerchantBrowser<'a> {
    pub fn anonymous(app: &'a TestApp) -> MerchantBrowser<'a> {
        MerchantBrowser { app, cookie: None }
    }

    pub async fn signed_in(app: &'a TestApp) -> MerchantBrowser<'a> {
        let mut m = MerchantBrowser::anonymous(app);
        let page = m.sign_in(EMAIL, PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        m
    }

    /// Posts the sign-in form; keeps the session cookie it sets.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let page = self.post("/merchant/sign-in", &[("email", email), ("password", password)]).await;
        if let Some(c) = &page.set_cookie {
            self.cookie = Some(c.split(';').next().unwrap().to_owned());
        }
        page
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        let req = match &self.cookie {
            Some(c) => req.header(header::COOKIE, c),
            None => req,
        };
        let res = req.send().await.expect("request sent");
        let header = |name| res.headers().get(name).map(|v: &header::HeaderValue| v.to_str().unwrap().to_owned());
        let (location, set_cookie) = (header(header::LOCATION), header(header::SET_COOKIE));
        let csp = header(header::CONTENT_SECURITY_POLICY);
        Page { status: res.status(), location, set_cookie, csp, body: res.text().await.unwrap() }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.app.client.get(format!("{}{path}", self.app.url))).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(self.app.client.post(format!("{}{path}", self.app.url)).form(form)).await
    }

    /// Shows the confirmation, then confirms: what a merchant's two clicks send. Returns the final answer.
    pub async fn act(&self, order_id: &str, action: &str, amount: &str) -> Page {
        let key = uuid::Uuid::new_v4().to_string();
        let path = format!("/merchant/orders/{order_id}/actions");
        let confirm = self.post(&path, &[("action", action), ("amount", amount), ("key", &key)]).await;
        if confirm.status != StatusCode::OK {
            return confirm;
        }
        assert!(confirm.body.contains("confirm-question"), "{}", confirm.body);
        self.post(&path, &[("action", action), ("amount", amount), ("key", &key), ("confirmed", "yes")]).await
    }
}

/// The order links of a history page, in order.
pub fn order_links(html: &str) -> Vec<String> {
    html.match_indices("href=\"/merchant/orders/")
        .map(|(i, _)| {
            let rest = &html[i + 6..];
            rest[..rest.find('"').unwrap()].trim_start_matches("/merchant/orders/").to_owned()
        })
        .collect()
}

/// The "Older" link of a history page, if there is one.
pub fn next_link(html: &str) -> Option<String> {
    let at = html.find("rel=\"next\"")?;
    let start = html[..at].rfind("href=\"")? + 6;
    Some(html[start..start + html[start..].find('"')?].replace("&amp;", "&"))
}

/// Text as a page shows it: tags dropped, the escapes Leptos writes undone.
pub fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The plain-language lines of an order's timeline, oldest first.
pub fn timeline_lines(html: &str) -> Vec<String> {
    html.split("<p class=\"what\">").skip(1).map(|rest| text_of(&rest[..rest.find("</p>").unwrap()])).collect()
}

/// The rows of the order's 3-D Secure answers: answer, run by, status, ECI, liability.
pub fn threeds_answers(html: &str) -> Vec<Vec<String>> {
    let Some(start) = html.find("data-testid=\"threeds-answers\"") else { return Vec::new() };
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    let body = &table[table.find("<tbody>").unwrap()..];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            let cells = row.replace("</th>", "\u{1}").replace("</td>", "\u{1}");
            cells.split('\u{1}').map(|cell| text_of(cell).trim().to_owned()).filter(|c| !c.is_empty()).collect()
        })
        .collect()
}
