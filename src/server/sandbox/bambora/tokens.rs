//! The tokenization endpoint (`POST /scripts/tokenization/tokens`, what Custom Checkout calls from the
//! browser) and the vault of single-use tokens that the Payment API redeems (`payment_method: "token"`).
//!
//! Reference (dev.na.bambora.com, Payment APIs spec "Tokenize credit card" and the Custom Checkout setup guide):
//! the request is `{number, expiry_month, expiry_year, cvd}` with two-digit month and year, no authentication;
//! the answer `{token, code: 1, version: 1, message: ""}`; "the token returned is a nonce. It expires on-use or
//! after 5 minutes". The spec adds that a token comes back even for a wrong card, the payment failing later; the
//! sandbox refuses a wrong card here instead (`[I]`, see `Refusal`), so a token always stands for a valid card.

use super::super::SandboxState;
use crate::domain::card::{CardError, CardNumber, Cvv, Expiry, YearMonth};
use crate::server::{clock, db::now_ms};
use axum::{
    Json, Router,
    body::Body,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

/// "It expires on-use or after 5 minutes" (Custom Checkout setup guide).
pub const TOKEN_LIFETIME_MS: i64 = 5 * 60 * 1000;
/// Real tokens start with the name of the host that issued them (`gt7-…`, `web01-…`, then a UUID). `[I]`
const TOKEN_HOST: &str = "sandbox01";
/// The request holds four short strings; anything much bigger is not a tokenization request.
const MAX_BODY_BYTES: usize = 4096;

/// A tokenized card. Lives only inside the sandbox, which plays the provider.
#[derive(Debug)]
pub struct TokenCard {
    pub number: CardNumber,
    pub expiry: Expiry,
    pub cvv: Option<Cvv>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("no such token")]
    Unknown,
    #[error("the token has expired")]
    Expired,
    #[error("the token has been used")]
    Used,
}

enum Slot {
    Live(TokenCard),
    Used,
    /// Expired before use; the card is dropped at once.
    Expired,
}

struct Entry {
    slot: Slot,
    expires_at_ms: i64,
}

/// Single-use tokens, in memory. A used or expired token is remembered for one more lifetime (so a replay
/// answers `Used`/`Expired` rather than `Unknown`), then forgotten. `[I]`
#[derive(Default)]
pub struct Vault {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Vault {
    /// Keeps `card` behind a new token that expires `TOKEN_LIFETIME_MS` after `now_ms`.
    pub fn issue(&self, card: TokenCard, now_ms: i64) -> String {
        let code = format!("{TOKEN_HOST}-{}", uuid::Uuid::new_v4());
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        sweep(&mut entries, now_ms);
        entries.insert(code.clone(), Entry { slot: Slot::Live(card), expires_at_ms: now_ms + TOKEN_LIFETIME_MS });
        code
    }

    /// Takes the card behind a token, once: a second call answers `Used`, an old token `Expired`.
    pub fn redeem(&self, code: &str, now_ms: i64) -> Result<TokenCard, TokenError> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        sweep(&mut entries, now_ms);
        let entry = entries.get_mut(code).ok_or(TokenError::Unknown)?;
        match std::mem::replace(&mut entry.slot, Slot::Used) {
            Slot::Live(card) => Ok(card),
            Slot::Used => Err(TokenError::Used),
            Slot::Expired => {
                entry.slot = Slot::Expired;
                Err(TokenError::Expired)
            }
        }
    }
}

/// Drops the card of every expired token and forgets tokens a lifetime past their expiry.
fn sweep(entries: &mut HashMap<String, Entry>, now_ms: i64) {
    entries.retain(|_, e| e.expires_at_ms + TOKEN_LIFETIME_MS > now_ms);
    for entry in entries.values_mut() {
        if now_ms >= entry.expires_at_ms && matches!(entry.slot, Slot::Live(_)) {
            entry.slot = Slot::Expired;
        }
    }
}

/// Why a tokenization request is refused. The reference documents only the answer's shape (`message` "with
/// any hints as to what might have gone wrong"); the HTTP statuses and `code` numbers are ours. `[I]`
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("Invalid request: expected a JSON object {{number, expiry_month, expiry_year, cvd}}")]
    Malformed,
    #[error("Invalid request: the body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("Invalid card number: {0}")]
    Number(CardError),
    #[error("Invalid expiry date: {0}")]
    Expiry(CardError),
    #[error("Invalid card security code (cvd): {0}")]
    Cvd(CardError),
}

