//! Saved cards over the real path (form or server function → service → client → HTTP → sandbox → database): a
//! shopper saves a card at checkout (we keep Verifone's reuse token, never the card), comes back and pays with
//! it (customer-initiated, 3-D Secure, CVV typed again and encrypted), the merchant charges it later
//! (merchant-initiated, once per form), and the shopper deletes it. A session for one email can do none of
//! this with another's card.

mod common;

use card_checkout::domain::card::CardNumber;
use common::{
    TestApp,
    checkout::{Shopper, order_id},
    merchant::{self, MerchantBrowser},
    saved_cards::Returning,
    verifone::{capture_time, test_card_expiry},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const FRICTIONLESS: &str = "4000000000001000";

async fn app() -> TestApp {
    let mut vars = vec![("TRUSTED_PROXIES", "127.0.0.1")];
    vars.extend_from_slice(&merchant::USER);
    TestApp::spawn_with(&vars).await
}

fn billing(email: &str) -> Value {
    let mut b = Shopper::billing();
    b["email"] = json!(email);
    b
}

/// Places an order as the page does, with `extra` fields in the input (save_card, saved_card).
async fn place(shopper: &Shopper<'_>, cookie: Option<&str>, email: &str, pan: &str, extra: Value) -> (u16, Value) {
    let (status, start) = shopper.call("checkout/start", json!({"cart": "tee:1"})).await;
    assert_eq!(status, 200, "{start}");
    assert_eq!(start["saved_cards"], true, "saved cards are offered with Verifone");
    let session = shopper.sb.setup(start["plan"]["sdk"]["jwt"].as_str().unwrap()).await.unwrap();
    let (month, year) = test_card_expiry();
    let card = CardNumber::parse(pan).unwrap();
    let mut input = json!({
        "checkout_key": start["checkout_key"],
        "cart": "tee:1",
        "billing": billing(email),
        "card": {"brand": card.brand(), "bin6": card.bin6(), "last4": card.last4(),
                 "expiry_month": month.parse::<u8>().unwrap(), "expiry_year": year.parse::<u16>().unwrap()},
        "session_id": session,
        "encrypted_card": shopper.sb.encrypt(pan, &month, &year),
    });
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    let mut req = shopper
        .app
        .client
        .post(format!("{}/api/checkout/place", shopper.app.url))
        .header("x-forwarded-for", "203.0.113.50")
        .json(&json!({"input": input}));
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The CVV typed again, encrypted as verifone.js encrypts it for a token payment.
fn encrypted_cvv(shopper: &Shopper<'_>) -> String {
    shopper.sb.encrypt_json(&json!({"cvv": "123", "captureTime": capture_time()}))
}

async fn events(app: &TestApp, order: &str) -> Vec<(String, Value)> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, details FROM order_events WHERE order_id = $1 ORDER BY id")
            .bind(order)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    rows.into_iter().map(|(k, d)| (k, serde_json::from_str(&d).unwrap())).collect()
}

fn event<'a>(events: &'a [(String, Value)], kind: &str) -> &'a Value {
    &events.iter().find(|(k, _)| k == kind).unwrap_or_else(|| panic!("no {kind} in {events:?}")).1
}

async fn status(shopper: &Shopper<'_>, order: &str) -> String {
    shopper.order(order).await["status"].as_str().unwrap().to_owned()
}

/// Saves a card for `email`; returns the order.
async fn save_card(app: &TestApp, email: &str) -> String {
    let shopper = Shopper::new(app).await;
    let (code, next) = place(&shopper, None, email, FRICTIONLESS, json!({"save_card": true})).await;
    assert_eq!(code, 200, "{next}");
    let order = order_id(&next);
    assert_eq!(status(&shopper, &order).await, "Captured");
    order
}

