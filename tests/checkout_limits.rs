//! Card testing costs us a JWT, a 3DS lookup and an authorization per try: starts and places are limited per
//! client address, and declined or failed payments per card (a fingerprint of what the provider tells us of
//! it, never the card). A shopper over a limit is told so in words, with 429.

mod common;

use common::{
    TestApp,
    checkout::{Shopper, order_id},
};
use futures_util::future::join_all;
use serde_json::{Value, json};

/// Behind a proxy we trust, as in production, so each test client can have its own address.
async fn app_with(limits: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![("TRUSTED_PROXIES", "127.0.0.1")];
    vars.extend_from_slice(limits);
    TestApp::spawn_with(&vars).await
}

/// A refusal the page can show: 429 with a sentence that tells the shopper what to do.
fn assert_limited(status: u16, body: &Value, what: &str) {
    assert_eq!(status, 429, "{what}: {body}");
    let message = body.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).unwrap_or_default();
    assert!(message.contains("try again") || message.contains("another card"), "{what}: {body}");
    assert!(message.contains("not been charged"), "{what}: {body}");
}

/// (places counted against addresses, orders) in the database.
async fn places_counted_and_orders(app: &TestApp) -> (i64, i64) {
    let count = |sql| sqlx::query_scalar::<_, i64>(sql).fetch_one(&app.pool);
    let hits = count("SELECT count(*) FROM checkout_limit_hits WHERE scope = 'place'").await.unwrap();
    (hits, count("SELECT count(*) FROM orders").await.unwrap())
}

#[tokio::test]
async fn places_are_limited_per_client_address() {
    let app = app_with(&[("CHECKOUT_PLACES_PER_ADDRESS", "3")]).await;
    let shopper = Shopper::at(&app, "203.0.113.1").await;
    for _ in 0..3 {
        let placed = shopper.place("4000000000001000", "tee:1").await;
        assert_eq!(shopper.order(&order_id(&placed.next)).await["status"], "Captured");
    }
    let (status, body) = shopper.try_place("4000000000001000", "4000000000001000", "tee:1").await.err().unwrap();
    assert_limited(status, &body, "a fourth place");
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&app.pool).await.unwrap();
    assert_eq!(orders, 3, "the refused place created an order");

    let other = Shopper::at(&app, "203.0.113.2").await;
    other.place("4000000000001000", "tee:1").await;
}

#[tokio::test]
async fn starts_are_limited_per_client_address() {
    let app = app_with(&[("CHECKOUT_STARTS_PER_ADDRESS", "2")]).await;
    let shopper = Shopper::at(&app, "203.0.113.1").await;
    for _ in 0..2 {
        let (status, body) = shopper.call("checkout/start", json!({"cart": "tee:1"})).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = shopper.call("checkout/start", json!({"cart": "tee:1"})).await;
    assert_limited(status, &body, "a third start");
    let other = Shopper::at(&app, "203.0.113.2").await;
    assert_eq!(other.call("checkout/start", json!({"cart": "tee:1"})).await.0, 200);
}

/// A card declined twice is refused a third try, from any address; another card is not. What is kept to
/// count them reveals nothing of the card.
#[tokio::test]
async fn declined_payments_are_limited_per_card() {
    let app = app_with(&[("CHECKOUT_CARD_FAILURES", "2")]).await;
    // The issuer does not authenticate this card: every try is declined.
    let declined = "4000000000001018";
    for address in ["203.0.113.1", "203.0.113.2"] {
        let shopper = Shopper::at(&app, address).await;
        let placed = shopper.place(declined, "tee:1").await;
        assert_eq!(shopper.order(&order_id(&placed.next)).await["status"], "Declined");
    }
    let shopper = Shopper::at(&app, "203.0.113.3").await;
    let (status, body) = shopper.try_place(declined, declined, "tee:1").await.err().unwrap();
    assert_limited(status, &body, "a third try of the declined card");
    let placed = shopper.place("4000000000001000", "tee:1").await;
    assert_eq!(shopper.order(&order_id(&placed.next)).await["status"], "Captured");

    let kept: Vec<String> =
        sqlx::query_scalar("SELECT key FROM checkout_limit_hits").fetch_all(&app.pool).await.unwrap();
    assert!(!kept.is_empty(), "the counters live in the database");
    assert!(kept.iter().all(|k| !k.contains("400000") && !k.contains(declined)), "{kept:?}");
}

/// A place is counted in the transaction that creates its order: one the server refuses before that (here
/// for billing details it cannot accept) costs the shopper nothing, and one refused by the limit leaves no
/// hit and no order.
#[tokio::test]
async fn a_place_counts_with_its_order() {
    let app = app_with(&[("CHECKOUT_PLACES_PER_ADDRESS", "2")]).await;
    let shopper = Shopper::at(&app, "203.0.113.1").await;
    for _ in 0..3 {
        let (_, mut input, _) = shopper.prepare("4000000000001000", "4000000000001000", "tee:1").await.unwrap();
        input["billing"]["email"] = json!("not an email");
        let (status, body) = shopper.call("checkout/place", json!({"input": input})).await;
        assert_eq!(status, 422, "{body}");
    }
    for _ in 0..2 {
        let placed = shopper.place("4000000000001000", "tee:1").await;
        assert_eq!(shopper.order(&order_id(&placed.next)).await["status"], "Captured");
    }
    let (status, body) = shopper.try_place("4000000000001000", "4000000000001000", "tee:1").await.err().unwrap();
    assert_limited(status, &body, "a third place");
    assert_eq!(places_counted_and_orders(&app).await, (2, 2));
}

/// Places sent at once from one address, past its limit: the count and the order are written together in
/// the one write transaction, so exactly the limit's worth get through, each with its order.
#[tokio::test]
async fn places_at_once_get_no_more_than_the_limit() {
    let app = app_with(&[("CHECKOUT_PLACES_PER_ADDRESS", "2")]).await;
    let shopper = Shopper::at(&app, "203.0.113.1").await;
    let mut inputs = Vec::new();
    for _ in 0..4 {
        let (_, input, _) = shopper.prepare("4000000000001000", "4000000000001000", "tee:1").await.unwrap();
        inputs.push(input);
    }
    let answers =
        join_all(inputs.into_iter().map(|input| shopper.call("checkout/place", json!({"input": input})))).await;
    let placed: Vec<&Value> = answers.iter().filter(|(status, _)| *status == 200).map(|(_, body)| body).collect();
    assert_eq!(placed.len(), 2, "{answers:?}");
    for (status, body) in answers.iter().filter(|(status, _)| *status != 200) {
        assert_limited(*status, body, "a place past the limit");
    }
    for next in placed {
        assert_eq!(shopper.order(&order_id(next)).await["status"], "Captured");
    }
    assert_eq!(places_counted_and_orders(&app).await, (2, 2));
}
