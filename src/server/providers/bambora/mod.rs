//! Bambora (Worldline North America) Payment API v1: payments (Bambora runs 3-D Secure inside them: a
//! challenge is a 302 whose body carries the bank's form), `continue` after the bank page, completions,
//! returns, voids, reads, and the Reporting API's search by order number, with Passcode auth.
//!
//! Bambora has no idempotency key: a payment whose answer was lost must be looked for (by its order
//! number) before anything is sent again, and a repeated order number is refused (788).

pub mod acquirer;
pub mod amount;
pub mod outcomes;
pub mod redirect;
pub mod wire;

use super::{DeclineReason, ProviderError};
use crate::domain::card::{CardBrand, CardNumber, Cvv, Expiry};
use crate::domain::money::{Currency, Money};
use crate::domain::threeds::EciMeaning;
use crate::server::config::BamboraSettings;
use base64::{Engine, engine::general_purpose::STANDARD};
use reqwest::{Method, RequestBuilder, StatusCode, header::HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::time::Duration;

pub use outcomes::{EciSeen, Liability, Outcome, ThreeDsStatus};
pub use redirect::RedirectForm;
pub use wire::BrowserData;

/// The Reporting API's criterion for the order number, and its "equals" operator, URL-encoded as the
/// reference writes it.
const SEARCH_FIELD_ORDER_NUMBER: u32 = 5;
const SEARCH_OPERATOR_EQUALS: &str = "%3D";
/// Search dates are "in the timezone of your merchant account", which we do not know: a day either side
/// of the window covers every offset `[I]`.
const SEARCH_MARGIN_MS: i64 = 86_400_000;
const SEARCH_ROWS: u32 = 100;

#[derive(Clone)]
pub struct BamboraClient {
    http: reqwest::Client,
    settings: BamboraSettings,
}

/// How the card reaches Bambora.
pub enum PaymentMethod<'a> {
    /// A single-use token from Custom Checkout (the card never reaches us).
    Token { code: &'a str, name: &'a str },
    /// A card in the clear: for server-side tests against the sandbox only.
    Card { name: &'a str, number: &'a CardNumber, expiry: Expiry, cvv: &'a Cvv },
}

/// 3-D Secure for a payment.
pub enum ThreeDs<'a> {
    /// Bambora authenticates (3DS2 with browser data; `version` None: the account's default). With
    /// `auth_required`, a payment whose authentication cannot complete is refused rather than authorized.
    Bambora { browser: &'a BrowserData, version: Option<u8>, auth_required: bool },
    /// "Your own process": an authentication run elsewhere (e.g. Verifone's 3DS service). The ECI is
    /// written by the brand's convention.
    OwnProcess { xid: &'a str, cavv: &'a str, brand: CardBrand, eci: EciMeaning },
}

pub struct PaymentRequest<'a> {
    /// Ours, unique per payment (≤ 30 characters): what the search after a lost answer looks for.
    pub order_number: &'a str,
    pub amount: Money,
    pub method: PaymentMethod<'a>,
    /// False for a pre-authorization (completed later).
    pub complete: bool,
    pub customer_ip: Option<&'a str>,
    /// Where the bank posts the shopper back after a challenge.
    pub term_url: Option<&'a str>,
    pub three_d_secure: Option<ThreeDs<'a>>,
}

/// What the bank posted to `term_url`.
pub enum BankResponse<'a> {
    /// 3DS2: `cres` (with `threeDSSessionData`).
    Cres(&'a str),
    /// 3DS1: `PaRes` (with `MD`).
    PaRes(&'a str),
}

/// A payment answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayAnswer {
    Approved(Payment),
    Declined(Decline),
    /// 3-D Secure needs the shopper at the bank.
    Challenge(Challenge),
    Refused(Refusal),
}

/// A completion, return or void answer (no challenge can come of them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnAnswer {
    Approved(Payment),
    Declined(Decline),
    Refused(Refusal),
}

