//! Verifone: the 3DS service (JWT, lookup, JWT validation) and the eCommerce API (payments, reads,
//! refunds, captures, voids), with Basic auth and an idempotency key on every write.

pub mod wire;

use super::ProviderError;
use crate::domain::card::CardBrand;
use crate::server::config::VerifoneSettings;
use reqwest::{Method, RequestBuilder, StatusCode};
use secrecy::ExposeSecret;
use serde::{Serialize, de::DeserializeOwned};
use std::time::Duration;

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
}

/// What the eCommerce API said about a transaction, mapped once for every caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnOutcome {
    Approved,
    Pending,
    Voided,
    Declined,
    Failed,
    Unknown,
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

    /// The one status mapping: exhaustive, so a new status cannot be forgotten.
    pub fn outcome(self) -> TxnOutcome {
        use VerifoneStatus::*;
        match self {
            Authorized | CustomerAccepted | Refunded | SettlementRequested | SettlementSubmitted
            | SettlementCompleted | SettlementPartial => TxnOutcome::Approved,
            Initiated | Pending => TxnOutcome::Pending,
            AuthorizationVoided | Voided | Cancelled | SettlementCancelled => TxnOutcome::Voided,
            Declined | SettlementDeclined => TxnOutcome::Declined,
            Failed => TxnOutcome::Failed,
            Unknown | Unrecognized => TxnOutcome::Unknown,
        }
    }
}

impl Transaction {
    pub fn outcome(&self) -> TxnOutcome {
        VerifoneStatus::parse(&self.status).outcome()
    }

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
        VerifoneClient { http, settings }
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

    /// The card-encryption public key the sandbox publishes (a live key is configured, not fetched), within
    /// the same timeout as every other call.
    pub async fn sandbox_public_key(&self) -> Result<String, ProviderError> {
        let url = format!("{}/keys/{}", self.settings.base_url, self.settings.public_key_alias);
        let res = self.http.get(url).send().await?;
        let status = res.status();
        if !status.is_success() {
            return Err(ProviderError::Refused { status: status.as_u16(), message: "no public key".into() });
        }
        Ok(res.text().await?)
    }

    /// A JWT for `Cardinal.setup` (2 hours, single use).
    pub async fn create_jwt(&self) -> Result<String, ProviderError> {
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
        let path = format!("/api/v2/transactions/{id}/{}", action.path());
        Self::send(self.write(&path, &wire::AmountRequest { amount }, idempotency_key)).await
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Refund,
    Capture,
    Void,
}

impl Action {
    fn path(self) -> &'static str {
        match self {
            Action::Refund => "refund",
            Action::Capture => "capture",
            Action::Void => "void",
        }
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
    use super::{TxnOutcome::*, VerifoneStatus};

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
            ("DECLINED", Declined),
            ("SETTLEMENT_CANCELLED", Voided),
            ("SETTLEMENT_REQUESTED", Approved),
            ("SETTLEMENT_SUBMITTED", Approved),
            ("SETTLEMENT_COMPLETED", Approved),
            ("SETTLEMENT_PARTIAL", Approved),
            ("SETTLEMENT_DECLINED", Declined),
            ("VOIDED", Voided),
            ("UNKNOWN", Unknown),
            ("SOMETHING_NEW", Unknown),
            ("", Unknown),
        ];
        for (status, outcome) in table {
            assert_eq!(VerifoneStatus::parse(status).outcome(), outcome, "{status}");
        }
    }
}
