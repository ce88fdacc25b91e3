//! The shopper's saved cards as the checkout page reads them: the confirmed email's cards (a session cookie).
//! Paying with a saved card goes through `checkout/place`, with the same session.

use crate::domain::{customer::FieldError, saved_card::SavedShopper};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum SavedCardsFnError {
    #[error("{}", .0.message)]
    Invalid(FieldError),
    #[error("the request could not be read; reload the page and try again")]
    Malformed,
    #[error("saved cards are not offered here")]
    Off,
    #[error("{0}")]
    Refused(String),
    #[error("confirm your email first")]
    NotConfirmed,
    #[error("there is no such saved card")]
    NotFound,
    #[error("{0}")]
    TooManyAttempts(String),
    #[error("something went wrong on our side; please try again")]
    Internal,
    #[error("the server could not be reached: {0}")]
    Transport(String),
}

crate::server_error_family!(SavedCardsFnError);

impl super::error::HttpStatus for SavedCardsFnError {
    fn http_status(&self) -> u16 {
        match self {
            SavedCardsFnError::Invalid(_) | SavedCardsFnError::Refused(_) => 422,
            SavedCardsFnError::Malformed => 400,
            SavedCardsFnError::Off | SavedCardsFnError::NotFound => 404,
            SavedCardsFnError::NotConfirmed => 401,
            SavedCardsFnError::TooManyAttempts(_) => 429,
            SavedCardsFnError::Internal | SavedCardsFnError::Transport(_) => 500,
        }
    }
}

#[cfg(feature = "ssr")]
pub(crate) fn map_error(e: crate::server::saved_cards::SavedCardError) -> SavedCardsFnError {
    use crate::server::saved_cards::SavedCardError as E;
    match e {
        E::Off => SavedCardsFnError::Off,
        E::Invalid(f) => SavedCardsFnError::Invalid(f),
        E::TooMany => SavedCardsFnError::TooManyAttempts(E::TooMany.to_string()),
        e @ E::WrongCode => SavedCardsFnError::Refused(e.to_string()),
        E::NotConfirmed => SavedCardsFnError::NotConfirmed,
        E::NotFound => SavedCardsFnError::NotFound,
        E::MailFailed(e) => super::error::internal("sending a code", e),
        E::Store(e) => super::error::internal("saved cards store", e),
    }
}

/// The shopper session the request's cookie names.
#[cfg(feature = "ssr")]
pub(crate) fn session_token(state: &crate::server::state::AppState) -> Option<String> {
    let parts = use_context::<axum::http::request::Parts>()?;
    crate::server::saved_cards::session_token(&state.settings, &parts.headers)
}

#[cfg(feature = "ssr")]
async fn confirmed_email(state: &crate::server::state::AppState) -> Result<String, SavedCardsFnError> {
    state.saved_cards().email_of(session_token(state).as_deref()).await.map_err(map_error)
}

/// The confirmed shopper, from the request's session cookie: the email and its saved cards. Asking for a
/// code, confirming it and removing a card are plain forms (`server::saved_card_forms`).
#[server(endpoint = "saved_cards/list", input = Json)]
pub async fn list_cards() -> Result<SavedShopper, SavedCardsFnError> {
    let state = crate::server::state::AppState::current();
    let email = confirmed_email(&state).await?;
    let cards = state.saved_cards().list(&email).await.map_err(map_error)?;
    Ok(SavedShopper { email, cards })
}
