//! The Payment API's request bodies, parsed and checked as the reference describes them. Amounts are JSON
//! numbers in major units, read exactly by the currency's exponent: this is the wire edge.

use super::errors::{ApiError, Message};
use crate::domain::{
    card::{CardError, CardNumber, Cvv, Expiry, YearMonth},
    money::{Currency, Money, MoneyError},
};
use serde_json::Value;

/// Bambora accounts settle in CAD or USD; a request names no currency, so the account's is used `[I]`.
pub const DEFAULT_CURRENCY: Currency = Currency::CAD;

/// The seed's bounds of the 3-D Secure 2 browser fields.
const HEADER_MAX: usize = 2048;
const LANGUAGE_MAX: usize = 8;
const SCREEN_MAX: i64 = 9_999_999;
const TIME_ZONE_RANGE: std::ops::RangeInclusive<i64> = -840..=720;
/// The longest single-use token code taken `[I]`.
const TOKEN_MAX: usize = 64;

pub struct PaymentRequest {
    pub amount: Money,
    pub order_number: Option<String>,
    pub method: Method,
    /// false: a pre-authorization (`PA`); true: a purchase (`P`).
    pub complete: bool,
    pub three_ds: ThreeDs,
    pub term_url: Option<String>,
    pub customer_ip: String,
    pub custom: [String; 5],
    pub billing_name: String,
    pub billing_email: String,
    pub comments: String,
}

pub enum Method {
    Card(Card),
    Token { code: String, name: String },
}

/// A raw card, checked. The CVD's presence is all that is kept of it.
pub struct Card {
    pub name: String,
    pub number: CardNumber,
    pub expiry: Expiry,
    pub cvd: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ThreeDs {
    Off,
    /// Bambora's own 3-D Secure: version 1 or 2; `auth_required` stops the payment unless authenticated.
    Integrated {
        version: u8,
        auth_required: bool,
    },
    /// "Your own process": the merchant authenticated elsewhere and sends the result.
    OwnProcess {
        cavv: String,
        eci: u8,
    },
}

fn invalid(field: &str, why: &str) -> ApiError {
    ApiError::field(Message::InvalidPaymentInfo, field, why)
}

/// The body as a JSON object.
pub fn object(body: &[u8]) -> Result<Value, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(invalid("body", "the request body must be a JSON object")),
    }
}

fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

/// A string field (numbers are taken as their digits) of at most `max` characters.
fn text(obj: &Value, key: &str, path: &str, max: usize) -> Result<Option<String>, ApiError> {
    let s = match present(obj.get(key)) {
        None => return Ok(None),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(invalid(path, "must be a string")),
    };
    if s.chars().count() > max {
        return Err(invalid(path, &format!("at most {max} characters")));
    }
    Ok(Some(s))
}

fn required_text(obj: &Value, key: &str, path: &str, max: usize) -> Result<String, ApiError> {
    text(obj, key, path, max)?.filter(|s| !s.is_empty()).ok_or_else(|| invalid(path, "is required"))
}

/// `true`/`false`, also as the strings the reference's own examples send (`"java_enabled": "false"`).
fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// An integer, also as a string of digits.
fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn flag(obj: &Value, keys: &[&str], path: &str) -> Result<Option<bool>, ApiError> {
    match keys.iter().find_map(|k| present(obj.get(*k))) {
        None => Ok(None),
        Some(v) => as_bool(v).map(Some).ok_or_else(|| invalid(path, "must be true or false")),
    }
}

/// An amount in major units: a JSON number with no more decimals than the currency has, above zero.
pub fn amount(v: Option<&Value>, currency: Currency, path: &str) -> Result<Money, ApiError> {
    let fail = |why: &str| ApiError::field(Message::InvalidAmount, path, why);
    let Some(Value::Number(n)) = present(v) else {
        return Err(fail("a number in major units, e.g. 10.50"));
    };
    let money = Money::parse_major(&n.to_string(), currency).map_err(|e| match e {
        MoneyError::TooPrecise => fail(&format!("at most {} decimals for {currency}", currency.exponent())),
        MoneyError::Negative => fail("must be above zero"),
        _ => fail("a number in major units, e.g. 10.50"),
    })?;
    if money.is_zero() {
        return Err(fail("must be above zero"));
    }
    Ok(money)
}

