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

/// Which indexes a query may use: a page walks the newest first, so it must not pick the amount index and
/// sort what it finds (a unary `+` keeps SQLite from using a column's index); sums may use any.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    Page,
    Sum,
}

fn push_filter(q: &mut QueryBuilder<'_, Sqlite>, f: &OrderFilter, indexes: Use) {
    let plain = if indexes == Use::Page { "+" } else { "" };
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
        q.push(format!(" AND {plain}currency = ")).push_bind(c.code());
    }
    if let Some(m) = f.min_minor {
        q.push(format!(" AND {plain}amount_minor >= ")).push_bind(m);
    }
    if let Some(m) = f.max_minor {
        q.push(format!(" AND {plain}amount_minor <= ")).push_bind(m);
    }
    if let Some(s) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if s.len() == 4 && s.chars().all(|c| c.is_ascii_digit()) {
            q.push(" AND card_last4 = ").push_bind(s.to_owned());
        } else {
            // Each alternative has its own index, so SQLite answers the OR with three lookups.
            q.push(" AND (id = ").push_bind(s.to_ascii_lowercase());
            q.push(" OR merchant_reference = ").push_bind(s.to_ascii_uppercase());
            q.push(" OR email = ").push_bind(s.to_ascii_lowercase()).push(")");
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
    push_filter(&mut q, f, Use::Page);
    if let Some(c) = after {
        q.push(" AND (created_at, id) < (").push_bind(c.created_at).push(", ").push_bind(c.id.clone()).push(")");
    }
    q.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(limit);
    q.build_query_as::<OrderRow>().fetch_all(pool).await
}

/// Above this many orders in an amount range, its totals are the range's complement taken from all.
const WIDE_AMOUNT_RANGE: i64 = 20_000;

/// Count and sums of the whole filtered set, per currency. Whole months come from the `order_totals`
/// rollup; the orders themselves are summed only for what it cannot answer (a search, the partial months at
/// the ends of a date range, an amount range: the orders in it, or if those are many, the ones outside it).
pub async fn totals(pool: &SqlitePool, f: &OrderFilter) -> Result<Vec<Totals>, sqlx::Error> {
    totals_with(pool, f, WIDE_AMOUNT_RANGE).await
}

async fn totals_with(pool: &SqlitePool, f: &OrderFilter, wide: i64) -> Result<Vec<Totals>, sqlx::Error> {
    use crate::server::clock::month_of;
    let mut parts = Vec::new();
    let ranged = f.min_minor.is_some() || f.max_minor.is_some();
    if f.search.is_some() || (ranged && !wide_amount_range(pool, f, wide).await?) {
        parts.extend(summed(pool, f).await?);
    } else if ranged {
        let all = OrderFilter { min_minor: None, max_minor: None, ..f.clone() };
        parts.extend(Box::pin(totals_with(pool, &all, wide)).await?);
        let below = f.min_minor.map(|min| OrderFilter { max_minor: Some(min - 1), ..all.clone() });
        let above = f.max_minor.map(|max| OrderFilter { min_minor: Some(max + 1), ..all.clone() });
        for outside in below.into_iter().chain(above) {
            parts.extend(summed(pool, &outside).await?.into_iter().map(Totals::negated));
        }
    } else {
        let mut from = f.from_ms;
        // The partial month at the start, if the range does not start on the 1st.
        if let Some(start) = from {
            let (_, month_start, next) = month_of(start);
            if month_start != start {
                let end = f.until_ms.map_or(next, |u| u.min(next));
                parts.extend(
                    summed(pool, &OrderFilter { from_ms: Some(start), until_ms: Some(end), ..f.clone() }).await?,
                );
                from = Some(next);
            }
        }
        if from.zip(f.until_ms).is_none_or(|(from, until)| from < until) {
            let first = from.map_or(i64::MIN, |ms| month_of(ms).0);
            // Whole months up to the one `until` falls in; that one from the orders, unless it starts there.
            let (last, tail) = match f.until_ms.map(|until| (until, month_of(until))) {
                None => (i64::MAX, None),
                Some((until, (key, start, _))) if start == until => (key, None),
                Some((until, (key, start, _))) => (key, Some((from.map_or(start, |f| f.max(start)), until))),
            };
            parts.extend(rolled_up(pool, f, first, last).await?);
            if let Some((from, until)) = tail {
                parts.extend(
                    summed(pool, &OrderFilter { from_ms: Some(from), until_ms: Some(until), ..f.clone() }).await?,
                );
            }
        }
    }
    let mut by_currency = std::collections::BTreeMap::<String, Totals>::new();
    for t in parts {
        let sum = by_currency.entry(t.currency.clone()).or_insert(Totals {
            orders: 0,
            amount_minor: 0,
            captured_minor: 0,
            refunded_minor: 0,
            ..t.clone()
        });
        sum.orders += t.orders;
        sum.amount_minor += t.amount_minor;
        sum.captured_minor += t.captured_minor;
        sum.refunded_minor += t.refunded_minor;
    }
    Ok(by_currency.into_values().filter(|t| t.orders > 0).collect())
}

impl Totals {
    fn negated(self) -> Totals {
        Totals {
            orders: -self.orders,
            amount_minor: -self.amount_minor,
            captured_minor: -self.captured_minor,
            refunded_minor: -self.refunded_minor,
            ..self
        }
    }
}

