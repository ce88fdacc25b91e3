//! Verifone: the 3DS service (JWT, lookup, JWT validation) and the eCommerce API (payments, reads,
//! refunds, captures, voids), with Basic auth and an idempotency key on every write.

mod authentication;
pub mod notifications;
pub mod wire;

use super::{
    BrowserSession, CardCapture, Credential, DeclineReason, PaymentOrder, PreparedPayment, Proof, ProviderError,
    StoredCard, Txn, TxnOutcome,
};
use crate::domain::{card::CardBrand, status::Action};
use crate::server::config::VerifoneSettings;
use reqwest::{Method, RequestBuilder, StatusCode};
use secrecy::ExposeSecret;
use serde::{Serialize, de::DeserializeOwned};
use std::{sync::Arc, time::Duration};
use tokio::sync::OnceCell;

pub use wire::{JwtValidateResponse, LookupResponse, ThreedAuthentication, Transaction};

const IDEMPOTENCY_HEADER: &str = "x-vfi-api-idempotencyKey";
/// Reads and JWT creation are safe to repeat: this many extra tries after a failure that may pass.
const SAFE_RETRIES: u32 = 2;
/// Time to record an answer after it arrives (a write that may wait for a group commit).
const RECORD_GRACE_MS: i64 = 2_000;

#[derive(Clone)]
pub struct VerifoneClient {
    http: reqwest::Client,
    settings: VerifoneSettings,
    /// The key verifone.js encrypts cards to: configured, or fetched once from the sandbox (a failed fetch
    /// is tried again by the next checkout).
    encryption_key: Arc<OnceCell<String>>,
}

/// Verifone transaction statuses [S]; anything else is `Unrecognized`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerifoneStatus {
    Initiated,
    Authorized,
    AuthorizationVoided,
    Cancelled,
    CustomerAccepted,
    Refunded,
    Failed,
    Pending,
    Declined,
    SettlementCancelled,
    SettlementRequested,
    SettlementSubmitted,
    SettlementCompleted,
    SettlementPartial,
    SettlementDeclined,
    Voided,
    Unknown,
    #[serde(other)]
    Unrecognized,
}

impl VerifoneStatus {
    pub fn parse(s: &str) -> VerifoneStatus {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).unwrap_or(VerifoneStatus::Unrecognized)
    }

    /// The one status mapping: exhaustive, so a new status cannot be forgotten. A decline says why by its
    /// response code.
    pub fn outcome(self, reason_code: Option<&str>) -> TxnOutcome {
        use VerifoneStatus::*;
        match self {
            Authorized | CustomerAccepted | Refunded | SettlementRequested | SettlementSubmitted
            | SettlementCompleted | SettlementPartial => TxnOutcome::Approved,
            Initiated | Pending => TxnOutcome::Pending,
            AuthorizationVoided | Voided | Cancelled | SettlementCancelled => TxnOutcome::Voided,
            Declined | SettlementDeclined => TxnOutcome::Declined(decline_reason(reason_code)),
            Failed => TxnOutcome::Failed,
            Unknown | Unrecognized => TxnOutcome::Unknown,
        }
    }
}

/// Declines by ISO 8583 response code, as the eCommerce API reports them.
fn decline_reason(code: Option<&str>) -> DeclineReason {
    match code {
        Some("51") => DeclineReason::InsufficientFunds,
        Some("54") => DeclineReason::ExpiredCard,
        Some("05") | Some("59") => DeclineReason::Issuer,
        _ => DeclineReason::Unspecified,
    }
}

fn threed_authentication(p: Proof) -> ThreedAuthentication {
    ThreedAuthentication {
        eci_flag: p.eci,
        enrolled: p.enrolled,
        cavv: p.cavv,
        pares_status: p.pares_status,
        threeds_version: p.version,
        ds_transaction_id: p.ds_transaction_id,
        signature_verification: p.signature_verification,
        error_desc: p.error_desc,
        error_no: p.error_no,
    }
}