pub fn payment(body: &[u8], today: YearMonth) -> Result<PaymentRequest, ApiError> {
    let req = object(body)?;
    let currency = match text(&req, "currency", "currency", 3)? {
        None => DEFAULT_CURRENCY,
        Some(c) => Currency::parse(&c).map_err(|_| invalid("currency", "an ISO 4217 code the account accepts"))?,
    };
    let amount = amount(req.get("amount"), currency, "amount")?;
    let order_number = text(&req, "order_number", "order_number", 30)?.filter(|o| !o.is_empty());
    let term_url = match text(&req, "term_url", "term_url", 256)? {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => Some(url),
        Some(_) => {
            return Err(ApiError::field(Message::InvalidTermUrl, "term_url", "an absolute http(s) URL"));
        }
        None => None,
    };
    if present(req.get("3d_secure")).is_some() {
        // At the top level `3d_secure` is the `3d_secure_token` payment method's object, not card or token's.
        return Err(invalid("3d_secure", "for card and token payments 3d_secure goes inside card or token"));
    }
    let method_name = required_text(&req, "payment_method", "payment_method", 20)?;
    let (method, complete, three_ds) = match method_name.as_str() {
        "card" => {
            let c = section(&req, "card")?;
            // The reference: a card payment completes unless told otherwise.
            let complete = flag(c, &["complete"], "card.complete")?.unwrap_or(true);
            (Method::Card(card(c, today)?), complete, three_ds(c, "card")?)
        }
        "token" => {
            let t = section(&req, "token")?;
            // The reference says 40 characters, yet its own 3DS guide sends a 46-character token.
            let code = required_text(t, "code", "token.code", TOKEN_MAX)?;
            let name = required_text(t, "name", "token.name", 64)?;
            // The reference: a token payment is a pre-authorization unless `complete` is true.
            let complete = flag(t, &["complete"], "token.complete")?.unwrap_or(false);
            (Method::Token { code, name }, complete, three_ds(t, "token")?)
        }
        _ => return Err(invalid("payment_method", "the sandbox takes \"card\" or \"token\"")),
    };
    let custom = match present(req.get("custom")) {
        None => Default::default(),
        Some(c) if c.is_object() => {
            let mut refs: [String; 5] = Default::default();
            for (i, r) in refs.iter_mut().enumerate() {
                let key = format!("ref{}", i + 1);
                *r = text(c, &key, &format!("custom.{key}"), 256)?.unwrap_or_default();
            }
            refs
        }
        Some(_) => return Err(invalid("custom", "must be an object")),
    };
    let billing = present(req.get("billing")).cloned().unwrap_or(Value::Null);
    Ok(PaymentRequest {
        amount,
        order_number,
        method,
        complete,
        three_ds,
        term_url,
        customer_ip: text(&req, "customer_ip", "customer_ip", 64)?.unwrap_or_default(),
        custom,
        billing_name: text(&billing, "name", "billing.name", 64)?.unwrap_or_default(),
        billing_email: text(&billing, "email_address", "billing.email_address", 64)?.unwrap_or_default(),
        comments: text(&req, "comments", "comments", 256)?.unwrap_or_default(),
    })
}

fn section<'a>(req: &'a Value, key: &str) -> Result<&'a Value, ApiError> {
    present(req.get(key)).filter(|v| v.is_object()).ok_or_else(|| invalid(key, "is required for this payment_method"))
}

fn card(c: &Value, today: YearMonth) -> Result<Card, ApiError> {
    let name = required_text(c, "name", "card.name", 64)?;
    let number = match present(c.get("number")) {
        Some(Value::String(s)) => {
            CardNumber::parse(s).map_err(|e| ApiError::field(Message::InvalidCard, "card.number", &e.to_string()))?
        }
        _ => return Err(ApiError::field(Message::InvalidCard, "card.number", "is required, as a string")),
    };
    let bad_expiry = |path: &str, e: CardError| ApiError::field(Message::InvalidExpiry, path, &e.to_string());
    let month = present(c.get("expiry_month")).and_then(as_int).and_then(|m| u8::try_from(m).ok());
    let year = present(c.get("expiry_year")).and_then(as_int).and_then(|y| u16::try_from(y).ok());
    let expiry = match (month, year) {
        (None, _) => return Err(bad_expiry("card.expiry_month", CardError::ExpiryMalformed)),
        (_, None) => return Err(bad_expiry("card.expiry_year", CardError::ExpiryMalformed)),
        (Some(m), Some(y)) => Expiry::new(m, y, today).map_err(|e| bad_expiry("card.expiry_year", e))?,
    };
    let cvd = match text(c, "cvd", "card.cvd", 4)?.filter(|s| !s.is_empty()) {
        None => false,
        Some(cvd) => {
            Cvv::parse(&cvd, number.brand()).map_err(|e| invalid("card.cvd", &e.to_string()))?;
            true
        }
    };
    Ok(Card { name, number, expiry, cvd })
}

