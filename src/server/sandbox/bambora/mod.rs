//! Bambora (Worldline) North America, emulated: Payment API v1 (payments, 3-D Secure with `term_url` and
//! `continue`, returns, voids, completions, reads), the Reporting API's search, Custom Checkout
//! (`customcheckout.js`, its field iframes) and the tokenization endpoint. Mounted at `/sandbox/bambora`, so a
//! client's API base is `{sandbox}/bambora/v1`, as `https://api.na.bambora.com/v1` is for the real one.

pub mod auth;
pub mod cards;
pub mod custom_checkout;
pub mod errors;
pub mod ledger;
pub mod payments;
pub mod reports;
pub mod threeds;
pub mod tokens;
pub mod views;
pub mod wire;

use super::{Sandbox, SandboxState};
use axum::{Router, routing::any};
use errors::{ApiError, Message};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// What the Bambora emulation remembers (in memory, like the rest of the sandbox).
#[derive(Default)]
pub struct State {
    /// Single-use card tokens made by the tokenization endpoint (Custom Checkout).
    pub tokens: tokens::Vault,
    /// Transactions, and the 3-D Secure sessions waiting for the bank page and `continue`.
    pub ledger: Mutex<ledger::Ledger>,
}

/// The books, locked (a panic elsewhere while they were held does not make them unreadable).
pub fn books(sb: &Sandbox) -> MutexGuard<'_, ledger::Ledger> {
    sb.bambora.ledger.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The routes below `/sandbox/bambora`. The API answers JSON even to a wrong path or method.
pub fn router() -> Router<SandboxState> {
    let api = payments::router()
        .merge(reports::router())
        .route("/v1/{*rest}", any(|| async { ApiError::new(Message::NoSuchRoute) }))
        .method_not_allowed_fallback(|| async { ApiError::new(Message::WrongMethod) });
    Router::new().merge(api).merge(tokens::router()).merge(custom_checkout::router())
}
