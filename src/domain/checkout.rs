//! What the checkout page, its server functions and the checkout service exchange.

use crate::domain::{
    card::CardSummary,
    catalog::{CartLine, Quote},
    customer::{BillingDetails, FieldError},
    money::Money,
    saved_card::SavedCardPayment,
    status::PaymentStatus,
};
use serde::{Deserialize, Serialize};

/// What the checkout page needs to start: the order summary and the browser's part of the checkout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckoutStart {
    pub checkout_key: String,
    pub quote: Quote,
    pub plan: BrowserPlan,
    pub pre_auth: bool,
    /// In sandbox mode only: the configured providers' test cards and what each does.
    pub test_cards: Vec<TestCard>,
    /// The shopper may save the card, or pay with a saved one (offered with Verifone only).
    #[serde(default)]
    pub saved_cards: bool,
}

/// What the browser does, whichever providers play which role; the page names no provider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BrowserPlan {
    /// The authenticator's browser SDK and its set-up token; none when the acquirer authenticates inside its
    /// payment (then the bank's page may follow: `NextStep::Redirect`).
    pub sdk: Option<SdkSetup>,
    pub card: CardPlan,
    /// Send the browser's 3-D Secure 2 details with the order.
    pub browser_data: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SdkSetup {
    pub url: String,
    pub jwt: String,
}

/// How the card is captured so that it never reaches our server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CardPlan {
    /// Our inputs, encrypted in the browser by `script_url` to `key`.
    Encrypt { script_url: String, key: String },
    /// Our inputs, encrypted as above for the authenticator, and exchanged for a single-use token at
    /// `tokenize_url` for the acquirer.
    EncryptAndTokenize { script_url: String, key: String, tokenize_url: String },
    /// The acquirer's own card fields (its script's iframes): the card never enters our page.
    Fields { script_url: String },
}

/// A card the sandbox answers in a known way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestCard {
    pub number: String,
    pub does: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaceOrderInput {
    pub checkout_key: String,
    /// The cart as in the URL (`tee:2,mug:1`); the total is computed on the server.
    pub cart: String,
    pub billing: BillingDetails,
    pub card: CardSummary,
    pub session_id: String,
    pub encrypted_card: String,
    /// A single-use token for an acquirer that takes one (Bambora's Custom Checkout); absent otherwise.
    #[serde(default)]
    pub card_token: Option<String>,
    /// The shopper's browser, for an acquirer that runs 3-D Secure 2 inside its payment.
    #[serde(default)]
    pub browser: Option<BrowserInfo>,
    /// The shopper ticked "save this card".
    #[serde(default)]
    pub save_card: bool,
    /// Pay with a saved card instead of a typed one (`encrypted_card` is then empty).
    #[serde(default)]
    pub saved_card: Option<SavedCardPayment>,
}

/// The shopper's browser as 3-D Secure 2 describes it to the issuer (EMV 3DS browser fields). The page reads
/// what scripts can; the server fills the user agent and the Accept header from the request itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowserInfo {
    pub accept_header: String,
    pub user_agent: String,
    pub java_enabled: bool,
    pub javascript_enabled: bool,
    /// BCP 47 (`navigator.language`).
    pub language: String,
    /// Bits per pixel (`screen.colorDepth`).
    pub color_depth: u8,
    pub screen_height: u32,
    pub screen_width: u32,
    /// Minutes from UTC as `Date.getTimezoneOffset()` gives them (UTC+2 is -120).
    pub time_zone: i32,
}

/// The colour depths EMV 3-D Secure 2 accepts.
const COLOR_DEPTHS: [u8; 8] = [1, 4, 8, 15, 16, 24, 32, 48];

impl BrowserInfo {
    /// Within EMV 3-D Secure 2's bounds, or the field that is not.
    pub fn validated(self) -> Result<BrowserInfo, FieldError> {
        let bad = |what: &str| {
            Err(FieldError::new("browser", format!("the browser's {what} could not be read; reload the page")))
        };
        let language_ok = (1..=35).contains(&self.language.len())
            && self.language.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !language_ok {
            return bad("language");
        }
        if !COLOR_DEPTHS.contains(&self.color_depth) {
            return bad("colour depth");
        }
        if !(1..=999_999).contains(&self.screen_height) || !(1..=999_999).contains(&self.screen_width) {
            return bad("screen size");
        }
        if !(-840..=720).contains(&self.time_zone) {
            return bad("time zone");
        }
        if self.user_agent.is_empty() || self.user_agent.len() > 2048 || self.accept_header.len() > 2048 {
            return bad("headers");
        }
        Ok(self)
    }
}

/// A submitted checkout, its cart parsed.
pub struct PlaceOrder {
    /// One per checkout page view: a double submit or a retried request finds the same order.
    pub checkout_key: String,
    pub cart: Vec<CartLine>,
    pub billing: BillingDetails,
    /// What the browser may tell us of the card: brand, first six, last four, expiry.
    pub card: CardSummary,
    /// The authenticator's browser session (device data collection).
    pub session_id: String,
    /// The card as the browser prepared it for the provider. We cannot read it.
    pub encrypted_card: String,
    /// The card as a single-use token, for an acquirer that takes one.
    pub card_token: Option<String>,
    /// The shopper's browser, for an acquirer that authenticates inside its payment.
    pub browser: Option<BrowserInfo>,
    pub save_card: bool,
    /// A saved card, and the email the shopper's session confirmed (none without a session).
    pub saved_card: Option<(SavedCardPayment, Option<String>)>,
    /// Where the submit came from, as the rate limits count it.
    pub client_address: String,
}

/// What the browser does next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NextStep {
    /// Show the result page.
    Done { order_id: String },
    /// Run the issuer's challenge and send its answer back.
    Challenge { order_id: String, acs_url: String, payload: String, transaction_id: String },
    /// Open `url` (our page that posts the shopper's browser on to the bank): the bank sends the browser back
    /// to us, and we show the result page.
    Redirect { order_id: String, url: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreeDsView {
    pub version: Option<String>,
    pub enrolled: Option<String>,
    pub pares_status: Option<String>,
    pub eci: Option<String>,
    pub challenged: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: String,
    pub reference: String,
    pub status: PaymentStatus,
    pub reason: Option<String>,
    pub amount: Money,
    pub items: Vec<(String, u32, Money)>,
    pub card: Option<CardSummary>,
    pub threeds: Option<ThreeDsView>,
    pub liability_shifted: Option<bool>,
    pub pre_auth: bool,
}
