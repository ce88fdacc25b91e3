//! The merchant's order history: filtered, newest first, paged by keyset (created_at, id) so every page
//! costs the same however deep it is, with per-currency totals of the whole filtered set read mostly from
//! rollups (migration 0009), and the export streamed page by page.

use super::orders::Provider;
use super::{Engine, Pool};
use crate::domain::{card::CardBrand, money::Currency, status::PaymentStatus};
use sqlx::Row;
use std::fmt::Write;

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

/// One row of the history, with the 3-D Secure outcome kept on the order. Read from the JSON array SQLite
/// makes of each row (`COLUMNS`, in this order).
#[derive(Clone, Debug, serde::Deserialize)]
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
    #[serde(deserialize_with = "flag")]
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

/// SQLite's 0/1 (or null) as a bool.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(<Option<i64> as serde::Deserialize>::deserialize(d)?.map(|v| v != 0))
}

/// A statement built from parts, with numbered parameters (`$1`, …), which both engines take (sqlx's
/// `QueryBuilder` writes `?` for `Any`, which PostgreSQL does not).
struct Sql {
    text: String,
    args: Vec<Arg>,
}

enum Arg {
    Int(i64),
    Text(String),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(v.to_owned())
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(v)
    }
}

impl Sql {
    fn new(text: impl Into<String>) -> Sql {
        Sql { text: text.into(), args: Vec::new() }
    }

    fn push(&mut self, text: impl AsRef<str>) -> &mut Sql {
        self.text.push_str(text.as_ref());
        self
    }

    fn push_bind(&mut self, arg: impl Into<Arg>) -> &mut Sql {
        self.args.push(arg.into());
        let _ = write!(self.text, "${}", self.args.len());
        self
    }

    fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        self.args.iter().fold(sqlx::query(&self.text), |q, a| match a {
            Arg::Int(i) => q.bind(*i),
            Arg::Text(s) => q.bind(s.as_str()),
        })
    }
}

/// Which indexes a query may use: a page walks the newest first, so it must not pick the amount index and
/// sort what it finds (a unary `+` keeps SQLite from using a column's index); sums may use any. PostgreSQL's
/// planner picks by its statistics and has no unary `+` for text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    Page,
    Sum,
}

