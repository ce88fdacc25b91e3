//! A small Bambora (Worldline North America) client written from the public reference only: the Payment API
//! spec 1.0.5, the 3-D Secure guides, the Custom Checkout and Reporting pages. It shares nothing with the sandbox's
//! code, so a misreading on either side fails a test instead of being mirrored.
//!
//! Two halves: the merchant's server (Passcode auth, payments, continue, returns, voids, completions, read,
//! reports search, tokenization) and the shopper's browser on the bank page (decode the 302's `contents`, let its
//! script post `form1`, answer the bank's form, follow the form it posts to `term_url`).

use super::TestApp;
use base64::{Engine, engine::general_purpose::STANDARD};
use card_checkout::server::config::sandbox_defaults as d;
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// `Authorization: Passcode base64(merchant_id:passcode)` (the spec's `securityDefinitions`).
pub fn passcode(merchant_id: &str, passcode: &str) -> String {
    format!("Passcode {}", STANDARD.encode(format!("{merchant_id}:{passcode}")))
}

pub fn api_auth() -> String {
    passcode(d::BAMBORA_MERCHANT_ID, d::BAMBORA_API_PASSCODE)
}

pub fn report_auth() -> String {
    passcode(d::BAMBORA_MERCHANT_ID, d::BAMBORA_REPORT_PASSCODE)
}

/// An HTTP answer: status, headers, and the body as JSON (`Value::Null` when it is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// The documented error body (`ErrorResponse`: `code, category, message, reference, details`): returns `code`.
    pub fn error_code(&self) -> i64 {
        let b = &self.body;
        assert!(b.is_object(), "an error answers JSON: {} {}", self.status, self.text);
        assert!(int(&b["code"]).is_some(), "error `code`: {b}");
        assert!(int(&b["category"]).is_some(), "error `category`: {b}");
        assert!(b["message"].as_str().is_some_and(|m| !m.is_empty()), "error `message`: {b}");
        // The spec: "reference: Not used. Always returns an empty string."
        assert_eq!(b["reference"], "", "error `reference`: {b}");
        assert!(b["details"].is_array(), "error `details`: {b}");
        int(&b["code"]).unwrap()
    }

    /// Asserts an error answer's HTTP status and `code`.
    pub fn assert_error(&self, status: u16, code: i64, what: &str) {
        assert_eq!(self.status.as_u16(), status, "{what}: {}", self.text);
        assert_eq!(self.error_code(), code, "{what}: {}", self.text);
    }

    /// Asserts an approved payment answer (HTTP 200, `approved` 1, `message_id` 1); returns its id.
    pub fn approved(&self, what: &str) -> String {
        assert_eq!(self.status, StatusCode::OK, "{what}: {}", self.text);
        assert_eq!(int(&self.body["approved"]), Some(1), "{what}: {}", self.text);
        assert_eq!(int(&self.body["message_id"]), Some(1), "{what}: {}", self.text);
        id(&self.body["id"]).unwrap_or_else(|| panic!("{what}: no id in {}", self.text))
    }
}

/// An integer the API may write as a number or a numeric string (`approved: "1"`, `message_id: "1"`).
pub fn int(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())
}

/// A transaction id, written as a string in payment answers and as a number in `GET /payments/{id}`.
pub fn id(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Major units on the wire (a decimal number, "up to two decimal places"), from minor units. The JSON number is
/// parsed from its decimal text, so no float arithmetic is involved.
pub fn amount(minor: i64) -> Value {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    serde_json::from_str(&format!("{sign}{}.{:02}", abs / 100, abs % 100)).unwrap()
}

/// Minor units of a wire amount (a number or a numeric string), strictly: at most two decimals.
pub fn minor(v: &Value) -> Option<i64> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    let (negative, digits) = text.strip_prefix('-').map_or((false, text.as_str()), |t| (true, t));
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || frac.len() > 2 || !whole.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let cents: i64 = format!("{frac:0<2}").parse().ok()?;
    let value = whole.parse::<i64>().ok()? * 100 + cents;
    Some(if negative { -value } else { value })
}

