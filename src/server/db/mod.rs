//! The only place with SQL. SQLite in WAL mode with `synchronous=FULL`: a committed payment state survives a
//! power cut. Writes go through `begin_write` (`BEGIN IMMEDIATE`, so two writers never deadlock on upgrade)
//! on a single writer connection: writers queue in order in the pool instead of sleeping in SQLite's busy
//! handler, which is what kept tail latency long under concurrent checkouts. Reads use a pool of their own.

pub mod demo;
pub mod merchants;
pub mod order_list;
pub mod orders;
pub mod payments;

use sqlx::{
    Sqlite, Transaction,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous},
};
use std::{str::FromStr, time::Duration};

pub type Tx = Transaction<'static, Sqlite>;

/// The database: a pool for reads (it derefs to it) and one connection for writes.
#[derive(Clone)]
pub struct Database {
    read: SqlitePool,
    write: SqlitePool,
}

impl std::ops::Deref for Database {
    type Target = SqlitePool;

    fn deref(&self) -> &SqlitePool {
        &self.read
    }
}

impl Database {
    pub async fn close(&self) {
        self.write.close().await;
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
        .busy_timeout(Duration::from_secs(5));
    if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
    }
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.clone())
        .await?;
    sqlx::migrate!("./migrations").run(&write).await?;
    let read = SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?;
    Ok(Database { read, write })
}

/// A write transaction that takes the write lock at once.
pub async fn begin_write(db: &Database) -> Result<Tx, sqlx::Error> {
    db.write.begin_with("BEGIN IMMEDIATE").await
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
