//! Lost answers and crashes: a checkout whose browser goes away mid-payment, faults armed at the sandbox, and
//! the provider's ledger read back to compare with our database.

use super::{TestApp, checkout::Shopper, eventually, verifone::Sandbox};
use card_checkout::domain::card::CardNumber;
use serde_json::{Value, json};
use std::time::Duration;

/// The card payment path below `/sandbox`, where payment faults are armed.
pub const CARD_PAYMENT: &str = "/verifone/oidc/api/v2/transactions/card";

/// What the checkout page sends to `checkout/place` for `pan` and `cart`, after the start, Cardinal's setup
/// and the card's encryption.
pub async fn order_input(shopper: &Shopper<'_>, pan: &str, cart: &str) -> Value {
    let (status, start) = shopper.call("checkout/start", json!({"cart": cart})).await;
    assert_eq!(status, 200, "{start}");
    let session = shopper.sb.setup(start["plan"]["sdk"]["jwt"].as_str().unwrap()).await.unwrap();
    let (month, year) = super::verifone::test_card_expiry();
    let card = CardNumber::parse(pan).unwrap();
    json!({
        "checkout_key": start["checkout_key"],
        "cart": cart,
        "billing": Shopper::billing(),
        "card": {"brand": card.brand(), "bin6": card.bin6(), "last4": card.last4(),
                 "expiry_month": month.parse::<u8>().unwrap(), "expiry_year": year.parse::<u16>().unwrap()},
        "session_id": session,
        "encrypted_card": shopper.sb.encrypt(pan, &month, &year),
    })
}

/// Sends `checkout/place` and stops waiting after `patience`, as a browser closed mid-payment does (the
/// connection is dropped). Returns whether an answer came in time.
pub async fn place_and_leave(app: &TestApp, input: &Value, patience: Duration) -> bool {
    let url = format!("{}/api/checkout/place", app.url);
    app.client.post(url).json(&json!({"input": input})).timeout(patience).send().await.is_ok()
}

/// The order a checkout key created, once it exists.
pub async fn order_of(app: &TestApp, input: &Value) -> String {
    let key = input["checkout_key"].as_str().unwrap();
    let mut found = None;
    eventually("the order to be created", async || {
        found = sqlx::query_scalar("SELECT id FROM orders WHERE checkout_key = $1")
            .bind(key)
            .fetch_optional(&app.pool)
            .await
            .unwrap();
        found.is_some()
    })
    .await;
    found.unwrap()
}

/// Arms a sandbox fault (see `src/server/sandbox/faults.rs`).
pub async fn arm(sb: &Sandbox, fault: Value) {
    let res = sb.http.post(format!("{}/_control/faults", sb.base)).json(&fault).send().await.unwrap();
    assert_eq!(res.status(), 201, "{fault}");
}

/// The provider's record of a transaction, read over its API.
pub async fn ledger(sb: &Sandbox, id: &str) -> Value {
    let (status, read) = sb.get(&format!("/verifone/oidc/api/v2/transaction/{id}")).await;
    assert_eq!(status, 200, "{read}");
    read
}

/// Our attempts of `kind` on an order: (status, amount, provider transaction), oldest first.
pub async fn attempts(app: &TestApp, order_id: &str, kind: &str) -> Vec<(String, i64, Option<String>)> {
    sqlx::query_as(
        "SELECT status, amount_minor, provider_transaction_id FROM payment_attempts WHERE order_id = $1 AND kind = $2
         ORDER BY created_at, rowid",
    )
    .bind(order_id)
    .bind(kind)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}
