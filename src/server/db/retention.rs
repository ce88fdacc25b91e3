//! What card data the database may hold, and for how long: the provider-encrypted card and the CAVV only
//! while a call needs them, and then only sealed (`sealed`: a key of the day, destroyed the day after next),
//! so that no copy the database engine keeps of them can be read once their key is gone: PostgreSQL's dead row
//! versions and write-ahead log (with any archive or replica of it), SQLite's free pages and log alike.
//! Clearing still matters: `scrub` clears what ended checkouts left, and then removes the cleared copies it can
//! reach. On SQLite `secure_delete` (set on every connection) zeroes what is cleared or deleted in the file and
//! a checkpoint empties the write-ahead log, whose older page images would otherwise keep the values. On
//! PostgreSQL neither reaches every copy (a cleared value's old row version stays in the heap until vacuumed,
//! its log records for ever): that is what the sealing is for. A scrub that cleared something vacuums the two
//! tables; autovacuum frees the row versions the calls' own clearing leaves.

use super::{Database, Engine, begin_write};

/// Clears the stored request of attempts that have ended (only one whose answer is still awaited or unknown
/// keeps it, to be sent again with its key), and what orders no longer waiting for the shopper waited with
/// (one waiting at a challenge or at the bank's page keeps it);
/// then checkpoints SQLite's log into the file and truncates it, or vacuums PostgreSQL's two tables.
pub async fn scrub(db: &Database) -> Result<(), sqlx::Error> {
    let mut tx = begin_write(db).await?;
    let requests = sqlx::query(
        "UPDATE payment_attempts SET pending_request = NULL
         WHERE pending_request IS NOT NULL AND status NOT IN ('pending', 'unknown')",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // An order waits for the shopper while authenticating (a challenge) and while authorizing at the bank's
    // page (Bambora): the sweeper expires those it gave up on, which clears what they waited with.
    let awaiting = sqlx::query(
        "UPDATE orders SET awaiting = NULL
         WHERE awaiting IS NOT NULL AND status NOT IN ('authenticating', 'authorizing')",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    match db.engine() {
        Engine::Sqlite => super::checkpoint(db).await,
        // Outside any transaction (VACUUM refuses to run in one), and only when something was cleared, not every
        // sweep of every instance. It takes no lock that stops reads or writes.
        Engine::Postgres if requests + awaiting > 0 => {
            sqlx::query("VACUUM payment_attempts, orders").execute(&**db).await.map(|_| ())
        }
        Engine::Postgres => Ok(()),
    }
}