#[tokio::test]
async fn a_saved_card_keeps_the_reuse_token_never_the_card() {
    let app = app().await;
    let order = save_card(&app, "ada@example.com").await;
    let (email, token, brand, last4, month): (String, String, String, String, i64) = sqlx::query_as(
        "SELECT email, reuse_token, card_brand, card_last4, card_expiry_month FROM saved_cards WHERE first_order_id = $1",
    )
    .bind(&order)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((email.as_str(), brand.as_str(), last4.as_str(), month), ("ada@example.com", "VISA", "1000", 1));
    assert!(token.len() >= 14 && !token.contains(FRICTIONLESS), "{token}");
    let events = events(&app, &order).await;
    // What was sent: the published token preference and a SIGNUP stored credential.
    let request = &event(&events, "payment_requested")["request"];
    assert_eq!(request["token_preference"]["token_type"], "REUSE", "{request}");
    assert!(request["token_preference"]["token_scope"].is_string(), "{request}");
    assert_eq!(request["stored_credential"]["stored_credential_type"], "SIGNUP", "{request}");
    assert_eq!(event(&events, "card_saved")["token_last4"], json!(&token[token.len() - 4..]));
    // The token is a secret: not in the timeline, nor in any log line.
    let timeline = serde_json::to_string(&events).unwrap();
    assert!(!timeline.contains(&token), "the timeline holds the token");
    assert!(!common::captured_logs().contains(&token), "a log holds the token");
    // The merchant sees the token's last four at most.
    let m = MerchantBrowser::signed_in(&app).await;
    let page = m.get(&format!("/merchant/orders/{order}")).await;
    assert!(page.body.contains(&format!("token …{}", &token[token.len() - 4..])), "{}", page.body);
    assert!(!page.body.contains(&token));
    // A card the shopper did not ask to save is not saved.
    let shopper = Shopper::new(&app).await;
    shopper.place(FRICTIONLESS, "tee:1").await;
    let saved: i64 = sqlx::query_scalar("SELECT count(*) FROM saved_cards").fetch_one(&app.pool).await.unwrap();
    assert_eq!(saved, 1);
}

#[tokio::test]
async fn a_returning_shopper_pays_with_a_saved_card_through_3ds() {
    let app = app().await;
    save_card(&app, "ada@example.com").await;
    let returning = Returning::new(&app, "ada@example.com", "203.0.113.51");
    let cards = returning.confirm().await;
    assert_eq!(cards.as_array().unwrap().len(), 1, "{cards}");
    let card = &cards[0];
    assert_eq!((card["brand"].as_str(), card["last4"].as_str()), (Some("Visa"), Some("1000")), "{card}");
    assert!(card.get("reuse_token").is_none(), "the page is given the token: {card}");

    let shopper = Shopper::new(&app).await;
    let saved = json!({"card_id": card["id"], "encrypted_cvv": encrypted_cvv(&shopper)});
    let cookie = returning.cookie();
    let (code, next) = place(
        &shopper,
        cookie.as_deref(),
        "ada@example.com",
        FRICTIONLESS,
        json!({"saved_card": saved, "encrypted_card": ""}),
    )
    .await;
    assert_eq!(code, 200, "{next}");
    let order = order_id(&next);
    assert_eq!(status(&shopper, &order).await, "Captured");
    let events = events(&app, &order).await;
    // 3-D Secure ran on the token; the payment is a customer-initiated charge of the stored credential.
    assert!(events.iter().any(|(k, _)| k == "lookup_answered"), "{events:?}");
    let request = &event(&events, "payment_requested")["request"];
    assert_eq!(request["stored_credential"]["stored_credential_type"], "CHARGE", "{request}");
    assert!(request["reuse_token"].as_str().unwrap().starts_with('…'), "{request}");
    assert_eq!(request["encrypted_cvv"], "[removed]", "{request}");
    assert!(request.get("encrypted_card").is_none() && request.get("sca_exemption").is_none(), "{request}");
    assert!(request["threed_authentication"].is_object(), "{request}");
    let card_of: (String, String) = sqlx::query_as("SELECT card_brand, card_last4 FROM orders WHERE id = $1")
        .bind(&order)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(card_of, ("VISA".into(), "1000".into()));
}