fn push_filter(q: &mut Sql, engine: Engine, f: &OrderFilter, indexes: Use) {
    let plain = if indexes == Use::Page && engine == Engine::Sqlite { "+" } else { "" };
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
        if let Some(last4) = f.last4() {
            q.push(" AND card_last4 = ").push_bind(last4.to_owned());
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
    pool: &Pool,
    f: &OrderFilter,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<OrderRow>, sqlx::Error> {
    page_with(pool, f, after, limit, WIDE_AMOUNT_RANGE).await
}

async fn page_with(
    pool: &Pool,
    f: &OrderFilter,
    after: Option<&Cursor>,
    limit: i64,
    wide: i64,
) -> Result<Vec<OrderRow>, sqlx::Error> {
    // A narrow amount range is found on the amount index and its few orders sorted; any other filter walks
    // the orders newest first until the page is full.
    let engine = Engine::of(pool);
    let narrow = f.currency.is_some() && f.ranged() && !wide_amount_range(pool, f, wide).await?;
    // The whole page comes back as one JSON array (one value, not a row at a time through the driver,
    // which costs more than SQLite's reading of it).
    let mut q = Sql::new(match engine {
        Engine::Sqlite => format!(
            "SELECT json_group_array(json_array({COLUMNS}) ORDER BY created_at DESC, id DESC)
             FROM (SELECT {COLUMNS} FROM orders"
        ),
        Engine::Postgres => format!(
            "SELECT coalesce(json_agg(json_build_array({COLUMNS}) ORDER BY created_at DESC, id DESC)::text, '[]')
             FROM (SELECT {COLUMNS} FROM orders"
        ),
    });
    if narrow && engine == Engine::Sqlite {
        q.push(" INDEXED BY orders_by_amount");
    }
    push_filter(&mut q, engine, f, if narrow { Use::Sum } else { Use::Page });
    if let Some(c) = after {
        q.push(" AND (created_at, id) < (").push_bind(c.created_at).push(", ").push_bind(c.id.clone()).push(")");
    }
    q.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(limit).push(") AS p");
    let rows: String = q.query().fetch_one(pool).await?.try_get(0)?;
    serde_json::from_str(&rows).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// Every order matching `f`, newest first, a page of `size` at a time: what an export streams, holding a
/// few pages at once however long the history. Each page is a keyset query, so every order comes exactly
/// once; the next page is read while the caller handles this one.
pub fn pages(
    pool: Pool,
    f: OrderFilter,
    size: i64,
) -> impl futures_util::Stream<Item = Result<Vec<OrderRow>, sqlx::Error>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        let mut after = None;
        loop {
            let rows = page(&pool, &f, after.as_ref(), size).await;
            let last = match &rows {
                Ok(rows) if rows.len() as i64 == size => {
                    rows.last().map(|r| Cursor { created_at: r.created_at, id: r.id.clone() })
                }
                _ => None,
            };
            let empty = rows.as_ref().is_ok_and(Vec::is_empty);
            // A closed channel: the caller stopped reading (a download cancelled).
            if empty || tx.send(rows).await.is_err() || last.is_none() {
                return;
            }
            after = last;
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|page| (page, rx)) })
}

impl OrderFilter {
    fn ranged(&self) -> bool {
        self.min_minor.is_some() || self.max_minor.is_some()
    }

    /// The search, when it is by the card's last four digits.
    fn last4(&self) -> Option<&str> {
        let s = self.search.as_deref().map(str::trim)?;
        (s.len() == 4 && s.chars().all(|c| c.is_ascii_digit())).then_some(s)
    }
}

/// At least this many orders in an amount range (of any other filter) make it wide: its page walks the
/// orders newest first instead of sorting what the amount index finds.
const WIDE_AMOUNT_RANGE: i64 = 20_000;

/// Which rollups answer a filter's totals (see migrations 0009 and 0014): each is kept per period of
/// `created_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rollup {
    /// Every filter but amount and search: `order_totals` per day, `order_totals_monthly` per month.
    Daily,
    /// `order_totals_by_last4`: per day and last four digits.
    ByLast4,
    /// `order_totals_by_amount`: per month and exact amount.
    ByAmount,
}

impl Rollup {
    /// The rollup for a filter, or none when the orders themselves are few enough to sum: a search by id,
    /// reference or email finds a handful; last four and an amount range together are summed from that
    /// card's orders.
    fn of(f: &OrderFilter) -> Option<Rollup> {
        match (f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()), f.ranged()) {
            (None, false) => Some(Rollup::Daily),
            (None, true) => Some(Rollup::ByAmount),
            (Some(_), false) if f.last4().is_some() => Some(Rollup::ByLast4),
            (Some(_), _) => None,
        }
    }

    /// Its tables, finest period first.
    fn tables(self) -> &'static [(Period, &'static str)] {
        match self {
            Rollup::Daily => &[(Period::Day, "order_totals"), (Period::Month, "order_totals_monthly")],
            Rollup::ByLast4 => &[(Period::Day, "order_totals_by_last4")],
            Rollup::ByAmount => &[(Period::Month, "order_totals_by_amount")],
        }
    }
}

/// A UTC period a rollup is kept per.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Period {
    /// Keyed by the Unix day (`day`).
    Day,
    /// Keyed by YYYYMM (`month`).
    Month,
}

impl Period {
    /// The period an instant falls in: its key in a rollup, its start and the next one's (Unix ms).
    fn of(self, ms: i64) -> (i64, i64, i64) {
        const DAY: i64 = 86_400_000;
        match self {
            Period::Day => {
                let day = ms.div_euclid(DAY);
                (day, day * DAY, (day + 1) * DAY)
            }
            Period::Month => crate::server::clock::month_of(ms),
        }
    }

    /// The first period start at or after an instant.
    fn ceil(self, ms: i64) -> i64 {
        let (_, start, next) = self.of(ms);
        if start == ms { ms } else { next }
    }

