//! Verifone's JSON, as our client sends and reads it (written from the seed and PROVIDERS.md, independently
//! of the sandbox). Unknown fields are ignored; fields Verifone may omit are `Option`.

use serde::{Deserialize, Serialize};

#[derive(Serialize)]
pub struct JwtCreateRequest<'a> {
    pub threeds_contract_id: &'a str,
}

#[derive(Deserialize)]
pub struct JwtCreateResponse {
    pub jwt: String,
}

#[derive(Serialize)]
pub struct LookupRequest<'a> {
    pub amount: i64,
    pub billing_first_name: &'a str,
    pub billing_last_name: &'a str,
    pub billing_address_1: &'a str,
    pub billing_city: &'a str,
    pub billing_country_code: &'a str,
    pub currency_code: &'a str,
    pub device_info_id: &'a str,
    pub email: &'a str,
    pub merchant_reference: &'a str,
    pub threeds_contract_id: &'a str,
    pub encrypted_card: &'a str,
    pub public_key_alias: &'a str,
}

/// The lookup answer. Every 3DS field may be absent or blank (enrolled U/B, errors, timeouts).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct LookupResponse {
    pub acs_transaction_id: Option<String>,
    pub acs_url: Option<String>,
    pub payload: Option<String>,
    pub authentication_id: Option<String>,
    pub card_brand: Option<String>,
    pub cavv: Option<String>,
    pub challenge_required: Option<String>,
    pub ds_transaction_id: Option<String>,
    pub eci_flag: Option<String>,
    pub enrolled: Option<String>,
    pub error_no: Option<String>,
    pub error_desc: Option<String>,
    pub order_id: Option<String>,
    pub pares_status: Option<String>,
    pub signature_verification: Option<String>,
    pub status_reason: Option<String>,
    pub threeds_version: Option<String>,
    pub transaction_id: Option<String>,
    pub xid: Option<String>,
}

#[derive(Serialize)]
pub struct JwtValidateRequest<'a> {
    /// The lookup's: the service refuses a JWT that carries another authentication's outcome.
    pub authentication_id: &'a str,
    pub jwt: &'a str,
    pub threeds_contract_id: &'a str,
}

/// What the 3DS service says a `payments.validated` JWT contains, after checking its signature.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct JwtValidateResponse {
    pub authentication_id: Option<String>,
    pub action_code: Option<String>,
    pub error_no: Option<String>,
    pub error_desc: Option<String>,
    pub validation_result: ValidationResult,
}

/// The authentication's final values (blank when the challenge gave none).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ValidationResult {
    pub cavv: Option<String>,
    pub eci_flag: Option<String>,
    pub enrolled: Option<String>,
    pub pares_status: Option<String>,
    /// Why an N, U or R (EMV 3-D Secure `transStatusReason`).
    pub reason_code: Option<String>,
    pub signature_verification: Option<String>,
    pub acs_transaction_id: Option<String>,
    pub ds_transaction_id: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ThreedAuthentication {
    pub eci_flag: Option<String>,
    pub enrolled: Option<String>,
    pub cavv: Option<String>,
    pub pares_status: Option<String>,
    pub threeds_version: Option<String>,
    pub ds_transaction_id: Option<String>,
    pub signature_verification: Option<String>,
    pub error_desc: Option<String>,
    pub error_no: Option<String>,
}

#[derive(Serialize)]
pub struct PaymentRequest<'a> {
    pub payment_provider_contract: &'a str,
    pub amount: i64,
    pub currency_code: &'a str,
    pub merchant_reference: &'a str,
    pub card_brand: &'a str,
    pub public_key_alias: &'a str,
    pub encrypted_card: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threed_authentication: Option<ThreedAuthentication>,
    /// `false` with `auth_type: "PRE_AUTH"` holds the funds only.
    pub capture_now: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<&'a str>,
}

#[derive(Serialize)]
pub struct AmountRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
}

/// A transaction as the eCommerce API returns it (payments, refunds, captures, voids, reads).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Transaction {
    pub id: String,
    pub status: String,
    pub amount: Option<i64>,
    pub reason_code: Option<String>,
    pub message: Option<String>,
    pub arn: Option<String>,
    pub stan: Option<String>,
    pub merchant_reference: Option<String>,
    /// The transaction a refund or capture belongs to.
    pub parent_id: Option<String>,
    /// The card as Verifone read it from the encrypted card (payments).
    pub card_brand: Option<String>,
    pub card_details: Option<CardDetails>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CardDetails {
    /// First six and last four, the rest masked: "411111****1111".
    pub masked_card_number: Option<String>,
}

/// Verifone's error body.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ErrorBody {
    pub code: Option<serde_json::Value>,
    pub message: Option<String>,
}
