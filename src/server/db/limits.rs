//! The counters of the checkout's rate limits (per client address, per card fingerprint). They live in the
//! database so that instances sharing it share them.

use super::{Database, Tx, begin_write, now_ms};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `checkout/start`, per client address.
    Start,
    /// `checkout/place`, per client address.
    Place,
    /// A declined or failed payment, per card fingerprint.
    CardFailure,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Start => "start",
            Scope::Place => "place",
            Scope::CardFailure => "card_failure",
        }
    }
}

const COUNT: &str = "SELECT count(*) FROM checkout_limit_hits WHERE scope = $1 AND key = $2 AND at >= $3";

/// Counts one more hit of `key` unless it has had `limit` since `since_ms`; true if it was counted (allowed).
/// Check and count are one statement in a write transaction, so concurrent requests cannot all slip under
/// the limit.
pub async fn take(db: &Database, scope: Scope, key: &str, limit: i64, since_ms: i64) -> Result<bool, sqlx::Error> {
    let mut tx = begin_write(db).await?;
    let counted = take_in(&mut tx, scope, key, limit, since_ms).await?;
    tx.commit().await?;
    Ok(counted)
}

/// `take` in the caller's write transaction: the hit is kept only if that transaction commits.
pub async fn take_in(tx: &mut Tx, scope: Scope, key: &str, limit: i64, since_ms: i64) -> Result<bool, sqlx::Error> {
    let counted = sqlx::query(
        "INSERT INTO checkout_limit_hits (scope, key, at) SELECT $1, $2, $3
         WHERE (SELECT count(*) FROM checkout_limit_hits WHERE scope = $1 AND key = $2 AND at >= $4) < $5",
    )
    .bind(scope.as_str())
    .bind(key)
    .bind(now_ms())
    .bind(since_ms)
    .bind(limit)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    Ok(counted)
}

/// Whether `key` has had fewer than `limit` hits since `since_ms`.
pub async fn below(db: &Database, scope: Scope, key: &str, limit: i64, since_ms: i64) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(COUNT).bind(scope.as_str()).bind(key).bind(since_ms).fetch_one(&**db).await?;
    Ok(n < limit)
}

/// Counts a hit of `key` for `order_id`, once per order.
pub async fn record_once(db: &Database, scope: Scope, key: &str, order_id: &str) -> Result<(), sqlx::Error> {
    let mut tx = begin_write(db).await?;
    sqlx::query(
        "INSERT INTO checkout_limit_hits (scope, key, order_id, at) VALUES ($1, $2, $3, $4) ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(scope.as_str())
    .bind(key)
    .bind(order_id)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Forgets hits older than `before_ms`, which no window counts any more.
pub async fn prune(db: &Database, before_ms: i64) -> Result<(), sqlx::Error> {
    let mut tx = begin_write(db).await?;
    sqlx::query("DELETE FROM checkout_limit_hits WHERE at < $1").bind(before_ms).execute(&mut *tx).await?;
    tx.commit().await
}