    fn column(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Month => "month",
        }
    }
}

/// A piece of a date range `[from, until)` (Unix ms, `None` an open end): whole periods of a rollup table
/// (`Some(i)`, the index in `Rollup::tables`), or the orders themselves (`None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Piece {
    table: Option<usize>,
    from: Option<i64>,
    until: Option<i64>,
}

/// Splits a date range into the fewest rollup rows to read: the whole periods of the coarsest table in the
/// middle, then finer ones towards each end, and the orders for what is left (partial days, say), so an
/// all-time range reads a few hundred monthly rows rather than every day. The pieces cover the range
/// exactly, each instant once, in order.
fn split(from: Option<i64>, until: Option<i64>, periods: &[Period]) -> Vec<Piece> {
    if from.zip(until).is_some_and(|(from, until)| from >= until) {
        return Vec::new();
    }
    let Some((&period, finer)) = periods.split_last() else {
        return vec![Piece { table: None, from, until }];
    };
    let start = from.map(|ms| period.ceil(ms));
    let end = until.map(|ms| period.of(ms).1);
    if start.zip(end).is_some_and(|(start, end)| start >= end) {
        return split(from, until, finer); // no whole period of this one
    }
    let mut pieces = if from == start { Vec::new() } else { split(from, start, finer) };
    pieces.push(Piece { table: Some(finer.len()), from: start, until: end });
    if until != end {
        pieces.extend(split(end, until, finer));
    }
    pieces
}