/// A transaction in the services' terms.
pub fn txn(t: Transaction) -> Txn {
    let (brand, digits) = t.reported_card();
    let stored = stored_card(&t);
    Txn {
        outcome: VerifoneStatus::parse(&t.status).outcome(t.reason_code.as_deref()),
        details: serde_json::to_value(&t).unwrap_or_default(),
        id: t.id.clone(),
        amount: t.amount,
        reason_code: t.reason_code,
        message: t.message,
        merchant_reference: t.merchant_reference,
        brand,
        digits,
        // Verifone's 3-D Secure runs before the payment (the authenticator's answer is recorded then).
        authentication: None,
        stored,
        status: t.status,
    }
}

/// The reuse token a payment created, with what Verifone said of the card and the payment's scheme reference.
fn stored_card(t: &Transaction) -> Option<StoredCard> {
    let details = t.token_details.as_ref()?;
    let token = details.reuse_token.clone().filter(|token| !token.is_empty())?;
    let scheme_reference =
        t.stored_credential.as_ref().and_then(|s| s.scheme_reference.clone()).or_else(|| t.scheme_reference.clone());
    Some(StoredCard {
        token,
        brand: details.brand.as_deref().and_then(brand_of),
        last4: details.last_four.clone(),
        expiry: details.expiry_month.zip(details.expiry_year),
        scheme_reference,
    })
}

/// The card-on-file values each use of a stored credential is sent with (the published business models:
/// a purchase that stores the card and later one-click purchases are `CREDENTIAL_ON_FILE`; a charge the
/// merchant starts later, of no fixed schedule, is `UNSCHEDULED_CREDENTIAL_ON_FILE`).
fn stored_credential<'a>(c: Credential<'a>) -> wire::StoredCredential<'a> {
    let (kind, model, scheme_reference) = match c {
        Credential::Store => ("SIGNUP", "CREDENTIAL_ON_FILE", None),
        Credential::Customer { .. } => ("CHARGE", "CREDENTIAL_ON_FILE", None),
        Credential::Merchant { scheme_reference, .. } => ("CHARGE", "UNSCHEDULED_CREDENTIAL_ON_FILE", scheme_reference),
    };
    wire::StoredCredential {
        stored_credential_type: kind,
        processing_model_details: wire::ProcessingModelDetails { processing_model: model },
        scheme_reference,
    }
}

impl Transaction {
    /// The card as Verifone read it: its brand, and its first six and last four from the masked number.
    pub fn reported_card(&self) -> (Option<CardBrand>, Option<(String, String)>) {
        let masked = self.card_details.as_ref().and_then(|d| d.masked_card_number.as_deref()).unwrap_or_default();
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let (bin6, last4) = (masked.get(..6), masked.len().checked_sub(4).and_then(|i| masked.get(i..)));
        let shown = match (bin6, last4) {
            (Some(b), Some(l)) if masked.len() >= 10 && digits(b) && digits(l) => Some((b.to_owned(), l.to_owned())),
            _ => None,
        };
        (self.card_brand.as_deref().and_then(brand_of), shown)
    }
}

/// A brand as Verifone names it: the lookup says "Visa", the payment "VISA" (seed). Other brands are taken
/// to be spelled as their code or their usual name, e.g. "AMEX" or "American Express" `[I]`.
pub fn brand_of(name: &str) -> Option<CardBrand> {
    let name = name.trim();
    CardBrand::ALL
        .into_iter()
        .find(|b| b.code().eq_ignore_ascii_case(name) || b.display_name().eq_ignore_ascii_case(name))
}

