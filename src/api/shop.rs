//! What the shop's pages need from its settings: the currency prices are shown and charged in.

use super::status::StatusError;
use crate::domain::money::Currency;
use leptos::prelude::*;

/// The shop's currency (`SHOP_CURRENCY`): the checkout quotes every cart in it.
#[server(endpoint = "shop/currency")]
pub async fn shop_currency() -> Result<Currency, StatusError> {
    use crate::server::state::AppState;
    Ok(AppState::current().settings.shop.currency)
}
