//! The only place with SQL, for two engines through sqlx's `Any` driver: one copy of each query, written in
//! the SQL both accept (numbered `$1` parameters, `ON CONFLICT`, `RETURNING`); the few places where the
//! dialects differ ask `Engine` (the history's page query, the demo loader, maintenance).
//!
//! SQLite (the default) runs in WAL mode with `synchronous=FULL`: a committed payment state survives a power
//! cut. Reads use a pool of their own. Writes share one connection and are group-committed: the jobs of
//! `begin_write` share one `BEGIN IMMEDIATE` transaction (one that joins others' work is a savepoint in it),
//! and `commit` returns once a COMMIT that includes the job has reached the disk. Writers that queue up while
//! one COMMIT is being written share the next, so one fsync serves many checkouts and no commit is weaker than
//! `synchronous=FULL`.
//!
//! PostgreSQL (several instances on one database) gives each `begin_write` a transaction of its own from the
//! pool, which first takes one advisory lock (`WRITE_LOCK`): write transactions of every instance run one
//! after another, as SQLite's do, so each reads what the previous one committed and no check-then-write in
//! the services can interleave with another instance's. Reads take no lock and scale with instances.

pub mod demo;
pub mod limits;
pub mod merchants;
pub mod order_list;
pub mod orders;
pub mod payments;
pub mod retention;
pub mod saved_cards;
pub mod sealed;

use sqlx::{
    Any, AnyConnection, ConnectOptions, Connection,
    any::AnyPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};
use std::{str::FromStr, sync::Arc, time::Duration};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The read pool of either engine.
pub type Pool = sqlx::AnyPool;
/// A row of either engine.
pub type Row = sqlx::any::AnyRow;

/// Which database `DATABASE_URL` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn of_url(url: &str) -> Option<Engine> {
        if url.starts_with("sqlite:") {
            Some(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Engine::Postgres)
        } else {
            None
        }
    }

    /// The engine behind a pool.
    pub fn of(pool: &Pool) -> Engine {
        Engine::of_url(pool.connect_options().database_url.as_str()).unwrap_or(Engine::Sqlite)
    }
}

/// The database: a pool for reads (it derefs to it) and, on SQLite, the shared writer.
#[derive(Clone)]
pub struct Database {
    read: Pool,
    engine: Engine,
    /// SQLite's one write connection; PostgreSQL writes on pool connections.
    writer: Option<Arc<Mutex<Writer>>>,
    /// PostgreSQL: this instance's writers queue here before taking a connection. Write transactions run one
    /// at a time anyway (`WRITE_LOCK`); a writer waiting for the lock on a connection of the pool would leave
    /// the pool short for the reads the holder makes, and enough of them would leave it none.
    pg_writers: Arc<Mutex<()>>,
}

/// The one write connection and the state of the transaction its jobs share.
struct Writer {
    conn: AnyConnection,
    /// A `BEGIN IMMEDIATE` is open, holding the work of jobs waiting for its COMMIT.
    open: bool,
    /// Counts COMMITs (and failed ones): a job is durable once the generation it joined has ended well.
    generation: u64,
    /// Generations whose COMMIT failed (their jobs get the error).
    failed: Vec<u64>,
    /// The last job ended without committing: its work is undone before anything else runs.
    abandoned: bool,
    /// The running job has a savepoint: it joined work of others. A job that opens the transaction has none
    /// (two statements fewer); if it ends without committing, the transaction, holding only its work, goes.
    savepoint: bool,
    /// Jobs whose work is in the open transaction, waiting for its COMMIT.
    released: usize,
}

impl std::ops::Deref for Database {
    type Target = Pool;

    fn deref(&self) -> &Pool {
        &self.read
    }
}

impl Database {
    pub async fn close(&self) {
        self.read.close().await;
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }
}

/// The advisory lock every PostgreSQL write transaction takes first (an arbitrary key: "card-che").
const WRITE_LOCK: i64 = 0x6361_7264_2d63_6865;

/// Settings of every SQLite connection. `secure_delete`: cleared card data is overwritten with zeros, not left
/// in free space (see `retention`).
const SQLITE_PRAGMAS: &str =
    "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON; PRAGMA busy_timeout = 5000;";

