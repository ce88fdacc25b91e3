//! Benchmark: what one SQL statement costs our process on SQLite, by the way it reaches the engine. The
//! checkout runs ~48 statements per order; this says how much of their CPU is SQLite's own work and how much
//! the road to it (sqlx's `Any` layer over its SQLite driver, which runs each connection on a thread of its
//! own and hands every statement and its rows across).
//!
//!     cargo run --release --example bench_statements [statements=50000] [rounds=5]
//!
//! The process is pinned to one core (as the app is in `bench_cpu`), so the connection's thread and the
//! runtime's share it. For two statements of the checkout's kind (a row read by primary key; an update of it,
//! inside one open transaction so no COMMIT is counted) it prints, per statement, the process's CPU and the
//! part of it on SQLite's thread, through an `Any` connection (what `src/server/db` uses) and through sqlx's
//! own `SqliteConnection`; and, as the floor, SQLite's own cost of the same lookup run inside one statement
//! (a recursive CTE doing it `statements` times). Median [min–max] over the rounds, in µs.

mod support;

use sqlx::{AnyConnection, Connection, Executor, SqliteConnection};
use std::{future::Future, time::Duration};
use support::procfs::{clock_tick, cpu_time, pin, sqlite_cpu_time};

const ROWS: i64 = 10_000;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n = args.first().copied().unwrap_or(50_000);
    let rounds = args.get(1).copied().unwrap_or(5);
    // Before the runtime and the connections start their threads, so they all inherit the core.
    pin(std::process::id(), 1);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(run(n, rounds));
}

/// (process CPU, of it on SQLite's threads) per statement, in µs, for `n` statements run by `work`.
async fn measure<F: Future<Output = ()>>(n: usize, work: F) -> (f64, f64) {
    let (pid, tick) = (std::process::id(), clock_tick());
    let (cpu, sqlite) = (cpu_time(pid, tick), sqlite_cpu_time(pid, tick));
    work.await;
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    (per(cpu_time(pid, tick) - cpu), per(sqlite_cpu_time(pid, tick).saturating_sub(sqlite)))
}

fn key(i: usize) -> String {
    format!("order-{:08}", (i * 7919) as i64 % ROWS)
}

/// `n` statements on `conn`: reads of a row by its key or, in one transaction rolled back at the end,
/// updates of it.
async fn statements<DB: sqlx::Database>(conn: &mut DB::Connection, n: usize, update: bool)
where
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    String: for<'q> sqlx::Encode<'q, DB> + for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    if update {
        conn.execute("BEGIN IMMEDIATE").await.unwrap();
    }
    for i in 0..n {
        if update {
            sqlx::query("UPDATE t SET n = n + 1 WHERE id = $1").bind(key(i)).execute(&mut *conn).await.unwrap();
        } else {
            let status: Option<String> = sqlx::query_scalar("SELECT status FROM t WHERE id = $1")
                .bind(key(i))
                .fetch_optional(&mut *conn)
                .await
                .unwrap();
            assert!(status.is_some());
        }
    }
    if update {
        conn.execute("ROLLBACK").await.unwrap();
    }
}

/// The same `n` lookups as `statements`, in one statement: SQLite's own work, no road to it.
async fn reads_inside_sqlite(conn: &mut SqliteConnection, n: usize) {
    let found: i64 = sqlx::query_scalar(
        "WITH RECURSIVE i(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM i WHERE k + 1 < $1)
         SELECT count((SELECT status FROM t WHERE id = printf('order-%08d', k * 7919 % $2))) FROM i",
    )
    .bind(n as i64)
    .bind(ROWS)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(found, n as i64);
}

/// "median [min–max]".
fn spread(v: &[f64]) -> String {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    format!("{:.1} [{:.1}–{:.1}]", v[v.len() / 2], v[0], v[v.len() - 1])
}

async fn run(n: usize, rounds: usize) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/statements.db?mode=rwc", dir.path().display());
    sqlx::any::install_default_drivers();
    let mut native = SqliteConnection::connect(&url).await.unwrap();
    native
        .execute(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (id TEXT PRIMARY KEY, status TEXT NOT NULL, n INTEGER NOT NULL)",
        )
        .await
        .unwrap();
    native
        .execute(
            format!(
                "WITH RECURSIVE i(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM i WHERE k + 1 < {ROWS})
                 INSERT INTO t SELECT printf('order-%08d', k), 'captured', 0 FROM i"
            )
            .as_str(),
        )
        .await
        .unwrap();
    let mut any = AnyConnection::connect(&url).await.unwrap();
    // Warm both statement caches and SQLite's page cache.
    statements::<sqlx::Any>(&mut any, 1000, false).await;
    statements::<sqlx::Sqlite>(&mut native, 1000, false).await;

    let mut rows: Vec<(&str, Vec<(f64, f64)>)> = [
        "read by key, Any connection",
        "read by key, SqliteConnection",
        "read by key, inside SQLite",
        "update by key, Any connection",
        "update by key, SqliteConnection",
    ]
    .into_iter()
    .map(|label| (label, Vec::new()))
    .collect();
    for _ in 0..rounds {
        rows[0].1.push(measure(n, statements::<sqlx::Any>(&mut any, n, false)).await);
        rows[1].1.push(measure(n, statements::<sqlx::Sqlite>(&mut native, n, false)).await);
        rows[2].1.push(measure(n, reads_inside_sqlite(&mut native, n)).await);
        rows[3].1.push(measure(n, statements::<sqlx::Any>(&mut any, n, true)).await);
        rows[4].1.push(measure(n, statements::<sqlx::Sqlite>(&mut native, n, true)).await);
    }
    println!("{n} statements × {rounds} rounds, one core: CPU per statement, µs, median [min–max]");
    println!("  {:<34} {:>22} {:>22}", "", "process", "of it SQLite's thread");
    for (label, runs) in rows {
        let total: Vec<f64> = runs.iter().map(|r| r.0).collect();
        let sqlite: Vec<f64> = runs.iter().map(|r| r.1).collect();
        println!("  {label:<34} {:>22} {:>22}", spread(&total), spread(&sqlite));
    }
}
