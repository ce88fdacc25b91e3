//! Test harness: each test runs the real server binary as its own process (one app per process, as in
//! production) on a free port with a fresh database, and captures every log line it writes. The database is
//! a SQLite file, or with `TEST_DATABASE=postgres://…` (a server's maintenance database, which
//! scripts/test.sh starts) a PostgreSQL database of its own created in that server.

#![allow(dead_code)]

pub mod bambora;
pub mod checkout;
pub mod merchant;
pub mod resilience;
pub mod saved_cards;
pub mod tamper;
pub mod verifone;

use card_checkout::server::db;
use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{Mutex, OnceLock},
    time::Duration,
};
use tempfile::TempDir;

pub struct TestApp {
    pub url: String,
    pub database_url: String,
    /// Our own connections to the app's database file, for checking what was stored.
    pub pool: db::Pool,
    pub db: db::Database,
    pub client: reqwest::Client,
    child: Child,
    _dir: TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The engine the tests run on: PostgreSQL when `TEST_DATABASE` names a server, else SQLite.
pub fn engine() -> db::Engine {
    match std::env::var("TEST_DATABASE") {
        Ok(url) if !url.is_empty() => db::Engine::of_url(&url).expect("TEST_DATABASE is a postgres:// URL"),
        _ => db::Engine::Sqlite,
    }
}

/// The URL of a new, empty database: a file in `dir`, or a database of its own in `TEST_DATABASE`'s server.
pub async fn fresh_database(dir: &TempDir) -> String {
    fresh_database_on(engine(), dir).await
}

/// A new, empty database on `engine` (PostgreSQL: in `TEST_DATABASE`'s server).
pub async fn fresh_database_on(engine: db::Engine, dir: &TempDir) -> String {
    if engine == db::Engine::Sqlite {
        return format!("sqlite://{}/test.db", dir.path().display());
    }
    let server = std::env::var("TEST_DATABASE").expect("TEST_DATABASE names a PostgreSQL server");
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(&server).await.expect("TEST_DATABASE answers");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("a test database");
    let _ = conn.close().await;
    let mut url = reqwest::Url::parse(&server).expect("TEST_DATABASE is a URL");
    url.set_path(&name);
    url.to_string()
}

/// The app's tables (not sqlx's record of migrations, which holds the migrations' text and a timestamp that
/// `Any` does not read).
pub async fn table_names(app: &TestApp) -> Vec<String> {
    let sql = match engine() {
        db::Engine::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> '_sqlx_migrations'",
        db::Engine::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'"
        }
    };
    let tables: Vec<String> = sqlx::query_scalar(sql).fetch_all(&app.pool).await.unwrap();
    assert!(tables.len() > 10, "{tables:?}");
    tables
}

/// The seal key file of the apps on a PostgreSQL test database (its name is unique).
pub fn seal_key_file(database_url: &str) -> std::path::PathBuf {
    let name = database_url.rsplit('/').next().unwrap_or_default();
    std::env::temp_dir().join("card-checkout-test-seal").join(format!("{name}.key"))
}

/// A port that was free a moment ago (the OS picks it for port 0).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(&[]).await
    }

    /// Spawns the app with extra environment settings on top of the test defaults.
    pub async fn spawn_with(extra: &[(&str, &str)]) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let addr = format!("127.0.0.1:{}", free_port());
        // A DATABASE_URL among the extra settings shares another app's database (e.g. a restart).
        let database_url = extra.iter().find(|(k, _)| *k == "DATABASE_URL").map(|(_, v)| v.to_string());
        let database_url = match database_url {
            Some(url) => url,
            None => fresh_database(&dir).await,
        };
        let mut command = Command::new(env!("CARGO_BIN_EXE_card-checkout"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("APP_ADDR", &addr)
            .env("DATABASE_URL", &database_url)
            .env("LOG_FORMAT", "json")
            .env("LOG_LEVEL", "debug")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // PostgreSQL has no default seal key file: the apps on one database (a restart, a second instance) share
        // one named after it.
        if engine() == db::Engine::Postgres {
            command.env("SEAL_KEY_FILE", seal_key_file(&database_url));
        }
        for (k, v) in extra {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("the app starts");
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut logs = LOGS.get_or_init(Default::default).lock().unwrap();
                logs.push_str(&line);
                logs.push('\n');
            }
        });
        let url = format!("http://{addr}");
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        for _ in 0..200 {
            if client.get(format!("{url}/health")).send().await.is_ok() {
                let db = db::connect(&database_url).await.expect("test pool");
                return TestApp { url, database_url, pool: (*db).clone(), db, client, child, _dir: dir };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the app did not answer on {url}");
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.url)).send().await.expect("request sent")
    }
}

/// The sandbox on its own (`card-checkout sandbox --port N`), stopped when dropped.
pub struct StandaloneSandbox {
    /// Where the sandbox is mounted: `http://127.0.0.1:N/sandbox`.
    pub url: String,
    child: Child,
}

impl Drop for StandaloneSandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl StandaloneSandbox {
    pub async fn spawn() -> StandaloneSandbox {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_card-checkout"))
            .args(["sandbox", "--port", &port.to_string()])
            .env("LOG_LEVEL", "warn")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .spawn()
            .expect("the sandbox starts");
        let sandbox = StandaloneSandbox { url: format!("http://127.0.0.1:{port}/sandbox"), child };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return sandbox;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the standalone sandbox did not listen on port {port}");
    }
}

static LOGS: OnceLock<Mutex<String>> = OnceLock::new();

/// Everything the apps of this test process have logged so far.
pub fn captured_logs() -> String {
    LOGS.get_or_init(Default::default).lock().unwrap().clone()
}

/// Waits up to ten seconds for `check` to hold.
pub async fn eventually<F: AsyncFnMut() -> bool>(what: &str, mut check: F) {
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// An order's status and its captured and refunded amounts (minor units), as stored.
pub async fn order_row(app: &TestApp, id: &str) -> (String, i64, i64) {
    sqlx::query_as("SELECT status, captured_minor, refunded_minor FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The kinds of an order's timeline events, oldest first.
pub async fn event_kinds(app: &TestApp, id: &str) -> Vec<String> {
    db::orders::events(&app.pool, id).await.unwrap().into_iter().map(|e| e.kind).collect()
}
