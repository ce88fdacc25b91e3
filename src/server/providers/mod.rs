//! The boundary between the services and the providers: neutral types, and the two roles a provider plays
//! in a payment, each a small enum that dispatches by `match`. The services see only what is here; each
//! provider's module maps its wire format, status words, decline codes and liability rule once.

pub mod bambora;
pub mod verifone;

use crate::domain::money::Currency;
use crate::domain::{
    card::CardBrand, checkout::BrowserInfo, customer::BillingDetails, money::Money, status::Action, threeds::Refusal,
};
use crate::server::{
    config::{Roles, Settings},
    db::{orders::Provider, payments::ThreeDsRow},
};
use axum::http::HeaderMap;
use bambora::BamboraClient;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use verifone::VerifoneClient;

/// How a call to a provider failed. A decline is not an error: it is an answer.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Nothing was sent (connection refused, DNS): safe to try again.
    #[error("the provider could not be reached")]
    Unreachable,
    /// Sent, but no complete answer in time (timeout, dropped connection): the outcome is unknown.
    #[error("the provider did not answer in time")]
    NoAnswer,
    /// The provider answered with something we cannot read: the outcome is unknown.
    #[error("the provider's answer could not be read: {0}")]
    Malformed(String),
    /// The provider refused the request (4xx) or failed (5xx).
    #[error("the provider answered {status}: {message}")]
    Refused { status: u16, message: String },
}

impl ProviderError {
    /// Whether the request may have taken effect at the provider (so it must be resolved, not resent blindly).
    pub fn outcome_unknown(&self) -> bool {
        match self {
            ProviderError::Unreachable => false,
            ProviderError::NoAnswer | ProviderError::Malformed(_) => true,
            ProviderError::Refused { status, .. } => *status >= 500,
        }
    }
}

impl From<reqwest::Error> for ProviderError {
    fn from(e: reqwest::Error) -> ProviderError {
        if e.is_connect() && !e.is_timeout() {
            ProviderError::Unreachable
        } else if e.is_decode() {
            ProviderError::Malformed(e.to_string())
        } else {
            ProviderError::NoAnswer
        }
    }
}

/// A transaction at an acquirer (a payment, refund, capture or void), as every service reads it.
#[derive(Clone, Debug, Default)]
pub struct Txn {
    pub id: String,
    /// The provider's own word for the status, kept as it came.
    pub status: String,
    pub outcome: TxnOutcome,
    /// Minor units, when the provider said.
    pub amount: Option<i64>,
    pub reason_code: Option<String>,
    pub message: Option<String>,
    pub merchant_reference: Option<String>,
    /// The card as the acquirer read it: brand, and first six and last four.
    pub brand: Option<CardBrand>,
    pub digits: Option<(String, String)>,
    /// The answer as the provider gave it, for the order's timeline.
    pub details: serde_json::Value,
    /// The 3-D Secure the acquirer reported with the payment, its liability decided by the acquirer's rule;
    /// recorded only when the acquirer was the order's authenticator.
    pub authentication: Option<ThreeDsRow>,
    /// The card the acquirer stored for later payments, when the payment asked it to.
    pub stored: Option<StoredCard>,
}

/// A card an acquirer keeps for later payments: its reuse token (a secret, never printed) and what it says
/// of the card.
#[derive(Clone, Default)]
pub struct StoredCard {
    pub token: String,
    pub brand: Option<CardBrand>,
    pub last4: Option<String>,
    pub expiry: Option<(u8, u16)>,
    /// The scheme's reference of the payment that stored it; later merchant-initiated charges name it.
    pub scheme_reference: Option<String>,
}

impl std::fmt::Debug for StoredCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCard").field("brand", &self.brand).field("last4", &self.last4).finish_non_exhaustive()
    }
}

/// How a payment uses a stored credential (the card-on-file rules: who started it, and the first payment's
/// reference for later ones).
#[derive(Clone, Copy, Debug)]
pub enum Credential<'a> {
    /// The shopper agreed to store the card: the acquirer is asked for a reuse token with this payment.
    Store,
    /// The shopper pays with a saved card, there and then (3-D Secure as usual); the payment's `card` is
    /// the CVV typed again, encrypted.
    Customer { token: &'a str },
    /// The merchant charges a saved card without the shopper (no 3-D Secure, no CVV).
    Merchant { token: &'a str, scheme_reference: Option<&'a str> },
}

/// What a transaction's status means, mapped once per provider.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TxnOutcome {
    Approved,
    Pending,
    Voided,
    Declined(DeclineReason),
    Failed,
    #[default]
    Unknown,
}

