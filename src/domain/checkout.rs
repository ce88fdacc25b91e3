//! What the checkout page, its server functions and the checkout service exchange.

use crate::domain::{
    card::CardSummary,
    catalog::{CartLine, Quote},
    customer::BillingDetails,
    money::Money,
    status::PaymentStatus,
};
use serde::{Deserialize, Serialize};

/// What the checkout page needs to start: the order summary, the authenticator's browser SDK and its set-up
/// token, and what prepares the card for the acquirer (a script and its key).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckoutStart {
    pub checkout_key: String,
    pub quote: Quote,
    pub sdk_url: String,
    /// The SDK's set-up token.
    pub jwt: String,
    pub card_script_url: String,
    pub card_key: String,
    pub pre_auth: bool,
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
}

/// What the browser does next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NextStep {
    /// Show the result page.
    Done { order_id: String },
    /// Run the issuer's challenge and send its answer back.
    Challenge { order_id: String, acs_url: String, payload: String, transaction_id: String },
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