/// A transaction as Bambora reported it, its amounts in the currency of the call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub id: String,
    pub approved: bool,
    pub message_id: i64,
    /// Bambora's own words (not for mapping: `outcome` is).
    pub message: String,
    pub outcome: Outcome,
    pub amount: Money,
    /// P purchase, PA pre-auth, PAC completion, R return, VP / VR voids.
    pub kind: Option<String>,
    pub order_number: Option<String>,
    pub auth_code: Option<String>,
    pub created: Option<String>,
    pub card: Option<CardSeen>,
    pub three_d_secure: Option<ThreeDsSeen>,
    /// Whether fraud liability moved to the issuer.
    pub liability: Liability,
    /// On reads: what was returned and completed so far.
    pub total_refunds: Option<Money>,
    pub total_completions: Option<Money>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardSeen {
    /// VI, MC, AM, ... as Bambora wrote it.
    pub card_type: String,
    pub brand: Option<CardBrand>,
    pub last_four: Option<String>,
    pub eci: Option<i64>,
    pub cavv_result: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreeDsSeen {
    pub status: Option<ThreeDsStatus>,
    /// When the status is Failed: why, in plain words.
    pub error: Option<&'static str>,
}

/// A payment the card's side refused: a decline (HTTP 200 with `approved` 0, or 402 code 7) or a failed
/// 3-D Secure (311).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decline {
    pub message_id: i64,
    pub outcome: Outcome,
    /// Plain language, for the shopper.
    pub reason: &'static str,
    /// The declined transaction, when Bambora answered with one.
    pub payment: Option<Payment>,
}

/// A request Bambora refused for a reason other than the card (HTTP 400 or 402 with an error body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub http_status: u16,
    pub message_id: i64,
    pub category: Option<i64>,
    pub outcome: Outcome,
    /// Plain language, for the merchant.
    pub reason: &'static str,
    /// Bambora's own message, and the fields it named.
    pub message: String,
    pub details: Vec<wire::ErrorDetail>,
}

/// The shopper must go to the bank: post `form` from their browser; keep `session` (the 302's
/// `3d_session_data`, or `merchant_data` for 3-D Secure 1) for `continue`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub session: String,
    pub form: RedirectForm,
}

/// A row of the Reporting API's search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchRecord {
    pub id: String,
    /// P, PA, PAC, R, VP, VR.
    pub kind: String,
    pub order_number: String,
    pub amount: Money,
    /// `trn_response` 1 `[I]: the reference names the field only`.
    pub approved: bool,
    pub message_id: Option<i64>,
    pub message: Option<String>,
    pub created: Option<String>,
}

