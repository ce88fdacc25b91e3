//! The two transient secrets the database holds, what an order waits with during a challenge (`orders.awaiting`)
//! and a payment request whose answer is awaited or lost (`payment_attempts.pending_request`), are stored sealed
//! on both engines, and the checkout still goes through: the challenge to a payment, the lost answer to its
//! resolution. On PostgreSQL, which keeps dead row versions and every write in its log, none of the secrets is
//! in the tables' files or the write-ahead log.

mod common;

use base64::Engine;
use common::{
    TestApp,
    checkout::{Placed, Shopper, order_id},
};
use serde_json::{Value, json};

/// A checkout the issuer challenges whose payment answer is lost: (order id, the encrypted card, the stored
/// `awaiting` while challenged, the stored request while the answer was lost, the CAVV the payment carried).
struct Lost {
    id: String,
    placed: Placed,
    awaiting: String,
    request: String,
    cavv: String,
}

async fn challenged_payment_with_lost_answer(app: &TestApp, shopper: &Shopper<'_>) -> Lost {
    let placed = shopper.place("4000000000001091", "bag:1").await;
    assert!(placed.next.get("Challenge").is_some(), "{}", placed.next);
    let id = order_id(&placed.next);
    let awaiting: String =
        sqlx::query_scalar("SELECT awaiting FROM orders WHERE id = $1").bind(&id).fetch_one(&app.pool).await.unwrap();
    // The payment after the challenge is made, and its answer lost.
    let lost = json!({"path": "/verifone/oidc/api/v2/transactions/card", "fault": "drop",
                      "body_contains": "\"amount\":3900"});
    assert!(shopper.sb.post("/_control/faults", &lost).await.0.is_success());
    shopper.challenge(&placed, "submit", "1234").await;
    let (status, request): (String, String) = sqlx::query_as(
        "SELECT status, pending_request FROM payment_attempts WHERE order_id = $1 AND kind = 'authorize'",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(status, "unknown", "the answer was lost");
    // Reading the order resolves it with the same key: paid once.
    assert_eq!(shopper.order(&id).await["status"], "Captured");
    let txn: String = sqlx::query_scalar(
        "SELECT provider_transaction_id FROM payment_attempts WHERE order_id = $1 AND kind = 'authorize'",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let (_, read) = shopper.sb.get(&format!("/verifone/oidc/api/v2/transaction/{txn}")).await;
    let cavv = read["threed_authentication"]["cavv"].as_str().expect("the payment carried a CAVV").to_owned();
    Lost { id, placed, awaiting, request, cavv }
}

/// What of the secrets of `lost` is in `text`, by name.
fn secrets_in(lost: &Lost, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    if text.contains(&lost.cavv) {
        found.push("the CAVV".to_owned());
    }
    // The card is base64 of an OpenPGP armor, here in pieces of 24 characters (18 bytes), so a value split
    // across pages (or records) is still found. Only pieces of the armor's body count: its header and footer
    // are the same in every message, and other tests' messages may be in log segments the server recycled.
    let armor = base64::engine::general_purpose::STANDARD.decode(&lost.placed.encrypted_card).unwrap();
    let armor = String::from_utf8(armor).unwrap();
    let end = armor.rfind("\n=").or_else(|| armor.rfind("\n-----END")).unwrap();
    let body = armor.find("\n\n").unwrap() + 2..end;
    let pieces = lost.placed.encrypted_card.as_bytes().chunks(24).enumerate();
    let pieces: Vec<_> = pieces.filter(|(i, _)| body.start <= 18 * i && 18 * i + 18 <= body.end).collect();
    assert!(pieces.len() > 10, "the card's body is in {} pieces", pieces.len());
    for (i, piece) in pieces {
        if text.contains(std::str::from_utf8(piece).unwrap()) {
            found.push(format!("piece {i} of the encrypted card"));
        }
    }
    found
}

/// `s1.<day>.<base64>`, sealed today.
fn assert_sealed(value: &str, what: &str) {
    let today = card_checkout::server::db::now_ms() / 86_400_000;
    let prefix = format!("s1.{today}.");
    assert!(value.starts_with(&prefix), "{what} is not sealed: {value}");
    let body = &value[prefix.len()..];
    assert!(body.chars().all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c)), "{what}: {value}");
}