impl Refusal {
    /// `(HTTP status, code)`: one table for the inferred numbers. `[I]`
    fn status_and_code(self) -> (StatusCode, u16) {
        match self {
            Refusal::Malformed => (StatusCode::BAD_REQUEST, 2),
            Refusal::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, 2),
            Refusal::Number(_) => (StatusCode::BAD_REQUEST, 3),
            Refusal::Expiry(_) => (StatusCode::BAD_REQUEST, 4),
            Refusal::Cvd(_) => (StatusCode::BAD_REQUEST, 5),
        }
    }
}

#[derive(Deserialize)]
struct TokenRequest {
    number: Option<String>,
    expiry_month: Option<Value>,
    expiry_year: Option<Value>,
    cvd: Option<String>,
}

/// Parses and checks a tokenization request as the provider would: Luhn and brand, an expiry not before
/// `today`'s month, a CVD of the brand's length. The CVD may be left out (`TokenCard::cvv` is then `None`).
pub fn parse_request(body: &[u8], today: YearMonth) -> Result<TokenCard, Refusal> {
    let request: TokenRequest = serde_json::from_slice(body).map_err(|_| Refusal::Malformed)?;
    let number = CardNumber::parse(request.number.as_deref().unwrap_or_default()).map_err(Refusal::Number)?;
    // The spec's fields are strings ("02", "17"); numbers are taken too, as other Bambora endpoints do. `[I]`
    let two_digits = |v: Option<&Value>| match v {
        Some(Value::String(s)) if (1..=2).contains(&s.trim().len()) => s.trim().parse::<u16>().ok(),
        Some(Value::Number(n)) => n.as_u64().filter(|n| *n < 100).and_then(|n| u16::try_from(n).ok()),
        _ => None,
    };
    let month = two_digits(request.expiry_month.as_ref()).and_then(|m| u8::try_from(m).ok());
    let year = two_digits(request.expiry_year.as_ref());
    let (Some(month), Some(year)) = (month, year) else {
        return Err(Refusal::Expiry(CardError::ExpiryMalformed));
    };
    let expiry = Expiry::new(month, year, today).map_err(Refusal::Expiry)?;
    let cvv = match request.cvd.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(cvd) => Some(Cvv::parse(cvd, number.brand()).map_err(Refusal::Cvd)?),
        None => None,
    };
    Ok(TokenCard { number, expiry, cvv })
}

pub fn router() -> Router<SandboxState> {
    Router::new().route("/scripts/tokenization/tokens", post(tokenize).options(preflight))
}

/// No authentication: the shopper's browser calls this from the merchant's page (or from Custom Checkout's
/// iframe). The card is neither logged nor echoed; only the vault holds it.
async fn tokenize(State(sb): State<SandboxState>, body: Body) -> Response {
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return refused(Refusal::TooLarge);
    };
    match parse_request(&bytes, clock::today()) {
        Ok(card) => {
            let token = sb.bambora.tokens.issue(card, now_ms());
            with_cors(Json(json!({"token": token, "code": 1, "version": 1, "message": ""})).into_response())
        }
        Err(refusal) => refused(refusal),
    }
}

/// The refusal in the success answer's shape, with an empty token. `[I]`
fn refused(refusal: Refusal) -> Response {
    let (status, code) = refusal.status_and_code();
    let body = json!({"token": "", "code": code, "version": 1, "message": refusal.to_string()});
    with_cors((status, Json(body)).into_response())
}