impl BamboraClient {
    pub fn new(settings: BamboraSettings) -> BamboraClient {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_millis(settings.timeout_ms))
            // The challenge is a 302 whose body is the answer.
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(32)
            .build()
            .expect("http client");
        BamboraClient { http, settings }
    }

    pub fn settings(&self) -> &BamboraSettings {
        &self.settings
    }

    /// `Authorization: Passcode base64(merchant_id:passcode)`, marked sensitive so it is never logged.
    fn passcode(&self, passcode: &SecretString) -> HeaderValue {
        let token = STANDARD.encode(format!("{}:{}", self.settings.merchant_id, passcode.expose_secret()));
        let mut value = HeaderValue::from_str(&format!("Passcode {token}")).expect("base64 is a header value");
        value.set_sensitive(true);
        value
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.settings.base_url.trim_end_matches('/')))
            .header(reqwest::header::AUTHORIZATION, self.passcode(&self.settings.api_passcode))
    }

    /// Sends and reads the whole answer, counting the wait as provider time (Server-Timing).
    async fn exchange(req: RequestBuilder) -> Result<(StatusCode, Vec<u8>), ProviderError> {
        let started = std::time::Instant::now();
        let answer = async {
            let res = req.send().await?;
            let status = res.status();
            Ok::<_, ProviderError>((status, res.bytes().await.map_err(|_| ProviderError::NoAnswer)?.to_vec()))
        }
        .await;
        crate::server::telemetry::add_provider_time(started.elapsed());
        answer
    }

    async fn post<B: Serialize>(&self, path: &str, body: &B, currency: Currency) -> Result<PayAnswer, ProviderError> {
        let (status, bytes) = Self::exchange(self.request(Method::POST, path).json(body)).await?;
        interpret(status, &bytes, currency)
    }

    /// Makes a payment (or a pre-authorization with `complete: false`). Not safe to repeat: after a lost
    /// answer, `search_by_order_number` first.
    pub async fn pay(&self, req: &PaymentRequest<'_>) -> Result<PayAnswer, ProviderError> {
        self.send_payment(payment_json(req), req.amount.currency()).await
    }

    /// Sends a payment body as `payment_json` made it (kept with the order before the call).
    pub async fn send_payment(&self, body: String, currency: Currency) -> Result<PayAnswer, ProviderError> {
        let http = self.request(Method::POST, "/payments").header(reqwest::header::CONTENT_TYPE, "application/json");
        let (status, bytes) = Self::exchange(http.body(body)).await?;
        interpret(status, &bytes, currency)
    }

    /// After the bank page: `session` is the challenge's, `response` what the bank posted to `term_url`.
    /// A failed authentication is a `Declined` with `Outcome::ThreeDsFailed`.
    pub async fn continue_payment(
        &self,
        session: &str,
        response: BankResponse<'_>,
        currency: Currency,
    ) -> Result<PayAnswer, ProviderError> {
        let card_response = match response {
            BankResponse::Cres(cres) => wire::CardResponse { cres: Some(cres), pa_res: None },
            BankResponse::PaRes(pa_res) => wire::CardResponse { cres: None, pa_res: Some(pa_res) },
        };
        let body = wire::ContinueRequest { payment_method: "credit_card", card_response };
        self.post(&format!("/payments/{}/continue", segment(session)), &body, currency).await
    }

    /// Completes a pre-authorization for `amount` (at most what it holds).
    pub async fn complete(&self, id: &str, amount: Money) -> Result<TxnAnswer, ProviderError> {
        self.adjust(id, "completions", amount).await
    }

    /// Returns (refunds) `amount` of a payment or completion (at most what is left).
    pub async fn refund(&self, id: &str, amount: Money) -> Result<TxnAnswer, ProviderError> {
        self.adjust(id, "returns", amount).await
    }

    /// Voids a payment, pre-authorization, completion or return; `amount` must be the transaction's.
    pub async fn void(&self, id: &str, amount: Money) -> Result<TxnAnswer, ProviderError> {
        self.adjust(id, "void", amount).await
    }

    async fn adjust(&self, id: &str, action: &str, amount: Money) -> Result<TxnAnswer, ProviderError> {
        let raw = amount::to_wire(amount);
        let path = format!("/payments/{}/{action}", segment(id));
        match self.post(&path, &wire::AmountRequest { amount: &raw }, amount.currency()).await? {
            PayAnswer::Approved(p) => Ok(TxnAnswer::Approved(p)),
            PayAnswer::Declined(d) => Ok(TxnAnswer::Declined(d)),
            PayAnswer::Refused(r) => Ok(TxnAnswer::Refused(r)),
            PayAnswer::Challenge(_) => Err(ProviderError::Malformed(format!("a challenge in answer to {action}"))),
        }
    }

    /// `GET /payments/{id}`; `None` when Bambora has no such transaction. Safe to repeat.
    pub async fn read(&self, id: &str, currency: Currency) -> Result<Option<Payment>, ProviderError> {
        let (status, bytes) = Self::exchange(self.request(Method::GET, &format!("/payments/{}", segment(id)))).await?;
        match interpret(status, &bytes, currency)? {
            PayAnswer::Approved(p) => Ok(Some(p)),
            PayAnswer::Declined(Decline { payment: Some(p), .. }) => Ok(Some(p)),
            PayAnswer::Refused(r) if r.outcome == Outcome::NotFound => Ok(None),
            PayAnswer::Refused(r) => Err(ProviderError::Refused { status: r.http_status, message: r.message }),
            PayAnswer::Declined(d) => {
                Err(ProviderError::Refused { status: status.as_u16(), message: d.reason.to_owned() })
            }
            PayAnswer::Challenge(_) => Err(ProviderError::Malformed("a challenge in answer to a read".into())),
        }
    }

    /// Every transaction with this order number (a payment and what followed it), through the Reporting
    /// API: how a payment whose answer was lost is found. `sent_at_ms` is when the payment was sent (Unix
    /// ms); the search covers from then to now. Safe to repeat.
    pub async fn search_by_order_number(
        &self,
        order_number: &str,
        currency: Currency,
        sent_at_ms: i64,
    ) -> Result<Vec<SearchRecord>, ProviderError> {
        let date = |ms: i64, time: &str| format!("{}T{time}", crate::server::clock::format_date(ms));
        let body = wire::SearchRequest {
            name: "Search",
            start_date: date(sent_at_ms - SEARCH_MARGIN_MS, "00:00:00"),
            end_date: date(crate::server::db::now_ms() + SEARCH_MARGIN_MS, "23:59:59"),
            start_row: 1,
            end_row: SEARCH_ROWS,
            criteria: [wire::Criterion {
                field: SEARCH_FIELD_ORDER_NUMBER,
                operator: SEARCH_OPERATOR_EQUALS,
                value: order_number,
            }],
        };
        let req = self
            .http
            .post(format!("{}/reports", self.settings.base_url.trim_end_matches('/')))
            .header(reqwest::header::AUTHORIZATION, self.passcode(&self.settings.report_passcode))
            .json(&body);
        let (status, bytes) = Self::exchange(req).await?;
        if !status.is_success() {
            return Err(refused(status, &bytes));
        }
        let answer: wire::SearchResponse = serde_json::from_slice(&bytes).map_err(malformed)?;
        answer
            .records
            .into_iter()
            .filter(|r| r.trn_order_number.as_deref() == Some(order_number))
            .map(|r| search_record(r, currency))
            .collect()
    }
}

