//! What the back office reads of the order history: a page of orders and the totals of a filter, and one
//! order with everything about it.

use crate::server::db::{
    self,
    order_list::{self, Cursor, OrderFilter, OrderRow, Totals},
    orders::{self, Order, OrderError, OrderEvent},
    payments::{self, Attempt, ThreeDsRow},
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
        Ok(OrderDetail { order, events: events?, attempts: attempts?, threeds: threeds? })
    }
}