/// Any origin may call the endpoint, without credentials: merchants post to it from their own pages. `[I]`
/// (the reference is silent on CORS; browsers could not use the endpoint without it).
fn with_cors(mut response: Response) -> Response {
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// The CORS preflight a JSON POST from another origin triggers.
async fn preflight(headers: HeaderMap) -> Response {
    let asked = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("content-type"));
    let response = (
        StatusCode::NO_CONTENT,
        [
            (header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST, OPTIONS")),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, asked),
            (header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600")),
            (header::VARY, HeaderValue::from_static("Access-Control-Request-Headers")),
        ],
    );
    with_cors(response.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::sandbox::{Sandbox, SandboxConfig};
    use axum::http::Request;
    use tower::ServiceExt;

    const TODAY: YearMonth = YearMonth { year: 2026, month: 11 };
    const NOW: i64 = 1_790_000_000_000;

    fn card(pan: &str) -> TokenCard {
        let number = CardNumber::parse(pan).unwrap();
        let cvv = Some(Cvv::parse("123", number.brand()).unwrap());
        TokenCard { number, expiry: Expiry::new(1, 29, TODAY).unwrap(), cvv }
    }

    #[test]
    fn a_token_redeems_once() {
        let vault = Vault::default();
        let code = vault.issue(card("4030000010001234"), NOW);
        let redeemed = vault.redeem(&code, NOW + 1000).unwrap();
        assert_eq!(redeemed.number.last4(), "1234");
        assert_eq!((redeemed.expiry.month(), redeemed.expiry.year()), (1, 2029));
        assert_eq!(vault.redeem(&code, NOW + 2000).unwrap_err(), TokenError::Used);
    }

    #[test]
    fn a_token_expires_after_five_minutes() {
        let vault = Vault::default();
        let fresh = vault.issue(card("4030000010001234"), NOW);
        let stale = vault.issue(card("5100000010001004"), NOW);
        assert!(vault.redeem(&fresh, NOW + TOKEN_LIFETIME_MS - 1).is_ok());
        assert_eq!(vault.redeem(&stale, NOW + TOKEN_LIFETIME_MS).unwrap_err(), TokenError::Expired);
        assert_eq!(vault.redeem(&stale, NOW + TOKEN_LIFETIME_MS + 1).unwrap_err(), TokenError::Expired);
    }

    #[test]
    fn unknown_and_long_forgotten_tokens_are_unknown() {
        let vault = Vault::default();
        assert_eq!(
            vault.redeem("sandbox01-00000000-0000-4000-8000-000000000000", NOW).unwrap_err(),
            TokenError::Unknown
        );
        let code = vault.issue(card("4030000010001234"), NOW);
        assert_eq!(vault.redeem(&code, NOW + 2 * TOKEN_LIFETIME_MS).unwrap_err(), TokenError::Unknown);
    }

    #[test]
    fn an_expired_token_no_longer_holds_the_card() {
        let vault = Vault::default();
        let code = vault.issue(card("4030000010001234"), NOW);
        vault.issue(card("5100000010001004"), NOW + TOKEN_LIFETIME_MS);
        let entries = vault.entries.lock().unwrap();
        assert!(matches!(entries[&code].slot, Slot::Expired));
    }

    #[test]
    fn tokens_look_like_the_providers() {
        let code = Vault::default().issue(card("4030000010001234"), NOW);
        let uuid = code.strip_prefix("sandbox01-").unwrap();
        assert!(uuid::Uuid::parse_str(uuid).is_ok(), "{code}");
    }

    #[test]
    fn parses_the_documented_request() {
        let body = br#"{"number":"4030000010001234","expiry_month":"02","expiry_year":"29","cvd":"123"}"#;
        let card = parse_request(body, TODAY).unwrap();
        assert_eq!(card.number.last4(), "1234");
        assert_eq!((card.expiry.month(), card.expiry.year()), (2, 2029));
        assert_eq!(card.cvv.as_ref().map(Cvv::expose), Some("123"));
        let without_cvd = br#"{"number":"371100001000131","expiry_month":2,"expiry_year":29}"#;
        assert!(parse_request(without_cvd, TODAY).unwrap().cvv.is_none());
    }

    #[test]
    fn refuses_bad_requests_with_a_reason() {
        let cases: [(&[u8], Refusal); 10] = [
            (b"", Refusal::Malformed),
            (b"[1,2]", Refusal::Malformed),
            (br#"{"number":4030000010001234}"#, Refusal::Malformed),
            (br#"{"expiry_month":"02","expiry_year":"29"}"#, Refusal::Number(CardError::Empty)),
            (
                br#"{"number":"4030000010001235","expiry_month":"02","expiry_year":"29"}"#,
                Refusal::Number(CardError::Luhn),
            ),
            (
                br#"{"number":"4030000010001234","expiry_month":"13","expiry_year":"29"}"#,
                Refusal::Expiry(CardError::ExpiryMalformed),
            ),
            (
                br#"{"number":"4030000010001234","expiry_month":"02","expiry_year":"2029"}"#,
                Refusal::Expiry(CardError::ExpiryMalformed),
            ),
            (
                br#"{"number":"4030000010001234","expiry_month":"10","expiry_year":"26"}"#,
                Refusal::Expiry(CardError::Expired),
            ),
            (
                br#"{"number":"4030000010001234","expiry_month":"02","expiry_year":"29","cvd":"1234"}"#,
                Refusal::Cvd(CardError::CvvMalformed),
            ),
            (
                br#"{"number":"371100001000131","expiry_month":"02","expiry_year":"29","cvd":"123"}"#,
                Refusal::Cvd(CardError::CvvMalformed),
            ),
        ];
        for (body, refusal) in cases {
            assert_eq!(parse_request(body, TODAY).err(), Some(refusal), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn refusals_never_echo_the_card() {
        let body = br#"{"number":"4030000010001235","expiry_month":"02","expiry_year":"29","cvd":"987"}"#;
        let message = parse_request(body, TODAY).unwrap_err().to_string();
        assert!(!message.contains("4030000010001235") && !message.contains("987"), "{message}");
    }

    fn app() -> (Router, SandboxState) {
        let sb = Sandbox::new(SandboxConfig::new("http://127.0.0.1:1/sandbox"));
        (router().with_state(sb.clone()), sb)
    }

    async fn send(request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
        let (app, _) = app();
        let response = app.oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 16).await.unwrap();
        (parts.status, parts.headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    fn post(body: impl Into<Body>) -> Request<Body> {
        Request::post("/scripts/tokenization/tokens")
            .header("content-type", "application/json")
            .header("origin", "http://shop.example")
            .body(body.into())
            .unwrap()
    }

    #[tokio::test]
    async fn answers_a_token_any_origin_may_read() {
        let future = clock::today().year % 100 + 3;
        let body =
            format!(r#"{{"number":"4030000010001234","expiry_month":"01","expiry_year":"{future}","cvd":"123"}}"#);
        let (status, headers, json) = send(post(body)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["access-control-allow-origin"], "*");
        assert_eq!(
            (json["code"].as_i64(), json["version"].as_i64(), json["message"].as_str()),
            (Some(1), Some(1), Some(""))
        );
        assert!(json["token"].as_str().unwrap().starts_with("sandbox01-"));
    }

    #[tokio::test]
    async fn the_token_redeems_from_the_shared_vault() {
        let (app, sb) = app();
        let future = clock::today().year % 100 + 3;
        let body =
            format!(r#"{{"number":"5100000010001004","expiry_month":"01","expiry_year":"{future}","cvd":"123"}}"#);
        let response = app.oneshot(post(body)).await.unwrap();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        let token = serde_json::from_slice::<Value>(&bytes).unwrap()["token"].as_str().unwrap().to_owned();
        assert_eq!(sb.bambora.tokens.redeem(&token, now_ms()).unwrap().number.last4(), "1004");
    }

    #[tokio::test]
    async fn refuses_a_bad_card_with_a_typed_body() {
        let (status, headers, json) = send(post(r#"{"number":"1234","expiry_month":"01","expiry_year":"40"}"#)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(headers["access-control-allow-origin"], "*");
        assert_eq!((json["token"].as_str(), json["code"].as_i64()), (Some(""), Some(3)));
        assert!(json["message"].as_str().unwrap().starts_with("Invalid card number"));
    }

    #[tokio::test]
    async fn refuses_an_oversized_body() {
        let (status, _, json) = send(post(vec![b' '; MAX_BODY_BYTES + 1])).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(json["code"].as_i64(), Some(2));
    }

    #[tokio::test]
    async fn answers_the_preflight() {
        let request = Request::options("/scripts/tokenization/tokens")
            .header("origin", "http://shop.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .body(Body::empty())
            .unwrap();
        let (status, headers, _) = send(request).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(headers["access-control-allow-origin"], "*");
        assert_eq!(headers["access-control-allow-methods"], "POST, OPTIONS");
        assert_eq!(headers["access-control-allow-headers"], "content-type");
    }
}