/// The payment request's JSON, as sent (it holds the card when one is sent in the clear: never logged).
pub fn payment_json(req: &PaymentRequest<'_>) -> String {
    let amount = amount::to_wire(req.amount);
    let three_d_secure = req.three_d_secure.as_ref().map(|t| match *t {
        ThreeDs::Bambora { browser, version, auth_required } => {
            wire::ThreeDSecureBody::Browser { browser, enabled: true, version, auth_required }
        }
        ThreeDs::OwnProcess { xid, cavv, brand, eci } => {
            wire::ThreeDSecureBody::OwnProcess { enabled: true, xid, cavv, eci: outcomes::own_process_eci(brand, eci) }
        }
    });
    let (payment_method, card, token) = match req.method {
        PaymentMethod::Token { code, name } => {
            ("token", None, Some(wire::TokenBody { code, name, complete: req.complete, three_d_secure }))
        }
        PaymentMethod::Card { name, number, expiry, cvv } => {
            let card = wire::CardBody {
                name,
                number: number.expose(),
                expiry_month: format!("{:02}", expiry.month()),
                expiry_year: format!("{:02}", expiry.year() % 100),
                cvd: cvv.expose(),
                complete: req.complete,
                three_d_secure,
            };
            ("card", Some(card), None)
        }
    };
    let body = wire::PaymentRequest {
        order_number: req.order_number,
        amount: &amount,
        payment_method,
        customer_ip: req.customer_ip,
        term_url: req.term_url,
        card,
        token,
    };
    serde_json::to_string(&body).expect("the request serializes")
}

/// A path segment: ids and sessions are Bambora's, but never trusted to be URL-safe.
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn malformed(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Malformed(e.to_string())
}

/// A failure that is not an answer about the payment (credentials, method, server error).
fn refused(status: StatusCode, bytes: &[u8]) -> ProviderError {
    let body: wire::ErrorBody = serde_json::from_slice(bytes).unwrap_or_default();
    let message = body.message.unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    ProviderError::Refused { status: status.as_u16(), message }
}

