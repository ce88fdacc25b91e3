//! Merchant users, their sessions and sign-in attempts not (yet) followed by a successful one.

use super::Pool;
use super::{Database, Tx, now_ms};
use sqlx::Row;

#[derive(Clone, Debug)]
pub struct MerchantUser {
    pub id: i64,
    pub email: String,
}

pub async fn user_count(pool: &Pool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM merchant_users").fetch_one(pool).await
}

/// Creates the user, or replaces the password of the user with this email and ends every session the old
/// password opened. Returns the user's id.
pub async fn set_password(tx: &mut Tx, email: &str, password_hash: &str) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO merchant_users (email, password_hash, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash
         RETURNING id",
    )
    .bind(email)
    .bind(password_hash)
    .bind(now_ms())
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM merchant_sessions WHERE user_id = $1").bind(id).execute(&mut **tx).await?;
    Ok(id)
}

/// The user and their password hash, by email (any case).
pub async fn user_by_email(pool: &Pool, email: &str) -> Result<Option<(MerchantUser, String)>, sqlx::Error> {
    let row = sqlx::query("SELECT id, email, password_hash FROM merchant_users WHERE email = $1")
        .bind(email)
        .fetch_optional(pool)
        .await?;
    row.map(|r| Ok((MerchantUser { id: r.try_get("id")?, email: r.try_get("email")? }, r.try_get("password_hash")?)))
        .transpose()
}

/// How many sign-in attempts an account and an address may have had since `since_ms`.
pub struct Limits {
    pub per_account: i64,
    pub per_address: i64,
    pub since_ms: i64,
}

pub enum Attempt {
    Counted,
    /// Over a limit: nothing was recorded. `oldest` is when the oldest attempt that counts was made.
    Refused {
        oldest: i64,
    },
}

/// Counts a sign-in attempt against the account and the address, unless either is over its limit already.
/// Reading the counts and recording the attempt are one write transaction, so attempts made in parallel
/// are counted one after another. The rows stay until a successful sign-in (`start_session`) or the window
/// passes.
pub async fn count_attempt(
    db: &Database,
    account: &str,
    address: &str,
    limits: &Limits,
) -> Result<Attempt, sqlx::Error> {
    let mut tx = super::begin_write(db).await?;
    let row = sqlx::query(
        "SELECT (SELECT count(*) FROM sign_in_failures WHERE account = $1 AND at >= $3) AS by_account,
                (SELECT count(*) FROM sign_in_failures WHERE address = $2 AND at >= $3) AS by_address,
                (SELECT min(at) FROM sign_in_failures WHERE (account = $1 OR address = $2) AND at >= $3) AS oldest",
    )
    .bind(account)
    .bind(address)
    .bind(limits.since_ms)
    .fetch_one(&mut *tx)
    .await?;
    let (by_account, by_address): (i64, i64) = (row.try_get("by_account")?, row.try_get("by_address")?);
    if by_account >= limits.per_account || by_address >= limits.per_address {
        let oldest = row.try_get::<Option<i64>, _>("oldest")?.unwrap_or(0);
        return Ok(Attempt::Refused { oldest });
    }
    sqlx::query("INSERT INTO sign_in_failures (account, address, at) VALUES ($1, $2, $3)")
        .bind(account)
        .bind(address)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Attempt::Counted)
}

/// Starts a session after a successful sign-in: the account's failures are forgotten, and the session
/// `replaced` (the one the browser had before, if any) ends, so a session id never survives a sign-in.
pub async fn start_session(
    db: &Database,
    user_id: i64,
    account: &str,
    token_hash: &str,
    replaced: Option<&str>,
) -> Result<(), sqlx::Error> {
    let mut tx = super::begin_write(db).await?;
    sqlx::query("DELETE FROM sign_in_failures WHERE account = $1").bind(account).execute(&mut *tx).await?;
    if let Some(old) = replaced {
        sqlx::query("DELETE FROM merchant_sessions WHERE token_hash = $1").bind(old).execute(&mut *tx).await?;
    }
    let now = now_ms();
    sqlx::query(
        "INSERT INTO merchant_sessions (token_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// A live session: its user, and when it was last used.
pub async fn session(
    pool: &Pool,
    token_hash: &str,
    idle_since_ms: i64,
    created_since_ms: i64,
) -> Result<Option<(MerchantUser, i64)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT u.id, u.email, s.last_seen_at FROM merchant_sessions s JOIN merchant_users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.last_seen_at >= $2 AND s.created_at >= $3",
    )
    .bind(token_hash)
    .bind(idle_since_ms)
    .bind(created_since_ms)
    .fetch_optional(pool)
    .await?;
    row.map(|r| Ok((MerchantUser { id: r.try_get("id")?, email: r.try_get("email")? }, r.try_get("last_seen_at")?)))
        .transpose()
}

pub async fn touch_session(db: &Database, token_hash: &str) -> Result<(), sqlx::Error> {
    let mut tx = super::begin_write(db).await?;
    sqlx::query("UPDATE merchant_sessions SET last_seen_at = $1 WHERE token_hash = $2")
        .bind(now_ms())
        .bind(token_hash)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

pub async fn end_session(db: &Database, token_hash: &str) -> Result<(), sqlx::Error> {
    let mut tx = super::begin_write(db).await?;
    sqlx::query("DELETE FROM merchant_sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *tx).await?;
    tx.commit().await
}

/// Drops sessions and failure records nobody can use any more.
pub async fn prune(db: &Database, sessions_before_ms: i64, failures_before_ms: i64) -> Result<(), sqlx::Error> {
    let mut tx = super::begin_write(db).await?;
    sqlx::query("DELETE FROM merchant_sessions WHERE last_seen_at < $1")
        .bind(sessions_before_ms)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sign_in_failures WHERE at < $1").bind(failures_before_ms).execute(&mut *tx).await?;
    tx.commit().await
}