/// Any future expiry will do (README); the spec writes both parts on two digits ("eg. 15 for 2015").
pub fn expiry() -> (String, String) {
    let year = card_checkout::server::clock::today().year + 3;
    ("01".into(), format!("{:02}", year % 100))
}

/// A unique order number (the spec: ≤ 30 characters), so that no test trips 788 by accident.
pub fn order(tag: &str) -> String {
    format!("{tag}-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

pub fn card(number: &str) -> Value {
    let (month, year) = expiry();
    json!({
        "name": "Ada Lovelace",
        "number": number,
        "expiry_month": month,
        "expiry_year": year,
        "cvd": if number.starts_with('3') { "1234" } else { "123" },
    })
}

/// A purchase by card (`complete` defaults to true for cards).
pub fn card_payment(number: &str, minor: i64, order_number: &str) -> Value {
    json!({
        "order_number": order_number,
        "amount": amount(minor),
        "payment_method": "card",
        "customer_ip": "203.0.113.7",
        "card": card(number),
    })
}

/// A purchase with a single-use token (`complete` set explicitly: the spec's default for tokens is false).
pub fn token_payment(token: &str, minor: i64, order_number: &str) -> Value {
    json!({
        "order_number": order_number,
        "amount": amount(minor),
        "payment_method": "token",
        "customer_ip": "203.0.113.7",
        "token": {"code": token, "name": "Ada Lovelace", "complete": true},
    })
}

/// Browser data as the current docs spell it (snake_case), values exactly as their example sends them.
pub fn browser_snake() -> Value {
    json!({
        "accept_header": "text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,image/apng,*/*;q=0.8",
        "java_enabled": "false",
        "language": "en-US",
        "color_depth": "24",
        "screen_height": 1080,
        "screen_width": 1920,
        "time_zone": -120,
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
        "javascript_enabled": true,
    })
}

/// Browser data as the seed's 3-D Secure guide spells it (camelCase).
pub fn browser_camel() -> Value {
    json!({
        "acceptHeader": "text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,image/apng,*/*;q=0.8",
        "javaEnabled": "false",
        "language": "en-US",
        "colorDepth": "24",
        "screenHeight": 1080,
        "screenWidth": 1920,
        "timeZone": -120,
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
        "javascriptEnabled": true,
    })
}

/// The `3d_secure` block of a 3DS2 request: browser data, enabled, version, auth_required.
pub fn threeds(version: Option<u8>, auth_required: bool) -> Value {
    let mut block = json!({"browser": browser_snake(), "enabled": true, "auth_required": auth_required});
    if let Some(v) = version {
        block["version"] = json!(v);
    }
    block
}

/// Adds `3d_secure` to the payment's card or token, and the `term_url` the bank posts back to.
pub fn with_3ds(mut body: Value, block: Value, term_url: &str) -> Value {
    let method = if body["payment_method"] == "token" { "token" } else { "card" };
    body[method]["3d_secure"] = block;
    body["term_url"] = json!(term_url);
    body
}

/// The merchant's server side.
pub struct Bambora {
    /// `{sandbox}`: where the sandbox is mounted (`…/sandbox`).
    pub sandbox: String,
    /// `{sandbox}/bambora/v1`: the Payment API base (the real one is `https://api.na.bambora.com/v1`).
    pub api: String,
    /// Never follows redirects: the challenge answer is a 302 whose body matters.
    pub http: reqwest::Client,
}

impl Bambora {
    pub fn at(sandbox: &str) -> Bambora {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Bambora { sandbox: sandbox.to_owned(), api: format!("{sandbox}/bambora/v1"), http }
    }

    pub fn of(app: &TestApp) -> Bambora {
        Bambora::at(&format!("{}/sandbox", app.url))
    }

    pub fn request(&self, method: Method, path: &str, authorization: Option<&str>) -> reqwest::RequestBuilder {
        let mut req = self.http.request(method, format!("{}{path}", self.api));
        if let Some(a) = authorization {
            req = req.header("authorization", a);
        }
        req
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>, authorization: Option<&str>) -> Answer {
        let mut req = self.request(method, path, authorization);
        if let Some(b) = body {
            req = req.json(b);
        }
        answer(req).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(Method::POST, path, Some(body), Some(&api_auth())).await
    }

    pub async fn pay(&self, body: &Value) -> Answer {
        self.post("/payments", body).await
    }

    /// `POST /payments/{3d_session_data or merchant_data}/continue` with what the bank posted to `term_url`.
    pub async fn continue_with(&self, session: &str, card_response: Value) -> Answer {
        self.post(
            &format!("/payments/{session}/continue"),
            &json!({"payment_method": "credit_card", "card_response": card_response}),
        )
        .await
    }

    pub async fn refund(&self, id: &str, minor: i64) -> Answer {
        self.post(&format!("/payments/{id}/returns"), &json!({"amount": amount(minor)})).await
    }

    pub async fn void(&self, id: &str, minor: i64) -> Answer {
        self.post(&format!("/payments/{id}/void"), &json!({"amount": amount(minor)})).await
    }

    pub async fn complete(&self, id: &str, minor: i64) -> Answer {
        self.post(&format!("/payments/{id}/completions"), &json!({"amount": amount(minor)})).await
    }

    pub async fn read(&self, id: &str) -> Answer {
        self.send(Method::GET, &format!("/payments/{id}"), None, Some(&api_auth())).await
    }

    /// The Reporting API's search by order number (criteria field 5, operator `%3D`), with `authorization`.
    pub async fn search(&self, order_number: &str, authorization: &str) -> Answer {
        let now = card_checkout::server::db::now_ms();
        let day = 86_400_000;
        let date = |ms: i64| format!("{}T00:00:00", card_checkout::server::clock::format_date(ms));
        let query = json!({
            "name": "Search",
            "start_date": date(now - day),
            "end_date": date(now + 2 * day),
            "start_row": 1,
            "end_row": 10,
            "criteria": [{"field": 5, "operator": "%3D", "value": order_number}],
        });
        self.send(Method::POST, "/reports", Some(&query), Some(authorization)).await
    }

    /// The legacy tokenization endpoint, called without auth as a browser does: returns `{token, code, …}`.
    pub async fn tokenize(&self, number: &str) -> Value {
        let (month, year) = expiry();
        let res = self
            .http
            .post(format!("{}/bambora/scripts/tokenization/tokens", self.sandbox))
            .json(&json!({"number": number, "expiry_month": month, "expiry_year": year, "cvd": "123"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }
}

pub async fn answer(req: reqwest::RequestBuilder) -> Answer {
    let res = req.send().await.expect("request sent");
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer { status, headers, body, text }
}

// ---- the browser's side ----

/// `+` for spaces and `%XX` escapes, as `contents` is encoded (application/x-www-form-urlencoded).
pub fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() && bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit() => {
                let hex = |b: u8| (b as char).to_digit(16).unwrap() as u8;
                out.push(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).expect("contents decodes to UTF-8")
}

/// One HTML tag: lower-cased name (`/form` for a closing tag), attributes, and where it sits in the text.
#[derive(Debug)]
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
    start: usize,
    end: usize,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A forgiving tag scanner: enough HTML for forms, inputs, buttons and labels (script bodies are skipped).
fn tags(html: &str) -> Vec<Tag> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(offset) = html[i..].find('<') {
        let start = i + offset;
        if html[start..].starts_with("<!--") {
            i = html[start..].find("-->").map_or(html.len(), |e| start + e + 3);
            continue;
        }
        let mut j = start + 1;
        let closing = b.get(j) == Some(&b'/');
        if closing {
            j += 1;
        }
        let name_start = j;
        while j < b.len() && b[j].is_ascii_alphanumeric() {
            j += 1;
        }
        if j == name_start {
            i = start + 1;
            continue;
        }
        let name = html[name_start..j].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while j < b.len() && (b[j].is_ascii_whitespace() || b[j] == b'/') {
                j += 1;
            }
            if j >= b.len() || b[j] == b'>' {
                break;
            }
            let attr_start = j;
            while j < b.len() && !b[j].is_ascii_whitespace() && !matches!(b[j], b'=' | b'>' | b'/') {
                j += 1;
            }
            let attr = html[attr_start..j].to_ascii_lowercase();
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            let mut value = String::new();
            if b.get(j) == Some(&b'=') {
                j += 1;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                match b.get(j) {
                    Some(&q) if q == b'"' || q == b'\'' => {
                        let value_start = j + 1;
                        let value_end = html[value_start..].find(q as char).map_or(b.len(), |e| value_start + e);
                        value = decode_entities(&html[value_start..value_end]);
                        j = (value_end + 1).min(b.len());
                    }
                    _ => {
                        let value_start = j;
                        while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                            j += 1;
                        }
                        value = decode_entities(&html[value_start..j]);
                    }
                }
            }
            attrs.push((attr, value));
        }
        let end = (j + 1).min(b.len());
        i = end;
        if !closing && (name == "script" || name == "style") {
            let rest = html[i..].to_ascii_lowercase();
            i = rest.find(&format!("</{name}")).map_or(html.len(), |e| i + e);
        }
        out.push(Tag { name: if closing { format!("/{name}") } else { name }, attrs, start, end });
    }
    out
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|n| n.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The visible text between two offsets: tags dropped, entities decoded, white space collapsed.
fn text_between(html: &str, from: usize, to: usize) -> String {
    let mut plain = String::new();
    let mut in_tag = false;
    for c in html[from..to].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => plain.push(c),
            _ => {}
        }
    }
    decode_entities(&plain).split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Clone)]