/// Reads any answer to a payment-like call. 200 is a transaction, 302 a challenge, 400/402/404 with an
/// error body a decline or a refusal; anything else (401, 403, 405, 5xx) is an error.
fn interpret(status: StatusCode, bytes: &[u8], currency: Currency) -> Result<PayAnswer, ProviderError> {
    match status.as_u16() {
        200 => {
            let body: wire::PaymentResponse = serde_json::from_slice(bytes).map_err(malformed)?;
            let payment = payment(body, currency)?;
            if payment.approved {
                return Ok(PayAnswer::Approved(payment));
            }
            // Declined with a message id the table calls approved (or does not know): still a decline.
            let (outcome, reason) = match payment.outcome {
                Outcome::Approved | Outcome::Unrecognized => {
                    (Outcome::Declined(DeclineReason::Unspecified), "The payment was declined.")
                }
                other => (other, outcomes::message(payment.message_id).1),
            };
            Ok(PayAnswer::Declined(Decline { message_id: payment.message_id, outcome, reason, payment: Some(payment) }))
        }
        302 => {
            let body: wire::RedirectResponse = serde_json::from_slice(bytes).map_err(malformed)?;
            let session = body
                .three_d_session_data
                .or(body.merchant_data)
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| malformed("a challenge without 3d_session_data or merchant_data"))?;
            let form = redirect::parse(&body.contents).map_err(malformed)?;
            Ok(PayAnswer::Challenge(Challenge { session, form }))
        }
        400 | 402 | 404 => {
            let body: wire::ErrorBody = serde_json::from_slice(bytes).map_err(malformed)?;
            let message_id = body
                .code
                .as_ref()
                .and_then(wire::Scalar::as_int)
                .ok_or_else(|| malformed(format!("an HTTP {status} answer without a code")))?;
            let (outcome, reason) = outcomes::message(message_id);
            match outcome {
                Outcome::Declined(_) | Outcome::ThreeDsFailed | Outcome::InvalidCard | Outcome::TokenUnusable => {
                    Ok(PayAnswer::Declined(Decline { message_id, outcome, reason, payment: None }))
                }
                _ => Ok(PayAnswer::Refused(Refusal {
                    http_status: status.as_u16(),
                    message_id,
                    category: body.category.as_ref().and_then(wire::Scalar::as_int),
                    outcome,
                    reason,
                    message: body.message.unwrap_or_default(),
                    details: body.details,
                })),
            }
        }
        _ => Err(refused(status, bytes)),
    }
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, ProviderError> {
    value.ok_or_else(|| ProviderError::Malformed(format!("the answer has no valid `{field}`")))
}

fn money(raw: Option<&serde_json::value::RawValue>, currency: Currency) -> Result<Option<Money>, ProviderError> {
    raw.map(|r| amount::from_wire(r, currency).map_err(malformed)).transpose()
}

/// Bambora's card type codes: VI, MC, AM in the reference's examples; NN (Discover), JB (JCB) and the debit
/// variants PV (Visa) and MD (Mastercard) `[I]`.
pub fn brand_of(card_type: &str) -> Option<CardBrand> {
    match card_type.trim().to_ascii_uppercase().as_str() {
        "VI" | "PV" => Some(CardBrand::Visa),
        "MC" | "MD" => Some(CardBrand::Mastercard),
        "AM" => Some(CardBrand::Amex),
        "NN" => Some(CardBrand::Discover),
        "JB" => Some(CardBrand::Jcb),
        _ => None,
    }
}

