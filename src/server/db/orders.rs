//! Orders and their append-only event log.

use super::Pool;
use super::{Tx, now_ms, sealed::Seal};
use crate::domain::{
    card::{CardBrand, CardSummary},
    customer::BillingDetails,
    money::{Currency, Money},
    status::{IllegalTransition, PaymentStatus},
};
use serde::Serialize;
use sqlx::Row;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Provider {
    Verifone,
    Bambora,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Verifone => "verifone",
            Provider::Bambora => "bambora",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        [Provider::Verifone, Provider::Bambora].into_iter().find(|p| p.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CaptureMode {
    /// Authorize and capture at once.
    Sale,
    /// Authorize only; the merchant captures or voids later.
    PreAuth,
}

impl CaptureMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CaptureMode::Sale => "sale",
            CaptureMode::PreAuth => "pre_auth",
        }
    }

    fn parse(s: &str) -> Option<CaptureMode> {
        [CaptureMode::Sale, CaptureMode::PreAuth].into_iter().find(|m| m.as_str() == s)
    }
}

#[derive(Clone, Debug)]
pub struct NewOrder {
    pub checkout_key: Option<String>,
    pub merchant_reference: String,
    pub amount: Money,
    pub billing: BillingDetails,
    pub card: Option<CardSummary>,
    /// Who runs 3-D Secure; none when the acquirer authenticates in its own payment call.
    pub authenticator: Option<Provider>,
    /// The acquirer: who moves the money.
    pub provider: Provider,
    pub capture_mode: CaptureMode,
}

#[derive(Clone, Debug, Serialize)]
pub struct Order {
    pub id: String,
    pub merchant_reference: String,
    pub amount: Money,
    pub captured: Money,
    pub refunded: Money,
    pub billing: BillingDetails,
    pub card: Option<CardSummary>,
    pub status: PaymentStatus,
    pub authenticator: Option<Provider>,
    /// The acquirer: who moves the money.
    pub provider: Provider,
    pub capture_mode: CaptureMode,
    pub liability_shifted: Option<bool>,
    pub outcome_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("order not found")]
    NotFound,
    #[error(transparent)]
    Transition(#[from] IllegalTransition),
    #[error("stored order is corrupt: {0}")]
    Corrupt(&'static str),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

#[derive(Clone, Debug, Serialize)]
pub struct OrderEvent {
    pub id: i64,
    pub kind: String,
    pub details: serde_json::Value,
    pub created_at: i64,
}

/// Records a new order in status `pending`, with its first event, and returns its id.
pub async fn insert(tx: &mut Tx, new: &NewOrder) -> Result<String, OrderError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    let card = new.card.as_ref();
    sqlx::query(
        "INSERT INTO orders (id, merchant_reference, amount_minor, currency, email, billing_first_name,
            billing_last_name, billing_address_1, billing_city, billing_country, card_brand, card_bin6,
            card_last4, card_expiry_month, card_expiry_year, status, provider, capture_mode, created_at,
            updated_at, checkout_key, authenticator)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
    )
    .bind(&id)
    .bind(&new.merchant_reference)
    .bind(new.amount.minor())
    .bind(new.amount.currency().code())
    .bind(&new.billing.email)
    .bind(&new.billing.first_name)
    .bind(&new.billing.last_name)
    .bind(&new.billing.address_1)
    .bind(&new.billing.city)
    .bind(&new.billing.country)
    .bind(card.map(|c| c.brand.code()))
    .bind(card.and_then(|c| c.bin6.as_deref()))
    .bind(card.map(|c| c.last4.as_str()))
    .bind(card.map(|c| i64::from(c.expiry_month)))
    .bind(card.map(|c| i64::from(c.expiry_year)))
    .bind(PaymentStatus::Pending.as_str())
    .bind(new.provider.as_str())
    .bind(new.capture_mode.as_str())
    .bind(now)
    .bind(now)
    .bind(&new.checkout_key)
    .bind(new.authenticator.map(Provider::as_str))
    .execute(&mut **tx)
    .await?;
    append_event(
        tx,
        &id,
        "order_created",
        &serde_json::json!({
            "amount_minor": new.amount.minor(),
            "currency": new.amount.currency().code(),
            "authenticator": new.authenticator.map(Provider::as_str),
            "provider": new.provider.as_str(),
            "capture_mode": new.capture_mode.as_str(),
        }),
    );
    Ok(id)
}