#[tokio::test]
async fn what_a_challenge_and_a_lost_answer_keep_is_stored_sealed_and_the_checkout_completes() {
    // No sweep during the test: the lost answer is resolved by reading the order.
    let app = TestApp::spawn_with(&[("SWEEP_INTERVAL_SECS", "3600")]).await;
    let shopper = Shopper::new(&app).await;
    let lost = challenged_payment_with_lost_answer(&app, &shopper).await;

    // Valid JSON (the column's CHECK) naming nothing but the sealed value.
    let awaiting: Value = serde_json::from_str(&lost.awaiting).unwrap();
    let fields: Vec<&String> = awaiting.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["sealed"], "{awaiting}");
    assert_sealed(awaiting["sealed"].as_str().unwrap(), "orders.awaiting");
    assert_sealed(&lost.request, "payment_attempts.pending_request");
    for (what, stored) in [("awaiting", &lost.awaiting), ("the pending request", &lost.request)] {
        assert_eq!(secrets_in(&lost, stored), Vec::<String>::new(), "in {what}");
        for plaintext in ["encrypted_card", "acs_url", "cavv", "LS0tLS1CRUdJTiBQR1A"] {
            assert!(!stored.contains(plaintext), "{plaintext} in {what}: {stored}");
        }
    }
    // Once resolved (with the one attempt, sent again with its key), the request is cleared.
    let attempts: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT status, pending_request FROM payment_attempts WHERE order_id = $1")
            .bind(&lost.id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(attempts, vec![("succeeded".to_owned(), None)]);
}

/// Whether the PostgreSQL tests may be left out: only outside scripts/test.sh, which requires them.
fn on_postgres() -> bool {
    if common::engine() == card_checkout::server::db::Engine::Postgres {
        return true;
    }
    assert!(std::env::var("TEST_REQUIRE_POSTGRES").is_err(), "TEST_REQUIRE_POSTGRES is set without TEST_DATABASE");
    false
}

/// The bytes of a file of the PostgreSQL server's data folder, read through SQL (the test user is a superuser).
async fn server_file(app: &TestApp, path: &str) -> Vec<u8> {
    sqlx::query_scalar("SELECT pg_read_binary_file($1)").bind(path).fetch_one(&app.pool).await.unwrap()
}

#[tokio::test]
async fn postgres_keeps_no_secret_in_its_table_files_or_write_ahead_log() {
    if !on_postgres() {
        return;
    }
    let app = TestApp::spawn_with(&[("SWEEP_INTERVAL_SECS", "3600")]).await;
    let shopper = Shopper::new(&app).await;
    // Every log segment from this one on holds what the test writes.
    let first_segment: String =
        sqlx::query_scalar("SELECT pg_walfile_name(pg_current_wal_lsn())").fetch_one(&app.pool).await.unwrap();
    let lost = challenged_payment_with_lost_answer(&app, &shopper).await;
    // Every update of the two columns left dead row versions behind: write them all to the files.
    sqlx::query("CHECKPOINT").execute(&app.pool).await.unwrap();

    let mut files: Vec<String> = sqlx::query_scalar(
        "SELECT pg_relation_filepath(c.oid) FROM pg_class t JOIN pg_class c ON c.oid IN (t.oid, t.reltoastrelid)
         WHERE t.relname IN ('orders', 'payment_attempts') AND t.relnamespace = 'public'::regnamespace",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(files.len(), 4, "two tables and their TOAST tables: {files:?}");
    // Up to the one being written now: the directory also holds recycled segments past it, old ones renamed
    // for later use (up to max_wal_size, a gigabyte), which nothing of this test can be in.
    let last_segment: String =
        sqlx::query_scalar("SELECT pg_walfile_name(pg_current_wal_lsn())").fetch_one(&app.pool).await.unwrap();
    let segments: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$' AND name BETWEEN $1 AND $2 ORDER BY name",
    )
    .bind(&first_segment)
    .bind(&last_segment)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(!segments.is_empty());
    files.extend(segments.iter().map(|s| format!("pg_wal/{s}")));
    let mut found = Vec::new();
    let mut order_seen = false;
    for file in &files {
        let bytes = server_file(&app, file).await;
        // Every secret is ASCII, so it is found in the lossy text exactly where it is in the bytes.
        let text = String::from_utf8_lossy(&bytes);
        order_seen |= text.contains(&lost.id);
        found.extend(secrets_in(&lost, &text).into_iter().map(|s| format!("{s} in {file}")));
    }
    assert!(order_seen, "the scan reads the files: the order's id is in them");
    assert!(found.is_empty(), "left in PostgreSQL's files: {found:?}");
}
