//! Bambora as the acquirer, through the real path: server function → checkout service → Bambora client →
//! HTTP → sandbox → SQLite. The browser's part is done over HTTP here: the card is encrypted for Verifone's
//! 3-D Secure and tokenized at the sandbox's tokenization endpoint, as Custom Checkout does.
//!
//! These run "own process" (Verifone authenticates, Bambora authorizes with `xid`, `cavv` and `eci`): Bambora's
//! own 3-D Secure inside its payment (the bank page and `3ds-return`) is not wired yet.

mod common;

use common::{
    TestApp,
    bambora::Bambora,
    checkout::{Shopper, order_id},
    merchant::{MerchantBrowser, USER},
    resilience::{attempts, order_input},
};
use serde_json::{Value, json};

/// Own process in the sandbox's Bambora account currency.
const OWN_PROCESS: [(&str, &str); 3] =
    [("PAYMENT_PROVIDER", "bambora"), ("THREEDS_PROVIDER", "verifone"), ("SHOP_CURRENCY", "CAD")];

async fn spawn(extra: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_with(&[&OWN_PROCESS[..], &USER[..], extra].concat()).await
}

/// The page's submit for `pan`: encrypted for the authenticator, and a single-use token for the acquirer.
async fn place(app: &TestApp, shopper: &Shopper<'_>, pan: &str, cart: &str) -> (Value, Value) {
    let mut input = order_input(shopper, pan, cart).await;
    let token = Bambora::of(app).tokenize(pan).await;
    input["card_token"] = token["token"].clone();
    let (status, next) = shopper.call("checkout/place", json!({"input": input})).await;
    assert_eq!(status, 200, "{next}");
    (input, next)
}

