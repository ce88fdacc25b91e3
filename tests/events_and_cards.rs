//! What the provider says wins over what we assumed: a refund, capture or void made at the provider while one
//! of ours is in flight is applied, and ours and theirs are each counted once; the card summary an order keeps
//! is the provider's, whatever the browser claimed.

mod common;

use common::{
    TestApp,
    checkout::{Shopper, order_id},
    eventually,
    merchant::{MerchantBrowser, USER},
    order_row,
};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

async fn pending_refunds(app: &TestApp, id: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM payment_attempts WHERE order_id = $1 AND kind = 'refund' AND status = 'pending'",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn refund_events_received(app: &TestApp, id: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM notifications_received WHERE order_id = $1 AND event = 'TxnRefundApproved'",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

// Item 6 ---------------------------------------------------------------------------------------------------

/// Our refund of 7.00 is in flight (the provider refunds at once, its answer to us takes two seconds) when a
/// refund of 4.00 is made in the provider's portal: both events arrive while ours is pending. The order ends
/// with 11.00 refunded, as the provider has it: theirs applied, ours counted once although both its answer and
/// its event arrive.
#[tokio::test]
async fn an_event_that_arrives_while_our_action_is_in_flight_is_applied_and_each_counted_once() {
    let app = TestApp::spawn_with(&USER).await;
    let shopper = Shopper::new(&app).await;
    let id = order_id(&shopper.place("4000000000001000", "tee:1").await.next);
    let txn: String = sqlx::query_scalar(
        "SELECT provider_transaction_id FROM payment_attempts WHERE order_id = $1 AND kind = 'authorize'",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let fault = json!({"path": "/refund", "fault": "slow", "delay_ms": 2000, "body_contains": "\"amount\":700"});
    assert!(shopper.sb.post("/_control/faults", &fault).await.0.is_success());

    let m = MerchantBrowser::signed_in(&app).await;
    let portal = async {
        eventually("our refund to be in flight", async || pending_refunds(&app, &id).await == 1).await;
        let res = shopper
            .sb
            .authed_post(&format!("/verifone/oidc/api/v2/transactions/{txn}/refund"))
            .header("x-vfi-api-idempotencyKey", uuid::Uuid::new_v4().to_string())
            .json(&json!({"amount": 400}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "the portal refund: {}", res.status());
        eventually("both refund events", async || refund_events_received(&app, &id).await == 2).await;
        assert_eq!(pending_refunds(&app, &id).await, 1, "both events arrived while ours was in flight");
    };
    let (ours, ()) = tokio::join!(m.act(&id, "refund", "7.00"), portal);
    assert_eq!(ours.status, StatusCode::SEE_OTHER, "{}", ours.body);

    eventually("the order to follow the provider", async || {
        order_row(&app, &id).await == ("partially_refunded".into(), 2400, 1100)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(order_row(&app, &id).await, ("partially_refunded".into(), 2400, 1100), "counted twice");
    let (_, read) = shopper.sb.get(&format!("/verifone/oidc/api/v2/transaction/{txn}")).await;
    assert_eq!(read["refunded_amount"], 1100, "{read}");
}

// Item 7 ---------------------------------------------------------------------------------------------------

/// The browser claims another card than the one it encrypted (a Mastercard ending 1005 for a Visa ending
/// 1000, say): the payment goes through with the provider's brand, and the order keeps the provider's
/// brand, first six and last four, frictionless or after a challenge.
#[tokio::test]
async fn the_card_summary_kept_is_the_providers_not_the_browsers() {
    let app = TestApp::spawn().await;
    let shopper = Shopper::new(&app).await;
    let cases = [
        ("4000000000001000", "5200000000001005", "frictionless"),
        ("4000000000001091", "340000000001098", "challenged"),
        ("5200000000001005", "4000000000001000", "frictionless Mastercard"),
    ];
    for (pan, claimed, label) in cases {
        let placed = shopper.try_place(pan, claimed, "tee:1").await.unwrap();
        let next = if placed.next.get("Challenge").is_some() {
            shopper.challenge(&placed, "submit", "1234").await
        } else {
            placed.next.clone()
        };
        let id = order_id(&next);
        let order = shopper.order(&id).await;
        assert_eq!(order["status"], "Captured", "{label}: {order}");
        let brand = card_checkout::domain::card::CardNumber::parse(pan).unwrap().brand();
        assert_eq!(order["card"]["brand"], json!(brand), "{label}: {order}");
        assert_eq!(order["card"]["bin6"], &pan[..6], "{label}: {order}");
        assert_eq!(order["card"]["last4"], &pan[pan.len() - 4..], "{label}: {order}");
        let stored: (String, String, String) =
            sqlx::query_as("SELECT card_brand, card_bin6, card_last4 FROM orders WHERE id = $1")
                .bind(&id)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        assert_eq!(stored, (brand.code().to_owned(), pan[..6].to_owned(), pan[pan.len() - 4..].to_owned()), "{label}");
    }
}
