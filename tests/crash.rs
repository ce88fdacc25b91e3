//! The app killed at each step of a checkout and of a refund (before the intent's commit, after it, during the
//! provider call, after the answer), then restarted on the same database: within the provider's timeout and one
//! sweep every order is terminal (or, when nothing was ever sent, waits for the abandoned-checkout rule), the
//! provider's ledger and our database agree on every amount, and nothing was charged or refunded twice.
//!
//! The sandbox runs on its own (`card-checkout sandbox --port N`), so it outlives the app. Kills between two
//! statements use the test-only crash points (`CHECKOUT_CRASH_AT`, sandbox mode only); "during the call" is a
//! real SIGKILL while the sandbox holds an answer it has already acted on.

mod common;

use common::{
    StandaloneSandbox, TestApp,
    checkout::{Shopper, order_id},
    merchant::{MerchantBrowser, USER},
    resilience::{CARD_PAYMENT, arm, attempts, ledger, order_input, order_of, place_and_leave},
    verifone::Sandbox,
};
use reqwest::header;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const SWEEP_SECS: u64 = 1;
const TIMEOUT_MS: u64 = 1000;
/// How long after its call an unanswered attempt is taken for lost (the client's timeout and a grace for
/// recording, see `VerifoneClient::unanswered_before`), plus one sweep and some slack for a busy machine.
const RESOLVED_WITHIN: Duration = Duration::from_millis(TIMEOUT_MS + 2_000 + SWEEP_SECS * 1000 + 4_000);
/// How long the sandbox holds an answer it has acted on, while the app is killed.
const HELD_MS: u64 = 3_000;

struct Shop {
    sandbox: StandaloneSandbox,
    _dir: tempfile::TempDir,
    database_url: String,
}

impl Shop {
    async fn new() -> Shop {
        let dir = tempfile::tempdir().unwrap();
        let database_url = common::fresh_database(&dir).await;
        Shop { sandbox: StandaloneSandbox::spawn().await, _dir: dir, database_url }
    }

    /// The app on the shop's database, armed to crash at `crash_at` if given.
    async fn start(&self, crash_at: Option<&str>, extra: &[(&str, &str)]) -> TestApp {
        let sweep = SWEEP_SECS.to_string();
        let timeout = TIMEOUT_MS.to_string();
        let mut vars = USER.to_vec();
        vars.extend([
            ("DATABASE_URL", self.database_url.as_str()),
            ("SANDBOX_BASE_URL", self.sandbox.url.as_str()),
            ("SANDBOX_NOTIFICATION_URL", "none"),
            ("SWEEP_INTERVAL_SECS", sweep.as_str()),
            ("VERIFONE_TIMEOUT_MS", timeout.as_str()),
        ]);
        vars.extend_from_slice(extra);
        if let Some(point) = crash_at {
            vars.push(("CHECKOUT_CRASH_AT", point));
        }
        TestApp::spawn_with(&vars).await
    }

    async fn shopper<'a>(&self, app: &'a TestApp) -> Shopper<'a> {
        let mut shopper = Shopper::new(app).await;
        shopper.sb = Sandbox::at(&self.sandbox.url).await;
        shopper
    }
}

/// Sends the refund's confirmation as the merchant's browser does, waiting at most `patience`.
async fn refund(app: &TestApp, order_id: &str, amount: &str, patience: Duration) -> bool {
    let m = MerchantBrowser::signed_in(app).await;
    let key = uuid::Uuid::new_v4().to_string();
    let path = format!("/merchant/orders/{order_id}/actions");
    let form = [("action", "refund"), ("amount", amount), ("key", key.as_str())];
    assert!(m.post(&path, &form).await.body.contains("confirm-question"));
    let confirmed = app
        .client
        .post(format!("{}{path}", app.url))
        .header(header::COOKIE, m.cookie.clone().unwrap())
        .form(&[("action", "refund"), ("amount", amount), ("key", key.as_str()), ("confirmed", "yes")])
        .timeout(patience)
        .send()
        .await;
    confirmed.is_ok_and(|r| r.status() == reqwest::StatusCode::SEE_OTHER)
}