/// Whether the amount range holds many orders (of any other filter): counted on the amount index, at most
/// up to the threshold, so the check itself stays cheap.
async fn wide_amount_range(pool: &SqlitePool, f: &OrderFilter, wide: i64) -> Result<bool, sqlx::Error> {
    let range =
        OrderFilter { currency: f.currency, min_minor: f.min_minor, max_minor: f.max_minor, ..Default::default() };
    let mut q = QueryBuilder::new("SELECT count(*) FROM (SELECT 1 FROM orders");
    push_filter(&mut q, &range, Use::Sum);
    q.push(" LIMIT ").push_bind(wide).push(")");
    let n: i64 = q.build_query_scalar().fetch_one(pool).await?;
    Ok(n >= wide)
}

fn totals_from(rows: Vec<sqlx::sqlite::SqliteRow>) -> Result<Vec<Totals>, sqlx::Error> {
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

/// Sums the orders themselves.
async fn summed(pool: &SqlitePool, f: &OrderFilter) -> Result<Vec<Totals>, sqlx::Error> {
    let mut q = QueryBuilder::new(
        "SELECT currency, count(*) AS orders, sum(amount_minor) AS amount, sum(captured_minor) AS captured,
            sum(refunded_minor) AS refunded FROM orders",
    );
    push_filter(&mut q, f, Use::Sum);
    q.push(" GROUP BY currency");
    totals_from(q.build().fetch_all(pool).await?)
}

/// Sums the rollup over the months `first` up to, not including, `last` (YYYYMM; MIN/MAX for open ends).
async fn rolled_up(pool: &SqlitePool, f: &OrderFilter, first: i64, last: i64) -> Result<Vec<Totals>, sqlx::Error> {
    let mut q = QueryBuilder::new(
        "SELECT currency, sum(orders) AS orders, sum(amount_minor) AS amount, sum(captured_minor) AS captured,
            sum(refunded_minor) AS refunded FROM order_totals WHERE month >= ",
    );
    q.push_bind(first).push(" AND month < ").push_bind(last);
    if let Some(s) = f.status {
        q.push(" AND status = ").push_bind(s.as_str());
    }
    match f.liability_shifted {
        Some(true) => q.push(" AND liability = 1"),
        Some(false) => q.push(" AND liability <> 1"),
        None => &mut q,
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
    q.push(" GROUP BY currency");
    totals_from(q.build().fetch_all(pool).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;
    use crate::server::{clock, db};

    /// The rollup (kept by triggers through inserts and updates) and a plain sum agree on every filter.
    #[tokio::test]
    async fn rolled_up_totals_match_the_orders() {
        let dir = tempfile::tempdir().unwrap();
        let db = db::connect(&format!("sqlite://{}/t.db", dir.path().display())).await.unwrap();
        db::demo::insert_orders(&db, 600, 200, Currency::EUR, 3).await.unwrap();
        let mut tx = db::begin_write(&db).await.unwrap();
        sqlx::query("UPDATE orders SET status = 'refunded', refunded_minor = captured_minor WHERE status = 'captured' AND rowid % 3 = 0")
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("UPDATE orders SET liability_shifted = NULL, card_brand = NULL, card_bin6 = NULL, card_last4 = NULL, card_expiry_month = NULL, card_expiry_year = NULL WHERE rowid % 7 = 0")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let now = db::now_ms();
        let day = |days_ago: i64| clock::parse_date(&clock::format_date(now - days_ago * 86_400_000));
        let (_, month_start, _) = clock::month_of(now - 40 * 86_400_000);
        let mut filters = vec![OrderFilter::default()];
        filters.extend(PaymentStatus::ALL.iter().map(|s| OrderFilter { status: Some(*s), ..Default::default() }));
        filters.extend([Some(true), Some(false)].map(|l| OrderFilter { liability_shifted: l, ..Default::default() }));
        filters.push(OrderFilter { brand: Some(CardBrand::Visa), currency: Some(Currency::USD), ..Default::default() });
        for (min, max) in [(Some(2000), Some(20_000)), (Some(5000), None), (None, Some(3000))] {
            let eur = Some(Currency::EUR);
            filters.push(OrderFilter { min_minor: min, max_minor: max, currency: eur, ..Default::default() });
            let declined = Some(PaymentStatus::Declined);
            filters.push(OrderFilter {
                min_minor: min,
                max_minor: max,
                currency: eur,
                status: declined,
                from_ms: day(90),
                ..Default::default()
            });
        }
        for (from, until) in
            [(day(100), None), (None, day(45)), (day(200), day(20)), (day(33), day(31)), (Some(month_start), day(3))]
        {
            filters.push(OrderFilter { from_ms: from, until_ms: until, ..Default::default() });
            filters.push(OrderFilter {
                from_ms: from,
                until_ms: until,
                status: Some(PaymentStatus::Declined),
                ..Default::default()
            });
        }
        for f in filters {
            let mut direct = summed(&db, &f).await.unwrap();
            direct.sort_by(|a, b| a.currency.cmp(&b.currency));
            // Both ways of an amount range: summed inside it, and all minus what lies outside.
            for wide in [WIDE_AMOUNT_RANGE, 10] {
                assert_eq!(totals_with(&db, &f, wide).await.unwrap(), direct, "{f:?}");
            }
        }
    }
}