/// Why a payment was declined, as far as the shopper may be told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum DeclineReason {
    InsufficientFunds,
    ExpiredCard,
    /// The issuer said no without saying why (do not honour, suspected fraud).
    Issuer,
    /// The issuer did not confirm the cardholder (3-D Secure run inside the payment failed).
    NotAuthenticated,
    Unspecified,
}

/// What an authenticator is asked to authenticate.
pub struct AuthRequest<'a> {
    pub amount: Money,
    pub billing: &'a BillingDetails,
    pub merchant_reference: &'a str,
    /// The browser SDK's session with the authenticator (its device data collection).
    pub device_session: &'a str,
    /// The card as the browser prepared it for the provider; we cannot read it.
    pub card: &'a str,
    /// A saved card's reuse token, read by the authenticator instead of `card`.
    pub reuse_token: Option<&'a str>,
}

/// An authenticator's answer.
pub struct Authentication {
    /// Stored as the order's 3-D Secure result and shown as stored; the authenticator decided its liability.
    pub result: ThreeDsRow,
    /// The brand the authenticator read from the card, when it did.
    pub brand: Option<CardBrand>,
    pub next: Step<Verdict>,
}

/// Whether a call ended, or the shopper's browser has something to do before the order can go on: an
/// authenticator's challenge run by its SDK, or (for an acquirer that authenticates inside its payment) a visit
/// to the bank's page.
pub enum Step<T, B = Challenge> {
    Done(T),
    Browser(B),
}

/// A form the shopper's browser posts to the bank's page (3-D Secure run by the acquirer inside its payment).
/// Our route renders it from these fields; the provider's own HTML is never served from our origin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedirectForm {
    /// Absolute `http(s)` URL of the bank's page.
    pub action: String,
    /// Hidden fields in document order (`creq`/`threeDSSessionData`, `PaReq`/`MD`/`TermUrl`, ...).
    pub fields: Vec<(String, String)>,
}

/// The shopper is sent to the bank: post `form`; the bank posts back to our return URL, and the acquirer's
/// payment goes on with `session` (its name for the waiting payment).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BankVisit {
    pub form: RedirectForm,
    pub session: String,
}

impl BankVisit {
    /// Whether a return names this visit: the bank echoes the session field we posted to it
    /// (`threeDSSessionData` or `MD`); a return that names another is not this order's.
    pub fn names(&self, posted: Option<&str>) -> bool {
        let sent = self.form.fields.iter().find(|(k, _)| k == "threeDSSessionData" || k == "MD");
        match sent {
            Some((_, sent)) => posted == Some(sent.as_str()),
            None => true,
        }
    }
}

/// What the bank posted to our return URL: the authentication's answer, and the session it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankReturn {
    pub answer: BankAnswer,
    /// `threeDSSessionData` (3-D Secure 2) or `MD` (1), when the bank sent it.
    pub session: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BankAnswer {
    /// 3-D Secure 2's challenge response.
    Cres(String),
    /// 3-D Secure 1's payer authentication response.
    PaRes(String),
}

/// 3-D Secure run by the acquirer inside its payment.
pub struct InlineAuthentication<'a> {
    pub browser: &'a BrowserInfo,
    /// Where the bank posts the shopper back (`term_url`).
    pub return_url: &'a str,
    /// Refuse the payment when the authentication cannot complete, instead of paying without it.
    pub required: bool,
}

/// An issuer's challenge as the shopper's browser runs it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Challenge {
    pub acs_url: String,
    pub payload: String,
    pub transaction_id: String,
}

/// What an authentication allows.
pub enum Verdict {
    /// Pay with this proof; liability shifts to the issuer.
    Authenticated(Proof),
    /// No trusted answer and no refusal: the merchant's policy decides, and a payment it allows carries no
    /// proof.
    NoAnswer,
    /// Never pay, whatever the policy.
    Refused(Refusal),
    /// The answer cannot be used: the order fails.
    Failed(AuthFailure),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// The issuer asked for a challenge without the means to run it.
    ChallengeUnavailable,
    /// The result belongs to another authentication than this order's.
    NotThisOrder,
}

/// The 3-D Secure values an acquirer is given with an authenticated payment (the CAVV only for that call).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proof {
    pub eci: Option<String>,
    pub enrolled: Option<String>,
    pub cavv: Option<String>,
    pub pares_status: Option<String>,
    pub version: Option<String>,
    pub ds_transaction_id: Option<String>,
    pub signature_verification: Option<String>,
    pub error_desc: Option<String>,
    pub error_no: Option<String>,
}