/// Opens (creating if needed) the database and brings its schema up to date.
pub async fn connect(database_url: &str) -> Result<Database, sqlx::Error> {
    sqlx::any::install_default_drivers();
    match Engine::of_url(database_url) {
        Some(Engine::Sqlite) => connect_sqlite(database_url).await,
        Some(Engine::Postgres) => connect_postgres(database_url).await,
        None => Err(sqlx::Error::Configuration("DATABASE_URL must start with sqlite: or postgres://".into())),
    }
}

async fn connect_sqlite(database_url: &str) -> Result<Database, sqlx::Error> {
    // The file is created, put in WAL mode (which it keeps) and migrated on a connection of SQLite's own
    // driver, which can create it; the connections that stay are `Any` ones, opened on the file it made.
    let options = SqliteConnectOptions::from_str(database_url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    if options.get_filename().to_string_lossy().contains(":memory:") || database_url.contains("mode=memory") {
        return Err(sqlx::Error::Configuration("an in-memory SQLite database is one per connection".into()));
    }
    if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
    }
    let mut conn = options.connect().await?;
    sqlx::migrate!("./migrations").run(&mut conn).await?;
    conn.close().await?;
    let mut conn = AnyConnection::connect(database_url).await?;
    sqlx::Executor::execute(&mut conn, SQLITE_PRAGMAS).await?;
    // No ping before each read (sqlx pings every connection it lends, and again when it is returned): a
    // SQLite connection is a thread of this process, and each ping a round trip to it; a broken one is still
    // found by the ping on its return.
    let read = AnyPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move { sqlx::Executor::execute(conn, SQLITE_PRAGMAS).await.map(|_| ()) })
        })
        .connect(database_url)
        .await?;
    let writer = Writer {
        conn,
        open: false,
        generation: 0,
        failed: Vec::new(),
        abandoned: false,
        savepoint: false,
        released: 0,
    };
    Ok(Database {
        read,
        engine: Engine::Sqlite,
        writer: Some(Arc::new(Mutex::new(writer))),
        pg_writers: Arc::default(),
    })
}

/// Connections each instance keeps to PostgreSQL at most (`PG_MAX_CONNECTIONS` lowers or raises it).
const PG_MAX_CONNECTIONS: u32 = 16;

async fn connect_postgres(database_url: &str) -> Result<Database, sqlx::Error> {
    // sqlx holds an advisory lock while it migrates: of several instances starting at once, one applies the
    // migrations and the others wait for it, then find nothing left to do.
    let mut conn = AnyConnection::connect(database_url).await?;
    sqlx::migrate!("./migrations/postgres").run(&mut conn).await?;
    conn.close().await?;
    let max = std::env::var("PG_MAX_CONNECTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(PG_MAX_CONNECTIONS);
    let read = AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(5))
        .connect(database_url)
        .await?;
    Ok(Database { read, engine: Engine::Postgres, writer: None, pg_writers: Arc::default() })
}

/// A write transaction: a savepoint in SQLite's shared one, or a PostgreSQL transaction holding the write
/// lock. Dropping it without `commit` undoes its work.
pub struct Tx {
    kind: TxKind,
    /// Order events appended in this transaction, written by one statement when it commits (each statement
    /// is a round trip to SQLite's connection thread; a checkout appends nine).
    events: Vec<orders::PendingEvent>,
}

enum TxKind {
    Shared {
        guard: Option<OwnedMutexGuard<Writer>>,
        writer: Arc<Mutex<Writer>>,
    },
    /// The guard keeps this instance's place in its writers' queue until the transaction ends.
    Own {
        tx: Option<sqlx::Transaction<'static, Any>>,
        _queued: OwnedMutexGuard<()>,
    },
}