/// The `3d_secure` object inside `card` or `token` (or the 3DS 2.0 guide's `3d_secure_passthrough`).
fn three_ds(container: &Value, at: &str) -> Result<ThreeDs, ApiError> {
    if let Some(p) = present(container.get("3d_secure_passthrough")) {
        return own_process(p, &format!("{at}.3d_secure_passthrough"));
    }
    let path = format!("{at}.3d_secure");
    let Some(t) = present(container.get("3d_secure")) else { return Ok(ThreeDs::Off) };
    if !t.is_object() {
        return Err(invalid(&path, "must be an object"));
    }
    let enabled = flag(t, &["enabled"], &format!("{path}.enabled"))?
        .ok_or_else(|| invalid(&format!("{path}.enabled"), "is required"))?;
    if !enabled {
        return Ok(ThreeDs::Off);
    }
    if present(t.get("cavv")).is_some() {
        return own_process(t, &path);
    }
    let version = match present(t.get("version")) {
        None => 2,
        Some(v) => match as_int(v) {
            Some(n @ (1 | 2)) => n as u8,
            _ => return Err(invalid(&format!("{path}.version"), "1 or 2")),
        },
    };
    let auth_required = flag(t, &["auth_required", "authRequired"], &format!("{path}.auth_required"))?.unwrap_or(false);
    match present(t.get("browser")) {
        Some(b) => check_browser(b, &format!("{path}.browser"))?,
        None if version == 2 => return Err(invalid(&format!("{path}.browser"), "is required for 3-D Secure 2")),
        None => {}
    }
    Ok(ThreeDs::Integrated { version, auth_required })
}

fn own_process(t: &Value, path: &str) -> Result<ThreeDs, ApiError> {
    let cavv = required_text(t, "cavv", &format!("{path}.cavv"), 40)?;
    if text(t, "xid", &format!("{path}.xid"), 40)?.is_some_and(|xid| xid.chars().any(char::is_whitespace)) {
        return Err(invalid(&format!("{path}.xid"), "the 3-D Secure transaction identifier"));
    }
    let eci = present(t.get("eci"))
        .and_then(as_int)
        .and_then(|e| u8::try_from(e).ok())
        .filter(|e| *e <= 9)
        .ok_or_else(|| invalid(&format!("{path}.eci"), "a one-digit ECI, e.g. 5"))?;
    Ok(ThreeDs::OwnProcess { cavv, eci })
}

/// Checks the browser data against the seed's bounds, in the seed's camelCase or the reference's snake_case.
pub fn check_browser(b: &Value, path: &str) -> Result<(), ApiError> {
    if !b.is_object() {
        return Err(invalid(path, "must be an object"));
    }
    let get = |snake: &str, camel: &str| present(b.get(snake)).or_else(|| present(b.get(camel)));
    let at = |snake: &str| format!("{path}.{snake}");
    let string = |snake: &str, camel: &str, max: usize| -> Result<(), ApiError> {
        match get(snake, camel) {
            Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= max => Ok(()),
            _ => Err(invalid(&at(snake), &format!("a string of 1 to {max} characters"))),
        }
    };
    let int = |snake: &str, camel: &str, range: std::ops::RangeInclusive<i64>| -> Result<(), ApiError> {
        match get(snake, camel).and_then(as_int) {
            Some(n) if range.contains(&n) => Ok(()),
            _ => Err(invalid(&at(snake), &format!("a number from {} to {}", range.start(), range.end()))),
        }
    };
    string("accept_header", "acceptHeader", HEADER_MAX)?;
    if get("java_enabled", "javaEnabled").and_then(as_bool).is_none() {
        return Err(invalid(&at("java_enabled"), "true or false"));
    }
    string("language", "language", LANGUAGE_MAX)?;
    if let Some(depth) = get("color_depth", "colorDepth") {
        // The reference's examples send 24, "24" and "24bits".
        let digits = match depth {
            Value::String(s) => s.trim().trim_end_matches("bits").to_owned(),
            other => other.to_string(),
        };
        if digits.parse::<u8>().is_err() {
            return Err(invalid(&at("color_depth"), "the screen's colour depth in bits, e.g. 24"));
        }
    }
    int("screen_height", "screenHeight", 0..=SCREEN_MAX)?;
    int("screen_width", "screenWidth", 0..=SCREEN_MAX)?;
    int("time_zone", "timeZone", TIME_ZONE_RANGE)?;
    string("user_agent", "userAgent", HEADER_MAX)?;
    if get("javascript_enabled", "javascriptEnabled").is_some_and(|v| as_bool(v).is_none()) {
        return Err(invalid(&at("javascript_enabled"), "true or false"));
    }
    Ok(())
}

