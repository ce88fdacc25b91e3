//! What the back office reads of the order history: a page of orders and the totals of a filter, and one
//! order with everything about it.

use crate::domain::saved_card::token_last_four;
use crate::server::db::{
    self,
    order_list::{self, Cursor, OrderFilter, OrderRow, Totals},
    orders::{self, Order, OrderError, OrderEvent},
    payments::{self, Attempt, ThreeDsRow},
    saved_cards,
};

pub struct History<'a> {
    pub pool: &'a db::Database,
}

/// Everything the detail page shows.
pub struct OrderDetail {
    pub order: Order,
    pub events: Vec<OrderEvent>,
    pub attempts: Vec<Attempt>,
    pub threeds: Vec<ThreeDsRow>,
    /// How the order used a saved card, if it did.
    pub credential: Option<CredentialView>,
}

/// A saved card's part in an order, as the back office shows it: never more of the token than its last four.
pub struct CredentialView {
    /// `signup`, `customer` or `merchant`.
    pub initiator: &'static str,
    /// The card's label and its token's last four, while the card is saved.
    pub card: Option<(String, String)>,
    /// The order a merchant-initiated charge was made against.
    pub original: Option<String>,
    /// The merchant-initiated charges made against this order.
    pub charges: Vec<String>,
    pub description: Option<String>,
}

impl History<'_> {
    /// Up to `limit` orders matching `filter`, newest first, after `cursor`.
    pub async fn page(
        &self,
        filter: &OrderFilter,
        cursor: Option<&Cursor>,
        limit: i64,
    ) -> Result<Vec<OrderRow>, sqlx::Error> {
        order_list::page(self.pool, filter, cursor, limit).await
    }

    /// Every order matching `filter`, newest first, read `size` at a time as the consumer asks for more.
    pub fn all_pages(
        &self,
        filter: OrderFilter,
        size: i64,
    ) -> impl futures_util::Stream<Item = Result<Vec<OrderRow>, sqlx::Error>> + Send + 'static {
        order_list::pages((**self.pool).clone(), filter, size)
    }

    pub async fn totals(&self, filter: &OrderFilter) -> Result<Vec<Totals>, sqlx::Error> {
        order_list::totals(self.pool, filter).await
    }

    pub async fn detail(&self, id: &str) -> Result<OrderDetail, OrderError> {
        let order = orders::get(self.pool, id).await?;
        let (events, attempts, threeds) = tokio::join!(
            orders::events(self.pool, id),
            payments::attempts(self.pool, id),
            payments::all_threeds(self.pool, id)
        );
        let credential = match saved_cards::credential(self.pool, id).await? {
            None => None,
            Some(c) => {
                let card = saved_cards::card_of_order(self.pool, id).await?;
                Some(CredentialView {
                    initiator: c.initiator.as_str(),
                    card: card.map(|k| (k.view.label(), token_last_four(&k.reuse_token).to_owned())),
                    original: c.parent_order_id,
                    charges: saved_cards::charges_of(self.pool, id).await?,
                    description: c.description,
                })
            }
        };
        Ok(OrderDetail { order, events: events?, attempts: attempts?, threeds: threeds?, credential })
    }
}