/// A payment as the checkout asks for it.
pub struct PaymentOrder<'a> {
    pub amount: Money,
    pub merchant_reference: &'a str,
    pub brand: CardBrand,
    /// The name on the card (the billing name).
    pub cardholder: &'a str,
    /// The card as the browser prepared it for the acquirer (encrypted, or a single-use token).
    pub card: &'a str,
    pub proof: Option<Proof>,
    /// Hold the funds only; the merchant captures later.
    pub pre_auth: bool,
    /// 3-D Secure inside the payment, when the acquirer authenticates.
    pub authenticate: Option<InlineAuthentication<'a>>,
    /// A stored credential the payment stores or uses.
    pub credential: Option<Credential<'a>>,
}

/// A payment request made ready before it is stored: the exact request (sent again, byte for byte, after a
/// lost answer), and what of it the order's timeline may keep (no card, no CAVV).
pub struct PreparedPayment {
    pub stored: String,
    pub logged: serde_json::Value,
}

/// A provider's event about one of its transactions, in the services' terms.
pub struct Event {
    /// Unique per event: a repeated delivery has the same id.
    pub id: String,
    /// The provider's name for it, for the timeline.
    pub name: String,
    pub kind: EventKind,
    pub txn: Txn,
    /// The payment a refund or capture belongs to.
    pub parent_id: Option<String>,
}

/// Why a delivery was not read.
#[derive(Debug, PartialEq, Eq)]
pub enum Unread {
    /// The signature is missing, wrong or too old.
    Unauthorized(&'static str),
    Malformed,
    /// Deliveries from this provider are not expected here.
    NotConfigured,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// About the payment itself: it names the payment's transaction.
    Payment,
    /// A refund, capture or void that went through.
    Action(Action),
    /// Nothing the order's amounts follow.
    Other,
}

/// What the browser loads to run the authenticator's part of the checkout.
pub struct BrowserSession {
    pub sdk_url: String,
    /// The SDK's set-up token.
    pub jwt: String,
}

/// How the browser prepares the card for an acquirer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardForm {
    /// Encrypted to the acquirer's key.
    Encrypted,
    /// Exchanged for a single-use token at the acquirer.
    Token,
}

/// What the browser loads to encrypt the card for a provider, so the card never reaches us.
pub struct CardCapture {
    pub script_url: String,
    pub key: String,
}

/// Where the browser exchanges the card for an acquirer's single-use token.
pub struct Tokenization {
    /// The acquirer's card fields (a script whose iframes hold the card).
    pub fields_url: String,
    /// The endpoint a page that holds the card itself posts it to.
    pub tokenize_url: String,
}

/// The configured provider clients (in live mode, those playing a role only); an order's roles are found
/// here by the names it records.
#[derive(Clone)]
pub struct Providers {
    roles: Roles,
    verifone: Option<VerifoneClient>,
    bambora: Option<BamboraClient>,
}

impl Providers {
    pub fn new(settings: &Settings) -> Providers {
        Providers {
            roles: settings.roles,
            verifone: settings.configures(Provider::Verifone).then(|| VerifoneClient::new(settings.verifone.clone())),
            bambora: settings.configures(Provider::Bambora).then(|| BamboraClient::new(settings.bambora.clone())),
        }
    }

    /// Who authenticates and who moves the money of a new checkout; no authenticator when the acquirer
    /// authenticates inside its own payment.
    pub fn for_checkout(&self) -> Result<(Option<Authenticator>, Acquirer), ProviderError> {
        let unconfigured = || ProviderError::Refused { status: 503, message: "a provider is not configured".into() };
        let acquirer = self.acquirer(self.roles.payment).ok_or_else(unconfigured)?;
        if self.roles.threeds == self.roles.payment && acquirer.authenticates_inline() {
            return Ok((None, acquirer));
        }
        Ok((Some(self.authenticator(self.roles.threeds).ok_or_else(unconfigured)?), acquirer))
    }

    /// The authenticator an order recorded, if it is configured here.
    pub fn authenticator(&self, name: Provider) -> Option<Authenticator> {
        match name {
            Provider::Verifone => self.verifone.clone().map(Authenticator::Verifone),
            Provider::Bambora => None,
        }
    }

