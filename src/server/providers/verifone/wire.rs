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
    /// The card: encrypted (with the key's alias), or a saved card's reuse token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted_card: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key_alias: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reuse_token: Option<&'a str>,
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

/// `POST /v2/transactions/card`: an `EncryptedCardPaymentRequest` (`encrypted_card`) or a
/// `TokenPaymentRequest` (`reuse_token`, with `encrypted_cvv` when the shopper typed it again).
#[derive(Serialize)]
pub struct PaymentRequest<'a> {
    pub payment_provider_contract: &'a str,
    pub amount: i64,
    pub currency_code: &'a str,
    pub merchant_reference: &'a str,
    pub card_brand: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key_alias: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted_card: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reuse_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted_cvv: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threed_authentication: Option<ThreedAuthentication>,
    /// `false` with `auth_type: "PRE_AUTH"` holds the funds only.
    pub capture_now: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<&'a str>,
    /// Asks for a reuse token with this payment (`TokenPreferenceDto`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_preference: Option<TokenPreference<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_credential: Option<StoredCredential<'a>>,
    /// `ECOMMERCE` (the published default), sent with every stored-credential payment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shopper_interaction: Option<&'a str>,
    /// `"5"`: a merchant-initiated transaction, out of the scope of strong customer authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sca_exemption: Option<&'a str>,
}

#[derive(Serialize)]
pub struct TokenPreference<'a> {
    pub token_scope: &'a str,
    /// `REUSE`: a token for later payments.
    pub token_type: &'a str,
}

/// `StoredCredentialDto`: `SIGNUP` for the payment that stores the card, `CHARGE` for those that use it.
#[derive(Serialize)]
pub struct StoredCredential<'a> {
    pub stored_credential_type: &'a str,
    pub processing_model_details: ProcessingModelDetails<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme_reference: Option<&'a str>,
}

#[derive(Serialize)]
pub struct ProcessingModelDetails<'a> {
    pub processing_model: &'a str,
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
    /// The scheme's reference of the payment (seed; also inside `stored_credential`).
    pub scheme_reference: Option<String>,
    pub stored_credential: Option<StoredCredentialAnswer>,
    /// The reuse token a payment with `token_preference` created (`TokenDetails`).
    pub token_details: Option<TokenDetails>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct StoredCredentialAnswer {
    pub scheme_reference: Option<String>,
}

/// The token a payment created. The token itself is read, never written back out (the answer goes to the
/// order's timeline).
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct TokenDetails {
    #[serde(skip_serializing)]
    pub reuse_token: Option<String>,
    pub brand: Option<String>,
    pub last_four: Option<String>,
    pub expiry_month: Option<u8>,
    pub expiry_year: Option<u16>,
    pub token_status: Option<String>,
}

impl std::fmt::Debug for TokenDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenDetails").field("brand", &self.brand).field("last_four", &self.last_four).finish()
    }
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