pub struct Button {
    pub label: String,
    pub name: Option<String>,
    pub value: String,
    pub formaction: Option<String>,
}

/// A form as a browser would submit it.
#[derive(Debug, Clone)]
pub struct Form {
    pub name: Option<String>,
    pub action: String,
    pub method: String,
    /// Successful controls (hidden and text inputs, checked boxes, textareas) in document order.
    pub fields: Vec<(String, String)>,
    pub buttons: Vec<Button>,
    /// The name of the input labelled "Verification code", if the form has one.
    pub code_field: Option<String>,
}

impl Form {
    pub fn field(&self, name: &str) -> Option<&str> {
        field(&self.fields, name)
    }
}

pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Every form of a page.
pub fn forms(html: &str) -> Vec<Form> {
    let all = tags(html);
    let mut out = Vec::new();
    for (k, form) in all.iter().enumerate().filter(|(_, t)| t.name == "form") {
        let close = all[k + 1..].iter().position(|t| t.name == "/form").map_or(all.len(), |p| k + 1 + p);
        let inner = &all[k + 1..close];
        let mut fields = Vec::new();
        let mut buttons = Vec::new();
        for (n, t) in inner.iter().enumerate() {
            match t.name.as_str() {
                "input" => {
                    let kind = t.attr("type").unwrap_or("text").to_ascii_lowercase();
                    let value = t.attr("value").unwrap_or("").to_owned();
                    if kind == "submit" || kind == "image" {
                        buttons.push(Button {
                            label: value.clone(),
                            name: t.attr("name").map(str::to_owned),
                            value,
                            formaction: t.attr("formaction").map(str::to_owned),
                        });
                        continue;
                    }
                    let checked = t.attr("checked").is_some();
                    let Some(name) = t.attr("name").filter(|n| !n.is_empty()) else { continue };
                    if matches!(kind.as_str(), "button" | "reset" | "file")
                        || (matches!(kind.as_str(), "checkbox" | "radio") && !checked)
                        || t.attr("disabled").is_some()
                    {
                        continue;
                    }
                    let value = if matches!(kind.as_str(), "checkbox" | "radio") && t.attr("value").is_none() {
                        "on".to_owned()
                    } else {
                        value
                    };
                    fields.push((name.to_owned(), value));
                }
                "textarea" => {
                    let Some(name) = t.attr("name") else { continue };
                    let end = inner[n + 1..].iter().find(|x| x.name == "/textarea").map_or(t.end, |x| x.start);
                    fields.push((name.to_owned(), decode_entities(&html[t.end..end])));
                }
                "button" => {
                    let kind = t.attr("type").unwrap_or("submit").to_ascii_lowercase();
                    if kind != "submit" {
                        continue;
                    }
                    let end = inner[n + 1..].iter().find(|x| x.name == "/button").map_or(t.end, |x| x.start);
                    buttons.push(Button {
                        label: text_between(html, t.end, end),
                        name: t.attr("name").map(str::to_owned),
                        value: t.attr("value").unwrap_or("").to_owned(),
                        formaction: t.attr("formaction").map(str::to_owned),
                    });
                }
                _ => {}
            }
        }
        out.push(Form {
            name: form.attr("name").map(str::to_owned),
            action: form.attr("action").unwrap_or("").to_owned(),
            method: form.attr("method").unwrap_or("get").to_ascii_uppercase(),
            fields,
            buttons,
            code_field: labelled_input(html, &all, inner, "Verification code"),
        });
    }
    out
}

