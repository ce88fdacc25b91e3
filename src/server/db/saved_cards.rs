//! Saved cards, how orders use them, and the shopper's email confirmation (one-time codes and sessions).
//! Codes and session tokens are kept as SHA-256 hashes; a reuse token is selected only where a payment needs it.

use super::{Database, Tx, now_ms};
use super::{Pool, Row};
use crate::domain::{card::CardBrand, saved_card::SavedCardView};
use sqlx::Row as _;

/// A saved card with its token, for the payment that uses it.
#[derive(Clone)]
pub struct SavedCard {
    pub view: SavedCardView,
    pub email: String,
    pub bin6: Option<String>,
    pub reuse_token: String,
    pub scheme_reference: Option<String>,
}

impl SavedCard {
    /// The card as an order records it.
    pub fn summary(&self) -> crate::domain::card::CardSummary {
        crate::domain::card::CardSummary {
            brand: self.view.brand,
            bin6: self.bin6.clone(),
            last4: self.view.last4.clone(),
            expiry_month: self.view.expiry_month,
            expiry_year: self.view.expiry_year,
        }
    }
}

impl std::fmt::Debug for SavedCard {
    // The token is a secret: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SavedCard").field("view", &self.view).finish_non_exhaustive()
    }
}

pub struct NewSavedCard<'a> {
    pub email: &'a str,
    pub reuse_token: &'a str,
    pub brand: CardBrand,
    pub bin6: Option<&'a str>,
    pub last4: &'a str,
    pub expiry_month: u8,
    pub expiry_year: u16,
    pub scheme_reference: Option<&'a str>,
    pub first_order_id: &'a str,
}

/// Who started a payment that uses a stored credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Initiator {
    /// The shopper asked to store the card with this payment.
    Signup,
    /// The shopper pays with a saved card.
    Customer,
    /// The merchant charges a saved card.
    Merchant,
}

impl Initiator {
    pub fn as_str(self) -> &'static str {
        match self {
            Initiator::Signup => "signup",
            Initiator::Customer => "customer",
            Initiator::Merchant => "merchant",
        }
    }

    fn parse(s: &str) -> Option<Initiator> {
        [Initiator::Signup, Initiator::Customer, Initiator::Merchant].into_iter().find(|i| i.as_str() == s)
    }
}

#[derive(Clone, Debug)]
pub struct OrderCredential {
    pub initiator: Initiator,
    pub card_id: Option<String>,
    pub parent_order_id: Option<String>,
    pub description: Option<String>,
}

const CARD_COLUMNS: &str = "id, email, reuse_token, card_brand, card_bin6, card_last4, card_expiry_month, \
                            card_expiry_year, scheme_reference";

fn card_of(row: &Row) -> Result<SavedCard, sqlx::Error> {
    let brand: String = row.try_get("card_brand")?;
    let month: i64 = row.try_get("card_expiry_month")?;
    let year: i64 = row.try_get("card_expiry_year")?;
    let corrupt = || sqlx::Error::Decode("saved card".into());
    Ok(SavedCard {
        view: SavedCardView {
            id: row.try_get("id")?,
            brand: CardBrand::parse(&brand).ok_or_else(corrupt)?,
            last4: row.try_get("card_last4")?,
            expiry_month: u8::try_from(month).map_err(|_| corrupt())?,
            expiry_year: u16::try_from(year).map_err(|_| corrupt())?,
        },
        email: row.try_get("email")?,
        bin6: row.try_get("card_bin6")?,
        reuse_token: row.try_get("reuse_token")?,
        scheme_reference: row.try_get("scheme_reference")?,
    })
}

/// Keeps a card the acquirer stored; the same token given again (a repeated answer) is kept once.
pub async fn insert_card(tx: &mut Tx, c: &NewSavedCard<'_>) -> Result<Option<String>, sqlx::Error> {
    let id = uuid::Uuid::new_v4().to_string();
    let done = sqlx::query(
        "INSERT INTO saved_cards (id, email, provider, reuse_token, card_brand, card_bin6, card_last4,
            card_expiry_month, card_expiry_year, scheme_reference, first_order_id, created_at)
         VALUES ($1, $2, 'verifone', $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (reuse_token) DO NOTHING",
    )
    .bind(&id)
    .bind(c.email)
    .bind(c.reuse_token)
    .bind(c.brand.code())
    .bind(c.bin6)
    .bind(c.last4)
    .bind(i64::from(c.expiry_month))
    .bind(i64::from(c.expiry_year))
    .bind(c.scheme_reference)
    .bind(c.first_order_id)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok((done.rows_affected() == 1).then_some(id))
}

/// The saved cards of `email`, newest first.
pub async fn cards_of(pool: &Pool, email: &str) -> Result<Vec<SavedCard>, sqlx::Error> {
    let sql = format!("SELECT {CARD_COLUMNS} FROM saved_cards WHERE email = $1 ORDER BY created_at DESC, id");
    sqlx::query(&sql).bind(email).fetch_all(pool).await?.iter().map(card_of).collect()
}

pub async fn card(pool: &Pool, id: &str) -> Result<Option<SavedCard>, sqlx::Error> {
    let sql = format!("SELECT {CARD_COLUMNS} FROM saved_cards WHERE id = $1");
    sqlx::query(&sql).bind(id).fetch_optional(pool).await?.as_ref().map(card_of).transpose()
}