/// Moves an order to `to` if the state machine allows it from its current status, recording an event. An order
/// that moves on waits for the shopper no more: what it waited with (and the card in it) goes.
pub async fn transition(tx: &mut Tx, id: &str, to: PaymentStatus) -> Result<PaymentStatus, OrderError> {
    move_to(tx, id, to, None).await
}

/// Moves the order to `to` (if allowed) and records why, in words a shopper understands.
pub async fn finish(tx: &mut Tx, id: &str, to: PaymentStatus, reason: &str) -> Result<PaymentStatus, OrderError> {
    move_to(tx, id, to, Some(reason)).await
}

async fn move_to(tx: &mut Tx, id: &str, to: PaymentStatus, reason: Option<&str>) -> Result<PaymentStatus, OrderError> {
    let current: String = sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(OrderError::NotFound)?;
    let from = PaymentStatus::parse(&current).ok_or(OrderError::Corrupt("status"))?;
    let to = from.transition(to)?;
    sqlx::query(
        "UPDATE orders SET status = $1, updated_at = $2, awaiting = CASE WHEN $3 THEN awaiting ELSE NULL END,
            outcome_reason = coalesce($4, outcome_reason)
         WHERE id = $5",
    )
    .bind(to.as_str())
    .bind(now_ms())
    .bind(to == PaymentStatus::Authenticating)
    .bind(reason)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    append_event(tx, id, "status_changed", &serde_json::json!({"from": from.as_str(), "to": to.as_str()}));
    Ok(to)
}

/// Says where an order that goes on stands, in words a shopper understands (its status unchanged).
pub async fn set_reason(tx: &mut Tx, id: &str, reason: &str) -> Result<(), OrderError> {
    sqlx::query("UPDATE orders SET outcome_reason = $1, updated_at = $2 WHERE id = $3")
        .bind(reason)
        .bind(now_ms())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The running totals an order keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tally {
    /// What a sale or a pre-authorization's capture took.
    Captured,
    Refunded,
}

/// Adds `minor` to one of the order's totals.
pub async fn add(tx: &mut Tx, id: &str, tally: Tally, minor: i64) -> Result<(), OrderError> {
    let sql = match tally {
        Tally::Captured => "UPDATE orders SET captured_minor = captured_minor + $1, updated_at = $2 WHERE id = $3",
        Tally::Refunded => "UPDATE orders SET refunded_minor = refunded_minor + $1, updated_at = $2 WHERE id = $3",
    };
    sqlx::query(sql).bind(minor).bind(now_ms()).bind(id).execute(&mut **tx).await?;
    Ok(())
}

/// Puts what the provider reported of the card (its brand; its first six and last four) in place of what the
/// browser said, where they differ; true if anything changed.
pub async fn correct_card(
    tx: &mut Tx,
    id: &str,
    brand: Option<CardBrand>,
    digits: Option<(&str, &str)>,
) -> Result<bool, OrderError> {
    let (bin6, last4) = digits.unzip();
    let changed = sqlx::query(
        "UPDATE orders SET card_brand = coalesce($1, card_brand), card_bin6 = coalesce($2, card_bin6),
            card_last4 = coalesce($3, card_last4), updated_at = $4
         WHERE id = $5 AND card_brand IS NOT NULL
            AND (card_brand <> coalesce($1, card_brand) OR card_bin6 <> coalesce($2, card_bin6)
                OR card_last4 <> coalesce($3, card_last4))",
    )
    .bind(brand.map(|b| b.code()))
    .bind(bin6)
    .bind(last4)
    .bind(now_ms())
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// Keeps what the order resumes with while it waits for the shopper (JSON owned by the checkout service), sealed.
pub async fn set_awaiting(tx: &mut Tx, seal: &Seal, id: &str, awaiting: &str) -> Result<(), OrderError> {
    sqlx::query("UPDATE orders SET awaiting = $1, updated_at = $2 WHERE id = $3")
        .bind(seal.seal_awaiting(id, awaiting))
        .bind(now_ms())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Takes what the order waits with, leaving nothing: of two resumptions, only the first gets it. One that
/// cannot be opened (its key is gone) is taken as nothing, as a cleared one.
pub async fn take_awaiting(tx: &mut Tx, seal: &Seal, id: &str) -> Result<Option<String>, OrderError> {
    let awaiting: Option<String> = sqlx::query_scalar("SELECT awaiting FROM orders WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .flatten();
    if awaiting.is_some() {
        sqlx::query("UPDATE orders SET awaiting = NULL WHERE id = $1").bind(id).execute(&mut **tx).await?;
    }
    Ok(awaiting.and_then(|stored| seal.open_awaiting(id, &stored)))
}

/// What the order waits with, if it waits for the shopper (and it can still be opened).
pub async fn awaiting(pool: &Pool, seal: &Seal, id: &str) -> Result<Option<String>, OrderError> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT awaiting FROM orders WHERE id = $1").bind(id).fetch_optional(pool).await?.flatten();
    Ok(stored.and_then(|stored| seal.open_awaiting(id, &stored)))
}

pub async fn by_checkout_key(pool: &Pool, key: &str) -> Result<Option<String>, OrderError> {
    Ok(sqlx::query_scalar("SELECT id FROM orders WHERE checkout_key = $1").bind(key).fetch_optional(pool).await?)
}

/// As `by_checkout_key`, inside a write transaction: it sees an order another writer made and has not yet
/// committed (writes share one connection), so two submits of one key cannot both miss it.
pub async fn by_checkout_key_locked(tx: &mut Tx, key: &str) -> Result<Option<String>, OrderError> {
    Ok(sqlx::query_scalar("SELECT id FROM orders WHERE checkout_key = $1").bind(key).fetch_optional(&mut **tx).await?)
}

/// Orders still waiting on the shopper (e.g. a closed tab mid-challenge, or one that never came back from the
/// bank's page) since before `cutoff_ms`.
pub async fn abandoned(pool: &Pool, cutoff_ms: i64) -> Result<Vec<String>, OrderError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM orders WHERE (status IN ('pending', 'authenticating')
            OR (status = 'authorizing' AND awaiting IS NOT NULL)) AND updated_at < $1",
    )
    .bind(cutoff_ms)
    .fetch_all(pool)
    .await?)
}