/// The name of the input a user finds by its label: `<label for=…>`, a label wrapping the input, or `aria-label`.
fn labelled_input(html: &str, all: &[Tag], inner: &[Tag], label: &str) -> Option<String> {
    let named = |t: &Tag| t.attr("name").map(str::to_owned);
    for (k, t) in all.iter().enumerate().filter(|(_, t)| t.name == "label") {
        let close = all[k + 1..].iter().position(|x| x.name == "/label").map_or(all.len(), |p| k + 1 + p);
        let end = all.get(close).map_or(html.len(), |x| x.start);
        if !text_between(html, t.end, end).contains(label) {
            continue;
        }
        let target = t.attr("for");
        if let Some(input) = inner.iter().find(|x| x.name == "input" && target.is_some() && x.attr("id") == target) {
            return named(input);
        }
        let wrapped = all[k + 1..close].iter().find(|x| x.name == "input");
        if let Some(input) = wrapped.filter(|input| inner.iter().any(|x| x.start == input.start)) {
            return named(input);
        }
    }
    inner.iter().find(|x| x.name == "input" && x.attr("aria-label").is_some_and(|a| a.contains(label))).and_then(named)
}

/// Resolves a form's action against the page's URL, as a browser does.
pub fn resolve(base: &str, href: &str) -> String {
    if href.starts_with("http://") || href.starts_with("https://") {
        return href.to_owned();
    }
    let scheme_end = base.find("://").map_or(0, |p| p + 3);
    let origin_end = base[scheme_end..].find('/').map_or(base.len(), |p| scheme_end + p);
    if let Some(rest) = href.strip_prefix("//") {
        return format!("{}{rest}", &base[..scheme_end]);
    }
    if href.starts_with('/') {
        return format!("{}{href}", &base[..origin_end]);
    }
    let without_query = base.split(['?', '#']).next().unwrap_or(base);
    if href.is_empty() {
        return without_query.to_owned();
    }
    let dir_end = without_query.rfind('/').filter(|&p| p >= origin_end).map_or(without_query.len(), |p| p + 1);
    let dir = &without_query[..dir_end];
    if dir.ends_with('/') { format!("{dir}{href}") } else { format!("{dir}/{href}") }
}