    /// No call sent after this instant (Unix ms) may be taken for lost yet, at any acquirer: the least patient
    /// acquirer's cut-off. Each call is then held to its own acquirer's (`Acquirer::unanswered_before`).
    pub fn unanswered_before(&self) -> i64 {
        let verifone = self.verifone.as_ref().map(VerifoneClient::unanswered_before);
        let bambora = self.bambora.as_ref().map(BamboraClient::unanswered_before);
        verifone.into_iter().chain(bambora).max().unwrap_or_else(crate::server::db::now_ms)
    }

    /// Reads a delivery to `/notifications/{name}`, once its signature is checked.
    pub fn read_event(&self, name: Provider, headers: &HeaderMap, body: &[u8]) -> Result<Event, Unread> {
        let now_secs = crate::server::db::now_ms() / 1000;
        match (name, &self.verifone) {
            (Provider::Verifone, Some(verifone)) => {
                let secret = verifone.settings().notification_secret.expose_secret().as_bytes();
                verifone::notifications::read(secret, headers, body, now_secs)
            }
            (Provider::Verifone, None) | (Provider::Bambora, _) => Err(Unread::NotConfigured),
        }
    }

    /// The acquirer an order recorded, if it is configured here.
    pub fn acquirer(&self, name: Provider) -> Option<Acquirer> {
        match name {
            Provider::Verifone => self.verifone.clone().map(Acquirer::Verifone),
            Provider::Bambora => self.bambora.clone().map(Acquirer::Bambora),
        }
    }
}

/// Who runs 3-D Secure.
#[derive(Clone)]
pub enum Authenticator {
    Verifone(VerifoneClient),
}

impl Authenticator {
    pub fn name(&self) -> Provider {
        match self {
            Authenticator::Verifone(_) => Provider::Verifone,
        }
    }

    pub async fn browser_session(&self) -> Result<BrowserSession, ProviderError> {
        match self {
            Authenticator::Verifone(c) => c.browser_session().await,
        }
    }

    /// How the browser encrypts the card the authenticator reads.
    pub async fn card_capture(&self) -> Result<CardCapture, ProviderError> {
        match self {
            Authenticator::Verifone(c) => c.card_capture().await,
        }
    }

    pub async fn authenticate(&self, request: &AuthRequest<'_>) -> Result<Authentication, ProviderError> {
        match self {
            Authenticator::Verifone(c) => c.authenticate(request).await,
        }
    }

    /// Continues after the shopper's challenge. `first` is the result it followed; `answer` is what the
    /// browser brought back, trusted only as the authenticator vouches for it.
    pub async fn resume(
        &self,
        first: &ThreeDsRow,
        challenge: &Challenge,
        answer: &str,
    ) -> Result<Authentication, ProviderError> {
        match self {
            Authenticator::Verifone(c) => c.resume(first, challenge, answer).await,
        }
    }
}

/// Who moves the money.
#[derive(Clone)]
pub enum Acquirer {
    Verifone(VerifoneClient),
    Bambora(BamboraClient),
}

impl Acquirer {
    pub fn name(&self) -> Provider {
        match self {
            Acquirer::Verifone(_) => Provider::Verifone,
            Acquirer::Bambora(_) => Provider::Bambora,
        }
    }

    /// Whether it runs 3-D Secure inside its payment when it is also the authenticator.
    pub fn authenticates_inline(&self) -> bool {
        match self {
            Acquirer::Verifone(_) => false,
            Acquirer::Bambora(_) => true,
        }
    }

    pub fn card_form(&self) -> CardForm {
        match self {
            Acquirer::Verifone(_) => CardForm::Encrypted,
            Acquirer::Bambora(_) => CardForm::Token,
        }
    }

    /// How the browser encrypts the card, for an acquirer that takes it encrypted.
    pub async fn card_capture(&self) -> Result<CardCapture, ProviderError> {
        match self {
            Acquirer::Verifone(c) => c.card_capture().await,
            Acquirer::Bambora(_) => Err(ProviderError::Malformed("Bambora takes tokens, not encrypted cards".into())),
        }
    }

    /// How the browser tokenizes the card, for an acquirer that takes a token.
    pub fn tokenization(&self) -> Option<Tokenization> {
        match self {
            Acquirer::Verifone(_) => None,
            Acquirer::Bambora(c) => Some(c.tokenization()),
        }
    }

    pub fn prepare(&self, payment: &PaymentOrder<'_>) -> Result<PreparedPayment, ProviderError> {
        match self {
            Acquirer::Verifone(c) => c.prepare(payment),
            Acquirer::Bambora(_) if payment.credential.is_some() => {
                Err(ProviderError::Malformed("saved cards are offered with Verifone only".into()))
            }
            Acquirer::Bambora(c) => c.prepare(payment),
        }
    }