impl VerifoneClient {
    pub fn new(settings: VerifoneSettings) -> VerifoneClient {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_millis(settings.timeout_ms))
            .pool_max_idle_per_host(32)
            .build()
            .expect("http client");
        let encryption_key = Arc::new(OnceCell::new_with(settings.encryption_key.clone()));
        VerifoneClient { http, settings, encryption_key }
    }

    pub fn settings(&self) -> &VerifoneSettings {
        &self.settings
    }

    /// Calls sent before this instant (Unix ms) that have no recorded answer never will: this client gave up on
    /// them, or the process stopped. They are resolved like a lost answer.
    pub fn unanswered_before(&self) -> i64 {
        crate::server::db::now_ms() - self.timeout_ms() - RECORD_GRACE_MS
    }

    /// Until when (Unix ms) a resolver taking an order now may hold it: a read with its retries, then a resend.
    pub fn lease_until(&self) -> i64 {
        let calls = i64::from(SAFE_RETRIES) + 2;
        crate::server::db::now_ms() + calls * (self.timeout_ms() + 3_000) + RECORD_GRACE_MS
    }

    fn timeout_ms(&self) -> i64 {
        i64::try_from(self.settings.timeout_ms).unwrap_or(i64::MAX / 4)
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}/oidc{path}", self.settings.base_url))
            .basic_auth(&self.settings.user_uid, Some(self.settings.api_key.expose_secret()))
    }

    /// Sends and reads the JSON answer; non-2xx becomes `Refused` with Verifone's message.
    async fn send<T: DeserializeOwned>(req: RequestBuilder) -> Result<T, ProviderError> {
        let started = std::time::Instant::now();
        let answer = async {
            let res = req.send().await?;
            let status = res.status();
            Ok::<_, ProviderError>((status, res.bytes().await.map_err(|_| ProviderError::NoAnswer)?))
        }
        .await;
        // Our overhead is reported without the provider's time (Server-Timing).
        crate::server::telemetry::add_provider_time(started.elapsed());
        let (status, bytes) = answer?;
        if !status.is_success() {
            let body: wire::ErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
            let message = body.message.unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
            return Err(ProviderError::Refused { status: status.as_u16(), message });
        }
        serde_json::from_slice(&bytes).map_err(|e| ProviderError::Malformed(e.to_string()))
    }

    /// For calls that are safe to repeat: retries what may pass on a second try.
    async fn send_safe<T: DeserializeOwned>(&self, make: impl Fn() -> RequestBuilder) -> Result<T, ProviderError> {
        let mut attempt = 0;
        loop {
            match Self::send(make()).await {
                Err(e) if attempt < SAFE_RETRIES && retryable(&e) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
                other => return other,
            }
        }
    }

    fn write<B: Serialize>(&self, path: &str, body: &B, idempotency_key: &str) -> RequestBuilder {
        self.request(Method::POST, path).header(IDEMPOTENCY_HEADER, idempotency_key).json(body)
    }

    /// What the browser needs to encrypt the card: verifone.js and the public key.
    pub async fn card_capture(&self) -> Result<CardCapture, ProviderError> {
        let key = self.encryption_key.get_or_try_init(|| self.sandbox_public_key()).await?.clone();
        Ok(CardCapture { script_url: self.settings.verifone_js_url.clone(), key })
    }

    /// What the browser needs for device data collection and challenges: Songbird and a JWT for it.
    pub async fn browser_session(&self) -> Result<BrowserSession, ProviderError> {
        Ok(BrowserSession { sdk_url: self.settings.songbird_js_url.clone(), jwt: self.create_jwt().await? })
    }

    /// The card-encryption public key the sandbox publishes (a live key is configured, not fetched), within
    /// the same timeout as every other call.
    async fn sandbox_public_key(&self) -> Result<String, ProviderError> {
        let url = format!("{}/keys/{}", self.settings.base_url, self.settings.public_key_alias);
        let res = self.http.get(url).send().await?;
        let status = res.status();
        if !status.is_success() {
            return Err(ProviderError::Refused { status: status.as_u16(), message: "no public key".into() });
        }
        Ok(res.text().await?)
    }

    /// A JWT for `Cardinal.setup` (2 hours, single use).
    async fn create_jwt(&self) -> Result<String, ProviderError> {
        let body = wire::JwtCreateRequest { threeds_contract_id: &self.settings.threeds_contract_id };
        let answer: wire::JwtCreateResponse =
            self.send_safe(|| self.request(Method::POST, "/3ds-service/v2/jwt/create").json(&body)).await?;
        Ok(answer.jwt)
    }

    pub async fn lookup(&self, req: &wire::LookupRequest<'_>) -> Result<LookupResponse, ProviderError> {
        Self::send(self.request(Method::POST, "/3ds-service/v2/lookup").json(req)).await
    }

    /// Has the 3DS service check a `payments.validated` JWT against the lookup's `authentication_id` and say
    /// what it contains.
    pub async fn validate_jwt(&self, authentication_id: &str, jwt: &str) -> Result<JwtValidateResponse, ProviderError> {
        let body = wire::JwtValidateRequest {
            authentication_id,
            jwt,
            threeds_contract_id: &self.settings.threeds_contract_id,
        };
        self.send_safe(|| self.request(Method::POST, "/3ds-service/v2/jwt/validate").json(&body)).await
    }

    /// The payment request for `p`, and what the timeline may keep of it: not the encrypted card, not the
    /// single-use CAVV.
    pub fn prepare(&self, p: &PaymentOrder<'_>) -> Result<PreparedPayment, ProviderError> {
        let s = &self.settings;
        let alias = Some(s.public_key_alias.as_str());
        // The card: encrypted; or a saved card's token, with the CVV typed again when the shopper is there.
        let (encrypted_card, reuse_token, encrypted_cvv, public_key_alias) = match p.credential {
            None | Some(Credential::Store) => (Some(p.card), None, None, alias),
            Some(Credential::Customer { token }) => (None, Some(token), Some(p.card), alias),
            Some(Credential::Merchant { token, .. }) => (None, Some(token), None, None),
        };
        let merchant_initiated = matches!(p.credential, Some(Credential::Merchant { .. }));
        let request = wire::PaymentRequest {
            payment_provider_contract: &s.payment_provider_contract,
            amount: p.amount.minor(),
            currency_code: p.amount.currency().code(),
            merchant_reference: p.merchant_reference,
            card_brand: p.brand.code(),
            public_key_alias,
            encrypted_card,
            reuse_token,
            encrypted_cvv,
            threed_authentication: p.proof.clone().map(threed_authentication),
            capture_now: !p.pre_auth,
            auth_type: p.pre_auth.then_some("PRE_AUTH"),
            token_preference: matches!(p.credential, Some(Credential::Store))
                .then(|| wire::TokenPreference { token_scope: &s.token_scope, token_type: "REUSE" }),
            stored_credential: p.credential.map(stored_credential),
            shopper_interaction: p.credential.map(|_| "ECOMMERCE"),
            sca_exemption: merchant_initiated.then_some("5"),
        };
        let stored = serde_json::to_string(&request).map_err(|e| ProviderError::Malformed(e.to_string()))?;
        let mut logged = serde_json::to_value(&request).unwrap_or_default();
        // Secrets stay out of the timeline: the card and CVV, and all of a reuse token but its last four.
        for field in ["encrypted_card", "encrypted_cvv"] {
            if !logged[field].is_null() {
                logged[field] = serde_json::json!("[removed]");
            }
        }
        if let Some(token) = reuse_token {
            logged["reuse_token"] =
                serde_json::json!(format!("…{}", crate::domain::saved_card::token_last_four(token)));
        }
        if let Some(t) = logged.get_mut("threed_authentication").filter(|t| !t["cavv"].is_null()) {
            t["cavv"] = serde_json::json!("[removed]");
        }
        Ok(PreparedPayment { stored, logged })
    }

    /// Sends a payment request as it was stored before the call, byte for byte, with its idempotency key: the
    /// first send and any resend after a lost answer are the same request.
    pub async fn pay(&self, stored_request: &str, idempotency_key: &str) -> Result<Transaction, ProviderError> {
        let req = self
            .request(Method::POST, "/api/v2/transactions/card")
            .header(IDEMPOTENCY_HEADER, idempotency_key)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(stored_request.to_owned());
        Self::send(req).await
    }

    pub async fn read(&self, id: &str) -> Result<Transaction, ProviderError> {
        let path = format!("/api/v2/transaction/{id}");
        self.send_safe(|| self.request(Method::GET, &path)).await
    }

    /// `action` is refund, capture or void; `amount` in minor units (None: the whole amount).
    pub async fn act(
        &self,
        id: &str,
        action: Action,
        amount: Option<i64>,
        idempotency_key: &str,
    ) -> Result<Transaction, ProviderError> {
        let path = format!("/api/v2/transactions/{id}/{}", action_path(action));
        Self::send(self.write(&path, &wire::AmountRequest { amount }, idempotency_key)).await
    }
}