impl std::ops::Deref for Tx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        match &self.kind {
            TxKind::Shared { guard, .. } => &guard.as_ref().expect("an open write transaction").conn,
            TxKind::Own { tx, .. } => tx.as_ref().expect("an open write transaction"),
        }
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match &mut self.kind {
            TxKind::Shared { guard, .. } => &mut guard.as_mut().expect("an open write transaction").conn,
            TxKind::Own { tx, .. } => tx.as_mut().expect("an open write transaction"),
        }
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        // A PostgreSQL transaction rolls itself back when dropped.
        let TxKind::Shared { guard, .. } = &mut self.kind else { return };
        let Some(mut writer) = guard.take() else { return };
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
        if !self.savepoint {
            // It opened the transaction and no other job has joined it since.
            self.end(false).await;
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

/// A write transaction. On SQLite it holds the write lock at once (`BEGIN IMMEDIATE`, shared with other
/// jobs); on PostgreSQL it waits for every other instance's write transaction to end (`WRITE_LOCK`).
pub async fn begin_write(db: &Database) -> Result<Tx, sqlx::Error> {
    let Some(shared) = &db.writer else {
        let queued = db.pg_writers.clone().lock_owned().await;
        let mut tx = db.read.begin().await?;
        sqlx::query("SELECT 1 FROM pg_advisory_xact_lock($1)").bind(WRITE_LOCK).execute(&mut *tx).await?;
        return Ok(Tx { kind: TxKind::Own { tx: Some(tx), _queued: queued }, events: Vec::new() });
    };
    let mut writer = shared.clone().lock_owned().await;
    writer.settle().await?;
    writer.savepoint = writer.open;
    if writer.open {
        writer.exec("SAVEPOINT job").await?;
    } else {
        writer.exec("BEGIN IMMEDIATE").await?;
        writer.open = true;
    }
    Ok(Tx { kind: TxKind::Shared { guard: Some(writer), writer: shared.clone() }, events: Vec::new() })
}

impl Tx {
    /// Keeps this job's work and returns once it is on disk.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let events = std::mem::take(&mut self.events);
        orders::insert_events(&mut self, &events).await?;
        let (guard, shared) = match &mut self.kind {
            TxKind::Shared { guard, writer } => (guard, writer.clone()),
            TxKind::Own { tx, .. } => return tx.take().expect("an open write transaction").commit().await,
        };
        let mut writer = guard.take().expect("an open write transaction");
        if writer.savepoint
            && let Err(e) = writer.exec("RELEASE job").await
        {
            writer.abandoned = true;
            return Err(e);
        }
        writer.released += 1;
        let generation = writer.generation;
        // Others may add their work to this transaction before it is committed: that is the point.
        drop(writer);
        // Spawned, so the COMMIT happens even if the caller stops waiting for it.
        tokio::spawn(async move { shared.lock().await.flush(generation).await })
            .await
            .map_err(|e| sqlx::Error::Protocol(format!("the commit task failed: {e}")))?
    }
}

/// Copies SQLite's write-ahead log into the database file and truncates it, once no reader needs it (if one
/// does, the next call does it). The writer's lock is held, so no write lands in the log meanwhile.
/// PostgreSQL manages its own log.
pub async fn checkpoint(db: &Database) -> Result<(), sqlx::Error> {
    let Some(shared) = &db.writer else { return Ok(()) };
    let mut writer = shared.lock().await;
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
pub async fn is_reachable(pool: &Pool) -> bool {
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
        sqlx::query("INSERT INTO sign_in_failures (account, address, at) VALUES ($1, 'test', 0)")
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
        // Every fifth job gives up instead: whether it opened the transaction or joined others' work in it,
        // only its own work goes.
        let jobs: Vec<_> = (0..80)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    if i % 5 == 0 {
                        let mut tx = begin_write(&db).await.unwrap();
                        sqlx::query("INSERT INTO sign_in_failures (account, address, at) VALUES ('gone', 'x', 0)")
                            .execute(&mut *tx)
                            .await
                            .unwrap();
                        tokio::task::yield_now().await;
                        return;
                    }
                    write_failure(&db, &format!("a{i}")).await.unwrap();
                    // Committed means readable by any other connection at once.
                    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM sign_in_failures WHERE account = $1")
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
        write_failure(&db, "last").await.unwrap();
        assert_eq!(count(&db).await, 65);
        let commits = db.writer.as_ref().unwrap().lock().await.generation;
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