/// Count and sums of the whole filtered set, per currency. Whole periods come from the rollups (see
/// `split`); the orders themselves are summed only for what they cannot answer: the partial periods at the
/// ends of a date range, or a search that finds few orders.
pub async fn totals(pool: &Pool, f: &OrderFilter) -> Result<Vec<Totals>, sqlx::Error> {
    let mut parts = Vec::new();
    match Rollup::of(f) {
        None => parts.extend(summed(pool, f).await?),
        Some(rollup) => {
            let tables = rollup.tables();
            let periods: Vec<Period> = tables.iter().map(|(period, _)| *period).collect();
            for piece in split(f.from_ms, f.until_ms, &periods) {
                parts.extend(match piece.table {
                    None => {
                        summed(pool, &OrderFilter { from_ms: piece.from, until_ms: piece.until, ..f.clone() }).await?
                    }
                    Some(i) => {
                        let (period, table) = tables[i];
                        let first = piece.from.map_or(i64::MIN, |ms| period.of(ms).0);
                        let last = piece.until.map_or(i64::MAX, |ms| period.of(ms).0);
                        rolled_up(pool, f, table, period, first, last).await?
                    }
                });
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

/// Whether the amount range holds many orders (of any other filter): counted on the amount index, at most
/// up to the threshold, so the check itself stays cheap.
async fn wide_amount_range(pool: &Pool, f: &OrderFilter, wide: i64) -> Result<bool, sqlx::Error> {
    let range =
        OrderFilter { currency: f.currency, min_minor: f.min_minor, max_minor: f.max_minor, ..Default::default() };
    let mut q = Sql::new("SELECT count(*) FROM (SELECT 1 FROM orders");
    push_filter(&mut q, Engine::of(pool), &range, Use::Sum);
    q.push(" LIMIT ").push_bind(wide).push(") AS r");
    let n: i64 = q.query().fetch_one(pool).await?.try_get(0)?;
    Ok(n >= wide)
}

fn totals_from(rows: Vec<super::Row>) -> Result<Vec<Totals>, sqlx::Error> {
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

/// The sums a totals row holds: PostgreSQL's `sum` of a bigint is a numeric, which `Any` does not read.
const SUMS: &str = "CAST(sum(amount_minor) AS BIGINT) AS amount, CAST(sum(captured_minor) AS BIGINT) AS captured,
    CAST(sum(refunded_minor) AS BIGINT) AS refunded";

/// Sums the orders themselves.
async fn summed(pool: &Pool, f: &OrderFilter) -> Result<Vec<Totals>, sqlx::Error> {
    let mut q = Sql::new(format!("SELECT currency, count(*) AS orders, {SUMS} FROM orders"));
    push_filter(&mut q, Engine::of(pool), f, Use::Sum);
    q.push(" GROUP BY currency");
    totals_from(q.query().fetch_all(pool).await?)
}

/// Sums a rollup table over the periods `first` up to, not including, `last` (MIN/MAX for open ends).
async fn rolled_up(
    pool: &Pool,
    f: &OrderFilter,
    table: &str,
    period: Period,
    first: i64,
    last: i64,
) -> Result<Vec<Totals>, sqlx::Error> {
    let period = period.column();
    let mut q = Sql::new(format!(
        "SELECT currency, CAST(sum(orders) AS BIGINT) AS orders, {SUMS} FROM {table} WHERE {period} >= "
    ));
    q.push_bind(first).push(format!(" AND {period} < ")).push_bind(last);
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
    if let Some(m) = f.min_minor {
        q.push(" AND amount >= ").push_bind(m);
    }
    if let Some(m) = f.max_minor {
        q.push(" AND amount <= ").push_bind(m);
    }
    if let Some(l) = f.last4() {
        q.push(" AND card_last4 = ").push_bind(l.to_owned());
    }
    q.push(" GROUP BY currency");
    totals_from(q.query().fetch_all(pool).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;
    use crate::server::{clock, db};

    /// A database of demo orders: a SQLite file, or with `TEST_DATABASE=postgres://…` (as the integration
    /// tests take it) a PostgreSQL database of its own on that server.
    async fn demo_db(orders: usize) -> (tempfile::TempDir, db::Database) {
        let dir = tempfile::tempdir().unwrap();
        let url = match std::env::var("TEST_DATABASE") {
            Ok(server) if !server.is_empty() => {
                use sqlx::Connection;
                sqlx::any::install_default_drivers();
                let name = format!("t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::AnyConnection::connect(&server).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
                let _ = conn.close().await;
                format!("{}/{name}", server.rsplit_once('/').unwrap().0)
            }
            _ => format!("sqlite://{}/t.db", dir.path().display()),
        };
        let db = db::connect(&url).await.unwrap();
        db::demo::insert_orders(&db, orders, 200, Currency::EUR, 3).await.unwrap();
        (dir, db)
    }

    fn at(date: &str, hours: i64) -> Option<i64> {
        Some(clock::parse_date(date).unwrap() + hours * 3_600_000)
    }

    fn piece(table: Option<usize>, from: Option<i64>, until: Option<i64>) -> Piece {
        Piece { table, from, until }
    }

    /// A range is split into partial days (the orders), whole days (table 0) and whole months (table 1).
    #[test]
    fn a_range_splits_into_months_days_and_the_partial_days_at_its_ends() {
        let (orders, days, months) = (None, Some(0), Some(1));
        let both = [Period::Day, Period::Month];
        let cases = [
            // All time, and open at one end.
            ((None, None), vec![piece(months, None, None)]),
            (
                (None, at("2026-03-15", 10)),
                vec![
                    piece(months, None, at("2026-03-01", 0)),
                    piece(days, at("2026-03-01", 0), at("2026-03-15", 0)),
                    piece(orders, at("2026-03-15", 0), at("2026-03-15", 10)),
                ],
            ),
            (
                (at("2026-03-15", 10), None),
                vec![
                    piece(orders, at("2026-03-15", 10), at("2026-03-16", 0)),
                    piece(days, at("2026-03-16", 0), at("2026-04-01", 0)),
                    piece(months, at("2026-04-01", 0), None),
                ],
            ),
            // Inside one month, inside one day.
            (
                (at("2026-03-10", 5), at("2026-03-20", 7)),
                vec![
                    piece(orders, at("2026-03-10", 5), at("2026-03-11", 0)),
                    piece(days, at("2026-03-11", 0), at("2026-03-20", 0)),
                    piece(orders, at("2026-03-20", 0), at("2026-03-20", 7)),
                ],
            ),
            ((at("2026-03-10", 5), at("2026-03-10", 7)), vec![piece(orders, at("2026-03-10", 5), at("2026-03-10", 7))]),
            // Starting and ending on month boundaries, or on one only.
            ((at("2026-02-01", 0), at("2026-04-01", 0)), vec![piece(months, at("2026-02-01", 0), at("2026-04-01", 0))]),
            (
                (at("2026-02-01", 0), at("2026-04-03", 0)),
                vec![
                    piece(months, at("2026-02-01", 0), at("2026-04-01", 0)),
                    piece(days, at("2026-04-01", 0), at("2026-04-03", 0)),
                ],
            ),
            (
                (at("2026-01-31", 23), at("2026-03-01", 0)),
                vec![
                    piece(orders, at("2026-01-31", 23), at("2026-02-01", 0)),
                    piece(months, at("2026-02-01", 0), at("2026-03-01", 0)),
                ],
            ),
            // Across a year, with and without a whole month.
            (
                (at("2025-12-30", 12), at("2026-01-02", 0)),
                vec![
                    piece(orders, at("2025-12-30", 12), at("2025-12-31", 0)),
                    piece(days, at("2025-12-31", 0), at("2026-01-02", 0)),
                ],
            ),
            (
                (at("2025-11-20", 0), at("2026-02-10", 1)),
                vec![
                    piece(days, at("2025-11-20", 0), at("2025-12-01", 0)),
                    piece(months, at("2025-12-01", 0), at("2026-02-01", 0)),
                    piece(days, at("2026-02-01", 0), at("2026-02-10", 0)),
                    piece(orders, at("2026-02-10", 0), at("2026-02-10", 1)),
                ],
            ),
            // Nothing in an empty or reversed range.
            ((at("2026-03-10", 5), at("2026-03-10", 5)), vec![]),
            ((at("2026-04-10", 5), at("2026-03-10", 5)), vec![]),
        ];
        for ((from, until), want) in cases {
            assert_eq!(split(from, until, &both), want, "{from:?}..{until:?}");
        }
        // One table: the orders for what is left of its periods.
        assert_eq!(
            split(at("2026-03-10", 5), at("2026-05-02", 0), &[Period::Month]),
            vec![
                piece(orders, at("2026-03-10", 5), at("2026-04-01", 0)),
                piece(Some(0), at("2026-04-01", 0), at("2026-05-01", 0)),
                piece(orders, at("2026-05-01", 0), at("2026-05-02", 0)),
            ]
        );
    }

    /// Each rollup table holds, per group, the count and sums of the orders in it (a group emptied by
    /// updates may stay, at zero).
    async fn assert_rollups_match_the_orders(db: &db::Database) {
        for (table, keys) in [
            ("order_totals", "currency, day, status, provider, card_brand, liability"),
            ("order_totals_by_last4", "card_last4, currency, day, status, provider, card_brand, liability"),
            ("order_totals_by_amount", "currency, amount_minor, month, status, provider, card_brand, liability"),
            ("order_totals_monthly", "currency, month, status, provider, card_brand, liability"),
        ] {
            let grouped = format!(
                "SELECT {keys}, count(*), sum(amount_minor), sum(captured_minor), sum(refunded_minor)
                 FROM order_rollup_keys GROUP BY {keys}"
            );
            let kept = format!(
                "SELECT * FROM {table}
                 WHERE orders <> 0 OR amount_minor <> 0 OR captured_minor <> 0 OR refunded_minor <> 0"
            );
            for differ in [format!("{grouped} EXCEPT {kept}"), format!("{kept} EXCEPT {grouped}")] {
                let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM ({differ}) AS d"))
                    .fetch_one(&**db)
                    .await
                    .unwrap();
                assert_eq!(n, 0, "{table}: {differ}");
            }
        }
    }

    /// The rollups (kept by triggers through inserts and updates) and a plain sum agree on every filter.
    #[tokio::test]
    async fn rolled_up_totals_match_the_orders() {
        let (_dir, db) = demo_db(600).await;
        let mut tx = db::begin_write(&db).await.unwrap();
        for update in [
            "UPDATE orders SET status = 'refunded', refunded_minor = captured_minor WHERE status = 'captured' AND rowid % 3 = 0",
            "UPDATE orders SET liability_shifted = NULL, card_brand = NULL, card_bin6 = NULL, card_last4 = NULL, card_expiry_month = NULL, card_expiry_year = NULL WHERE rowid % 7 = 0",
            // A card replaced (another last four) and an order moved to another day and month.
            "UPDATE orders SET card_brand = 'MASTERCARD', card_bin6 = '520000', card_last4 = '1005' WHERE rowid % 11 = 0",
            "UPDATE orders SET created_at = created_at - 40 * CAST(86400000 AS BIGINT) WHERE rowid % 13 = 0",
        ] {
            sqlx::query(update).execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
        assert_rollups_match_the_orders(&db).await;

        let now = db::now_ms();
        let day = |days_ago: i64| clock::parse_date(&clock::format_date(now - days_ago * 86_400_000));
        // Not on a midnight: the partial days at the ends come from the orders.
        let at = |days_ago: i64| Some(now - days_ago * 86_400_000 - 3_600_000);
        let (_, month_start, _) = clock::month_of(now - 40 * 86_400_000);
        let eur = Some(Currency::EUR);
        let declined = Some(PaymentStatus::Declined);
        let mut filters = vec![OrderFilter::default()];
        filters.extend(PaymentStatus::ALL.iter().map(|s| OrderFilter { status: Some(*s), ..Default::default() }));
        filters.extend([Some(true), Some(false)].map(|l| OrderFilter { liability_shifted: l, ..Default::default() }));
        filters.push(OrderFilter { brand: Some(CardBrand::Visa), currency: Some(Currency::USD), ..Default::default() });
        for (min, max) in [(Some(2000), Some(20_000)), (Some(5000), None), (None, Some(3000))] {
            filters.push(OrderFilter { min_minor: min, max_minor: max, currency: eur, ..Default::default() });
            filters.push(OrderFilter { min_minor: min, max_minor: max, ..Default::default() });
            for (from, until) in [(day(90), None), (at(100), at(30)), (Some(month_start), day(3))] {
                filters.push(OrderFilter {
                    min_minor: min,
                    max_minor: max,
                    currency: eur,
                    status: declined,
                    from_ms: from,
                    until_ms: until,
                    ..Default::default()
                });
            }
        }
        let searches = ["1005", "0009", "DEMO-0000042", "ada.lovelace42@example.com", "7777"];
        for (from, until) in [
            (None, None),
            (day(100), None),
            (None, day(45)),
            (day(200), day(20)),
            (day(33), day(31)),
            (Some(month_start), day(3)),
            (at(50), at(10)),
            (at(2), at(1)),
            (at(5), None),
        ] {
            filters.push(OrderFilter { from_ms: from, until_ms: until, ..Default::default() });
            filters.push(OrderFilter { from_ms: from, until_ms: until, status: declined, ..Default::default() });
            for q in searches {
                let search = Some(q.to_owned());
                filters.push(OrderFilter {
                    from_ms: from,
                    until_ms: until,
                    search: search.clone(),
                    ..Default::default()
                });
                filters.push(OrderFilter {
                    from_ms: from,
                    until_ms: until,
                    search,
                    status: Some(PaymentStatus::Captured),
                    liability_shifted: Some(true),
                    min_minor: Some(3000),
                    currency: eur,
                    ..Default::default()
                });
            }
        }
        // Random ranges (on day and month boundaries or not, open or not) with random other filters.
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(14);
        let instant = |rng: &mut rand::rngs::StdRng| {
            let ms = now - rng.gen_range(0..400 * 86_400_000i64);
            match rng.gen_range(0..5) {
                0 => None,
                1 => Some(clock::month_of(ms).1),
                2 => Some(ms.div_euclid(86_400_000) * 86_400_000),
                _ => Some(ms),
            }
        };
        let mut crossing = 0;
        for _ in 0..300 {
            let (a, b) = (instant(&mut rng), instant(&mut rng));
            let (from, until) = match a.zip(b) {
                Some((a, b)) if a > b => (Some(b), Some(a)),
                _ => (a, b),
            };
            let month = |ms: Option<i64>| ms.map(|ms| clock::month_of(ms).0);
            crossing += usize::from(from.zip(until).is_some_and(|_| month(from) != month(until)));
            filters.push(OrderFilter {
                from_ms: from,
                until_ms: until,
                status: rng.gen_bool(0.3).then(|| PaymentStatus::ALL[rng.gen_range(0..PaymentStatus::ALL.len())]),
                liability_shifted: [None, Some(true), Some(false)][rng.gen_range(0..3)],
                brand: rng.gen_bool(0.2).then(|| CardBrand::ALL[rng.gen_range(0..CardBrand::ALL.len())]),
                provider: [None, Some(Provider::Verifone), Some(Provider::Bambora)][rng.gen_range(0..3)],
                currency: [None, Some(Currency::EUR), Some(Currency::USD)][rng.gen_range(0..3)],
                ..Default::default()
            });
        }
        assert!(crossing > 100, "{crossing} ranges cross a month boundary");

        let mut rolled = 0;
        for f in filters {
            let mut direct = summed(&db, &f).await.unwrap();
            direct.sort_by(|a, b| a.currency.cmp(&b.currency));
            assert_eq!(totals(&db, &f).await.unwrap(), direct, "{f:?}");
            rolled += usize::from(Rollup::of(&f).is_some());
        }
        assert!(rolled > 50, "the rollups answered {rolled} filters");
    }

    /// The ids a filter finds, newest first, as plain SQL says.
    async fn expected(db: &db::Database, sql: &str) -> Vec<String> {
        sqlx::query_scalar(&format!("SELECT id FROM orders WHERE {sql} ORDER BY created_at DESC, id DESC"))
            .fetch_all(&**db)
            .await
            .unwrap()
    }

    /// Pages of a narrow amount range (sorted off the amount index) and of a wide one (the newest first walk)
    /// hold the same orders, and streamed pages give every order once.
    #[tokio::test]
    async fn pages_find_each_order_once_newest_first() {
        let (_dir, db) = demo_db(700).await;
        let range = OrderFilter {
            currency: Some(Currency::EUR),
            min_minor: Some(4000),
            max_minor: Some(6000),
            ..Default::default()
        };
        let want = expected(&db, "currency = 'EUR' AND amount_minor BETWEEN 4000 AND 6000").await;
        assert!(want.len() > 60, "{}", want.len());
        for wide in [WIDE_AMOUNT_RANGE, 1] {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let rows = page_with(&db, &range, after.as_ref(), 25, wide).await.unwrap();
                seen.extend(rows.iter().map(|r| r.id.clone()));
                match rows.last() {
                    Some(last) if rows.len() == 25 => {
                        after = Some(Cursor { created_at: last.created_at, id: last.id.clone() })
                    }
                    _ => break,
                }
            }
            assert_eq!(seen, want, "wide at {wide}");
        }

        use futures_util::TryStreamExt;
        let streamed: Vec<Vec<OrderRow>> =
            pages((*db).clone(), OrderFilter::default(), 64).try_collect().await.unwrap();
        assert!(streamed.iter().all(|p| p.len() <= 64) && streamed.len() == 700usize.div_ceil(64));
        let ids: Vec<String> = streamed.into_iter().flatten().map(|r| r.id).collect();
        assert_eq!(ids, expected(&db, "1 = 1").await);
        let visa: Vec<Vec<OrderRow>> =
            pages((*db).clone(), OrderFilter { brand: Some(CardBrand::Visa), ..Default::default() }, 50)
                .try_collect()
                .await
                .unwrap();
        let ids: Vec<String> = visa.into_iter().flatten().map(|r| r.id).collect();
        assert_eq!(ids, expected(&db, "card_brand = 'VISA'").await);
    }
}
