//! The only place with SQL. SQLite in WAL mode with `synchronous=FULL`: a committed payment state survives a
//! power cut. Reads use a pool of their own. Writes share one connection and are group-committed: each
//! `begin_write` is a savepoint inside one `BEGIN IMMEDIATE` transaction, and `commit` returns once a COMMIT
//! that includes it has reached the disk. Writers that queue up while one COMMIT is being written share
//! the next, so one fsync serves many checkouts and no commit is weaker than `synchronous=FULL`.

pub mod demo;
pub mod limits;
pub mod merchants;
pub mod order_list;
pub mod orders;
pub mod payments;
pub mod retention;
pub mod saved_cards;

use sqlx::{
    ConnectOptions, SqliteConnection,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous},
};
use std::{str::FromStr, sync::Arc, time::Duration};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The database: a pool for reads (it derefs to it) and the writer.
#[derive(Clone)]
pub struct Database {
    read: SqlitePool,
    writer: Arc<Mutex<Writer>>,
}

/// The one write connection and the state of the transaction its jobs share.
struct Writer {
    conn: SqliteConnection,
    /// A `BEGIN IMMEDIATE` is open, holding the work of jobs waiting for its COMMIT.
    open: bool,
    /// Counts COMMITs (and failed ones): a job is durable once the generation it joined has ended well.
    generation: u64,
    /// Generations whose COMMIT failed (their jobs get the error).
    failed: Vec<u64>,
    /// The last job ended without committing: its savepoint is rolled back before anything else runs.
    abandoned: bool,
    /// Jobs whose work is in the open transaction, waiting for its COMMIT.
    released: usize,
}

impl std::ops::Deref for Database {
    type Target = SqlitePool;

    fn deref(&self) -> &SqlitePool {
        &self.read
    }
}

impl Database {
    pub async fn close(&self) {
        self.read.close().await;
    }
}

/// Opens (creating if needed) the database and brings its schema up to date.
pub async fn connect(database_url: &str) -> Result<Database, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(database_url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        // Cleared card data is overwritten with zeros, not left in free space (see `retention`).
        .pragma("secure_delete", "ON")
        .busy_timeout(Duration::from_secs(5));
    if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
    }
    let mut conn = options.connect().await?;
    sqlx::migrate!("./migrations").run(&mut conn).await?;
    let read = SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?;
    let writer = Writer { conn, open: false, generation: 0, failed: Vec::new(), abandoned: false, released: 0 };
    Ok(Database { read, writer: Arc::new(Mutex::new(writer)) })
}

/// A write transaction (a savepoint in the shared one). Dropping it without `commit` undoes its work.
pub struct Tx {
    guard: Option<OwnedMutexGuard<Writer>>,
    writer: Arc<Mutex<Writer>>,
}

impl std::ops::Deref for Tx {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.guard.as_ref().expect("an open write transaction").conn
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.guard.as_mut().expect("an open write transaction").conn
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        let Some(mut writer) = self.guard.take() else { return };
        writer.abandoned = true;
        // Undo it now, and end the shared transaction if no other job's work waits in it, so the write lock
        // is not held until the next writer comes along.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if writer.settle().await.is_ok() && writer.open && writer.released == 0 {
                    let _ = writer.exec("ROLLBACK").await;
                    writer.open = false;
                    writer.generation += 1;
                }
            });
        }
    }
}

impl Writer {
    async fn exec(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        sqlx::query(sql).execute(&mut self.conn).await.map(|_| ())
    }

    /// Rolls back what an abandoned job left; if even that fails, the whole shared transaction goes.
    async fn settle(&mut self) -> Result<(), sqlx::Error> {
        if !std::mem::take(&mut self.abandoned) {
            return Ok(());
        }
        let undone = match self.exec("ROLLBACK TO job").await {
            Ok(()) => self.exec("RELEASE job").await,
            Err(e) => Err(e),
        };
        if let Err(e) = undone {
            self.end(false).await;
            return Err(e);
        }
        Ok(())
    }

    /// Ends the shared transaction (committed or not) and starts a new generation.
    async fn end(&mut self, committed: bool) {
        if !committed {
            let _ = self.exec("ROLLBACK").await;
            self.failed.push(self.generation);
            if self.failed.len() > 64 {
                self.failed.remove(0);
            }
        }
        self.open = false;
        self.released = 0;
        self.generation += 1;
    }

    /// Makes `generation` durable, unless it is already.
    async fn flush(&mut self, generation: u64) -> Result<(), sqlx::Error> {
        if self.generation == generation && self.open {
            self.settle().await?;
            if let Err(e) = self.exec("COMMIT").await {
                self.end(false).await;
                return Err(e);
            }
            self.end(true).await;
        }
        if self.failed.contains(&generation) {
            return Err(sqlx::Error::Protocol("the write transaction failed; nothing was stored".into()));
        }
        Ok(())
    }
}

