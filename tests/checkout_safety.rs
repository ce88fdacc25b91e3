//! What 3-D Secure must never let through, driven through the shopper's server functions over HTTP against the
//! embedded sandbox, down to what SQLite holds: the card paid after a challenge is the card that was
//! authenticated; a challenge not passed is never paid; an authentication that cannot be trusted goes through
//! the merchant's policy; a retried submit during a challenge gets the challenge; concurrent completions of one
//! challenge pay once and all answer with the order.

mod common;

use common::{
    TestApp,
    checkout::{Shopper, order_id},
    tamper::Tamper,
};
use serde_json::{Value, json};

/// A card whose issuer asks for a challenge; the code 1234 passes it.
const CHALLENGE_CARD: &str = "4000000000001091";

async fn count(app: &TestApp, sql: &str, id: &str) -> i64 {
    sqlx::query_scalar(sql).bind(id).fetch_one(&app.pool).await.unwrap()
}

/// Payments sent for an order.
async fn payments(app: &TestApp, id: &str) -> i64 {
    count(app, "SELECT count(*) FROM payment_attempts WHERE order_id = $1 AND kind = 'authorize'", id).await
}

/// Every value of every table, as text.
async fn database_dump(app: &TestApp) -> String {
    use sqlx::{Column, Row};
    let tables = common::table_names(app).await;
    let mut dump = String::new();
    for t in tables {
        for row in sqlx::query(&format!("SELECT * FROM \"{t}\"")).fetch_all(&app.pool).await.unwrap() {
            for c in row.columns() {
                dump.push_str(&row.try_get::<Option<String>, _>(c.ordinal()).ok().flatten().unwrap_or_default());
                dump.push('\n');
            }
        }
    }
    dump
}