    /// Sends a payment request as it was stored before the call (Verifone: with its idempotency key, so the
    /// first send and any resend after a lost answer are the same request).
    pub async fn pay(
        &self,
        stored_request: &str,
        idempotency_key: &str,
        currency: Currency,
    ) -> Result<Step<Txn, BankVisit>, ProviderError> {
        match self {
            Acquirer::Verifone(c) => c.pay(stored_request, idempotency_key).await.map(|t| Step::Done(verifone::txn(t))),
            Acquirer::Bambora(c) => c.pay_stored(stored_request, currency).await,
        }
    }

    /// The request that goes on with a payment after the bank's page (kept with the attempt before it is sent,
    /// so a lost answer can be looked for and the same request sent again).
    pub fn prepare_return(&self, visit: &BankVisit, answer: &BankAnswer) -> Result<String, ProviderError> {
        match self {
            Acquirer::Verifone(_) => Err(not_inline("Verifone")),
            Acquirer::Bambora(c) => c.prepare_continue(&visit.session, answer),
        }
    }

    /// Sends what `prepare_return` made.
    pub async fn resume(&self, stored_request: &str, currency: Currency) -> Result<Txn, ProviderError> {
        match self {
            Acquirer::Verifone(_) => Err(not_inline("Verifone")),
            Acquirer::Bambora(c) => c.continue_stored(stored_request, currency).await,
        }
    }

    /// Learns what became of a payment whose answer was lost and whose id never reached us: Verifone's is
    /// sent again with its idempotency key; Bambora's is looked for by its order number first.
    /// A resend that meets 3-D Secure again means nothing was paid: the shopper is no longer there to pass it.
    pub async fn recover(&self, lost: &LostPayment<'_>) -> Result<Step<Txn, BankVisit>, ProviderError> {
        match self {
            Acquirer::Verifone(c) => {
                c.pay(lost.stored_request, lost.idempotency_key).await.map(|t| Step::Done(verifone::txn(t)))
            }
            Acquirer::Bambora(c) => {
                c.recover(lost.stored_request, lost.merchant_reference, lost.currency, lost.sent_at_ms).await
            }
        }
    }

    pub async fn read(&self, transaction_id: &str, currency: Currency) -> Result<Txn, ProviderError> {
        match self {
            Acquirer::Verifone(c) => c.read(transaction_id).await.map(verifone::txn),
            Acquirer::Bambora(c) => c.read_txn(transaction_id, currency).await,
        }
    }

    /// Refunds, captures or voids `transaction_id` for `amount` (a void: the whole authorization's).
    pub async fn act(
        &self,
        transaction_id: &str,
        action: Action,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<Txn, ProviderError> {
        match self {
            Acquirer::Verifone(c) => {
                c.act(transaction_id, action, Some(amount.minor()), idempotency_key).await.map(verifone::txn)
            }
            Acquirer::Bambora(c) => c.act_txn(transaction_id, action, amount).await,
        }
    }

    /// Sends an action again after its answer was lost. Bambora takes no idempotency key, so a resend could
    /// act twice: its lost actions stay unknown for the merchant to check.
    pub async fn act_again(
        &self,
        transaction_id: &str,
        action: Action,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<Txn, ProviderError> {
        match self {
            Acquirer::Verifone(_) => self.act(transaction_id, action, amount, idempotency_key).await,
            Acquirer::Bambora(_) => Err(ProviderError::Malformed(
                "Bambora takes no idempotency key: a lost action is not sent again; check it in the Bambora portal"
                    .into(),
            )),
        }
    }

    /// Calls sent before this instant (Unix ms) that have no recorded answer never will.
    pub fn unanswered_before(&self) -> i64 {
        match self {
            Acquirer::Verifone(c) => c.unanswered_before(),
            Acquirer::Bambora(c) => c.unanswered_before(),
        }
    }

    /// Until when (Unix ms) a resolver taking an order now may hold it.
    pub fn lease_until(&self) -> i64 {
        match self {
            Acquirer::Verifone(c) => c.lease_until(),
            Acquirer::Bambora(c) => c.lease_until(),
        }
    }
}

fn not_inline(name: &str) -> ProviderError {
    ProviderError::Malformed(format!("{name} does not run 3-D Secure inside its payments"))
}

/// A payment whose answer was lost, as it was kept before its call.
pub struct LostPayment<'a> {
    pub stored_request: &'a str,
    pub idempotency_key: &'a str,
    pub merchant_reference: &'a str,
    pub currency: Currency,
    pub sent_at_ms: i64,
}
