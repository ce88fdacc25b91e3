//! Nothing stuck, nothing charged twice (issue 9, items 1 and 5), through our server functions, the back office
//! and the sweeper: a provider call outlives the request that made it, a lost answer is asked about before
//! anything is sent again, a refused resend is not an outcome, and one resolver holds an order at a time.

mod common;

use common::{
    TestApp,
    checkout::{Shopper, order_id},
    eventually,
    merchant::{MerchantBrowser, USER},
    resilience::{CARD_PAYMENT, arm, attempts, ledger, order_input, order_of, place_and_leave},
};
use reqwest::header;
use serde_json::json;
use std::time::Duration;

/// Item 1: the shopper's browser goes away while the provider charges; the answer is recorded all the same.
#[tokio::test]
async fn a_payment_is_recorded_when_the_shopper_leaves_during_the_call() {
    let app = TestApp::spawn().await;
    let shopper = Shopper::new(&app).await;
    arm(&shopper.sb, json!({"path": CARD_PAYMENT, "fault": "slow", "delay_ms": 1500})).await;
    let input = order_input(&shopper, "4111111111111111", "bag:1").await;
    assert!(!place_and_leave(&app, &input, Duration::from_millis(700)).await, "the browser left before the answer");
    let id = order_of(&app, &input).await;
    eventually("the charge to be recorded", async || shopper.order(&id).await["status"] == "Captured").await;
    let paid = attempts(&app, &id, "authorize").await;
    assert_eq!(paid.len(), 1, "{paid:?}");
    let read = ledger(&shopper.sb, paid[0].2.as_deref().unwrap()).await;
    assert_eq!(read["amount"], 3900, "{read}");
}

/// Item 1: a merchant who closes the tab during a refund leaves no action pending forever, and the next
/// refund is not blocked by it.
#[tokio::test]
async fn a_refund_is_recorded_when_the_merchant_leaves_and_the_next_one_goes_through() {
    let mut vars = USER.to_vec();
    // Our own calls only: the provider's events would report the same refunds on their own.
    vars.extend([("SWEEP_INTERVAL_SECS", "1"), ("SANDBOX_NOTIFICATION_URL", "none")]);
    let app = TestApp::spawn_with(&vars).await;
    let shopper = Shopper::new(&app).await;
    let id = order_id(&shopper.place("4000000000001000", "tee:1").await.next);
    arm(&shopper.sb, json!({"path": "/refund", "fault": "slow", "delay_ms": 1500, "body_contains": "\"amount\":700"}))
        .await;
    let m = MerchantBrowser::signed_in(&app).await;
    let key = uuid::Uuid::new_v4().to_string();
    let path = format!("/merchant/orders/{id}/actions");
    let form = [("action", "refund"), ("amount", "7.00"), ("key", key.as_str())];
    assert!(m.post(&path, &form).await.body.contains("confirm-question"));
    let confirmed = app
        .client
        .post(format!("{}{path}", app.url))
        .header(header::COOKIE, m.cookie.clone().unwrap())
        .form(&[("action", "refund"), ("amount", "7.00"), ("key", key.as_str()), ("confirmed", "yes")])
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(confirmed.is_err(), "the merchant left before the answer");
    eventually("the refund to be recorded", async || {
        attempts(&app, &id, "refund").await.iter().map(|a| (a.0.as_str(), a.1)).eq([("succeeded", 700)])
    })
    .await;
    let second = m.act(&id, "refund", "3.00").await;
    assert_eq!(second.status, reqwest::StatusCode::SEE_OTHER, "{}", second.body);
    let refunds: Vec<_> = attempts(&app, &id, "refund").await.into_iter().map(|a| (a.0, a.1)).collect();
    assert_eq!(refunds, [("succeeded".to_owned(), 700), ("succeeded".to_owned(), 300)]);
    let txn = attempts(&app, &id, "authorize").await[0].2.clone().unwrap();
    assert_eq!(ledger(&shopper.sb, &txn).await["refunded_amount"], 1000, "refunded once each");
}