/// Form fields in order, as posted.
pub type Fields = Vec<(String, String)>;

/// The merchant's `term_url`: a tiny server that records every form the bank's page posts to it.
pub struct TermUrl {
    pub url: String,
    posts: Arc<Mutex<Vec<Fields>>>,
}

impl TermUrl {
    pub async fn start() -> TermUrl {
        use axum::{Router, routing::post};
        let posts: Arc<Mutex<Vec<Fields>>> = Arc::default();
        let store = posts.clone();
        let app = Router::new().route(
            "/checkout/3ds-return",
            post(move |body: String| {
                let store = store.clone();
                async move {
                    let fields: Fields = serde_urlencoded::from_str(&body).unwrap_or_default();
                    store.lock().unwrap().push(fields);
                    axum::response::Html("<p>Thank you, we are confirming your payment.</p>")
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/checkout/3ds-return", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        TermUrl { url, posts }
    }

    /// The forms received so far, oldest first.
    pub fn received(&self) -> Vec<Fields> {
        self.posts.lock().unwrap().clone()
    }
}

/// The bank's page, as the browser shows it.
#[derive(Debug, Clone)]
pub struct BankPage {
    pub url: String,
    pub html: String,
    pub form: Form,
}

/// Where a click on the bank's page led.
#[derive(Debug)]
pub enum BankStep {
    /// Still on the bank's page (a wrong code with tries left).
    Bank(BankPage),
    /// The browser left the bank: the bank's auto-submitting form posted `fields` to `to`.
    Left { to: String, fields: Vec<(String, String)> },
}

/// The shopper's browser: follows redirects by hand and submits forms as a browser does.
pub struct Browser {
    http: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        Browser { http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap() }
    }
}

impl Browser {
    /// Sends a form to `url`; follows redirects (303/302 become a GET, 307/308 repeat the POST). Returns the final
    /// URL and page.
    pub async fn submit(&self, method: &str, url: &str, fields: &[(String, String)]) -> (String, String) {
        let mut url = url.to_owned();
        let mut method = method.to_owned();
        for _ in 0..10 {
            let req =
                if method == "POST" { self.http.post(&url).form(fields) } else { self.http.get(&url).query(fields) };
            let res = req.send().await.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
            let status = res.status();
            if status.is_redirection() {
                let location = res.headers()["location"].to_str().unwrap().to_owned();
                url = resolve(&url, &location);
                if !matches!(status.as_u16(), 307 | 308) {
                    method = "GET".into();
                }
                continue;
            }
            assert!(status.is_success(), "{method} {url} answered {status}");
            return (url, res.text().await.unwrap());
        }
        panic!("too many redirects from {url}");
    }

    /// What the merchant's page does with a 302's `contents`: renders it, and its script submits `form1` to the
    /// bank. Returns the bank's page, which must offer the "Verification code" field.
    pub async fn open(&self, contents: &str) -> BankPage {
        let html = form_decode(contents);
        let form1 = forms(&html).into_iter().find(|f| f.name.as_deref() == Some("form1")).expect("form1");
        assert!(form1.action.starts_with("http"), "form1's action is absolute (it runs on the merchant's page)");
        let (url, page) = self.submit(&form1.method, &form1.action, &form1.fields).await;
        let form = forms(&page)
            .into_iter()
            .find(|f| f.code_field.is_some())
            .unwrap_or_else(|| panic!("the bank's page has a \"Verification code\" field: {page}"));
        BankPage { url, html: page, form }
    }

    /// Types `code` into the "Verification code" field and clicks the button labelled `button`.
    pub async fn answer(&self, page: &BankPage, button: &str, code: &str) -> BankStep {
        let form = &page.form;
        let code_field = form.code_field.as_deref().unwrap();
        let clicked = form
            .buttons
            .iter()
            .find(|b| b.label == button)
            .unwrap_or_else(|| panic!("a \"{button}\" button on the bank's page: {:?}", form.buttons));
        let mut fields: Vec<(String, String)> = form
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), if k == code_field { code.to_owned() } else { v.clone() }))
            .collect();
        if let Some(name) = &clicked.name {
            fields.push((name.clone(), clicked.value.clone()));
        }
        let action = resolve(&page.url, clicked.formaction.as_deref().unwrap_or(&form.action));
        let (url, html) = self.submit(&form.method, &action, &fields).await;
        let next = forms(&html);
        if let Some(form) = next.iter().find(|f| f.code_field.is_some()) {
            return BankStep::Bank(BankPage { url, html: html.clone(), form: form.clone() });
        }
        // The bank's last page hands the result to the merchant: one form its script submits at once.
        let handoff = next.first().unwrap_or_else(|| panic!("the bank's last page posts a form: {html}"));
        assert!(html.to_ascii_lowercase().contains("submit()"), "the hand-off form submits itself: {html}");
        let to = resolve(&url, &handoff.action);
        self.submit(&handoff.method, &to, &handoff.fields).await;
        BankStep::Left { to, fields: handoff.fields.clone() }
    }

    /// Answers the bank's page until the browser leaves it; returns what was posted to the merchant.
    pub async fn complete(&self, contents: &str, button: &str, codes: &[&str]) -> (String, Vec<(String, String)>) {
        let mut page = self.open(contents).await;
        for (n, code) in codes.iter().enumerate() {
            match self.answer(&page, button, code).await {
                BankStep::Bank(next) => page = next,
                BankStep::Left { to, fields } => {
                    assert_eq!(n + 1, codes.len(), "the bank let go after {} of {} answers", n + 1, codes.len());
                    return (to, fields);
                }
            }
        }
        panic!("still on the bank's page after {} answers", codes.len());
    }
}
