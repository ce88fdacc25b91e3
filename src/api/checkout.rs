//! The shopper's server functions. State-changing ones take JSON, so a cross-site form cannot call them.

use crate::domain::{
    checkout::{CheckoutStart, NextStep, OrderView, PlaceOrderInput},
    customer::FieldError,
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

#[cfg(feature = "ssr")]
fn map_error(e: crate::server::checkout::CheckoutError) -> CheckoutFnError {
    use crate::server::checkout::CheckoutError as E;
    match e {
        E::Invalid(fields) => CheckoutFnError::Invalid(fields),
        E::NotFound => CheckoutFnError::NotFound,
        E::Conflict(m) => CheckoutFnError::Conflict(m),
        E::Limited(e) => limited(e),
        E::Store(s) => super::error::internal("checkout store", s),
        E::Unavailable(e) => {
            tracing::warn!(error = %e, "could not prepare the browser's part of the checkout");
            CheckoutFnError::Unavailable
        }
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
pub(crate) fn client_address(state: &crate::server::state::AppState) -> String {
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
fn request_header(name: axum::http::HeaderName) -> Option<String> {
    let parts = leptos::prelude::use_context::<axum::http::request::Parts>()?;
    parts.headers.get(name)?.to_str().ok().map(str::to_owned)
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
    let test_cards = match state.settings.mode {
        crate::server::config::ProviderMode::Sandbox => crate::server::sandbox::test_cards(state.settings.roles),
        crate::server::config::ProviderMode::Live => Vec::new(),
    };
    state.checkout().start(quote, test_cards).await.map_err(map_error)
}

#[server(endpoint = "checkout/place", input = Json)]
pub async fn place_order(input: PlaceOrderInput) -> Result<NextStep, CheckoutFnError> {
    use crate::{domain::checkout::PlaceOrder, server::state::AppState};
    let state = AppState::current();
    state.limits().card(&input.card).await.map_err(limited)?;
    // 3-D Secure 2 takes the user agent and the Accept header from the request itself, as sent.
    let browser = input.browser.map(|mut b| {
        if let Some(agent) = request_header(axum::http::header::USER_AGENT) {
            b.user_agent = agent;
        }
        b.accept_header = request_header(axum::http::header::ACCEPT).unwrap_or_default();
        b
    });
    // Paying with a saved card needs the email the shopper's session confirmed.
    let saved_card = match input.saved_card {
        None => None,
        Some(card) => {
            let token = super::saved_cards::session_token(&state);
            let email = state.saved_cards().email_of(token.as_deref()).await.ok();
            Some((card, email))
        }
    };
    let order = PlaceOrder {
        save_card: input.save_card,
        saved_card,
        browser,
        checkout_key: input.checkout_key,
        cart: parse_cart(&input.cart)?,
        billing: input.billing,
        card: input.card,
        session_id: input.session_id,
        encrypted_card: input.encrypted_card,
        card_token: input.card_token,
        client_address: client_address(&state),
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
    let state = crate::server::state::AppState::current();
    state.checkout().order_view(&order_id).await.map_err(map_error)
}
