//! Bambora authenticating inside its own payment (`PAYMENT_PROVIDER=bambora`, 3-D Secure by Bambora), through
//! the real path: server function → checkout service → Bambora client → HTTP → sandbox → SQLite, and the
//! shopper's browser over HTTP: our page that posts it on to the bank, the bank's page, and the bank's post
//! back to our `term_url`, which resumes the order once.

mod common;

use common::{
    TestApp,
    bambora::{Bambora, BankPage, BankStep, Browser, field, forms},
    checkout::{Shopper, order_id},
    event_kinds, eventually,
    merchant::{MerchantBrowser, USER},
    resilience::{arm, attempts},
};
use serde_json::{Value, json};

const BAMBORA: [(&str, &str); 2] = [("PAYMENT_PROVIDER", "bambora"), ("SHOP_CURRENCY", "CAD")];

const FRICTIONLESS: &str = "4030000010001234";
const CHALLENGE_3DS2: &str = "4716519788977219";
const CHALLENGE_3DS1: &str = "4123450131003312";
const FAILS_3DS: &str = "4635691262664247";
const PASSWORD: &str = "12345";

async fn spawn(extra: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_with(&[&BAMBORA[..], &USER[..], extra].concat()).await
}

/// What the page reads of the shopper's browser.
fn browser() -> Value {
    json!({"accept_header": "", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36",
           "java_enabled": false, "javascript_enabled": true, "language": "en-CA", "color_depth": 24,
           "screen_height": 900, "screen_width": 1440, "time_zone": 300})
}

/// The page's submit: the card as a single-use token from Custom Checkout, and the browser's details.
async fn input(app: &TestApp, shopper: &Shopper<'_>, pan: &str, cart: &str) -> Value {
    let (status, start) = shopper.call("checkout/start", json!({"cart": cart})).await;
    assert_eq!(status, 200, "{start}");
    assert_eq!(start["plan"]["sdk"], Value::Null, "no authenticator SDK when Bambora authenticates: {start}");
    assert_eq!(start["plan"]["browser_data"], true, "{start}");
    assert!(start["plan"]["card"]["Fields"]["script_url"].as_str().unwrap().ends_with("/customcheckout.js"));
    assert!(start["test_cards"].as_array().unwrap().iter().any(|c| c["number"] == CHALLENGE_3DS2), "{start}");
    let token = Bambora::of(app).tokenize(pan).await;
    let card = card_checkout::domain::card::CardNumber::parse(pan).unwrap();
    let (month, year) = common::bambora::expiry();
    json!({
        "checkout_key": start["checkout_key"],
        "cart": cart,
        "billing": Shopper::billing(),
        "card": {"brand": card.brand(), "bin6": card.bin6(), "last4": card.last4(),
                 "expiry_month": month.parse::<u8>().unwrap(), "expiry_year": 2000 + year.parse::<u16>().unwrap()},
        "session_id": "",
        "encrypted_card": "",
        "card_token": token["token"],
        "browser": browser(),
    })
}

async fn place(app: &TestApp, shopper: &Shopper<'_>, pan: &str, cart: &str) -> Value {
    let input = input(app, shopper, pan, cart).await;
    let (status, next) = shopper.call("checkout/place", json!({"input": input})).await;
    assert_eq!(status, 200, "{next}\n{}", errors_logged());
    next
}

/// What the apps logged at level ERROR, for a failure's message.
fn errors_logged() -> String {
    common::captured_logs().lines().filter(|l| l.contains("\"ERROR\"")).collect::<Vec<_>>().join("\n")
}