/// Item 5: a refusal of a resend (a 409 "key in use", a 400 "CAVV used") says nothing about the first send,
/// which charged the card: the order stays being confirmed, never failed, and ends as the provider charged it.
#[tokio::test]
async fn a_refused_resend_is_not_an_outcome() {
    // Without the provider's events, which would name the transaction to read: the resend is the only way.
    let app = TestApp::spawn_with(&[("SWEEP_INTERVAL_SECS", "1"), ("SANDBOX_NOTIFICATION_URL", "none")]).await;
    let shopper = Shopper::new(&app).await;
    arm(&shopper.sb, json!({"path": CARD_PAYMENT, "fault": "drop"})).await;
    for status in [409, 400] {
        arm(&shopper.sb, json!({"path": CARD_PAYMENT, "fault": "error", "status": status, "times": 2})).await;
    }
    let id = order_id(&shopper.place("4111111111111111", "bag:1").await.next);
    for _ in 0..2 {
        // The receipt page resolves at once, and the provider refuses the resend.
        let order = shopper.order(&id).await;
        assert_eq!(order["status"], "Unknown", "a refused resend is no outcome: {order}");
    }
    eventually("the charge to be recorded", async || shopper.order(&id).await["status"] == "Captured").await;
    let paid = attempts(&app, &id, "authorize").await;
    assert_eq!(paid.len(), 1, "{paid:?}");
    assert_eq!(ledger(&shopper.sb, paid[0].2.as_deref().unwrap()).await["amount"], 3900);
}

/// Item 5: once the provider has named the payment's transaction (its signed event did), a lost answer is
/// resolved by reading it; the payment is not sent again (here every resend would fail).
#[tokio::test]
async fn a_lost_answer_whose_transaction_is_known_is_read_not_sent_again() {
    let app = TestApp::spawn().await;
    let shopper = Shopper::new(&app).await;
    arm(&shopper.sb, json!({"path": CARD_PAYMENT, "fault": "drop"})).await;
    arm(&shopper.sb, json!({"path": CARD_PAYMENT, "fault": "error", "status": 503, "times": 100_000})).await;
    let id = order_id(&shopper.place("4111111111111111", "bag:1").await.next);
    eventually("the charge to be read", async || shopper.order(&id).await["status"] == "Captured").await;
    let paid = attempts(&app, &id, "authorize").await;
    assert_eq!(paid.len(), 1, "{paid:?}");
    assert_eq!(ledger(&shopper.sb, paid[0].2.as_deref().unwrap()).await["amount"], 3900);
}

/// Item 5: the receipt page, the sweeper and a notification may all resolve an order at once; one resolver
/// holds it (a lease in the database) and the others leave it alone.
#[tokio::test]
async fn one_resolver_holds_an_order_at_a_time() {
    let app = TestApp::spawn_with(&[("SANDBOX_NOTIFICATION_URL", "none")]).await;
    let shopper = Shopper::new(&app).await;
    arm(&shopper.sb, json!({"path": CARD_PAYMENT, "fault": "drop"})).await;
    arm(&shopper.sb, json!({"path": CARD_PAYMENT, "fault": "slow", "delay_ms": 800})).await;
    let id = order_id(&shopper.place("4111111111111111", "bag:1").await.next);
    let views = futures_util::future::join_all((0..8).map(|_| shopper.order(&id))).await;
    assert!(views.iter().all(|v| v["status"] == "Unknown" || v["status"] == "Captured"), "{views:?}");
    eventually("the charge to be recorded", async || shopper.order(&id).await["status"] == "Captured").await;
    let events = card_checkout::server::db::orders::events(&app.pool, &id).await.unwrap();
    let resolutions = events.iter().filter(|e| e.kind == "payment_resolution").count();
    assert_eq!(resolutions, 1, "one resolver asked the provider: {events:?}");
}