#[tokio::test]
async fn one_email_cannot_pay_with_or_delete_anothers_card() {
    let app = app().await;
    save_card(&app, "ada@example.com").await;
    let ada = Returning::new(&app, "ada@example.com", "203.0.113.52");
    let card_id = ada.confirm().await[0]["id"].as_str().unwrap().to_owned();
    let mallory = Returning::new(&app, "mallory@example.com", "203.0.113.53");
    assert_eq!(mallory.confirm().await, json!([]), "another email's cards are listed");
    let shopper = Shopper::new(&app).await;
    let saved = json!({"card_id": card_id, "encrypted_cvv": encrypted_cvv(&shopper)});
    let extra = json!({"saved_card": saved, "encrypted_card": ""});
    // Mallory's session, with her email or with Ada's on the order.
    for email in ["mallory@example.com", "ada@example.com"] {
        let (code, body) = place(&shopper, mallory.cookie().as_deref(), email, FRICTIONLESS, extra.clone()).await;
        assert_eq!(code, 422, "{email}: {body}");
    }
    // No session at all.
    let (code, body) = place(&shopper, None, "ada@example.com", FRICTIONLESS, extra.clone()).await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(mallory.delete(&card_id).await, "not_found");
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&app.pool).await.unwrap();
    assert_eq!(orders, 1, "a refused payment made an order");
    assert_eq!(ada.list().await.1.as_array().unwrap().len(), 1, "the card is gone");
}

/// Posts the charge form as the merchant's browser does; the confirmation first unless `confirmed`.
async fn charge(
    m: &MerchantBrowser<'_>,
    order: &str,
    amount: &str,
    key: &str,
    confirmed: bool,
) -> common::merchant::Page {
    let path = format!("/merchant/orders/{order}/charge");
    let mut form = vec![("amount", amount), ("description", "Gift wrapping"), ("key", key)];
    if confirmed {
        form.push(("confirmed", "yes"));
    }
    m.post(&path, &form).await
}

#[tokio::test]
async fn the_merchant_charges_a_saved_card_once_per_form() {
    let app = app().await;
    let original = save_card(&app, "ada@example.com").await;
    let m = MerchantBrowser::signed_in(&app).await;
    let key = uuid::Uuid::new_v4().to_string();
    let confirm = charge(&m, &original, "5.00", &key, false).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(confirm.body.contains("confirm-question") && confirm.body.contains("Gift wrapping"), "{}", confirm.body);
    // Nothing is charged before the confirmation.
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&app.pool).await.unwrap();
    assert_eq!(orders, 1);
    // Double submit: both land on the same new order.
    let (first, second) =
        tokio::join!(charge(&m, &original, "5.00", &key, true), charge(&m, &original, "5.00", &key, true));
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.body);
    assert_eq!(first.location, second.location);
    let child = first.location.unwrap().rsplit('/').next().unwrap().to_owned();
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&app.pool).await.unwrap();
    assert_eq!(orders, 2, "the double submit charged twice");
    let (state, amount): (String, i64) = sqlx::query_as("SELECT status, amount_minor FROM orders WHERE id = $1")
        .bind(&child)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!((state.as_str(), amount), ("captured", 500));
    let child_events = events(&app, &child).await;
    let request = &event(&child_events, "payment_requested")["request"];
    assert_eq!(request["stored_credential"]["stored_credential_type"], "CHARGE", "{request}");
    assert_eq!(
        request["stored_credential"]["processing_model_details"]["processing_model"],
        "UNSCHEDULED_CREDENTIAL_ON_FILE"
    );
    assert!(request["stored_credential"]["scheme_reference"].is_string(), "the original scheme reference: {request}");
    assert_eq!(request["sca_exemption"], "5", "{request}");
    assert!(request.get("threed_authentication").is_none() && request.get("encrypted_cvv").is_none(), "{request}");
    let lookups: i64 = sqlx::query_scalar("SELECT count(*) FROM threeds_results WHERE order_id = $1")
        .bind(&child)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(lookups, 0, "3-D Secure ran for a merchant-initiated charge");
    // Both timelines say so, and the pages link each other.
    let parent_events = events(&app, &original).await;
    assert_eq!(event(&parent_events, "merchant_charge_requested")["order_id"], json!(child));
    assert_eq!(event(&child_events, "merchant_charge_created")["original_order_id"], json!(original));
    let page = m.get(&format!("/merchant/orders/{original}")).await;
    assert!(page.body.contains(&format!("/merchant/orders/{child}")), "{}", page.body);
}

