//! Card-testing brakes: every checkout start costs a 3DS JWT and every place a lookup and an authorization,
//! so starts and places are counted per client address, and declined or failed payments per card. The
//! counters live in the database (`db::limits`).

use crate::domain::{card::CardSummary, status::PaymentStatus};
use crate::server::{
    config::CheckoutLimits,
    db::{
        self, Database,
        limits::{self, Scope},
        orders::{self, OrderError},
    },
};
use sha2::{Digest, Sha256};

/// What the shopper is told, with 429.
pub mod message {
    pub const ADDRESS: &str = "There have been too many payment attempts from your connection. Please wait a few \
                               minutes, then try again. You have not been charged.";
    pub const CARD: &str = "This card has been declined too many times. Please use another card, or try again \
                            later. You have not been charged.";
}

#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("{0}")]
    Reached(&'static str),
    #[error(transparent)]
    Store(#[from] OrderError),
}

impl From<sqlx::Error> for LimitError {
    fn from(e: sqlx::Error) -> Self {
        LimitError::Store(OrderError::Db(e))
    }
}

pub struct Limits<'a> {
    pub pool: &'a Database,
    pub settings: &'a CheckoutLimits,
}

fn since(window_minutes: i64) -> i64 {
    db::now_ms() - window_minutes.saturating_mul(60_000)
}

impl Limits<'_> {
    /// Counts a `checkout/start` from `address`, unless the address has had its share.
    pub async fn start(&self, address: &str) -> Result<(), LimitError> {
        let s = self.settings;
        let window = since(s.address_window_minutes);
        match limits::take(self.pool, Scope::Start, address, s.starts_per_address, window).await? {
            true => Ok(()),
            false => Err(LimitError::Reached(message::ADDRESS)),
        }
    }

    /// Refuses a `checkout/place` with `card` (as the browser describes it; the failures it is checked against
    /// were counted with the provider's description) once the card has had its share of failures.
    pub async fn card(&self, card: &CardSummary) -> Result<(), LimitError> {
        let s = self.settings;
        let card_window = since(s.card_window_minutes);
        match limits::below(self.pool, Scope::CardFailure, &fingerprint(card), s.card_failures, card_window).await? {
            true => Ok(()),
            false => Err(LimitError::Reached(message::CARD)),
        }
    }

    /// Counts a `checkout/place` from `address` in the transaction that creates its order (one commit, not
    /// two, on the way to the provider), unless the address has had its share.
    pub async fn place(&self, tx: &mut db::Tx, address: &str) -> Result<(), LimitError> {
        let s = self.settings;
        let window = since(s.address_window_minutes);
        match limits::take_in(tx, Scope::Place, address, s.places_per_address, window).await? {
            true => Ok(()),
            false => Err(LimitError::Reached(message::ADDRESS)),
        }
    }

    /// After the checkout has answered: an order that ended declined or failed counts against its card, once.
    pub async fn after(&self, order_id: &str) -> Result<(), LimitError> {
        let order = orders::get(self.pool, order_id).await?;
        if let (PaymentStatus::Declined | PaymentStatus::Failed, Some(card)) = (order.status, &order.card) {
            limits::record_once(self.pool, Scope::CardFailure, &fingerprint(card), order_id).await?;
        }
        Ok(())
    }

    /// Forgets what no window counts any more.
    pub async fn prune(&self) -> Result<(), LimitError> {
        let s = self.settings;
        let longest = s.address_window_minutes.max(s.card_window_minutes);
        Ok(limits::prune(self.pool, since(longest)).await?)
    }
}

/// A card's fingerprint: SHA-256 of its brand, first six and last four digits, which the provider reports
/// and the order keeps anyway; it tells nothing more of the card. The expiry is left out, so guessing it
/// does not make a new card.
pub fn fingerprint(card: &CardSummary) -> String {
    let bin6 = card.bin6.as_deref().unwrap_or_default();
    let digest = Sha256::digest(format!("{}:{}:{}", card.brand.code(), bin6, card.last4));
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::card::CardBrand;

    #[test]
    fn the_fingerprint_ignores_the_expiry() {
        let card = |last4: &str, year| CardSummary {
            brand: CardBrand::Visa,
            bin6: Some("400000".into()),
            last4: last4.into(),
            expiry_month: 1,
            expiry_year: year,
        };
        assert_eq!(fingerprint(&card("1018", 2029)), fingerprint(&card("1018", 2030)));
        assert_ne!(fingerprint(&card("1018", 2029)), fingerprint(&card("1000", 2029)));
    }
}