async fn order_row(app: &TestApp, id: &str) -> (String, i64, i64, i64) {
    sqlx::query_as("SELECT status, amount_minor, captured_minor, refunded_minor FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Waits (bounded) until the order's status is one of `expected`; returns how long it took.
async fn settles(app: &TestApp, id: &str, expected: &[&str], point: &str) -> Duration {
    let started = Instant::now();
    loop {
        let (status, ..) = order_row(app, id).await;
        let in_flight = attempts(app, id, "refund").await.iter().any(|a| a.0 == "pending" || a.0 == "unknown");
        if expected.contains(&status.as_str()) && !in_flight {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < RESOLVED_WITHIN,
            "{point}: order {id} is still {status} (refund in flight: {in_flight})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_killed_app_leaves_nothing_stuck_and_charges_nothing_twice() {
    let began = Instant::now();
    let shop = Shop::new().await;
    // (kill point, the order's expected statuses once resolved)
    let mut covered = Vec::new();
    let mut orders: Vec<String> = Vec::new();

    // --- The checkout: one order per kill point.
    let checkout_points =
        ["authorize:before_intent", "authorize:after_intent", "authorize:during", "authorize:after_answer"];
    for point in checkout_points {
        let crash_at = (!point.ends_with("during")).then_some(point);
        let app = shop.start(crash_at, &[]).await;
        let shopper = shop.shopper(&app).await;
        let input = order_input(&shopper, "4111111111111111", "bag:1").await;
        if point.ends_with("during") {
            arm(&shopper.sb, json!({"path": CARD_PAYMENT, "fault": "slow", "delay_ms": HELD_MS})).await;
            let placing = place_and_leave(&app, &input, Duration::from_secs(10));
            assert!(tokio::time::timeout(Duration::from_millis(600), placing).await.is_err(), "the call was held");
        } else {
            assert!(!place_and_leave(&app, &input, Duration::from_secs(10)).await, "{point}: the app died");
        }
        let id = order_of(&app, &input).await;
        drop(app); // SIGKILL (the crash points have aborted already)
        let app = shop.start(None, &[]).await;
        // Nothing was sent when the intent never reached the disk: the checkout waits to be expired as abandoned.
        let expected: &[&str] = if point.ends_with("before_intent") { &["authenticating"] } else { &["captured"] };
        let took = settles(&app, &id, expected, point).await;
        eprintln!("{point}: resolved in {took:?}");
        covered.push(point);
        orders.push(id);
    }

    // --- The refund: one paid order, refunded 1.00 at each kill point.
    let app = shop.start(None, &[]).await;
    let shopper = shop.shopper(&app).await;
    let paid = order_id(&shopper.place("4111111111111111", "bag:1").await.next);
    drop(shopper);
    drop(app);
    orders.push(paid.clone());
    for point in ["refund:before_intent", "refund:after_intent", "refund:during", "refund:after_answer"] {
        let crash_at = (!point.ends_with("during")).then_some(point);
        let app = shop.start(crash_at, &[]).await;
        if point.ends_with("during") {
            let sb = Sandbox::at(&shop.sandbox.url).await;
            arm(&sb, json!({"path": "/refund", "fault": "slow", "delay_ms": HELD_MS})).await;
            let refunding = refund(&app, &paid, "1.00", Duration::from_secs(10));
            assert!(tokio::time::timeout(Duration::from_millis(600), refunding).await.is_err(), "the call was held");
        } else {
            assert!(!refund(&app, &paid, "1.00", Duration::from_secs(10)).await, "{point}: the app died");
        }
        drop(app);
        let app = shop.start(None, &[]).await;
        let took = settles(&app, &paid, &["captured", "partially_refunded"], point).await;
        eprintln!("{point}: resolved in {took:?}");
        covered.push(point);
    }

    // --- After one more restart and sweep: everything terminal (abandoned checkouts expired), and the
    // provider's ledger agrees with ours on every amount.
    let app = shop.start(None, &[("CHECKOUT_ABANDON_MINUTES", "0")]).await;
    tokio::time::sleep(Duration::from_secs(SWEEP_SECS + 1)).await;
    let sb = Sandbox::at(&shop.sandbox.url).await;
    for id in &orders {
        let (status, amount, captured, refunded) = order_row(&app, id).await;
        let authorizations = attempts(&app, id, "authorize").await;
        if status == "expired" {
            assert!(authorizations.is_empty(), "an expired order sent a payment: {authorizations:?}");
            continue;
        }
        assert_eq!(authorizations.len(), 1, "one payment per order: {authorizations:?}");
        let (attempt, _, txn) = &authorizations[0];
        assert_eq!(attempt, "succeeded", "{id}");
        let read: Value = ledger(&sb, txn.as_deref().unwrap()).await;
        assert_eq!(read["amount"], amount, "{id}: {read}");
        assert_eq!(read["captured_amount"], captured, "{id}: {read}");
        assert_eq!(read["refunded_amount"], refunded, "{id}: {read}");
        // One 3-D Secure authentication per order: its CAVV pays once, so no second charge could pass.
        let reference: String = sqlx::query_scalar("SELECT merchant_reference FROM orders WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        let (_, list) = sb.get(&format!("/verifone/oidc/3ds-service/v2/3d?merchant_reference={reference}")).await;
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{id}: {list}");
        let terminal_or_refundable = ["captured", "partially_refunded"].contains(&status.as_str());
        assert!(terminal_or_refundable, "{id} is {status}");
    }
    let refunds: Vec<_> = attempts(&app, &paid, "refund").await.into_iter().map(|a| (a.0, a.1)).collect();
    // The refund killed before its intent was committed was never sent; the other three went through once.
    assert_eq!(refunds, vec![("succeeded".to_owned(), 100); 3], "{refunds:?}");
    assert_eq!(order_row(&app, &paid).await, ("partially_refunded".into(), 3900, 3900, 300));
    eprintln!("{} kill points covered in {:?}", covered.len(), began.elapsed());
    assert!(began.elapsed() < Duration::from_secs(120), "bounded to a couple of minutes");
}