async fn stored(app: &TestApp, id: &str) -> (String, String, Option<String>, i64, i64) {
    sqlx::query_as("SELECT status, provider, authenticator, captured_minor, refunded_minor FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The payment Bambora holds for an order, read over its API.
async fn bambora_payment(app: &TestApp, id: &str) -> Value {
    let txn: String = sqlx::query_scalar(
        "SELECT provider_transaction_id FROM payment_attempts WHERE order_id = $1 AND kind = 'authorize'",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let read = Bambora::of(app).read(&txn).await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    read.body
}

#[tokio::test]
async fn own_process_pays_at_bambora_with_verifones_authentication() {
    let app = spawn(&[]).await;
    let shopper = Shopper::new(&app).await;
    let (_, next) = place(&app, &shopper, "4111111111111111", "tee:1").await;
    let id = order_id(&next);
    let order = shopper.order(&id).await;
    assert_eq!(order["status"], "Captured", "{order}");
    assert_eq!(order["amount"], json!({"minor": 2400, "currency": "CAD"}));
    let (status, provider, authenticator, captured, _) = stored(&app, &id).await;
    assert_eq!(
        (status.as_str(), provider.as_str(), authenticator.as_deref()),
        ("captured", "bambora", Some("verifone"))
    );
    assert_eq!(captured, 2400);
    let payment = bambora_payment(&app, &id).await;
    assert_eq!(payment["type"], "P", "{payment}");
    // The sandbox verified the CAVV Verifone issued (2: valid), as a card network would.
    assert_eq!(payment["card"]["cavv_result"], 2, "{payment}");
    // The stored request kept neither the token nor the CAVV in the timeline.
    let requested: String =
        sqlx::query_scalar("SELECT details FROM order_events WHERE order_id = $1 AND kind = 'payment_requested'")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(requested.contains("[removed]") && !requested.contains("sandbox01-"), "{requested}");
}

#[tokio::test]
async fn own_process_after_a_challenge_pays_with_the_token_kept_on_the_order() {
    let app = spawn(&[]).await;
    let shopper = Shopper::new(&app).await;
    let mut input = order_input(&shopper, "4000000000001091", "mug:1").await;
    input["card_token"] = Bambora::of(&app).tokenize("4000000000001091").await["token"].clone();
    let (status, next) = shopper.call("checkout/place", json!({"input": input})).await;
    assert_eq!(status, 200, "{next}");
    assert!(next.get("Challenge").is_some(), "{next}");
    let placed = common::checkout::Placed { start: Value::Null, input, next, encrypted_card: String::new() };
    let done = shopper.challenge(&placed, "submit", "1234").await;
    let order = shopper.order(&order_id(&done)).await;
    assert_eq!(order["status"], "Captured", "{order}");
    assert_eq!(order["liability_shifted"], true, "{order}");
}

#[tokio::test]
async fn a_card_without_its_token_is_refused_before_any_call() {
    let app = spawn(&[]).await;
    let shopper = Shopper::new(&app).await;
    let input = order_input(&shopper, "4111111111111111", "tee:1").await;
    let (status, err) = shopper.call("checkout/place", json!({"input": input})).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["Invalid"][0]["field"], "card_number", "{err}");
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&app.pool).await.unwrap();
    assert_eq!(orders, 0);
}

#[tokio::test]
async fn a_bambora_decline_declines_the_order() {
    let app = spawn(&[]).await;
    let shopper = Shopper::new(&app).await;
    let (_, next) = place(&app, &shopper, "4003050500040005", "cap:1").await;
    let id = order_id(&next);
    let order = shopper.order(&id).await;
    assert_eq!(order["status"], "Declined", "{order}");
    assert_eq!(stored(&app, &id).await.3, 0, "nothing captured");
    assert_eq!(attempts(&app, &id, "authorize").await[0].0, "declined");
}

#[tokio::test]
async fn pre_authorization_completion_partial_return_and_void() {
    let app = spawn(&[("CAPTURE_MODE", "pre_auth")]).await;
    let shopper = Shopper::new(&app).await;
    let m = MerchantBrowser::signed_in(&app).await;

    let (_, next) = place(&app, &shopper, "4111111111111111", "tee:1").await;
    let held = order_id(&next);
    assert_eq!(shopper.order(&held).await["status"], "Authorized");
    assert_eq!(bambora_payment(&app, &held).await["type"], "PA");
    assert_eq!(m.act(&held, "capture", "20.00").await.status, reqwest::StatusCode::SEE_OTHER);
    assert_eq!(stored(&app, &held).await.0, "captured");
    assert_eq!(stored(&app, &held).await.3, 2000);
    assert_eq!(m.act(&held, "refund", "5.00").await.status, reqwest::StatusCode::SEE_OTHER);
    let (status, _, _, captured, refunded) = stored(&app, &held).await;
    assert_eq!((status.as_str(), captured, refunded), ("partially_refunded", 2000, 500));
    let actions: Vec<(String, i64, Option<String>)> =
        [attempts(&app, &held, "capture").await, attempts(&app, &held, "refund").await].concat();
    assert!(actions.iter().all(|(s, _, id)| s == "succeeded" && id.is_some()), "{actions:?}");

    let (_, next) = place(&app, &shopper, "4111111111111111", "mug:1").await;
    let voided = order_id(&next);
    assert_eq!(m.act(&voided, "void", "").await.status, reqwest::StatusCode::SEE_OTHER);
    assert_eq!(stored(&app, &voided).await.0, "voided");
    assert_eq!(attempts(&app, &voided, "void").await[0].0, "succeeded");
}

#[tokio::test]
async fn a_lost_answer_is_found_by_its_order_number_and_not_paid_twice() {
    let app = spawn(&[]).await;
    let shopper = Shopper::new(&app).await;
    let arm = json!({"path": "/bambora/v1/payments", "fault": "drop", "body_contains": "\"amount\":39.00"});
    let res = app.client.post(format!("{}/sandbox/_control/faults", app.url)).json(&arm).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let (_, next) = place(&app, &shopper, "4111111111111111", "bag:1").await;
    let id = order_id(&next);
    assert_eq!(stored(&app, &id).await.0, "unknown", "the answer was lost: the order says so");
    let order = shopper.order(&id).await;
    assert_eq!(order["status"], "Captured", "{order}");
    let found = attempts(&app, &id, "authorize").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "succeeded");
    // Bambora holds one payment with the order's number: the search found it, nothing was sent again.
    let reference: String = sqlx::query_scalar("SELECT merchant_reference FROM orders WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let search = Bambora::of(&app).search(&reference, &common::bambora::report_auth()).await;
    assert_eq!(search.body["records"].as_array().map(Vec::len), Some(1), "{:?}", search.body);
}
