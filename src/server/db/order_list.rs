//! The merchant's order history: filtered, newest first, paged by keyset (created_at, id) so every page
//! costs the same however deep it is, with per-currency totals of the whole filtered set.

use super::orders::Provider;
use crate::domain::{card::CardBrand, money::Currency, status::PaymentStatus};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

/// What the merchant filters by; every field is optional and they combine with AND.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderFilter {
    pub status: Option<PaymentStatus>,
    /// Created at or after (Unix ms).
    pub from_ms: Option<i64>,
    /// Created before (Unix ms).
    pub until_ms: Option<i64>,
    pub liability_shifted: Option<bool>,
    pub brand: Option<CardBrand>,
    pub provider: Option<Provider>,
    pub currency: Option<Currency>,
    /// Amount bounds in minor units of `currency` (which is then required).
    pub min_minor: Option<i64>,
    pub max_minor: Option<i64>,
    /// An order id, merchant reference, email or last four digits.
    pub search: Option<String>,
}

/// Where a page starts: just after this row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: i64,
    pub id: String,
}

/// One row of the history, with the 3-D Secure outcome kept on the order.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OrderRow {
    pub id: String,
    pub merchant_reference: String,
    pub email: String,
    pub amount_minor: i64,
    pub captured_minor: i64,
    pub refunded_minor: i64,
    pub currency: String,
    pub status: String,
    pub provider: String,
    pub capture_mode: String,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    pub liability_shifted: Option<bool>,
    pub threeds_enrolled: Option<String>,
    pub threeds_pares_status: Option<String>,
    pub threeds_eci: Option<String>,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Totals {
    pub currency: String,
    pub orders: i64,
    pub amount_minor: i64,
    pub captured_minor: i64,
    pub refunded_minor: i64,
}

const COLUMNS: &str = "id, merchant_reference, email, amount_minor, captured_minor, refunded_minor, currency, status,
    provider, capture_mode, card_brand, card_last4, liability_shifted, threeds_enrolled, threeds_pares_status,
    threeds_eci, created_at";

fn push_filter(q: &mut QueryBuilder<'_, Sqlite>, f: &OrderFilter) {
    q.push(" WHERE 1 = 1");
    if let Some(s) = f.status {
        q.push(" AND status = ").push_bind(s.as_str());
    }
    if let Some(ms) = f.from_ms {
        q.push(" AND created_at >= ").push_bind(ms);
    }
    if let Some(ms) = f.until_ms {
        q.push(" AND created_at < ").push_bind(ms);
    }
    match f.liability_shifted {
        Some(true) => q.push(" AND liability_shifted = 1"),
        Some(false) => q.push(" AND coalesce(liability_shifted, 0) = 0"),
        None => q,
    };
    if let Some(b) = f.brand {
        q.push(" AND card_brand = ").push_bind(b.code());
    }
    if let Some(p) = f.provider {
        q.push(" AND provider = ").push_bind(p.as_str());
    }
    if let Some(c) = f.currency {
        q.push(" AND currency = ").push_bind(c.code());
    }
    if let Some(m) = f.min_minor {
        q.push(" AND amount_minor >= ").push_bind(m);
    }
    if let Some(m) = f.max_minor {
        q.push(" AND amount_minor <= ").push_bind(m);
    }
    if let Some(s) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if s.len() == 4 && s.chars().all(|c| c.is_ascii_digit()) {
            q.push(" AND card_last4 = ").push_bind(s.to_owned());
        } else {
            // Each alternative has its own index, so SQLite answers the OR with three lookups.
            q.push(" AND (id = ").push_bind(s.to_ascii_lowercase());
            q.push(" OR merchant_reference = ").push_bind(s.to_ascii_uppercase());
            q.push(" OR email = ").push_bind(s.to_lowercase()).push(")");
        }
    }
}

/// Up to `limit` orders after `after`, newest first.
pub async fn page(
    pool: &SqlitePool,
    f: &OrderFilter,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<OrderRow>, sqlx::Error> {
    let mut q = QueryBuilder::new(format!("SELECT {COLUMNS} FROM orders"));
    push_filter(&mut q, f);
    if let Some(c) = after {
        q.push(" AND (created_at, id) < (").push_bind(c.created_at).push(", ").push_bind(c.id.clone()).push(")");
    }
    q.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(limit);
    q.build_query_as::<OrderRow>().fetch_all(pool).await
}

/// Count and sums of the whole filtered set, per currency.
pub async fn totals(pool: &SqlitePool, f: &OrderFilter) -> Result<Vec<Totals>, sqlx::Error> {
    let mut q = QueryBuilder::new(
        "SELECT currency, count(*) AS orders, sum(amount_minor) AS amount, sum(captured_minor) AS captured,
            sum(refunded_minor) AS refunded FROM orders",
    );
    push_filter(&mut q, f);
    q.push(" GROUP BY currency ORDER BY currency");
    let rows = q.build().fetch_all(pool).await?;
    rows.iter()
        .map(|r| {
            Ok(Totals {
                currency: r.try_get("currency")?,
                orders: r.try_get("orders")?,
                amount_minor: r.try_get("amount")?,
                captured_minor: r.try_get("captured")?,
                refunded_minor: r.try_get("refunded")?,
            })
        })
        .collect()
}
