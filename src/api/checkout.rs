//! The shopper's server functions. State-changing ones take JSON, so a cross-site form cannot call them.

use crate::domain::{
    card::CardSummary,
    catalog::Quote,
    customer::{BillingDetails, FieldError},
    money::Money,
    status::PaymentStatus,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum CheckoutFnError {
    #[error("some details need correcting")]
    Invalid(Vec<FieldError>),
    #[error("the request could not be read; reload the page and try again")]
    Malformed,
    #[error("we could not find this order")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// A rate limit against card testing: the sentence says what to do.
    #[error("{0}")]
    TooManyAttempts(String),
    #[error("the payment service is not answering right now; you have not been charged, please try again")]
    Unavailable,
    #[error("something went wrong on our side; you have not been charged twice, please try again")]
    Internal,
    #[error("the server could not be reached: {0}")]
    Transport(String),
}

crate::server_error_family!(CheckoutFnError);

impl super::error::HttpStatus for CheckoutFnError {
    fn http_status(&self) -> u16 {
        match self {
            CheckoutFnError::Invalid(_) => 422,
            CheckoutFnError::Malformed => 400,
            CheckoutFnError::NotFound => 404,
            CheckoutFnError::Conflict(_) => 409,
            CheckoutFnError::TooManyAttempts(_) => 429,
            CheckoutFnError::Unavailable => 503,
            CheckoutFnError::Internal | CheckoutFnError::Transport(_) => 500,
        }
    }
}

/// What the checkout page needs to start: the order summary, a JWT for Cardinal, the scripts and the key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckoutStart {
    pub checkout_key: String,
    pub quote: Quote,
    pub jwt: String,
    pub songbird_url: String,
    pub verifone_js_url: String,
    pub encryption_key: String,
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
}

/// What the browser does next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NextStep {
    /// Show the result page.
    Done { order_id: String },
    /// Run the issuer's challenge (`Cardinal.continue`) and send its JWT back.
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

#[cfg(feature = "ssr")]
fn map_error(e: crate::server::checkout::CheckoutError) -> CheckoutFnError {
    use crate::server::checkout::CheckoutError as E;
    match e {
        E::Invalid(fields) => CheckoutFnError::Invalid(fields),
        E::NotFound => CheckoutFnError::NotFound,
        E::Conflict(m) => CheckoutFnError::Conflict(m),
        E::Store(s) => super::error::internal("checkout store", s),
    }
}

#[cfg(feature = "ssr")]
fn limited(e: crate::server::limits::LimitError) -> CheckoutFnError {
    use crate::server::limits::LimitError;
    match e {
        LimitError::Reached(message) => CheckoutFnError::TooManyAttempts(message.to_owned()),
        LimitError::Store(e) => super::error::internal("checkout limits", e),
    }
}

/// The client's address, read as the back office reads it (`TRUSTED_PROXIES`).
#[cfg(feature = "ssr")]
fn client_address(state: &crate::server::state::AppState) -> String {
    match leptos::prelude::use_context::<axum::http::request::Parts>() {
        Some(p) => {
            crate::server::client_address::of_request(&p.extensions, &p.headers, &state.settings.trusted_proxies)
        }
        None => "unknown".to_owned(),
    }
}

/// Counts a finished order against its card if it was declined or failed; a failure to count is logged, as
/// the shopper's answer is already decided.
#[cfg(feature = "ssr")]
async fn count_outcome(state: &crate::server::state::AppState, next: &NextStep) {
    if let NextStep::Done { order_id } = next
        && let Err(e) = state.limits().after(order_id).await
    {
        tracing::warn!(error = %e, "counting a checkout's outcome for its card failed");
    }
}

#[cfg(feature = "ssr")]
fn parse_cart(cart: &str) -> Result<Vec<crate::domain::catalog::CartLine>, CheckoutFnError> {
    crate::domain::catalog::parse_cart(cart)
        .map_err(|e| CheckoutFnError::Invalid(vec![FieldError::new("cart", e.to_string())]))
}