/// A write transaction that holds the write lock at once (`BEGIN IMMEDIATE`, shared with other jobs).
pub async fn begin_write(db: &Database) -> Result<Tx, sqlx::Error> {
    let mut writer = db.writer.clone().lock_owned().await;
    writer.settle().await?;
    if !writer.open {
        writer.exec("BEGIN IMMEDIATE").await?;
        writer.open = true;
    }
    writer.exec("SAVEPOINT job").await?;
    Ok(Tx { guard: Some(writer), writer: db.writer.clone() })
}

impl Tx {
    /// Keeps this job's work and returns once it is on disk.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let mut writer = self.guard.take().expect("an open write transaction");
        if let Err(e) = writer.exec("RELEASE job").await {
            writer.abandoned = true;
            return Err(e);
        }
        writer.released += 1;
        let generation = writer.generation;
        // Others may add their work to this transaction before it is committed: that is the point.
        drop(writer);
        // Spawned, so the COMMIT happens even if the caller stops waiting for it.
        let shared = self.writer.clone();
        tokio::spawn(async move { shared.lock().await.flush(generation).await })
            .await
            .map_err(|e| sqlx::Error::Protocol(format!("the commit task failed: {e}")))?
    }
}

/// Copies the write-ahead log into the database file and truncates it, once no reader needs it (if one
/// does, the next call does it). The writer's lock is held, so no write lands in the log meanwhile.
pub async fn checkpoint(db: &Database) -> Result<(), sqlx::Error> {
    let mut writer = db.writer.lock().await;
    writer.settle().await?;
    if writer.open {
        let generation = writer.generation;
        writer.flush(generation).await?;
    }
    let busy: i64 = sqlx::query_scalar("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&mut writer.conn).await?;
    if busy != 0 {
        tracing::debug!("the checkpoint waits for readers; the next one truncates the log");
    }
    Ok(())
}

/// Whether the database answers a trivial query.
pub async fn is_reachable(pool: &SqlitePool) -> bool {
    sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(pool).await.is_ok()
}

/// Now, in Unix milliseconds (the unit of every `*_at` column).
pub fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fresh() -> (tempfile::TempDir, Database, String) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/g.db", dir.path().display());
        let db = connect(&url).await.unwrap();
        (dir, db, url)
    }

    async fn write_failure(db: &Database, account: &str) -> Result<(), sqlx::Error> {
        let mut tx = begin_write(db).await?;
        sqlx::query("INSERT INTO sign_in_failures (account, address, at) VALUES (?, 'test', 0)")
            .bind(account)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    async fn count(db: &Database) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM sign_in_failures").fetch_one(&**db).await.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writers_share_commits_and_all_are_durable_on_return() {
        let (_dir, db, _) = fresh().await;
        let jobs: Vec<_> = (0..64)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    write_failure(&db, &format!("a{i}")).await.unwrap();
                    // Committed means readable by any other connection at once.
                    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM sign_in_failures WHERE account = ?")
                        .bind(format!("a{i}"))
                        .fetch_one(&*db)
                        .await
                        .unwrap();
                    assert_eq!(seen, 1);
                })
            })
            .collect();
        for j in jobs {
            j.await.unwrap();
        }
        assert_eq!(count(&db).await, 64);
        let commits = db.writer.lock().await.generation;
        assert!(commits < 64, "{commits} commits for 64 jobs: nothing was grouped");
    }

    #[tokio::test]
    async fn a_dropped_or_failed_job_leaves_nothing_and_holds_no_lock() {
        let (_dir, db, url) = fresh().await;
        write_failure(&db, "kept").await.unwrap();
        {
            let mut tx = begin_write(&db).await.unwrap();
            sqlx::query("INSERT INTO sign_in_failures (account, address, at) VALUES ('dropped', 'x', 0)")
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        let mut tx = begin_write(&db).await.unwrap();
        let bad = sqlx::query("INSERT INTO sign_in_failures (id, account, address, at) VALUES (1, 'dup', 'x', 0)")
            .execute(&mut *tx)
            .await;
        assert!(bad.is_err(), "a duplicate primary key");
        drop(tx);
        write_failure(&db, "after").await.unwrap();
        let accounts: Vec<String> =
            sqlx::query_scalar("SELECT account FROM sign_in_failures ORDER BY id").fetch_all(&*db).await.unwrap();
        assert_eq!(accounts, ["kept", "after"]);
        // Another process can take the write lock: nothing is left open.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let other = SqliteConnectOptions::from_str(&url).unwrap().busy_timeout(Duration::from_millis(200));
        let mut other = other.connect().await.unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.expect("the write lock is free");
        sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    }
}