/// What the order's payment request carried as 3-D Secure data (`null` when none was sent).
async fn threed_sent(app: &TestApp, id: &str) -> Value {
    let details: String = sqlx::query_scalar(
        "SELECT details FROM order_events WHERE order_id = $1 AND kind = 'payment_requested' ORDER BY id LIMIT 1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    serde_json::from_str::<Value>(&details).unwrap()["request"]["threed_authentication"].clone()
}

// Item 2 ---------------------------------------------------------------------------------------------------

/// The browser sends another card with the challenge's answer (an old page, or a tampered one): the payment is
/// made with the card the bank authenticated. The sandbox binds the CAVV to the card it was issued for, so the
/// order is only paid, liability shifted, when the authenticated card is the one charged. Once the checkout
/// has ended, neither card is left in the database, whether it was paid or abandoned mid-challenge.
#[tokio::test]
async fn the_card_paid_after_a_challenge_is_the_card_that_was_authenticated() {
    for policy in ["decline", "proceed"] {
        let app = TestApp::spawn_with(&[("THREEDS_POLICY", policy)]).await;
        let shopper = Shopper::new(&app).await;
        let placed = shopper.place(CHALLENGE_CARD, "tee:1").await;
        let id = order_id(&placed.next);
        let jwt = shopper.bank_answer(&placed, "submit", "1234").await;
        let (month, year) = common::verifone::test_card_expiry();
        let other_card = shopper.sb.encrypt("4111111111111111", &month, &year);
        let (status, next) =
            shopper.call("checkout/challenge", json!({"order_id": id, "jwt": jwt, "encrypted_card": other_card})).await;
        assert_eq!(status, 200, "{policy}: {next}");
        let order = shopper.order(&order_id(&next)).await;
        assert_eq!(order["status"], "Captured", "{policy}: {order}");
        assert_eq!(order["liability_shifted"], true, "{policy}: {order}");
        assert_eq!(payments(&app, &id).await, 1, "{policy}");
        let dump = database_dump(&app).await;
        assert!(dump.contains(&id), "the dump holds the order, so the checks below can fail");
        assert!(!dump.contains(&placed.encrypted_card), "{policy}: the authenticated card is left in the database");
        assert!(!dump.contains(&other_card), "{policy}: the browser's other card is in the database");
    }

    let app = TestApp::spawn_with(&[("CHECKOUT_ABANDON_MINUTES", "0"), ("SWEEP_INTERVAL_SECS", "1")]).await;
    let shopper = Shopper::new(&app).await;
    let placed = shopper.place(CHALLENGE_CARD, "tee:1").await;
    let id = order_id(&placed.next);
    for _ in 0..50 {
        if shopper.order(&id).await["status"] == "Expired" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(shopper.order(&id).await["status"], "Expired");
    assert!(!database_dump(&app).await.contains(&placed.encrypted_card), "an abandoned challenge left its card");
}

// Item 3 ---------------------------------------------------------------------------------------------------

/// Under `proceed`, a challenge the issuer required and the shopper did not pass (the bank could not verify,
/// the bank's page failed, the shopper cancelled) is declined without a payment: only a passed challenge pays.
#[tokio::test]
async fn a_required_challenge_that_was_not_passed_is_never_paid() {
    let app = TestApp::spawn_with(&[("THREEDS_POLICY", "proceed")]).await;
    let shopper = Shopper::new(&app).await;
    let cases = [
        ("4000000000001117", "continue", "verification unavailable (NOACTION)"),
        ("4000000000001125", "continue", "an error at the bank (ERROR)"),
        (CHALLENGE_CARD, "cancel", "cancelled by the shopper"),
    ];
    for (pan, action, label) in cases {
        let placed = shopper.place(pan, "mug:1").await;
        assert!(placed.next.get("Challenge").is_some(), "{label}: {}", placed.next);
        let id = order_id(&shopper.challenge(&placed, action, "").await);
        let order = shopper.order(&id).await;
        assert_eq!(order["status"], "Declined", "{label}: {order}");
        assert_eq!(order["liability_shifted"], false, "{label}");
        assert!(order["reason"].as_str().is_some_and(|r| r.contains("not been charged")), "{label}: {order}");
        assert_eq!(payments(&app, &id).await, 0, "{label}: a payment was sent");
    }
}

// Item 4 ---------------------------------------------------------------------------------------------------

const LOOKUP: &str = "/3ds-service/v2/lookup";
const VALIDATE: &str = "/3ds-service/v2/jwt/validate";

/// Y or A whose signature did not verify, or from an issuer not enrolled, carries no liability shift and
/// cannot be trusted: the merchant's policy decides, as for any other result without a shift. Under `decline`
/// it is declined unpaid; under `proceed` it is paid without its 3-D Secure data.
#[tokio::test]
async fn an_authentication_that_cannot_be_trusted_goes_through_the_policy() {
    let cases: [(&str, &'static str, Value, &str); 4] = [
        ("4000000000001000", LOOKUP, json!({"signature_verification": "N"}), "frictionless Y, signature N"),
        ("4000000000001026", LOOKUP, json!({"signature_verification": "N"}), "frictionless A, signature N"),
        ("4000000000001000", LOOKUP, json!({"enrolled": "B"}), "frictionless Y, enrolled B"),
        (
            CHALLENGE_CARD,
            VALIDATE,
            json!({"validation_result": {"signature_verification": "N"}}),
            "challenge Y, signature N",
        ),
    ];
    for policy in ["decline", "proceed"] {
        let tamper = Tamper::start().await;
        let verifone = tamper.base("verifone");
        let app = TestApp::spawn_with(&[("THREEDS_POLICY", policy), ("VERIFONE_BASE_URL", &verifone)]).await;
        tamper.target.set(format!("{}/sandbox", app.url)).unwrap();
        let shopper = Shopper::new(&app).await;
        for (pan, path, fields, label) in &cases {
            tamper.rewrite(vec![(*path, fields.clone())]);
            let placed = shopper.place(pan, "tee:1").await;
            let next = if placed.next.get("Challenge").is_some() {
                shopper.challenge(&placed, "submit", "1234").await
            } else {
                placed.next.clone()
            };
            let id = order_id(&next);
            let order = shopper.order(&id).await;
            assert_eq!(order["liability_shifted"], false, "{policy} {label}: {order}");
            if policy == "decline" {
                assert_eq!(order["status"], "Declined", "{policy} {label}: {order}");
                assert_eq!(payments(&app, &id).await, 0, "{policy} {label}: a payment was sent");
            } else {
                assert_eq!(order["status"], "Captured", "{policy} {label}: {order}");
                assert_eq!(threed_sent(&app, &id).await, Value::Null, "{policy} {label}: untrusted 3DS data sent");
            }
        }
    }
}

// Item 8 ---------------------------------------------------------------------------------------------------

/// The same submit again while the order waits for its challenge (a retried request, a second click) gets the
/// pending challenge, which the shopper can then finish: one order, one payment. Once the order has moved on,
/// a retry gets the order.
#[tokio::test]
async fn a_retried_submit_during_a_challenge_gets_the_pending_challenge() {
    let app = TestApp::spawn().await;
    let shopper = Shopper::new(&app).await;
    let placed = shopper.place(CHALLENGE_CARD, "tee:1").await;
    let id = order_id(&placed.next);
    assert!(placed.next.get("Challenge").is_some(), "{}", placed.next);
    let (status, again) = shopper.call("checkout/place", json!({"input": placed.input})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, placed.next, "a retried submit must get the pending challenge");

    let next = shopper.challenge(&placed, "submit", "1234").await;
    assert_eq!(next, json!({"Done": {"order_id": id}}));
    assert_eq!(shopper.order(&id).await["status"], "Captured");
    let (status, after) = shopper.call("checkout/place", json!({"input": placed.input})).await;
    assert_eq!((status, after), (200, json!({"Done": {"order_id": id}})));
    assert_eq!(count(&app, "SELECT count(*) FROM orders WHERE id = $1", &id).await, 1);
    assert_eq!(payments(&app, &id).await, 1);
}

// Item 9 ---------------------------------------------------------------------------------------------------

/// Twenty completions of one challenge at once, with the same genuine JWT (a retried request, a page and its
/// reload): one payment, and every caller is answered with the order, not an error.
#[tokio::test]
async fn concurrent_completions_of_one_challenge_pay_once_and_all_get_the_order() {
    let app = TestApp::spawn().await;
    let shopper = Shopper::new(&app).await;
    let placed = shopper.place(CHALLENGE_CARD, "tee:1").await;
    let id = order_id(&placed.next);
    let jwt = shopper.bank_answer(&placed, "submit", "1234").await;
    let answers = futures_util::future::join_all((0..20).map(|_| shopper.complete(&placed, &jwt))).await;
    for (status, next) in answers {
        assert_eq!((status, next), (200, json!({"Done": {"order_id": id}})));
    }
    assert_eq!(payments(&app, &id).await, 1);
    let order = shopper.order(&id).await;
    assert_eq!(order["status"], "Captured", "{order}");
    assert_eq!(order["liability_shifted"], true);
}