/// Opens our page that sends the browser to the bank, checks its policy, and follows its form to the bank.
async fn to_the_bank(app: &TestApp, browser: &Browser, next: &Value) -> BankPage {
    let url =
        format!("{}{}", app.url, next["Redirect"]["url"].as_str().unwrap_or_else(|| panic!("a redirect: {next}")));
    let res = reqwest::get(&url).await.unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let html = res.text().await.unwrap();
    let form = forms(&html).into_iter().next().unwrap_or_else(|| panic!("a form to the bank: {html}"));
    let bank_origin = common::bambora::resolve(&form.action, "/").trim_end_matches('/').to_owned();
    assert!(csp.contains(&format!("form-action {bank_origin};")), "posts only to the bank's origin: {csp}");
    assert!(html.contains(".submit()"), "the form posts itself: {html}");
    assert!(!html.contains("<iframe") && !html.to_ascii_lowercase().contains("bambora"), "our page only: {html}");
    let (url, html) = browser.submit(&form.method.to_ascii_uppercase(), &form.action, &form.fields).await;
    let form = forms(&html).into_iter().find(|f| f.code_field.is_some()).expect("the bank's code field");
    BankPage { url, html, form }
}

/// Passes (or fails) the bank's page; returns what the bank posted to our `term_url`.
async fn at_the_bank(
    page: BankPage,
    browser: &Browser,
    button: &str,
    codes: &[&str],
) -> (String, Vec<(String, String)>) {
    let mut page = page;
    for code in codes {
        match browser.answer(&page, button, code).await {
            BankStep::Bank(next) => page = next,
            BankStep::Left { to, fields } => return (to, fields),
        }
    }
    panic!("still at the bank after {codes:?}");
}

async fn status_of(app: &TestApp, id: &str) -> String {
    common::order_row(app, id).await.0
}