/// `continue`: `{payment_method: "credit_card", card_response: {cres}}` (3-D Secure 1: `pa_res`). Returns
/// the authentication answer presented.
/// The bank's answer a `continue` carries: 3-D Secure 2's `cres` or 3-D Secure 1's `pa_res`.
#[derive(Debug, PartialEq, Eq)]
pub struct BankAnswer {
    /// 2 for `cres`, 1 for `pa_res`: the session's version must match.
    pub version: u8,
    pub value: String,
}

pub fn continuation(body: &[u8]) -> Result<BankAnswer, ApiError> {
    let req = object(body)?;
    match text(&req, "payment_method", "payment_method", 20)?.as_deref() {
        // The 3DS guides send "credit_card", the reference says "card".
        Some("credit_card" | "card") => {}
        _ => return Err(invalid("payment_method", "\"credit_card\"")),
    }
    let response = section(&req, "card_response")?;
    match text(response, "cres", "card_response.cres", 8192)?.filter(|s| !s.is_empty()) {
        Some(value) => Ok(BankAnswer { version: 2, value }),
        None => Ok(BankAnswer { version: 1, value: required_text(response, "pa_res", "card_response.cres", 8192)? }),
    }
}

/// A return, void or completion: its amount (read later in the transaction's currency) and order number.
pub struct Adjustment {
    pub amount: Option<Value>,
    pub order_number: Option<String>,
}