/// Takes the order's resolution lease for `owner` until `until_ms`, unless another resolver holds one that
/// has not expired. Only the holder asks the provider about a lost answer and records what it says.
pub async fn take_lease(tx: &mut Tx, id: &str, owner: &str, until_ms: i64) -> Result<bool, OrderError> {
    let taken = sqlx::query(
        "UPDATE orders SET resolver = $1, resolving_until = $2
         WHERE id = $3 AND (resolving_until IS NULL OR resolving_until < $4)",
    )
    .bind(owner)
    .bind(until_ms)
    .bind(id)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(taken == 1)
}

/// Whether `owner` still holds the order's lease (no other resolver took it after it expired).
pub async fn holds_lease(tx: &mut Tx, id: &str, owner: &str) -> Result<bool, OrderError> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE id = $1 AND resolver = $2")
        .bind(id)
        .bind(owner)
        .fetch_one(&mut **tx)
        .await?;
    Ok(n == 1)
}

/// Whether a resolver holds the order now.
pub async fn lease_held(pool: &Pool, id: &str) -> Result<bool, OrderError> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE id = $1 AND resolving_until >= $2")
        .bind(id)
        .bind(now_ms())
        .fetch_one(pool)
        .await?;
    Ok(n == 1)
}

/// Gives the lease back, if `owner` still holds it.
pub async fn release_lease(tx: &mut Tx, id: &str, owner: &str) -> Result<(), OrderError> {
    sqlx::query("UPDATE orders SET resolver = NULL, resolving_until = NULL WHERE id = $1 AND resolver = $2")
        .bind(id)
        .bind(owner)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn with_status(pool: &Pool, status: PaymentStatus) -> Result<Vec<String>, OrderError> {
    Ok(sqlx::query_scalar("SELECT id FROM orders WHERE status = $1").bind(status.as_str()).fetch_all(pool).await?)
}

/// An event of an order's timeline, kept by its write transaction until it commits.
pub struct PendingEvent {
    order_id: String,
    kind: String,
    details: String,
    at: i64,
}

/// Adds an event to the order's timeline: stored when the transaction commits (with it), gone if it does not.
pub fn append_event(tx: &mut Tx, order_id: &str, kind: &str, details: &serde_json::Value) {
    tx.events.push(PendingEvent {
        order_id: order_id.to_owned(),
        kind: kind.to_owned(),
        details: details.to_string(),
        at: now_ms(),
    });
}

/// Writes a transaction's events, in the order they were appended, in one statement.
pub(super) async fn insert_events(tx: &mut Tx, events: &[PendingEvent]) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let mut sql = String::from("INSERT INTO order_events (order_id, kind, details, created_at) VALUES ");
    for i in 0..events.len() {
        let n = i * 4;
        let sep = if i == 0 { "" } else { ", " };
        sql.push_str(&format!("{sep}(${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4));
    }
    let mut query = sqlx::query(&sql);
    for e in events {
        query = query.bind(&e.order_id).bind(&e.kind).bind(&e.details).bind(e.at);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// The columns `order_from_row` reads, named: a `SELECT *` statement that sqlx has cached changes shape when a
/// migration adds a column under a running process (another instance starting, say), and sqlx's worker panics.
const ORDER_COLUMNS: &str = "SELECT id, merchant_reference, currency, amount_minor, captured_minor, refunded_minor,
    billing_first_name, billing_last_name, billing_address_1, billing_city, billing_country, email, card_brand,
    card_bin6, card_last4, card_expiry_month, card_expiry_year, status, authenticator, provider, capture_mode,
    liability_shifted, outcome_reason, created_at, updated_at FROM orders WHERE id = $1";

pub async fn get(pool: &Pool, id: &str) -> Result<Order, OrderError> {
    let row = sqlx::query(ORDER_COLUMNS).bind(id).fetch_optional(pool).await?;
    row.as_ref().map(order_from_row).unwrap_or(Err(OrderError::NotFound))
}

/// The order as this write transaction sees it (nothing can change it until the commit).
pub async fn get_locked(tx: &mut Tx, id: &str) -> Result<Order, OrderError> {
    let row = sqlx::query(ORDER_COLUMNS).bind(id).fetch_optional(&mut **tx).await?;
    row.as_ref().map(order_from_row).unwrap_or(Err(OrderError::NotFound))
}

pub async fn by_reference(pool: &Pool, reference: &str) -> Result<Option<String>, OrderError> {
    Ok(sqlx::query_scalar("SELECT id FROM orders WHERE merchant_reference = $1")
        .bind(reference)
        .fetch_optional(pool)
        .await?)
}

pub async fn events(pool: &Pool, order_id: &str) -> Result<Vec<OrderEvent>, OrderError> {
    let rows = sqlx::query("SELECT id, kind, details, created_at FROM order_events WHERE order_id = $1 ORDER BY id")
        .bind(order_id)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            let details: String = r.try_get("details")?;
            Ok(OrderEvent {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                details: serde_json::from_str(&details).map_err(|_| OrderError::Corrupt("event details"))?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

fn order_from_row(r: &super::Row) -> Result<Order, OrderError> {
    let currency = Currency::parse(r.try_get("currency")?).map_err(|_| OrderError::Corrupt("currency"))?;
    let money = |col: &str| -> Result<Money, OrderError> {
        Money::new(r.try_get(col)?, currency).map_err(|_| OrderError::Corrupt("amount"))
    };
    let brand: Option<String> = r.try_get("card_brand")?;
    let card = match brand {
        Some(brand) => Some(CardSummary {
            brand: CardBrand::parse(&brand).ok_or(OrderError::Corrupt("card_brand"))?,
            bin6: r.try_get("card_bin6")?,
            last4: r.try_get("card_last4")?,
            expiry_month: r.try_get::<i64, _>("card_expiry_month")? as u8,
            expiry_year: r.try_get::<i64, _>("card_expiry_year")? as u16,
        }),
        None => None,
    };
    Ok(Order {
        id: r.try_get("id")?,
        merchant_reference: r.try_get("merchant_reference")?,
        amount: money("amount_minor")?,
        captured: money("captured_minor")?,
        refunded: money("refunded_minor")?,
        billing: BillingDetails {
            first_name: r.try_get("billing_first_name")?,
            last_name: r.try_get("billing_last_name")?,
            address_1: r.try_get("billing_address_1")?,
            city: r.try_get("billing_city")?,
            country: r.try_get("billing_country")?,
            email: r.try_get("email")?,
        },
        card,
        status: PaymentStatus::parse(r.try_get("status")?).ok_or(OrderError::Corrupt("status"))?,
        authenticator: match r.try_get::<Option<String>, _>("authenticator")? {
            Some(name) => Some(Provider::parse(&name).ok_or(OrderError::Corrupt("authenticator"))?),
            None => None,
        },
        provider: Provider::parse(r.try_get("provider")?).ok_or(OrderError::Corrupt("provider"))?,
        capture_mode: CaptureMode::parse(r.try_get("capture_mode")?).ok_or(OrderError::Corrupt("capture_mode"))?,
        liability_shifted: r.try_get::<Option<i64>, _>("liability_shifted")?.map(|v| v == 1),
        outcome_reason: r.try_get("outcome_reason")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}