fn action_path(action: Action) -> &'static str {
    match action {
        Action::Refund => "refund",
        Action::Capture => "capture",
        Action::Void => "void",
    }
}

fn retryable(e: &ProviderError) -> bool {
    match e {
        ProviderError::Unreachable | ProviderError::NoAnswer => true,
        ProviderError::Refused { status, .. } => *status >= 500 || *status == StatusCode::TOO_MANY_REQUESTS.as_u16(),
        ProviderError::Malformed(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{DeclineReason, TxnOutcome::*, VerifoneStatus, decline_reason};

    #[test]
    fn the_card_is_read_from_the_brand_and_the_masked_number() {
        use super::{CardBrand, Transaction, brand_of, wire::CardDetails};
        assert_eq!(brand_of("Visa"), Some(CardBrand::Visa));
        assert_eq!(brand_of("MASTERCARD"), Some(CardBrand::Mastercard));
        assert_eq!(brand_of("American Express"), Some(CardBrand::Amex));
        assert_eq!(brand_of("Maestro"), None);
        let with = |masked: &str| Transaction {
            card_brand: Some("VISA".into()),
            card_details: Some(CardDetails { masked_card_number: Some(masked.into()) }),
            ..Transaction::default()
        };
        let shown = Some(("411111".to_owned(), "1111".to_owned()));
        assert_eq!(with("411111****1111").reported_card(), (Some(CardBrand::Visa), shown.clone()));
        assert_eq!(with("411111******1111").reported_card().1, shown);
        assert_eq!(with("****1111").reported_card().1, None);
        assert_eq!(with("41111x****1111").reported_card().1, None);
        assert_eq!(Transaction::default().reported_card(), (None, None));
    }

    #[test]
    fn status_mapping_table() {
        let table = [
            ("INITIATED", Pending),
            ("AUTHORIZED", Approved),
            ("AUTHORIZATION_VOIDED", Voided),
            ("CANCELLED", Voided),
            ("CUSTOMER_ACCEPTED", Approved),
            ("REFUNDED", Approved),
            ("FAILED", Failed),
            ("PENDING", Pending),
            ("DECLINED", Declined(DeclineReason::Unspecified)),
            ("SETTLEMENT_CANCELLED", Voided),
            ("SETTLEMENT_REQUESTED", Approved),
            ("SETTLEMENT_SUBMITTED", Approved),
            ("SETTLEMENT_COMPLETED", Approved),
            ("SETTLEMENT_PARTIAL", Approved),
            ("SETTLEMENT_DECLINED", Declined(DeclineReason::Unspecified)),
            ("VOIDED", Voided),
            ("UNKNOWN", Unknown),
            ("SOMETHING_NEW", Unknown),
            ("", Unknown),
        ];
        for (status, outcome) in table {
            assert_eq!(VerifoneStatus::parse(status).outcome(None), outcome, "{status}");
        }
        assert_eq!(VerifoneStatus::Declined.outcome(Some("51")), Declined(DeclineReason::InsufficientFunds));
    }

    #[test]
    fn decline_code_table() {
        let table = [
            (Some("51"), DeclineReason::InsufficientFunds),
            (Some("54"), DeclineReason::ExpiredCard),
            (Some("05"), DeclineReason::Issuer),
            (Some("59"), DeclineReason::Issuer),
            (Some("14"), DeclineReason::Unspecified),
            (Some(""), DeclineReason::Unspecified),
            (None, DeclineReason::Unspecified),
        ];
        for (code, reason) in table {
            assert_eq!(decline_reason(code), reason, "{code:?}");
        }
    }
}