#[server(endpoint = "checkout/start", input = Json)]
pub async fn start_checkout(cart: String) -> Result<CheckoutStart, CheckoutFnError> {
    use crate::server::state::AppState;
    let state = AppState::current();
    let quote = crate::domain::catalog::quote(&parse_cart(&cart)?, state.settings.shop.currency)
        .map_err(|e| CheckoutFnError::Invalid(vec![FieldError::new("cart", e.to_string())]))?;
    state.limits().start(&client_address(&state)).await.map_err(limited)?;
    let jwt = state.verifone.create_jwt().await.map_err(|e| {
        tracing::warn!(error = %e, "could not create the 3DS JWT");
        CheckoutFnError::Unavailable
    })?;
    let encryption_key = state.encryption_key().await.map_err(|e| {
        tracing::warn!(error = %e, "could not load the card-encryption key");
        CheckoutFnError::Unavailable
    })?;
    let v = &state.settings.verifone;
    Ok(CheckoutStart {
        checkout_key: uuid::Uuid::new_v4().to_string(),
        quote,
        jwt,
        songbird_url: v.songbird_js_url.clone(),
        verifone_js_url: v.verifone_js_url.clone(),
        encryption_key,
        pre_auth: state.settings.shop.pre_auth,
    })
}

#[server(endpoint = "checkout/place", input = Json)]
pub async fn place_order(input: PlaceOrderInput) -> Result<NextStep, CheckoutFnError> {
    use crate::server::{checkout::PlaceOrder, state::AppState};
    let state = AppState::current();
    state.limits().place(&client_address(&state), &input.card).await.map_err(limited)?;
    let order = PlaceOrder {
        checkout_key: input.checkout_key,
        cart: parse_cart(&input.cart)?,
        billing: input.billing,
        card: input.card,
        session_id: input.session_id,
        encrypted_card: input.encrypted_card,
    };
    let next = state.checkout().place_order(order).await.map_err(map_error)?;
    count_outcome(&state, &next).await;
    Ok(next)
}

/// The challenge's answer. It takes no card: the payment uses the one the bank authenticated.
#[server(endpoint = "checkout/challenge", input = Json)]
pub async fn complete_challenge(order_id: String, jwt: String) -> Result<NextStep, CheckoutFnError> {
    let state = crate::server::state::AppState::current();
    let next = state.checkout().complete_challenge(&order_id, &jwt).await.map_err(map_error)?;
    count_outcome(&state, &next).await;
    Ok(next)
}

/// The order as the shopper may see it. An order whose payment answer was lost (or never recorded) is resolved
/// first.
#[server(endpoint = "checkout/order", input = Json)]
pub async fn order_result(order_id: String) -> Result<OrderView, CheckoutFnError> {
    use crate::server::{
        checkout::CheckoutError,
        db::{orders, payments},
        state::AppState,
    };
    let state = AppState::current();
    let not_found = |e: orders::OrderError| match e {
        orders::OrderError::NotFound => CheckoutFnError::NotFound,
        other => map_error(CheckoutError::Store(other)),
    };
    let status = orders::get(&state.pool, &order_id).await.map_err(not_found)?.status;
    if matches!(status, PaymentStatus::Unknown | PaymentStatus::Authorizing) {
        state.checkout().resolve_unknown(&order_id).await.map_err(map_error)?;
        // Another resolver (the sweeper, a notification) may hold the order: its answer is moments away.
        state.checkout().await_resolver(&order_id).await.map_err(map_error)?;
    }
    let order = orders::get(&state.pool, &order_id).await.map_err(not_found)?;
    let currency = order.amount.currency();
    let items = payments::items(&state.pool, &order_id)
        .await
        .map_err(not_found)?
        .into_iter()
        .map(|(name, unit, qty)| {
            let total = Money::new(unit * qty, currency).unwrap_or(Money::zero(currency));
            (name, qty as u32, total)
        })
        .collect();
    let threeds = payments::latest_threeds(&state.pool, &order_id).await.map_err(not_found)?.map(|t| ThreeDsView {
        challenged: t.stage == "challenge",
        version: t.threeds_version,
        enrolled: t.enrolled,
        pares_status: t.pares_status,
        eci: t.eci_flag,
    });
    Ok(OrderView {
        id: order.id,
        reference: order.merchant_reference,
        status: order.status,
        reason: order.outcome_reason,
        amount: order.amount,
        items,
        card: order.card,
        threeds,
        liability_shifted: order.liability_shifted,
        pre_auth: order.capture_mode == crate::server::db::orders::CaptureMode::PreAuth,
    })
}