fn payment(body: wire::PaymentResponse, currency: Currency) -> Result<Payment, ProviderError> {
    let id = required(body.id.as_ref().and_then(wire::Scalar::as_text), "id")?;
    let approved = match required(body.approved.as_ref().and_then(wire::Scalar::as_int), "approved")? {
        0 => false,
        1 => true,
        _ => return Err(malformed("`approved` is neither 0 nor 1")),
    };
    let message_id = required(body.message_id.as_ref().and_then(wire::Scalar::as_int), "message_id")?;
    let amount = required(money(body.amount.as_deref(), currency)?, "amount")?;
    let card = body.card.map(|c| {
        let card_type = c.card_type.unwrap_or_default();
        CardSeen {
            brand: brand_of(&card_type),
            card_type,
            last_four: c.last_four.filter(|l| l.len() == 4 && l.bytes().all(|b| b.is_ascii_digit())),
            eci: c.eci.as_ref().and_then(wire::Scalar::as_int),
            cavv_result: c.cavv_result.as_ref().and_then(wire::Scalar::as_int),
        }
    });
    let three_d_secure = body.three_d_secure.map(|t| {
        let status = t.status_id.as_ref().and_then(wire::Scalar::as_int).and_then(ThreeDsStatus::from_id);
        let error = match status {
            Some(ThreeDsStatus::Failed) => Some(outcomes::threeds_error(
                [&t.error_id, &t.error_code].into_iter().flatten().find_map(wire::Scalar::as_int).unwrap_or(0),
            )),
            _ => None,
        };
        ThreeDsSeen { status, error }
    });
    let eci = card.as_ref().map_or(EciSeen::Absent, |c| EciSeen::read(c.eci, c.brand));
    let liability = Liability::decide(three_d_secure.as_ref().and_then(|t| t.status), eci);
    Ok(Payment {
        id,
        approved,
        message_id,
        message: body.message.unwrap_or_default(),
        outcome: outcomes::message(message_id).0,
        amount,
        kind: body.kind,
        order_number: body.order_number,
        auth_code: body.auth_code,
        created: body.created,
        card,
        three_d_secure,
        liability,
        total_refunds: money(body.total_refunds.as_deref(), currency)?,
        total_completions: money(body.total_completions.as_deref(), currency)?,
    })
}

