//! Two app instances on one PostgreSQL database, with one standalone sandbox: both start at once (one applies
//! the migrations, the other waits for it), take checkouts and merchant actions concurrently (a session made
//! on one is used on the other; two refunds of one order sent to both at once), and one is killed with SIGKILL
//! while the sandbox holds a payment it has already made. The other instance's sweeper resolves that payment;
//! afterwards every order is terminal, each has exactly one authorization, and the sandbox's ledger and the
//! database agree on every amount. Needs `TEST_DATABASE` (scripts/test.sh gives it, and requires this test).

mod common;

use card_checkout::server::db;
use common::{
    StandaloneSandbox, TestApp,
    checkout::{Shopper, order_id},
    merchant::{MerchantBrowser, USER},
    resilience::{CARD_PAYMENT, arm, attempts, ledger, order_input, order_of, place_and_leave},
    verifone::Sandbox,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const SWEEP_SECS: u64 = 1;
const TIMEOUT_MS: u64 = 1000;
/// The client's timeout, the grace before an unanswered attempt counts as lost, one sweep, and slack.
const RESOLVED_WITHIN: Duration = Duration::from_millis(TIMEOUT_MS + 2_000 + SWEEP_SECS * 1000 + 6_000);
/// How long the sandbox holds the payment it has made while the instance that asked is killed.
const HELD_MS: u64 = 3_000;
const CHECKOUTS: usize = 8;

fn postgres() -> bool {
    match std::env::var("TEST_DATABASE") {
        Ok(url) if !url.is_empty() => true,
        _ => {
            assert!(
                std::env::var("TEST_REQUIRE_POSTGRES").is_err(),
                "TEST_REQUIRE_POSTGRES is set without TEST_DATABASE"
            );
            false
        }
    }
}

async fn order_row(app: &TestApp, id: &str) -> (String, i64, i64, i64) {
    sqlx::query_as("SELECT status, amount_minor, captured_minor, refunded_minor FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// A shopper on `app` whose card is encrypted for the standalone sandbox.
async fn shopper<'a>(app: &'a TestApp, sandbox: &str) -> Shopper<'a> {
    Shopper { app, sb: Sandbox::at(sandbox).await, forwarded_for: None }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_the_work_and_survive_one_killed() {
    if !postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let database_url = common::fresh_database_on(db::Engine::Postgres, &dir).await;
    let sandbox = StandaloneSandbox::spawn().await;
    let (sweep, timeout) = (SWEEP_SECS.to_string(), TIMEOUT_MS.to_string());
    let mut vars = USER.to_vec();
    vars.extend([
        ("DATABASE_URL", database_url.as_str()),
        ("SANDBOX_BASE_URL", sandbox.url.as_str()),
        ("SANDBOX_NOTIFICATION_URL", "none"),
        ("SWEEP_INTERVAL_SECS", sweep.as_str()),
        ("VERIFONE_TIMEOUT_MS", timeout.as_str()),
    ]);
    // Both migrate the empty database at the same moment.
    let (a, b) = tokio::join!(TestApp::spawn_with(&vars), TestApp::spawn_with(&vars));
    let sb = Sandbox::at(&sandbox.url).await;

    // Checkouts spread over both instances, all at once.
    let apps = [&a, &b];
    let placed = futures_util::future::join_all((0..CHECKOUTS).map(|i| {
        let app = apps[i % 2];
        let url = &sandbox.url;
        async move { order_id(&shopper(app, url).await.place("4111111111111111", "bag:1").await.next) }
    }))
    .await;
    for id in &placed {
        // Each instance reads what the other wrote.
        assert_eq!(order_row(&b, id).await.0, "captured", "{id}");
        assert_eq!(order_row(&a, id).await.0, "captured", "{id}");
    }

    // A session made on one instance signs in on the other; refunds of one order sent to both at once.
    let on_a = MerchantBrowser::signed_in(&a).await;
    let on_b = MerchantBrowser { app: &b, cookie: on_a.cookie.clone() };
    assert_eq!(on_b.get("/merchant/orders").await.status, StatusCode::OK);
    let refunds = futures_util::future::join_all(
        placed.iter().flat_map(|id| [on_a.act(id, "refund", "1.00"), on_b.act(id, "refund", "1.00")]),
    )
    .await;
    let answers: Vec<_> = refunds.iter().map(|p| (p.status, p.body.chars().take(300).collect::<String>())).collect();
    // Done, or refused because the other's refund of the order is in flight or took what remained.
    assert!(answers.iter().all(|(s, _)| [303, 409, 422].contains(&s.as_u16())), "{answers:#?}");
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.0.as_u16()).collect();
    statuses.sort();
    eprintln!("concurrent refund answers: {statuses:?}");

    // A payment in flight on `a` when it is killed: the sandbox has charged and holds its answer.
    let input = order_input(&shopper(&a, &sandbox.url).await, "4111111111111111", "bag:1").await;
    arm(&sb, json!({"path": CARD_PAYMENT, "fault": "slow", "delay_ms": HELD_MS})).await;
    let placing = place_and_leave(&a, &input, Duration::from_secs(10));
    assert!(tokio::time::timeout(Duration::from_millis(600), placing).await.is_err(), "the call was held");
    let killed = order_of(&b, &input).await;
    drop(a); // SIGKILL
    let started = Instant::now();
    loop {
        let (status, ..) = order_row(&b, &killed).await;
        if status == "captured" {
            break;
        }
        assert!(started.elapsed() < RESOLVED_WITHIN, "the killed instance's order is still {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("the killed instance's payment was resolved by the other in {:?}", started.elapsed());

    // Every order: one authorization, terminal, and the ledger agrees on every amount; each refund sent once.
    let mut orders = placed.clone();
    orders.push(killed);
    for id in &orders {
        let (status, amount, captured, refunded) = order_row(&b, id).await;
        assert!(["captured", "partially_refunded"].contains(&status.as_str()), "{id} is {status}");
        let authorizations = attempts(&b, id, "authorize").await;
        assert_eq!(authorizations.len(), 1, "one payment per order: {authorizations:?}");
        let (attempt, _, txn) = &authorizations[0];
        assert_eq!(attempt, "succeeded", "{id}");
        let read: Value = ledger(&sb, txn.as_deref().unwrap()).await;
        assert_eq!(read["amount"], amount, "{id}: {read}");
        assert_eq!(read["captured_amount"], captured, "{id}: {read}");
        assert_eq!(read["refunded_amount"], refunded, "{id}: {read}");
        let ours: i64 = attempts(&b, id, "refund").await.iter().filter(|r| r.0 == "succeeded").map(|r| r.1).sum();
        assert_eq!(ours, refunded, "{id}: refunds recorded once each");
    }
    let refunded: i64 =
        futures_util::future::join_all(placed.iter().map(|id| order_row(&b, id))).await.iter().map(|r| r.3).sum();
    assert!(refunded >= 100 * CHECKOUTS as i64, "at least one refund per order went through: {refunded}");
}
