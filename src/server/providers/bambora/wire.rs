//! Bambora's JSON, as our client sends and reads it (written from the seed, PROVIDERS.md, the README's
//! published test data and the Payment API 1.0 spec, independently of the sandbox). Answers are read
//! leniently here (unknown fields ignored, ids and flags as strings or numbers) and strictly in `mod.rs`.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

#[derive(Serialize)]
pub struct PaymentRequest<'a> {
    pub order_number: &'a str,
    /// Major units, an exact decimal number (see `amount`).
    pub amount: &'a RawValue,
    /// `card` or `token`.
    pub payment_method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_ip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<CardBody<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenBody<'a>>,
}

#[derive(Serialize)]
pub struct CardBody<'a> {
    pub name: &'a str,
    pub number: &'a str,
    /// Two digits each ("eg. 02 for February", "15 for 2015").
    pub expiry_month: String,
    pub expiry_year: String,
    pub cvd: &'a str,
    pub complete: bool,
    #[serde(rename = "3d_secure", skip_serializing_if = "Option::is_none")]
    pub three_d_secure: Option<ThreeDSecureBody<'a>>,
}

#[derive(Serialize)]
pub struct TokenBody<'a> {
    pub code: &'a str,
    pub name: &'a str,
    /// Sent always: a token's default is a pre-authorization.
    pub complete: bool,
    #[serde(rename = "3d_secure", skip_serializing_if = "Option::is_none")]
    pub three_d_secure: Option<ThreeDSecureBody<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum ThreeDSecureBody<'a> {
    /// Bambora runs 3-D Secure 2 itself, with the shopper's browser data.
    Browser {
        browser: &'a BrowserData,
        enabled: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<u8>,
        auth_required: bool,
    },
    /// "Your own process": the result of an authentication run elsewhere.
    OwnProcess { enabled: bool, xid: &'a str, cavv: &'a str, eci: u8 },
}

/// The shopper's browser as 3-D Secure 2 needs it, spelled as the current reference does (snake_case).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowserData {
    pub accept_header: String,
    pub java_enabled: bool,
    pub language: String,
    pub color_depth: u8,
    pub screen_height: u32,
    pub screen_width: u32,
    /// Minutes from UTC, as `Date.getTimezoneOffset()` gives them (-840 to 720).
    pub time_zone: i32,
    pub user_agent: String,
    pub javascript_enabled: bool,
}

/// Completions, returns and voids.
#[derive(Serialize)]
pub struct AmountRequest<'a> {
    pub amount: &'a RawValue,
}

#[derive(Serialize)]
pub struct ContinueRequest<'a> {
    pub payment_method: &'static str,
    pub card_response: CardResponse<'a>,
}

#[derive(Serialize)]
pub struct CardResponse<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cres: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pa_res: Option<&'a str>,
}

/// The Reporting API's search.
#[derive(Serialize)]
pub struct SearchRequest<'a> {
    /// "Search" (all fields) or "TransHistoryMinimal".
    pub name: &'static str,
    pub start_date: String,
    pub end_date: String,
    pub start_row: u32,
    pub end_row: u32,
    pub criteria: [Criterion<'a>; 1],
}

#[derive(Serialize)]
pub struct Criterion<'a> {
    pub field: u32,
    pub operator: &'static str,
    pub value: &'a str,
}

/// A value the API writes as a string in one answer and as a number or boolean in another
/// (`approved: "1"` in a payment answer, `approved: true` or `1` in a read).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Int(i64),
    Bool(bool),
    Text(String),
}

impl Scalar {
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Scalar::Int(n) => Some(*n),
            Scalar::Bool(b) => Some(i64::from(*b)),
            Scalar::Text(s) => s.trim().parse().ok(),
        }
    }

    pub fn as_text(&self) -> Option<String> {
        match self {
            Scalar::Int(n) => Some(n.to_string()),
            Scalar::Text(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Scalar::Bool(_) | Scalar::Text(_) => None,
        }
    }
}

/// A payment, completion, return or void answer (HTTP 200), and `GET /payments/{id}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PaymentResponse {
    pub id: Option<Scalar>,
    pub approved: Option<Scalar>,
    pub message_id: Option<Scalar>,
    pub message: Option<String>,
    pub auth_code: Option<String>,
    pub created: Option<String>,
    pub order_number: Option<String>,
    /// P, PA, PAC, R, VP, VR.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub amount: Option<Box<RawValue>>,
    pub total_refunds: Option<Box<RawValue>>,
    pub total_completions: Option<Box<RawValue>>,
    pub card: Option<CardResult>,
    #[serde(rename = "3d_secure")]
    pub three_d_secure: Option<ThreeDSecureResult>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CardResult {
    pub card_type: Option<String>,
    pub last_four: Option<String>,
    pub eci: Option<Scalar>,
    pub cavv_result: Option<Scalar>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ThreeDSecureResult {
    pub status_id: Option<Scalar>,
    /// The seed's guide says `error_id` in its list and `error_code` in its example: either is read.
    pub error_id: Option<Scalar>,
    pub error_code: Option<Scalar>,
}

/// The challenge answer (HTTP 302 without `Location`).
#[derive(Debug, Deserialize)]
pub struct RedirectResponse {
    pub merchant_data: Option<String>,
    #[serde(rename = "3d_session_data")]
    pub three_d_session_data: Option<String>,
    /// A form-URL-encoded HTML page with the auto-submitting form to the bank.
    pub contents: String,
}

/// Every error answer: `{code, category, message, reference, details}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ErrorBody {
    pub code: Option<Scalar>,
    pub category: Option<Scalar>,
    pub message: Option<String>,
    pub details: Vec<ErrorDetail>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ErrorDetail {
    pub field: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchResponse {
    pub records: Vec<SearchRecord>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchRecord {
    pub trn_id: Option<Scalar>,
    pub trn_type: Option<String>,
    pub trn_order_number: Option<String>,
    pub trn_amount: Option<Box<RawValue>>,
    pub trn_response: Option<Scalar>,
    pub message_id: Option<Scalar>,
    pub message_text: Option<String>,
    pub trn_date_time: Option<String>,
}