/// Deletes `id` if it belongs to `email`; true if it did.
pub async fn delete_card(db: &Database, id: &str, email: &str) -> Result<bool, sqlx::Error> {
    let mut tx = super::begin_write(db).await?;
    let done = sqlx::query("DELETE FROM saved_cards WHERE id = $1 AND email = $2")
        .bind(id)
        .bind(email)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_credential(tx: &mut Tx, order_id: &str, c: &OrderCredential) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO order_credentials (order_id, initiator, card_id, parent_order_id, description)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(order_id)
    .bind(c.initiator.as_str())
    .bind(&c.card_id)
    .bind(&c.parent_order_id)
    .bind(&c.description)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn credential_of(row: &Row) -> Result<OrderCredential, sqlx::Error> {
    let initiator: String = row.try_get("initiator")?;
    Ok(OrderCredential {
        initiator: Initiator::parse(&initiator).ok_or_else(|| sqlx::Error::Decode("initiator".into()))?,
        card_id: row.try_get("card_id")?,
        parent_order_id: row.try_get("parent_order_id")?,
        description: row.try_get("description")?,
    })
}

pub async fn credential(pool: &Pool, order_id: &str) -> Result<Option<OrderCredential>, sqlx::Error> {
    sqlx::query("SELECT initiator, card_id, parent_order_id, description FROM order_credentials WHERE order_id = $1")
        .bind(order_id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(credential_of)
        .transpose()
}

/// The card an order stored or paid with (none if it has been deleted since).
pub async fn card_of_order(pool: &Pool, order_id: &str) -> Result<Option<SavedCard>, sqlx::Error> {
    let sql = format!(
        "SELECT {CARD_COLUMNS} FROM saved_cards WHERE first_order_id = $1
            OR id = (SELECT card_id FROM order_credentials WHERE order_id = $1) LIMIT 1"
    );
    sqlx::query(&sql).bind(order_id).fetch_optional(pool).await?.as_ref().map(card_of).transpose()
}

/// Orders the merchant charged against `parent_order_id`, oldest first.
pub async fn charges_of(pool: &Pool, parent_order_id: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT c.order_id FROM order_credentials c JOIN orders o ON o.id = c.order_id
         WHERE c.parent_order_id = $1 ORDER BY o.created_at, o.id",
    )
    .bind(parent_order_id)
    .fetch_all(pool)
    .await
}

/// Stores a new one-time code for `email` (hashed) unless `email` or `address` has had `limit` codes since
/// `since_ms`; check and insert share one write transaction. True if it was stored.
pub async fn insert_code(
    db: &Database,
    email: &str,
    address: &str,
    code_hash: &str,
    expires_at: i64,
    limit: i64,
    since_ms: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = super::begin_write(db).await?;
    let sent: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM shopper_codes WHERE email = $1 AND created_at >= $3),
                (SELECT count(*) FROM shopper_codes WHERE address = $2 AND created_at >= $3)",
    )
    .bind(email)
    .bind(address)
    .bind(since_ms)
    .fetch_one(&mut *tx)
    .await?;
    if sent.0 >= limit || sent.1 >= limit {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO shopper_codes (email, address, code_hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(email)
    .bind(address)
    .bind(code_hash)
    .bind(expires_at)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// What a code check found.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeCheck {
    Confirmed,
    Wrong,
    /// No live code (none sent, expired, used, or out of tries).
    NoCode,
}

/// Checks `code_hash` against `email`'s newest live code, counting the try; a match uses the code up.
pub async fn check_code(db: &Database, email: &str, code_hash: &str, max_tries: i64) -> Result<CodeCheck, sqlx::Error> {
    let mut tx = super::begin_write(db).await?;
    let live: Option<(i64, String)> = sqlx::query_as(
        "SELECT id, code_hash FROM shopper_codes WHERE email = $1 AND used = 0 AND expires_at > $2 AND tries < $3
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(email)
    .bind(now_ms())
    .bind(max_tries)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id, stored)) = live else { return Ok(CodeCheck::NoCode) };
    let matches = subtle::ConstantTimeEq::ct_eq(stored.as_bytes(), code_hash.as_bytes()).into();
    sqlx::query("UPDATE shopper_codes SET tries = tries + 1, used = $1 WHERE id = $2")
        .bind(i64::from(matches))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(if matches { CodeCheck::Confirmed } else { CodeCheck::Wrong })
}

pub async fn insert_session(db: &Database, token_hash: &str, email: &str, expires_at: i64) -> Result<(), sqlx::Error> {
    let mut tx = super::begin_write(db).await?;
    sqlx::query("INSERT INTO shopper_sessions (token_hash, email, expires_at, created_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(email)
        .bind(expires_at)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// The email a live session confirmed.
pub async fn session_email(pool: &Pool, token_hash: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT email FROM shopper_sessions WHERE token_hash = $1 AND expires_at > $2")
        .bind(token_hash)
        .bind(now_ms())
        .fetch_optional(pool)
        .await
}

/// Forgets expired codes and sessions.
pub async fn prune(db: &Database, before_ms: i64) -> Result<(), sqlx::Error> {
    let mut tx = super::begin_write(db).await?;
    sqlx::query("DELETE FROM shopper_codes WHERE created_at < $1").bind(before_ms).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM shopper_sessions WHERE expires_at < $1").bind(now_ms()).execute(&mut *tx).await?;
    tx.commit().await
}