pub fn adjustment(body: &[u8]) -> Result<Adjustment, ApiError> {
    let req = object(body)?;
    Ok(Adjustment {
        amount: present(req.get("amount")).cloned(),
        order_number: text(&req, "order_number", "order_number", 30)?.filter(|o| !o.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TODAY: YearMonth = YearMonth { year: 2026, month: 11 };

    fn browser_camel() -> Value {
        json!({"acceptHeader": "text/html", "javaEnabled": "false", "language": "en-US", "colorDepth": "24",
               "screenHeight": 1080, "screenWidth": 1920, "timeZone": -120, "userAgent": "Mozilla/5.0",
               "javascriptEnabled": true})
    }

    fn browser_snake() -> Value {
        json!({"accept_header": "text/html", "java_enabled": false, "language": "en-US", "color_depth": "24bits",
               "screen_height": 1080, "screen_width": 1920, "time_zone": -120, "user_agent": "Mozilla/5.0"})
    }

    fn card_payment(three_ds: Value) -> Value {
        json!({"amount": 250.01, "payment_method": "card", "order_number": "o-1", "term_url": "https://shop/3ds",
               "card": {"name": "Test User", "number": "4716519788977219", "expiry_month": "09", "expiry_year": "29",
                        "cvd": "123", "3d_secure": three_ds}})
    }

    fn parse(v: Value) -> Result<PaymentRequest, ApiError> {
        payment(v.to_string().as_bytes(), TODAY)
    }

    fn failure(v: Value) -> (u16, Value) {
        let e = parse(v).err().expect("refused");
        (e.message.id(), e.body()["details"][0]["field"].clone())
    }

    #[test]
    fn amounts_are_exact_major_units() {
        let cad = |v: Value| amount(Some(&v), Currency::CAD, "amount").map(Money::minor).map_err(|e| e.message);
        assert_eq!(cad(json!(15.99)), Ok(1599));
        assert_eq!(cad(json!(100)), Ok(10000));
        assert_eq!(cad(json!(0.1)), Ok(10));
        assert_eq!(cad(json!(15.999)), Err(Message::InvalidAmount));
        assert_eq!(cad(json!(0)), Err(Message::InvalidAmount));
        assert_eq!(cad(json!(-5)), Err(Message::InvalidAmount));
        assert_eq!(cad(json!("15.99")), Err(Message::InvalidAmount));
        assert_eq!(cad(json!(1e300)), Err(Message::InvalidAmount));
        let jpy = amount(Some(&json!(1500)), Currency::JPY, "amount").map(Money::minor);
        assert_eq!(jpy.map_err(|e| e.message), Ok(1500));
        assert!(amount(Some(&json!(15.5)), Currency::JPY, "amount").is_err());
    }

    #[test]
    fn a_card_payment_with_3ds2_in_either_spelling() {
        for (browser, key) in [(browser_camel(), "authRequired"), (browser_snake(), "auth_required")] {
            let req = parse(card_payment(json!({"browser": browser, "enabled": true, "version": 2, key: true})))
                .unwrap_or_else(|e| panic!("{:?}", e.body()));
            assert_eq!(req.amount, Money::new(25001, Currency::CAD).unwrap());
            assert_eq!(req.three_ds, ThreeDs::Integrated { version: 2, auth_required: true });
            assert!(req.complete);
            assert_eq!(req.order_number.as_deref(), Some("o-1"));
            let Method::Card(card) = req.method else { panic!("a card") };
            assert_eq!(
                (card.number.last4(), card.expiry.month(), card.expiry.year(), card.cvd),
                ("7219", 9, 2029, true)
            );
        }
    }

    #[test]
    fn browser_bounds_name_the_field() {
        let with = |key: &str, value: Value| {
            let mut b = browser_snake();
            b[key] = value;
            failure(card_payment(json!({"browser": b, "enabled": true})))
        };
        assert_eq!(with("screen_height", json!(10_000_000)), (314, json!("card.3d_secure.browser.screen_height")));
        assert_eq!(with("time_zone", json!(-841)), (314, json!("card.3d_secure.browser.time_zone")));
        assert_eq!(with("time_zone", json!(721)), (314, json!("card.3d_secure.browser.time_zone")));
        assert_eq!(with("language", json!("en-US-x-long")), (314, json!("card.3d_secure.browser.language")));
        assert_eq!(with("accept_header", json!("")), (314, json!("card.3d_secure.browser.accept_header")));
        assert_eq!(with("java_enabled", json!("maybe")), (314, json!("card.3d_secure.browser.java_enabled")));
        assert_eq!(with("color_depth", json!("deep")), (314, json!("card.3d_secure.browser.color_depth")));
        assert_eq!(with("user_agent", json!("x".repeat(2049))), (314, json!("card.3d_secure.browser.user_agent")));
        let mut camel = browser_camel();
        camel["screenWidth"] = json!(-1);
        assert_eq!(
            failure(card_payment(json!({"browser": camel, "enabled": true}))),
            (314, json!("card.3d_secure.browser.screen_width"))
        );
        assert!(check_browser(&json!({"time_zone": 720}), "b").is_err());
        let mut edge = browser_snake();
        edge["time_zone"] = json!(720);
        edge["screen_height"] = json!(0);
        assert!(check_browser(&edge, "b").is_ok());
        assert_eq!(
            failure(card_payment(json!({"enabled": true, "version": 2}))),
            (314, json!("card.3d_secure.browser"))
        );
        assert!(parse(card_payment(json!({"enabled": true, "version": 1}))).is_ok());
    }

    #[test]
    fn three_ds_options() {
        let three_ds = |t: Value| parse(card_payment(t)).map(|r| r.three_ds).map_err(|e| e.body());
        assert_eq!(three_ds(json!({"enabled": false})), Ok(ThreeDs::Off));
        assert_eq!(three_ds(json!(null)), Ok(ThreeDs::Off));
        assert_eq!(
            three_ds(json!({"enabled": true, "xid": "1368023", "cavv": "AAABAXlHEQAAAAGXAEcRAAAAAAA=", "eci": 5})),
            Ok(ThreeDs::OwnProcess { cavv: "AAABAXlHEQAAAAGXAEcRAAAAAAA=".into(), eci: 5 })
        );
        assert_eq!(
            three_ds(json!({"enabled": true, "version": 1, "browser": browser_camel()})),
            Ok(ThreeDs::Integrated { version: 1, auth_required: false })
        );
        assert_eq!(failure(card_payment(json!({"enabled": true, "version": 3}))).1, json!("card.3d_secure.version"));
        assert_eq!(failure(card_payment(json!({"browser": browser_camel()}))).1, json!("card.3d_secure.enabled"));
        assert_eq!(failure(card_payment(json!({"enabled": true, "cavv": "x"}))).1, json!("card.3d_secure.eci"));
        let mut passthrough = card_payment(json!(null));
        passthrough["card"]["3d_secure_passthrough"] = json!({"version": 2, "eci": 5, "cavv": "AAAB"});
        assert_eq!(parse(passthrough).unwrap().three_ds, ThreeDs::OwnProcess { cavv: "AAAB".into(), eci: 5 });
        let mut top = card_payment(json!(null));
        top["3d_secure"] = json!({"enabled": true});
        assert_eq!(failure(top).1, json!("3d_secure"));
    }

    #[test]
    fn card_and_token_fields() {
        let mut bad = card_payment(json!(null));
        bad["card"]["number"] = json!("4716519788977218");
        assert_eq!(failure(bad.clone()), (52, json!("card.number")));
        let msg = parse(bad).err().unwrap().body().to_string();
        assert!(!msg.contains("4716519788977218"), "card numbers never reach an error: {msg}");
        let mut expired = card_payment(json!(null));
        expired["card"]["expiry_year"] = json!("20");
        assert_eq!(failure(expired), (14, json!("card.expiry_year")));
        let mut cvd = card_payment(json!(null));
        cvd["card"]["cvd"] = json!("12");
        assert_eq!(failure(cvd), (314, json!("card.cvd")));
        let mut pre_auth = card_payment(json!(null));
        pre_auth["card"]["complete"] = json!(false);
        assert!(!parse(pre_auth).unwrap().complete);

        let code = "uattest01-732fc9fd-d58b-4ea6-8e47-e1a02339ea06";
        let token = json!({"amount": 15.99, "payment_method": "token", "token": {"code": code, "name": "John Doe"}});
        let req = parse(token.clone()).unwrap();
        assert!(matches!(req.method, Method::Token { code: ref c, .. } if c == code));
        assert!(!req.complete, "the reference: token payments default to pre-authorizations");
        let mut complete = token.clone();
        complete["token"]["complete"] = json!(true);
        assert!(parse(complete).unwrap().complete);
        let mut usd = token;
        usd["currency"] = json!("USD");
        assert_eq!(parse(usd).unwrap().amount.currency(), Currency::USD);

        assert_eq!(failure(json!({"amount": 1, "payment_method": "cash"})).1, json!("payment_method"));
        assert_eq!(failure(json!({"amount": 1, "payment_method": "card"})).1, json!("card"));
        let mut long_order = card_payment(json!(null));
        long_order["order_number"] = json!("x".repeat(31));
        assert_eq!(failure(long_order).1, json!("order_number"));
        let mut term = card_payment(json!(null));
        term["term_url"] = json!("/relative");
        assert_eq!(failure(term), (825, json!("term_url")));
        assert_eq!(payment(b"not json", TODAY).err().map(|e| e.message), Some(Message::InvalidPaymentInfo));
    }

    #[test]
    fn continue_bodies() {
        let ok = |v: Value| continuation(v.to_string().as_bytes()).map_err(|e| e.message);
        let answer = |version, value: &str| Ok(BankAnswer { version, value: value.into() });
        assert_eq!(ok(json!({"payment_method": "credit_card", "card_response": {"cres": "abc"}})), answer(2, "abc"));
        assert_eq!(ok(json!({"payment_method": "card", "card_response": {"pa_res": "def"}})), answer(1, "def"));
        assert_eq!(ok(json!({"payment_method": "credit_card"})), Err(Message::InvalidPaymentInfo));
        assert_eq!(ok(json!({"card_response": {"cres": "abc"}})), Err(Message::InvalidPaymentInfo));
    }
}