#[tokio::test]
async fn merchant_charges_are_limited_guarded_and_need_a_saved_card() {
    let app = app().await;
    let original = save_card(&app, "ada@example.com").await;
    let m = MerchantBrowser::signed_in(&app).await;
    let key = uuid::Uuid::new_v4().to_string();
    // Above the original's amount, or not an amount.
    for amount in ["999.00", "0", "-1", "5.001", "five"] {
        let page = charge(&m, &original, amount, &key, true).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{amount}");
    }
    // An order paid without saving the card.
    let plain = order_id(&Shopper::new(&app).await.place(FRICTIONLESS, "tee:1").await.next);
    let page = charge(&m, &plain, "1.00", &key, true).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
    // Without a session: to the sign-in page; from another site: refused.
    let anonymous = MerchantBrowser::anonymous(&app);
    let page = charge(&anonymous, &original, "1.00", &key, true).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location.unwrap().starts_with("/merchant/sign-in"));
    let res = app
        .client
        .post(format!("{}/merchant/orders/{original}/charge", app.url))
        .header("cookie", m.cookie.clone().unwrap())
        .header("origin", "https://evil.example")
        .form(&[("amount", "1.00"), ("description", "x"), ("key", key.as_str()), ("confirmed", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&app.pool).await.unwrap();
    assert_eq!(orders, 2, "a refused charge made an order");
}

#[tokio::test]
async fn a_shopper_deletes_a_saved_card_and_it_cannot_be_charged_again() {
    let app = app().await;
    let original = save_card(&app, "ada@example.com").await;
    let ada = Returning::new(&app, "ada@example.com", "203.0.113.54");
    let card_id = ada.confirm().await[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(ada.delete(&card_id).await, "removed");
    assert_eq!(ada.list().await, (200, json!([])));
    assert_eq!(ada.delete(&card_id).await, "not_found");
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM saved_cards").fetch_one(&app.pool).await.unwrap();
    assert_eq!(kept, 0);
    let m = MerchantBrowser::signed_in(&app).await;
    let page = charge(&m, &original, "1.00", &uuid::Uuid::new_v4().to_string(), true).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
    assert!(page.body.contains("removed"), "{}", page.body);
}

/// The checkout page of a confirmed shopper: the saved card in the island's picker (chosen, labelled by its
/// last four only), and outside it the form its Remove button posts.
#[tokio::test]
async fn the_confirmed_shoppers_checkout_offers_the_saved_card() {
    let app = app().await;
    save_card(&app, "ada@example.com").await;
    let ada = Returning::new(&app, "ada@example.com", "203.0.113.55");
    let card_id = ada.confirm().await[0]["id"].as_str().unwrap().to_owned();
    let page = app
        .client
        .get(format!("{}/checkout?tee=1&saved=confirmed", app.url))
        .header("cookie", ada.cookie().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Email confirmed."), "{page}");
    assert!(page.contains("Visa ending 1000, expires"), "{page}");
    let form = format!(r#"<form id="remove-card-{card_id}" method="post" action="/checkout/saved-cards/remove""#);
    assert!(page.contains(&form), "{page}");
    assert!(page.contains(&format!(r#"form="remove-card-{card_id}""#)), "no Remove button for the form: {page}");
    // The island is given each card's id and label only: no token, no card fields to read in the browser.
    assert!(!page.contains("reuse_token") && !page.contains("last4"), "{page}");
}