/// The order's Bambora 3-D Secure result as stored: (stage, pares, eci, liability, cavv_result, reason).
async fn threeds(app: &TestApp, id: &str) -> (String, Option<String>, Option<String>, bool, Option<String>, String) {
    let (stage, pares, eci, liability, cavv, reason): (
        String,
        Option<String>,
        Option<String>,
        i64,
        Option<String>,
        String,
    ) = sqlx::query_as(
        "SELECT stage, pares_status, eci_flag, liability_shifted, cavv_result, status_reason FROM threeds_results
             WHERE order_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    (stage, pares, eci, liability == 1, cavv, reason)
}

#[tokio::test]
async fn frictionless_payment_records_bambora_as_the_authenticator() {
    let app = spawn(&[]).await;
    let shopper = Shopper::new(&app).await;
    let next = place(&app, &shopper, FRICTIONLESS, "tee:1").await;
    let id = order_id(&next);
    assert!(next.get("Done").is_some(), "{next}");
    let order = shopper.order(&id).await;
    assert_eq!(order["status"], "Captured", "{order}");
    assert_eq!(order["liability_shifted"], true, "{order}");
    assert_eq!(order["threeds"]["challenged"], false, "{order}");
    let (provider, authenticator): (String, Option<String>) =
        sqlx::query_as("SELECT provider, authenticator FROM orders WHERE id = $1")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((provider.as_str(), authenticator), ("bambora", None), "Bambora authenticated inside its payment");
    let (stage, pares, eci, shifted, _, reason) = threeds(&app, &id).await;
    assert_eq!((stage.as_str(), pares.as_deref(), eci.as_deref(), shifted), ("provider", Some("Y"), Some("05"), true));
    assert!(reason.contains("moved to the issuer"), "{reason}");
    // The 3-D Secure 2 request carried the browser's details, and our return URL.
    let requested: String =
        sqlx::query_scalar("SELECT details FROM order_events WHERE order_id = $1 AND kind = 'payment_requested'")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(requested.contains("\"language\":\"en-CA\"") && requested.contains(&format!("/checkout/{id}/3ds-return")));
    assert!(!requested.contains("sandbox01-"), "the token is not kept: {requested}");
}

#[tokio::test]
async fn a_3ds2_challenge_passed_at_the_bank_pays_once_and_lands_on_the_receipt() {
    let app = spawn(&[]).await;
    let shopper = Shopper::new(&app).await;
    let next = place(&app, &shopper, CHALLENGE_3DS2, "mug:1").await;
    let id = order_id(&next);
    assert_eq!(status_of(&app, &id).await, "authorizing");
    // A retried submit is sent to the same bank visit.
    let browser = Browser::default();
    let bank = to_the_bank(&app, &browser, &next).await;
    let (to, fields) = at_the_bank(bank, &browser, "Submit", &[PASSWORD]).await;
    assert_eq!(to, format!("{}/checkout/{id}/3ds-return", app.url));
    assert!(field(&fields, "cres").is_some() && field(&fields, "threeDSSessionData").is_some(), "{fields:?}");
    let order = shopper.order(&id).await;
    assert_eq!(order["status"], "Captured", "{order}");
    assert_eq!(order["liability_shifted"], true, "{order}");
    assert_eq!((&order["threeds"]["challenged"], &order["threeds"]["version"]), (&json!(true), &json!("2")), "{order}");
    let kinds = event_kinds(&app, &id).await;
    for kind in ["payment_requested", "bank_redirect", "bank_returned", "payment_answered"] {
        assert_eq!(kinds.iter().filter(|k| *k == kind).count(), 1, "{kind} once: {kinds:?}");
    }
    let (stage, pares, _, shifted, cavv_result, _) = threeds(&app, &id).await;
    assert_eq!((stage.as_str(), pares.as_deref(), shifted), ("provider", Some("Y"), true));
    assert!(cavv_result.is_some(), "Bambora's CAVV result is kept");

    // The same post again (a replay, or the browser's back button): shown the order, nothing sent again.
    let (landed, _) = browser.submit("POST", &to, &fields).await;
    assert_eq!(landed, format!("{}/checkout/{id}", app.url));
    assert_eq!(event_kinds(&app, &id).await.iter().filter(|k| *k == "bank_returned").count(), 1);
    assert_eq!(attempts(&app, &id, "authorize").await.len(), 1);
    // And the page that sent the browser to the bank now shows the order.
    let res = Browser::default().submit("GET", &format!("{}/checkout/{id}/bank", app.url), &[]).await;
    assert_eq!(res.0, format!("{}/checkout/{id}", app.url));
}

/// The sweep's scrub clears what ended checkouts left, not what a shopper at the bank comes back with: the
/// bank's page can take minutes, and sweeps run meanwhile (every 30 s by default).
#[tokio::test]
async fn a_sweep_while_the_shopper_is_at_the_bank_keeps_what_the_return_needs() {
    let app = spawn(&[]).await;
    let shopper = Shopper::new(&app).await;
    let next = place(&app, &shopper, CHALLENGE_3DS2, "mug:1").await;
    let id = order_id(&next);
    card_checkout::server::db::retention::scrub(&app.db).await.unwrap();
    let browser = Browser::default();
    let bank = to_the_bank(&app, &browser, &next).await;
    card_checkout::server::db::retention::scrub(&app.db).await.unwrap();
    at_the_bank(bank, &browser, "Submit", &[PASSWORD]).await;
    let order = shopper.order(&id).await;
    assert_eq!(order["status"], "Captured", "{order}");
}

#[tokio::test]
async fn a_3ds1_challenge_returns_pares_and_md() {
    let app = spawn(&[]).await;
    let shopper = Shopper::new(&app).await;
    let next = place(&app, &shopper, CHALLENGE_3DS1, "tee:2").await;
    let id = order_id(&next);
    let browser = Browser::default();
    let bank = to_the_bank(&app, &browser, &next).await;
    let (_, fields) = at_the_bank(bank, &browser, "Submit", &[PASSWORD]).await;
    assert!(field(&fields, "PaRes").is_some() && field(&fields, "MD").is_some(), "{fields:?}");
    let order = shopper.order(&id).await;
    assert_eq!(order["status"], "Captured");
    assert_eq!((&order["threeds"]["challenged"], &order["threeds"]["version"]), (&json!(true), &json!("1")), "{order}");
}

#[tokio::test]
async fn a_failed_challenge_declines_without_charging() {
    let app = spawn(&[]).await;
    let shopper = Shopper::new(&app).await;
    let next = place(&app, &shopper, CHALLENGE_3DS2, "mug:1").await;
    let id = order_id(&next);
    let browser = Browser::default();
    let bank = to_the_bank(&app, &browser, &next).await;
    at_the_bank(bank, &browser, "Submit", &["11111", "22222", "33333"]).await;
    let order = shopper.order(&id).await;
    assert_eq!(order["status"], "Declined", "{order}");
    assert!(order["reason"].as_str().unwrap().contains("did not confirm it was you"), "{order}");
    assert_eq!(order["liability_shifted"], false);
    assert_eq!(common::order_row(&app, &id).await.1, 0, "nothing captured");
    assert_eq!(threeds(&app, &id).await.1.as_deref(), Some("N"));
}

#[tokio::test]
async fn a_3ds_failure_without_a_bank_page_declines_at_once() {
    let app = spawn(&[]).await;
    let shopper = Shopper::new(&app).await;
    let next = place(&app, &shopper, FAILS_3DS, "tee:1").await;
    assert!(next.get("Done").is_some(), "{next}");
    let order = shopper.order(&order_id(&next)).await;
    assert_eq!(order["status"], "Declined", "{order}");
    assert!(order["reason"].as_str().unwrap().contains("did not confirm it was you"), "{order}");
}

#[tokio::test]
async fn a_return_naming_another_session_changes_nothing_and_the_real_one_still_resumes() {
    let app = spawn(&[]).await;
    let shopper = Shopper::new(&app).await;
    let next = place(&app, &shopper, CHALLENGE_3DS2, "mug:1").await;
    let id = order_id(&next);
    let browser = Browser::default();
    let term_url = format!("{}/checkout/{id}/3ds-return", app.url);
    // Someone who knows the order's address posts an answer of their own.
    let forged =
        [("cres".to_owned(), "eyJmb3JnZWQiOnRydWV9".to_owned()), ("threeDSSessionData".to_owned(), "x".repeat(32))];
    let (landed, _) = browser.submit("POST", &term_url, &forged).await;
    assert_eq!(landed, format!("{}/checkout/{id}", app.url));
    assert_eq!(status_of(&app, &id).await, "authorizing", "still waiting for the bank");
    assert!(!event_kinds(&app, &id).await.contains(&"bank_returned".to_owned()));
    // Unreadable posts are refused with a 400, and change nothing either.
    let res = reqwest::Client::new().post(&term_url).form(&[("nothing", "here")]).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let bank = to_the_bank(&app, &browser, &next).await;
    at_the_bank(bank, &browser, "Submit", &[PASSWORD]).await;
    assert_eq!(shopper.order(&id).await["status"], "Captured");
}

#[tokio::test]
async fn a_retried_submit_is_sent_to_the_same_bank_visit() {
    let app = spawn(&[]).await;
    let shopper = Shopper::new(&app).await;
    let input = input(&app, &shopper, CHALLENGE_3DS2, "mug:1").await;
    let (_, first) = shopper.call("checkout/place", json!({"input": input})).await;
    let (status, again) = shopper.call("checkout/place", json!({"input": input})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(first, again);
    assert_eq!(attempts(&app, &order_id(&first), "authorize").await.len(), 1);
}

#[tokio::test]
async fn a_shopper_who_never_comes_back_from_the_bank_is_expired_and_a_late_return_changes_nothing() {
    let app = spawn(&[("CHECKOUT_ABANDON_MINUTES", "0"), ("SWEEP_INTERVAL_SECS", "1")]).await;
    let shopper = Shopper::new(&app).await;
    let next = place(&app, &shopper, CHALLENGE_3DS2, "mug:1").await;
    let id = order_id(&next);
    let browser = Browser::default();
    let bank = to_the_bank(&app, &browser, &next).await;
    eventually("the sweeper to expire the order at the bank", async || status_of(&app, &id).await == "expired").await;
    assert_eq!(attempts(&app, &id, "authorize").await[0].0, "failed");
    // The bank's answer arrives after all: shown the order, nothing sent to Bambora.
    at_the_bank(bank, &browser, "Submit", &[PASSWORD]).await;
    assert_eq!(status_of(&app, &id).await, "expired");
    assert!(!event_kinds(&app, &id).await.contains(&"bank_returned".to_owned()));
}

#[tokio::test]
async fn a_lost_continue_answer_is_found_by_order_number_and_recorded_once() {
    let app = spawn(&[("BAMBORA_TIMEOUT_MS", "1500"), ("SWEEP_INTERVAL_SECS", "1")]).await;
    let shopper = Shopper::new(&app).await;
    let next = place(&app, &shopper, CHALLENGE_3DS2, "mug:1").await;
    let id = order_id(&next);
    // Bambora does the `continue` and the answer never arrives.
    arm(&shopper.sb, json!({"path": "/continue", "fault": "drop", "times": 1})).await;
    let browser = Browser::default();
    let bank = to_the_bank(&app, &browser, &next).await;
    at_the_bank(bank, &browser, "Submit", &[PASSWORD]).await;
    eventually("the lost continue to be resolved", async || status_of(&app, &id).await == "captured").await;
    let kinds = event_kinds(&app, &id).await;
    assert!(kinds.contains(&"payment_failed".to_owned()), "the answer was lost: {kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "payment_resolution").count(), 1, "{kinds:?}");
    let txn: Option<String> = sqlx::query_scalar(
        "SELECT provider_transaction_id FROM payment_attempts WHERE order_id = $1 AND kind = 'authorize'",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let reference: String = sqlx::query_scalar("SELECT merchant_reference FROM orders WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // Bambora holds exactly one payment for the order: the resolver searched before sending anything again.
    let found = Bambora::of(&app).search(&reference, &common::bambora::report_auth()).await;
    let records = found.body["records"].as_array().cloned().unwrap_or_default();
    assert_eq!(records.len(), 1, "{:?}", found.body);
    assert_eq!(common::bambora::id(&records[0]["trn_id"]), txn);
    assert_eq!(common::order_row(&app, &id).await.1, 1200, "the mug's price, captured once");
}

#[tokio::test]
async fn browser_details_are_required_and_checked() {
    let app = spawn(&[]).await;
    let shopper = Shopper::new(&app).await;
    let mut missing = input(&app, &shopper, FRICTIONLESS, "tee:1").await;
    missing["browser"] = Value::Null;
    let (status, err) = shopper.call("checkout/place", json!({"input": missing})).await;
    assert_eq!((status, err["Invalid"][0]["field"].as_str()), (422, Some("browser")), "{err}");
    let mut odd = input(&app, &shopper, FRICTIONLESS, "tee:1").await;
    odd["browser"]["color_depth"] = json!(7);
    let (status, err) = shopper.call("checkout/place", json!({"input": odd})).await;
    assert_eq!((status, err["Invalid"][0]["field"].as_str()), (422, Some("browser")), "{err}");
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&app.pool).await.unwrap();
    assert_eq!(orders, 0, "nothing stored for a refused submit");
}

#[tokio::test]
async fn the_merchant_captures_part_returns_part_and_voids_a_challenged_pre_authorization() {
    let app = spawn(&[("CAPTURE_MODE", "pre_auth")]).await;
    let shopper = Shopper::new(&app).await;
    let m = MerchantBrowser::signed_in(&app).await;
    let next = place(&app, &shopper, CHALLENGE_3DS2, "tee:1").await;
    let held = order_id(&next);
    let browser = Browser::default();
    let bank = to_the_bank(&app, &browser, &next).await;
    at_the_bank(bank, &browser, "Submit", &[PASSWORD]).await;
    assert_eq!(status_of(&app, &held).await, "authorized");
    assert_eq!(m.act(&held, "capture", "20.00").await.status, reqwest::StatusCode::SEE_OTHER);
    assert_eq!(common::order_row(&app, &held).await, ("captured".to_owned(), 2000, 0));
    assert_eq!(m.act(&held, "refund", "5.00").await.status, reqwest::StatusCode::SEE_OTHER);
    assert_eq!(common::order_row(&app, &held).await, ("partially_refunded".to_owned(), 2000, 500));

    // The detail shows Bambora's own 3-D Secure block, its reason as stored, and the bank visit in words.
    let detail = m.get(&format!("/merchant/orders/{held}")).await.body;
    for shown in [
        "Acquirer's own 3-D Secure",
        "Bambora",
        "The issuer authenticated the cardholder: liability moved to the issuer.",
        "CAVV result",
        "Shopper sent to the card's bank",
        "Back from the bank (3-D Secure 2)",
    ] {
        assert!(detail.contains(shown), "the detail shows {shown:?}: {detail}");
    }

    let next = place(&app, &shopper, FRICTIONLESS, "mug:1").await;
    let voided = order_id(&next);
    assert_eq!(m.act(&voided, "void", "").await.status, reqwest::StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, &voided).await, "voided");
}

#[tokio::test]
async fn the_checkout_page_mounts_bambora_card_fields_and_lists_its_test_cards_in_sandbox_mode_only() {
    let app = spawn(&[]).await;
    let res = app.get("/checkout?tee=1").await;
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"id="cc-number""#) && !html.contains(r#"id="card_number""#),
        "Bambora's own fields: {html}"
    );
    assert!(html.contains("Test cards") && html.contains(CHALLENGE_3DS2) && !html.contains("4000000000001091"));
    assert!(csp.contains(&format!("script-src 'self' 'nonce-")) && csp.contains(&app.url), "{csp}");

    // Live (against a sandbox of its own, as a real Bambora account would be): no test cards.
    let sandbox = common::StandaloneSandbox::spawn().await;
    let live = TestApp::spawn_with(&[
        ("PROVIDER_MODE", "live"),
        ("PAYMENT_PROVIDER", "bambora"),
        ("SHOP_CURRENCY", "CAD"),
        ("BAMBORA_BASE_URL", &format!("{}/bambora/v1", sandbox.url)),
        ("BAMBORA_MERCHANT_ID", "300200578"),
        ("BAMBORA_API_PASSCODE", "sandbox-passcode"),
        ("BAMBORA_REPORT_PASSCODE", "sandbox-report-passcode"),
        ("BAMBORA_ACCOUNT_CURRENCY", "CAD"),
        ("BAMBORA_CHECKOUT_JS_URL", &format!("{}/bambora/customcheckout/1/customcheckout.js", sandbox.url)),
    ])
    .await;
    let html = live.get("/checkout?tee=1").await.text().await.unwrap();
    assert!(html.contains(r#"id="cc-number""#), "{html}");
    assert!(!html.contains("Test cards") && !html.contains(CHALLENGE_3DS2), "no test cards in live mode: {html}");
}

#[tokio::test]
async fn two_posts_of_the_banks_answer_at_once_resume_the_order_once() {
    let app = spawn(&[]).await;
    let shopper = Shopper::new(&app).await;
    let next = place(&app, &shopper, CHALLENGE_3DS2, "mug:1").await;
    let id = order_id(&next);
    let browser = Browser::default();
    let bank = to_the_bank(&app, &browser, &next).await;
    // The shopper passes the bank's page; its hand-off form is read, not yet posted.
    let code_field = bank.form.code_field.clone().unwrap();
    let submit = bank.form.buttons.iter().find(|b| b.label == "Submit").unwrap();
    let mut fields: Vec<(String, String)> = bank
        .form
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), if *k == code_field { PASSWORD.to_owned() } else { v.clone() }))
        .collect();
    if let Some(name) = &submit.name {
        fields.push((name.clone(), submit.value.clone()));
    }
    let action = common::bambora::resolve(&bank.url, submit.formaction.as_deref().unwrap_or(&bank.form.action));
    let (_, handoff) = browser.submit("POST", &action, &fields).await;
    let handoff = forms(&handoff).into_iter().next().expect("the bank's hand-off form");
    // A double submit, or the same answer from two tabs: both land on the order; Bambora hears it once.
    let term_url = common::bambora::resolve(&bank.url, &handoff.action);
    let (first, second) = (Browser::default(), Browser::default());
    let (a, b) = tokio::join!(
        first.submit("POST", &term_url, &handoff.fields),
        second.submit("POST", &term_url, &handoff.fields)
    );
    let receipt = format!("{}/checkout/{id}", app.url);
    assert_eq!((a.0, b.0), (receipt.clone(), receipt));
    assert_eq!(shopper.order(&id).await["status"], "Captured");
    let kinds = event_kinds(&app, &id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "bank_returned").count(), 1, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "payment_answered").count(), 1, "{kinds:?}");
}
