//! What the shop's pages need from its settings: the currency prices are shown and charged in.

use crate::domain::money::Currency;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum ShopError {
    #[error("something went wrong on our side; please try again")]
    Internal,
    #[error("the request could not be read")]
    Malformed,
    #[error("the server could not be reached: {0}")]
    Transport(String),
}

crate::server_error_family!(ShopError);

impl super::error::HttpStatus for ShopError {
    fn http_status(&self) -> u16 {
        match self {
            ShopError::Malformed => 400,
            ShopError::Internal | ShopError::Transport(_) => 500,
        }
    }
}

/// The shop's currency (`SHOP_CURRENCY`): the checkout quotes every cart in it.
#[server(endpoint = "shop/currency")]
pub async fn shop_currency() -> Result<Currency, ShopError> {
    use crate::server::state::AppState;
    Ok(AppState::current().settings.shop.currency)
}