fn search_record(r: wire::SearchRecord, currency: Currency) -> Result<SearchRecord, ProviderError> {
    Ok(SearchRecord {
        id: required(r.trn_id.as_ref().and_then(wire::Scalar::as_text), "trn_id")?,
        kind: required(r.trn_type, "trn_type")?,
        order_number: required(r.trn_order_number, "trn_order_number")?,
        amount: required(money(r.trn_amount.as_deref(), currency)?, "trn_amount")?,
        approved: r.trn_response.as_ref().and_then(wire::Scalar::as_int) == Some(1),
        message_id: r.message_id.as_ref().and_then(wire::Scalar::as_int),
        message: r.message_text,
        created: r.trn_date_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cad(minor: i64) -> Money {
        Money::new(minor, Currency::CAD).unwrap()
    }

    #[test]
    fn reads_the_seeds_approved_answer() {
        // The seed's continue answer (its missing commas restored).
        let body = br#"{"id":"10000026","approved":"1","message_id":"1","message":"Approved","auth_code":"TEST",
            "created":"2017-02-23T17:26:26","order_number":"MyOrderId000011223344","type":"PA","payment_method":"CC",
            "amount":15.99,"custom":{"ref1":""},"card":{"card_type":"VI","last_four":"3312","address_match":0,
            "postal_result":0,"cvd_result":1,"eci":5,"cavv_result":2},
            "3d_secure":{"status_id":1,"status":"Authenticated","error_code":"","error":""},
            "links":[{"rel":"complete","href":"https://api.na.bambora.com/v1/payments/10000026/completions","method":"POST"}]}"#;
        let PayAnswer::Approved(p) = interpret(StatusCode::OK, body, Currency::CAD).unwrap() else { panic!() };
        assert_eq!((p.id.as_str(), p.amount, p.kind.as_deref()), ("10000026", cad(1599), Some("PA")));
        assert_eq!(p.outcome, Outcome::Approved);
        assert_eq!(p.card.as_ref().unwrap().brand, Some(CardBrand::Visa));
        assert_eq!(p.three_d_secure, Some(ThreeDsSeen { status: Some(ThreeDsStatus::Authenticated), error: None }));
        assert_eq!(p.liability, Liability::Authenticated);
    }

    #[test]
    fn reads_numbers_where_a_read_writes_them() {
        let body = br#"{"id":10000027,"approved":true,"message_id":1,"amount":20,"total_refunds":5.5,
            "total_completions":0,"card":{"card_type":"MC","eci":2}}"#;
        let PayAnswer::Approved(p) = interpret(StatusCode::OK, body, Currency::CAD).unwrap() else { panic!() };
        assert_eq!(
            (p.id.as_str(), p.amount, p.total_refunds, p.total_completions),
            ("10000027", cad(2000), Some(cad(550)), Some(cad(0)))
        );
        assert_eq!(p.liability, Liability::Authenticated, "Mastercard ECI 2 alone");
    }

    #[test]
    fn declines_and_refusals_are_answers() {
        let declined = br#"{"code":7,"category":1,"message":"DECLINE","reference":"","details":[]}"#;
        let PayAnswer::Declined(d) = interpret(StatusCode::PAYMENT_REQUIRED, declined, Currency::CAD).unwrap() else {
            panic!()
        };
        assert_eq!((d.message_id, d.outcome, d.payment), (7, Outcome::Declined(DeclineReason::Issuer), None));
        let failed = br#"{"code":311,"category":1,"message":"3D Secure Failed","reference":"","3d_secure":{"status":"Rejected"}}"#;
        let PayAnswer::Declined(d) = interpret(StatusCode::PAYMENT_REQUIRED, failed, Currency::CAD).unwrap() else {
            panic!()
        };
        assert_eq!(d.outcome, Outcome::ThreeDsFailed);
        let invalid = br#"{"code":314,"category":2,"message":"Missing or invalid payment information",
            "reference":"","details":[{"field":"amount","message":"Invalid amount"}]}"#;
        let PayAnswer::Refused(r) = interpret(StatusCode::BAD_REQUEST, invalid, Currency::CAD).unwrap() else {
            panic!()
        };
        assert_eq!((r.http_status, r.message_id, r.category, r.outcome), (400, 314, Some(2), Outcome::InvalidRequest));
        assert_eq!(r.details[0].field.as_deref(), Some("amount"));
        let approved_zero =
            br#"{"id":"5","approved":"0","message_id":"7","message":"DECLINE","amount":1.05,"total_refunds":null}"#;
        let PayAnswer::Declined(d) = interpret(StatusCode::OK, approved_zero, Currency::CAD).unwrap() else { panic!() };
        assert_eq!((d.outcome, d.payment.unwrap().id.as_str()), (Outcome::Declined(DeclineReason::Issuer), "5"));
    }

    #[test]
    fn what_is_not_an_answer_is_an_error() {
        let auth = br#"{"code":317,"category":3,"message":"Authentication failed","reference":"","details":[]}"#;
        assert!(matches!(
            interpret(StatusCode::UNAUTHORIZED, auth, Currency::CAD),
            Err(ProviderError::Refused { status: 401, .. })
        ));
        let e = interpret(StatusCode::INTERNAL_SERVER_ERROR, b"oops", Currency::CAD).unwrap_err();
        assert!(e.outcome_unknown());
        let cases: [(StatusCode, &[u8]); 5] = [
            (StatusCode::OK, b"not json"),
            (StatusCode::OK, br#"{"id":"1","approved":"1","message_id":"1","amount":1.999}"#),
            (StatusCode::OK, br#"{"id":"1","approved":"2","message_id":"1","amount":1.99}"#),
            (StatusCode::PAYMENT_REQUIRED, br#"{"message":"no code"}"#),
            (StatusCode::FOUND, br#"{"contents":"%3cp%3e"}"#),
        ];
        for (status, body) in cases {
            let e = interpret(status, body, Currency::CAD).unwrap_err();
            assert!(matches!(e, ProviderError::Malformed(_)), "{status}: {e:?}");
        }
    }

    #[test]
    fn payment_requests_as_sent() {
        let browser = BrowserData {
            accept_header: "text/html".into(),
            java_enabled: false,
            language: "en-CA".into(),
            color_depth: 24,
            screen_height: 1080,
            screen_width: 1920,
            time_zone: 300,
            user_agent: "UA".into(),
            javascript_enabled: true,
        };
        let req = PaymentRequest {
            order_number: "o-1",
            amount: Money::new(1500, Currency::JPY).unwrap(),
            method: PaymentMethod::Token { code: "tok", name: "Ada" },
            complete: false,
            customer_ip: Some("203.0.113.7"),
            term_url: Some("https://shop.example/r"),
            three_d_secure: Some(ThreeDs::Bambora { browser: &browser, version: Some(2), auth_required: true }),
        };
        let sent = payment_json(&req);
        assert!(sent.contains(r#""amount":1500,"#), "an exact number: {sent}");
        let sent: serde_json::Value = serde_json::from_str(&sent).unwrap();
        let expected = serde_json::json!({
            "order_number": "o-1", "amount": 1500, "payment_method": "token", "customer_ip": "203.0.113.7",
            "term_url": "https://shop.example/r",
            "token": {"code": "tok", "name": "Ada", "complete": false, "3d_secure": {
                "browser": {"accept_header": "text/html", "java_enabled": false, "language": "en-CA", "color_depth": 24,
                    "screen_height": 1080, "screen_width": 1920, "time_zone": 300, "user_agent": "UA",
                    "javascript_enabled": true},
                "enabled": true, "version": 2, "auth_required": true}},
        });
        assert_eq!(sent, expected);

        let today = crate::domain::card::YearMonth { year: 2026, month: 11 };
        let number = CardNumber::parse("5100000010001004").unwrap();
        let cvv = Cvv::parse("123", CardBrand::Mastercard).unwrap();
        let req = PaymentRequest {
            order_number: "o-2",
            amount: cad(1234),
            method: PaymentMethod::Card {
                name: "Ada",
                number: &number,
                expiry: Expiry::new(1, 2029, today).unwrap(),
                cvv: &cvv,
            },
            complete: true,
            customer_ip: None,
            term_url: None,
            three_d_secure: Some(ThreeDs::OwnProcess {
                xid: "1368023",
                cavv: "AAABAXlHEQAAAAGXAEcRAAAAAAA=",
                brand: CardBrand::Mastercard,
                eci: EciMeaning::FullyAuthenticated,
            }),
        };
        let sent = payment_json(&req);
        assert!(sent.contains(r#""amount":12.34,"#), "{sent}");
        let sent: serde_json::Value = serde_json::from_str(&sent).unwrap();
        let expected = serde_json::json!({
            "order_number": "o-2", "amount": 12.34, "payment_method": "card",
            "card": {"name": "Ada", "number": "5100000010001004", "expiry_month": "01", "expiry_year": "29", "cvd": "123",
                "complete": true,
                "3d_secure": {"enabled": true, "xid": "1368023", "cavv": "AAABAXlHEQAAAAGXAEcRAAAAAAA=", "eci": 2}},
        });
        assert_eq!(sent, expected);
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(segment("2ccd7715-9e97-4f11"), "2ccd7715-9e97-4f11");
        assert_eq!(segment("../x?y=1#z"), "..%2Fx%3Fy%3D1%23z");
    }

    #[test]
    fn card_types_table() {
        let table = [
            ("VI", Some(CardBrand::Visa)),
            ("MC", Some(CardBrand::Mastercard)),
            ("AM", Some(CardBrand::Amex)),
            ("NN", Some(CardBrand::Discover)),
            ("JB", Some(CardBrand::Jcb)),
            ("vi", Some(CardBrand::Visa)),
            ("XX", None),
            ("", None),
        ];
        for (code, brand) in table {
            assert_eq!(brand_of(code), brand, "{code}");
        }
    }
}
