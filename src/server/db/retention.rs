//! What card data the database may hold, and for how long: the provider-encrypted card and the CAVV only
//! while a call needs them. `secure_delete` (set on every connection) zeroes what is cleared or deleted in
//! the database file; `scrub` clears what ended checkouts left and empties the write-ahead log, whose older
//! page images would otherwise keep the values after they are cleared.

use super::{Database, begin_write};

/// Clears the stored request of attempts that have ended (only one whose answer is still awaited or unknown
/// keeps it, to be sent again with its key), and what orders no longer waiting for the shopper waited with;
/// then checkpoints the log into the file and truncates it.
pub async fn scrub(db: &Database) -> Result<(), sqlx::Error> {
    let mut tx = begin_write(db).await?;
    sqlx::query(
        "UPDATE payment_attempts SET pending_request = NULL
         WHERE pending_request IS NOT NULL AND status NOT IN ('pending', 'unknown')",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE orders SET awaiting = NULL WHERE awaiting IS NOT NULL AND status <> 'authenticating'")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    super::checkpoint(db).await
}
