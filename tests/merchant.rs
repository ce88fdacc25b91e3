//! The merchant back office over HTTP against the real binary: sign-in and sessions, the order history,
//! order detail, refunds, captures and voids against the embedded sandbox, and provider notifications.

mod common;

use card_checkout::server::{
    config::sandbox_defaults as d,
    db::{self, demo},
    sandbox::notifications::sign,
};
use common::{
    TestApp,
    bambora::Bambora,
    checkout::{Shopper, order_id},
    event_kinds, eventually,
    merchant::{EMAIL, MerchantBrowser, PASSWORD, USER, next_link, order_links, threeds_answers, timeline_lines},
    order_row,
    resilience::order_input,
};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

async fn app_with(extra: &[(&str, &str)]) -> TestApp {
    let mut vars = USER.to_vec();
    vars.extend_from_slice(extra);
    TestApp::spawn_with(&vars).await
}

/// A paid order (EUR 24.00 for one tee) through the real checkout; returns its id.
async fn paid_order(app: &TestApp, pan: &str) -> String {
    let shopper = Shopper::new(app).await;
    order_id(&shopper.place(pan, "tee:1").await.next)
}

async fn attempts(app: &TestApp, id: &str, kind: &str) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT status, amount_minor FROM payment_attempts WHERE order_id = $1 AND kind = $2 ORDER BY created_at",
    )
    .bind(id)
    .bind(kind)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// The attempts we sent ourselves (not those recorded from a provider event).
async fn our_attempts(app: &TestApp, id: &str, kind: &str) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT status, amount_minor FROM payment_attempts WHERE order_id = $1 AND kind = $2
            AND idempotency_key NOT LIKE 'notification:%' ORDER BY created_at",
    )
    .bind(id)
    .bind(kind)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// The provider's id of an order's authorization.
async fn provider_transaction(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar(
        "SELECT provider_transaction_id FROM payment_attempts WHERE order_id = $1 AND kind = 'authorize'",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn every_merchant_route_refuses_anonymous_callers() {
    let app = app_with(&[]).await;
    let id = paid_order(&app, "4000000000001000").await;
    let anonymous = MerchantBrowser::anonymous(&app);
    let forged = MerchantBrowser { app: &app, cookie: Some("__Host-merchant_session=forged".into()) };
    let key = uuid::Uuid::new_v4().to_string();
    let action = [("action", "refund"), ("amount", "5.00"), ("key", key.as_str()), ("confirmed", "yes")];
    for browser in [&anonymous, &forged] {
        for path in [
            "/merchant/orders",
            "/merchant/orders?status=captured",
            "/merchant/orders.csv",
            &format!("/merchant/orders/{id}"),
        ] {
            let page = browser.get(path).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "GET {path}");
            let location = page.location.unwrap();
            assert!(location.starts_with("/merchant/sign-in?next="), "{location}");
            assert!(!page.body.contains("EUR"), "GET {path} leaked: {}", page.body);
        }
        for path in [format!("/merchant/orders/{id}/actions"), "/merchant/sign-out".into()] {
            let page = browser.post(&path, &action).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "POST {path}");
            assert!(page.location.unwrap().starts_with("/merchant/sign-in"));
        }
    }
    assert!(attempts(&app, &id, "refund").await.is_empty(), "an anonymous refund went through");
    assert_eq!(order_row(&app, &id).await.0, "captured");
    // The sign-in page itself is open, and "next" cannot send anyone elsewhere.
    let page = anonymous.get("/merchant/sign-in?next=https://evil.example/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"name="next" value="/merchant/orders""#), "{}", page.body);
}

#[tokio::test]
async fn sign_in_sets_a_host_cookie_rotates_sessions_and_signs_out() {
    let app = app_with(&[]).await;
    let mut m = MerchantBrowser::anonymous(&app);
    let page = m.sign_in(EMAIL, PASSWORD).await;
    assert_eq!(page.location.as_deref(), Some("/merchant/orders"));
    let cookie = page.set_cookie.unwrap();
    assert!(cookie.starts_with("__Host-merchant_session="), "{cookie}");
    for part in ["Path=/", "HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    let token = m.cookie.clone().unwrap().split_once('=').unwrap().1.to_owned();
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT token_hash FROM merchant_sessions").fetch_all(&app.pool).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&token), "the session token is stored in the clear");
    assert!(stored[0].len() == 64, "a SHA-256 hex digest is stored");
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM merchant_users").fetch_one(&app.pool).await.unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert_eq!(m.get("/merchant/orders").await.status, StatusCode::OK);

    // Signing in again with the old cookie ends the old session: the id never survives a sign-in.
    let old = m.cookie.clone();
    m.sign_in(EMAIL, PASSWORD).await;
    assert_ne!(m.cookie, old);
    let stale = MerchantBrowser { app: &app, cookie: old };
    assert_eq!(stale.get("/merchant/orders").await.status, StatusCode::SEE_OTHER);
    assert_eq!(m.get("/merchant/orders").await.status, StatusCode::OK);

    // Idle sessions end.
    sqlx::query("UPDATE merchant_sessions SET last_seen_at = last_seen_at - 31 * 60000")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(m.get("/merchant/orders").await.status, StatusCode::SEE_OTHER);

    m.sign_in(EMAIL, PASSWORD).await;
    let out = m.post("/merchant/sign-out", &[]).await;
    assert_eq!(out.location.as_deref(), Some("/merchant/sign-in"));
    assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
    assert_eq!(m.get("/merchant/orders").await.status, StatusCode::SEE_OTHER, "the session outlived sign-out");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM merchant_sessions").fetch_one(&app.pool).await.unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_per_account_and_per_address() {
    let app = app_with(&[]).await;
    let mut m = MerchantBrowser::anonymous(&app);
    for _ in 0..5 {
        let page = m.sign_in(EMAIL, "wrong password!").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.body.contains("The email or password is not right."), "{}", page.body);
    }
    let page = m.sign_in(EMAIL, PASSWORD).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "the right password got through the lock");
    assert!(page.body.contains("Too many failed sign-ins; try again in"), "{}", page.body);
    assert!(m.cookie.is_none());
    // Per address: guesses spread over many accounts stop too.
    for i in 0..15 {
        assert_eq!(
            m.sign_in(&format!("nobody{i}@example.com"), "guess guess guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(m.sign_in("someone@example.com", "guess guess guess").await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn users_come_from_the_environment_or_the_command_never_a_default() {
    let app = TestApp::spawn().await;
    assert_eq!(db::merchants::user_count(&app.pool).await.unwrap(), 0);
    let mut m = MerchantBrowser::anonymous(&app);
    assert_eq!(m.sign_in("admin@example.com", "admin").await.status, StatusCode::UNAUTHORIZED);

    let run = |password: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_card-checkout"))
            .args(["create-merchant", "clerk@example.com"])
            .env("DATABASE_URL", &app.database_url)
            .env("MERCHANT_PASSWORD", password)
            .env("LOG_LEVEL", "warn")
            .output()
            .unwrap()
    };
    let short = run("short");
    assert!(!short.status.success());
    let stderr = String::from_utf8_lossy(&short.stderr);
    assert!(stderr.contains("at least 12 characters"), "{stderr}");
    assert!(run("a long enough passphrase").status.success());
    assert_eq!(m.sign_in("clerk@example.com", "a long enough passphrase").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_history_filters_pages_totals_and_exports() {
    let app = app_with(&[]).await;
    demo::insert_orders(&app.db, 230, 100, card_checkout::domain::money::Currency::EUR, 1).await.unwrap();
    let real = paid_order(&app, "5200000000001005").await;
    let m = MerchantBrowser::signed_in(&app).await;

    // Keyset pages: 50 a page, newest first, every order exactly once.
    let mut seen = Vec::new();
    let mut path = Some("/merchant/orders".to_owned());
    while let Some(p) = path {
        let page = m.get(&p).await;
        assert_eq!(page.status, StatusCode::OK);
        let links = order_links(&page.body);
        assert!(links.len() <= 50);
        seen.extend(links);
        path = next_link(&page.body);
    }
    let newest: Vec<String> = sqlx::query_scalar("SELECT id FROM orders ORDER BY created_at DESC, id DESC")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(seen, newest);
    assert_eq!(seen[0], real, "the newest order comes first");

    // Filters combine, and the totals cover the whole filtered set.
    let page = m.get("/merchant/orders?status=refunded&currency=EUR").await;
    let (count, sum): (i64, i64) = sqlx::query_as(
        "SELECT count(*), CAST(coalesce(sum(refunded_minor), 0) AS BIGINT) FROM orders WHERE status = 'refunded' AND currency = 'EUR'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(count > 0);
    assert_eq!(order_links(&page.body).len() as i64, count.min(50));
    let refunded = card_checkout::domain::money::Money::new(sum, card_checkout::domain::money::Currency::EUR).unwrap();
    assert!(page.body.contains(&format!("{count} orders in EUR")), "{}", page.body);
    assert!(page.body.contains(&format!("refunded {refunded}")), "{}", page.body);

    for (query, sql) in [
        ("liability=yes", "liability_shifted = 1"),
        ("liability=no", "coalesce(liability_shifted, 0) = 0"),
        ("brand=JCB", "card_brand = 'JCB'"),
        ("min=40&max=60", "currency = 'EUR' AND amount_minor BETWEEN 4000 AND 6000"),
        ("q=1005", "card_last4 = '1005'"),
        ("q=DEMO-0000007", "merchant_reference = 'DEMO-0000007'"),
        ("provider=bambora", "provider = 'bambora'"),
    ] {
        let page = m.get(&format!("/merchant/orders?{query}")).await;
        let expected: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM orders WHERE {sql}")).fetch_one(&app.pool).await.unwrap();
        assert_eq!(order_links(&page.body).len() as i64, expected.min(50), "{query}");
        if expected == 0 {
            assert!(page.body.contains("No orders match these filters."), "{query}");
        }
    }
    let by_email = m.get("/merchant/orders?q=ADA%40example.com").await;
    assert_eq!(order_links(&by_email.body), vec![real.clone()]);
    let by_id = m.get(&format!("/merchant/orders?q={real}")).await;
    assert_eq!(order_links(&by_id.body), vec![real.clone()]);

    // Values that make no sense are named, not ignored.
    let bad = m.get("/merchant/orders?status=paid&from=yesterday&min=1.234").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    for message in ["unknown status", "is not a date", "amount"] {
        assert!(bad.body.contains(message), "{message}: {}", bad.body);
    }

    let csv = m.get("/merchant/orders.csv?brand=VISA").await;
    assert_eq!(csv.status, StatusCode::OK);
    let visa: i64 =
        sqlx::query_scalar("SELECT count(*) FROM orders WHERE card_brand = 'VISA'").fetch_one(&app.pool).await.unwrap();
    let lines: Vec<&str> = csv.body.lines().collect();
    assert!(lines[0].starts_with("created_at,order_id,merchant_reference"));
    assert_eq!(lines.len() as i64 - 1, visa);
    assert!(lines[1..].iter().all(|l| l.contains(",VISA,")));
}

#[tokio::test]
async fn the_detail_page_explains_3ds_liability_and_the_timeline() {
    let app = app_with(&[]).await;
    let shifted = paid_order(&app, "4000000000001000").await;
    let not_authenticated = paid_order(&app, "4000000000001018").await;
    let m = MerchantBrowser::signed_in(&app).await;

    let page = m.get(&format!("/merchant/orders/{shifted}")).await;
    assert_eq!(page.status, StatusCode::OK);
    for text in ["Shifted to issuer", "issuer is liable", "PAResStatus", "2.1.0", "05", "EUR 24.00", "Visa •••• 1000"]
    {
        assert!(page.body.contains(text), "{text} missing");
    }
    for kind in ["order_created", "lookup_requested", "lookup_answered", "payment_requested", "payment_answered"] {
        assert!(page.body.contains(&format!("data-kind=\"{kind}\"")), "{kind} missing from the timeline");
    }
    // Secrets are not in the timeline: the encrypted card and the CAVV are removed.
    assert!(page.body.contains("[removed]"));
    let cavv: Option<String> =
        sqlx::query_scalar("SELECT details FROM order_events WHERE kind = 'payment_requested' AND order_id = $1")
            .bind(&shifted)
            .fetch_optional(&app.pool)
            .await
            .unwrap();
    let request: serde_json::Value = serde_json::from_str(&cavv.unwrap()).unwrap();
    assert_eq!(request["request"]["threed_authentication"]["cavv"], "[removed]");
    assert!(!page.body.contains("BEGIN PGP"));

    // Each event reads as a sentence, with the stored JSON folded under it.
    let txn = provider_transaction(&app, &shifted).await;
    let lines = timeline_lines(&page.body);
    for line in [
        "Order created for EUR 24.00, paid at once: 3-D Secure by Verifone, payment by Verifone",
        "3-D Secure lookup requested",
        "3-D Secure lookup answered: authenticated, ECI 05",
        "Payment of EUR 24.00 requested",
        &format!("Payment approved (transaction {txn})"),
        "Status changed from Authorizing to Paid",
    ] {
        assert!(lines.iter().any(|l| l == line), "{line:?} not in {lines:#?}");
    }
    assert_eq!(lines.len(), event_kinds(&app, &shifted).await.len());
    assert_eq!(page.body.matches("<details><summary>").count(), lines.len(), "each event's JSON is folded");
    assert_eq!(
        threeds_answers(&page.body),
        vec![vec![
            "3-D Secure lookup".to_owned(),
            "Verifone".into(),
            "Y (authenticated)".into(),
            "05 (authenticated)".into(),
            "Shifted to issuer Liability shifted (PAResStatus Y, authenticated; signature verified; card enrolled; \
             ECI 05): the issuer is liable for fraud chargebacks."
                .into(),
        ]]
    );

    let page = m.get(&format!("/merchant/orders/{not_authenticated}")).await;
    assert!(page.body.contains("Merchant liable"));
    assert!(page.body.contains("PAResStatus was N (needs Y or A)"), "{}", page.body);
    let answers = threeds_answers(&page.body);
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0][2], "N (failed)");
    assert!(
        answers[0][4].starts_with("Merchant liable Liability stays with the merchant: PAResStatus was N"),
        "{answers:?}"
    );
    assert_eq!(m.get("/merchant/orders/no-such-order").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_challenged_order_shows_each_answer_and_its_actions_in_words() {
    let app = app_with(&[]).await;
    let shopper = Shopper::new(&app).await;
    let placed = shopper.place("4000000000001091", "cap:1").await;
    let id = order_id(&shopper.challenge(&placed, "submit", "1234").await);
    let m = MerchantBrowser::signed_in(&app).await;
    assert_eq!(m.act(&id, "refund", "5.00").await.status, StatusCode::SEE_OTHER);

    let page = m.get(&format!("/merchant/orders/{id}")).await;
    let answers = threeds_answers(&page.body);
    assert_eq!(answers.len(), 2, "{answers:?}");
    assert_eq!(answers[0][..4], ["3-D Secure lookup", "Verifone", "C (challenge required)", "07 (not authenticated)"]);
    assert!(
        answers[0][4].starts_with("Challenge decides No shift from this answer: the issuer required"),
        "{answers:?}"
    );
    assert_eq!(answers[1][..4], ["Challenge result", "Verifone", "Y (authenticated)", "05 (authenticated)"]);
    assert!(answers[1][4].contains("the issuer is liable for fraud chargebacks"), "{answers:?}");

    let refund: String = sqlx::query_scalar(
        "SELECT provider_transaction_id FROM payment_attempts WHERE order_id = $1 AND kind = 'refund'",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let lines = timeline_lines(&page.body);
    for line in [
        "3-D Secure lookup answered: challenge required",
        "Challenge shown: the card's bank asks the shopper to confirm the payment",
        "Challenge result checked: authenticated, ECI 05",
        "Refund of EUR 5.00 requested",
        &format!("Refund of EUR 5.00 approved (transaction {refund})"),
    ] {
        assert!(lines.iter().any(|l| l == line), "{line:?} not in {lines:#?}");
    }
}

#[tokio::test]
async fn liability_is_shown_as_stored_not_decided_again() {
    let app = app_with(&[]).await;
    let id = paid_order(&app, "4000000000001000").await;
    let m = MerchantBrowser::signed_in(&app).await;
    // As if the provider had decided otherwise when it answered (a rule since changed, a mismatch it saw):
    // the page shows its decision, though today's rule would shift liability for these values.
    for sql in [
        "UPDATE threeds_results SET liability_shifted = 0 WHERE order_id = $1",
        "UPDATE orders SET liability_shifted = 0 WHERE id = $1",
    ] {
        sqlx::query(sql).bind(&id).execute(&app.pool).await.unwrap();
    }
    let page = m.get(&format!("/merchant/orders/{id}")).await;
    let answers = threeds_answers(&page.body);
    assert_eq!(answers[0][2], "Y (authenticated)");
    assert_eq!(
        answers[0][4],
        "Merchant liable Liability stays with the merchant: the provider that authenticated recorded no shift for \
         this answer."
    );
    assert!(!page.body.contains("Shifted to issuer"), "{}", page.body);

    // An acquirer's own 3-D Secure (no authenticator on the order): run by the acquirer, with its own values.
    let bambora =
        app_with(&[("PAYMENT_PROVIDER", "bambora"), ("THREEDS_PROVIDER", "verifone"), ("SHOP_CURRENCY", "CAD")]).await;
    let shopper = Shopper::new(&bambora).await;
    let mut input = order_input(&shopper, "4111111111111111", "tee:1").await;
    input["card_token"] = Bambora::of(&bambora).tokenize("4111111111111111").await["token"].clone();
    let (status, next) = shopper.call("checkout/place", json!({"input": input})).await;
    assert_eq!(status, 200, "{next}");
    let id = order_id(&next);
    let txn = provider_transaction(&bambora, &id).await;
    let m = MerchantBrowser::signed_in(&bambora).await;
    let page = m.get(&format!("/merchant/orders/{id}")).await;
    let lines = timeline_lines(&page.body);
    for line in [
        "Order created for CAD 24.00, paid at once: 3-D Secure by Verifone, payment by Bambora",
        &format!("Payment approved (transaction {txn})"),
    ] {
        assert!(lines.iter().any(|l| l == line), "{line:?} not in {lines:#?}");
    }
    sqlx::query("UPDATE orders SET authenticator = NULL WHERE id = $1").bind(&id).execute(&bambora.pool).await.unwrap();
    sqlx::query(
        "INSERT INTO threeds_results (order_id, stage, pares_status, eci_flag, cavv_present, liability_shifted, created_at)
         VALUES ($1, 'provider', 'Y', '05', 1, 1, 0)",
    )
    .bind(&id)
    .execute(&bambora.pool)
    .await
    .unwrap();
    let answers = threeds_answers(&m.get(&format!("/merchant/orders/{id}")).await.body);
    assert_eq!(answers.len(), 2, "{answers:?}");
    assert_eq!(answers[0][1], "Bambora", "no authenticator: the acquirer ran it");
    assert_eq!(answers[1][..4], ["Acquirer's own 3-D Secure", "Bambora", "Y (authenticated)", "05 (authenticated)"]);
    assert!(answers[1][4].starts_with("Shifted to issuer Liability shifted (PAResStatus Y, authenticated; ECI 05)"));
}

#[tokio::test]
async fn refunds_are_confirmed_and_never_exceed_what_remains() {
    let app = app_with(&[]).await;
    let id = paid_order(&app, "4000000000001000").await;
    let m = MerchantBrowser::signed_in(&app).await;

    // The first click only asks; nothing is sent.
    let key = uuid::Uuid::new_v4().to_string();
    let path = format!("/merchant/orders/{id}/actions");
    let ask = m.post(&path, &[("action", "refund"), ("amount", "10.00"), ("key", &key)]).await;
    assert!(ask.body.contains("Refund EUR 10.00 to Visa •••• 1000?"), "{}", ask.body);
    assert!(attempts(&app, &id, "refund").await.is_empty());

    let done = m.act(&id, "refund", "10.00").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let result = m.get(done.location.as_deref().unwrap()).await;
    assert!(result.body.contains("Refund of EUR 10.00 done"), "{}", result.body);
    assert_eq!(order_row(&app, &id).await, ("partially_refunded".into(), 2400, 1000));

    let too_much = m.act(&id, "refund", "14.01").await;
    assert_eq!(too_much.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_much.body.contains("The refund can be at most EUR 14.00."), "{}", too_much.body);
    for bad in ["-1", "0", "abc", "1.001"] {
        assert_eq!(m.act(&id, "refund", bad).await.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(m.act(&id, "refund", "14.00").await.status, StatusCode::SEE_OTHER);
    assert_eq!(order_row(&app, &id).await, ("refunded".into(), 2400, 2400));
    let again = m.act(&id, "refund", "1.00").await;
    assert!(again.body.contains("An order that is refunded cannot be given a refund."), "{}", again.body);
    assert!(m.act(&id, "void", "").await.body.contains("cannot be given a void"));
    assert_eq!(our_attempts(&app, &id, "refund").await, vec![("succeeded".into(), 1000), ("succeeded".into(), 1400)]);
    let kinds = event_kinds(&app, &id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "refund_answered").count(), 2);
}

#[tokio::test]
async fn a_double_submitted_action_happens_once() {
    let app = app_with(&[]).await;
    let id = paid_order(&app, "4000000000001000").await;
    let m = MerchantBrowser::signed_in(&app).await;
    let key = uuid::Uuid::new_v4().to_string();
    let path = format!("/merchant/orders/{id}/actions");
    let form = [("action", "refund"), ("amount", "5.00"), ("key", key.as_str()), ("confirmed", "yes")];
    let (a, b) = tokio::join!(m.post(&path, &form), m.post(&path, &form));
    let third = m.post(&path, &form).await;
    // The sandbox's event for the refund may land before our answer and is then recorded on its own row; the
    // money still counts once (the order row below).
    assert_eq!(our_attempts(&app, &id, "refund").await, vec![("succeeded".into(), 500)]);
    assert_eq!(order_row(&app, &id).await, ("partially_refunded".into(), 2400, 500));
    assert_eq!(third.status, StatusCode::SEE_OTHER);
    assert!(a.status == StatusCode::SEE_OTHER || b.status == StatusCode::SEE_OTHER);
    assert_eq!(third.location, [a, b].into_iter().find_map(|p| p.location));

    // While an action's answer is outstanding, no other action starts.
    sqlx::query(
        "INSERT INTO payment_attempts (id, order_id, kind, idempotency_key, amount_minor, status, created_at, updated_at)
         VALUES ('in-flight', $1, 'refund', 'in-flight-key', 100, 'pending', 0, 0)",
    )
    .bind(&id)
    .execute(&app.pool)
    .await
    .unwrap();
    assert!(m.act(&id, "refund", "1.00").await.body.contains("Another action on this order is still being processed."));
}

#[tokio::test]
async fn pre_authorizations_are_captured_or_voided_once() {
    let app = app_with(&[("CAPTURE_MODE", "pre_auth")]).await;
    let m = MerchantBrowser::signed_in(&app).await;

    let captured = paid_order(&app, "4000000000001000").await;
    assert_eq!(order_row(&app, &captured).await, ("authorized".into(), 0, 0));
    let page = m.get(&format!("/merchant/orders/{captured}")).await;
    assert!(page.body.contains("Capture…") && page.body.contains("Void…") && !page.body.contains("Refund…"));
    assert!(m.act(&captured, "capture", "24.01").await.body.contains("The capture can be at most EUR 24.00."));
    assert_eq!(m.act(&captured, "capture", "20.00").await.status, StatusCode::SEE_OTHER);
    assert_eq!(order_row(&app, &captured).await, ("captured".into(), 2000, 0));
    assert!(m.act(&captured, "void", "").await.body.contains("An order that is paid cannot be given a void."));
    assert_eq!(m.act(&captured, "refund", "20.00").await.status, StatusCode::SEE_OTHER);
    assert_eq!(order_row(&app, &captured).await, ("refunded".into(), 2000, 2000));

    let voided = paid_order(&app, "5200000000001005").await;
    assert_eq!(m.act(&voided, "void", "").await.status, StatusCode::SEE_OTHER);
    assert_eq!(order_row(&app, &voided).await, ("voided".into(), 0, 0));
    assert!(
        m.act(&voided, "capture", "24.00").await.body.contains("An order that is voided cannot be given a capture.")
    );
    assert!(m.act(&voided, "refund", "1.00").await.body.contains("cannot be given a refund"));
    assert_eq!(our_attempts(&app, &voided, "void").await, vec![("succeeded".into(), 2400)]);
    assert!(attempts(&app, &voided, "capture").await.is_empty());
}

#[tokio::test]
async fn a_refusal_by_the_provider_is_shown_and_recorded() {
    // No notifications: the order does not learn of the refund made behind its back.
    let app = app_with(&[("SANDBOX_NOTIFICATION_URL", "none")]).await;
    let id = paid_order(&app, "4000000000001000").await;
    let txn = provider_transaction(&app, &id).await;
    let shopper = Shopper::new(&app).await;
    let res = shopper
        .sb
        .authed_post(&format!("/verifone/oidc/api/v2/transactions/{txn}/refund"))
        .header("x-vfi-api-idempotencyKey", uuid::Uuid::new_v4().to_string())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());

    let m = MerchantBrowser::signed_in(&app).await;
    let refused = m.act(&id, "refund", "5.00").await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let page = m.get(refused.location.as_deref().unwrap()).await;
    assert!(page.body.contains("was refused by the provider: Nothing captured remains to refund"), "{}", page.body);
    assert_eq!(attempts(&app, &id, "refund").await, vec![("declined".into(), 500)]);
    assert_eq!(order_row(&app, &id).await, ("captured".into(), 2400, 0));
    assert!(event_kinds(&app, &id).await.contains(&"refund_refused".to_owned()));
}

#[tokio::test]
async fn a_lost_action_answer_is_resolved_without_acting_twice() {
    let app = app_with(&[("VERIFONE_TIMEOUT_MS", "800"), ("SWEEP_INTERVAL_SECS", "1")]).await;
    let id = paid_order(&app, "4000000000001000").await;
    let shopper = Shopper::new(&app).await;
    let (status, _) = shopper
        .sb
        .post(
            "/_control/faults",
            &json!({"path": "/refund", "fault": "slow", "delay_ms": 2000, "body_contains": "\"amount\":700"}),
        )
        .await;
    assert!(status.is_success());
    let m = MerchantBrowser::signed_in(&app).await;
    let page = m.act(&id, "refund", "7.00").await;
    let result = m.get(page.location.as_deref().unwrap()).await;
    assert!(result.body.contains("no answer from the provider yet"), "{}", result.body);
    // Its event may arrive meanwhile and be recorded on its own; our attempt is resolved all the same (on a
    // busy machine the sweeper may have done it already: the provider answers after 2 s, it sweeps every 1 s).
    let ours = our_attempts(&app, &id, "refund").await;
    let unknown = vec![("unknown".to_owned(), 700)];
    assert!(ours == unknown || ours == vec![("succeeded".to_owned(), 700)], "{ours:?}");
    eventually("the sweeper to resolve the refund", async || {
        our_attempts(&app, &id, "refund").await == vec![("succeeded".to_owned(), 700)]
    })
    .await;
    assert_eq!(order_row(&app, &id).await, ("partially_refunded".into(), 2400, 700));
    let txn = provider_transaction(&app, &id).await;
    let (_, read) = shopper.sb.get(&format!("/verifone/oidc/api/v2/transaction/{txn}")).await;
    assert_eq!(read["refunded_amount"], 700, "the provider refunded more than once: {read}");
}

#[tokio::test]
async fn notifications_are_verified_applied_once_and_replays_ignored() {
    let app = app_with(&[]).await;
    let id = paid_order(&app, "4000000000001000").await;
    let txn = provider_transaction(&app, &id).await;
    // The sandbox's own sale notification arrives and is recorded.
    eventually("the sale notification", async || {
        event_kinds(&app, &id).await.contains(&"notification_received".into())
    })
    .await;

    // A refund made at the provider (its portal, say) reaches the order through the notification.
    let shopper = Shopper::new(&app).await;
    let res = shopper
        .sb
        .authed_post(&format!("/verifone/oidc/api/v2/transactions/{txn}/refund"))
        .header("x-vfi-api-idempotencyKey", uuid::Uuid::new_v4().to_string())
        .json(&json!({"amount": 400}))
        .send()
        .await
        .unwrap();
    let refund: serde_json::Value = res.json().await.unwrap();
    eventually("the refund notification to apply", async || {
        order_row(&app, &id).await == ("partially_refunded".into(), 2400, 400)
    })
    .await;
    assert_eq!(attempts(&app, &id, "refund").await, vec![("succeeded".into(), 400)]);

    // The same event again (a retry or a replay) changes nothing; forged or stale signatures are refused.
    let url = format!("{}/notifications/verifone", app.url);
    let body = json!({"id": "evt-replayed", "event": "TxnRefundApproved", "created_at": 0, "transaction_id": refund["id"], "data": refund}).to_string();
    let send = |body: String, signature: String| {
        app.client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-vfi-signature", signature)
            .body(body)
            .send()
    };
    let now = db::now_ms() / 1000;
    let signed = format!("t={now},v1={}", sign(d::NOTIFICATION_SECRET.as_bytes(), now, &body));
    for _ in 0..2 {
        let res = send(body.clone(), signed.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_eq!(order_row(&app, &id).await, ("partially_refunded".into(), 2400, 400), "a duplicate was applied");
    let forged = format!("t={now},v1={}", sign(b"not the secret", now, &body));
    assert_eq!(send(body.clone(), forged).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let stale = now - 3600;
    let old = format!("t={stale},v1={}", sign(d::NOTIFICATION_SECRET.as_bytes(), stale, &body));
    assert_eq!(send(body.clone(), old).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(send(body.clone(), String::new()).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let received: i64 =
        sqlx::query_scalar("SELECT count(*) FROM notifications_received WHERE event_id = 'evt-replayed'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(received, 1);

    // Our own refund is counted once although its notification also arrives.
    let m = MerchantBrowser::signed_in(&app).await;
    assert_eq!(m.act(&id, "refund", "3.00").await.status, StatusCode::SEE_OTHER);
    eventually("our refund's notification", async || {
        event_kinds(&app, &id).await.iter().filter(|k| *k == "notification_received").count() >= 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(order_row(&app, &id).await, ("partially_refunded".into(), 2400, 700));
}

#[tokio::test]
async fn cross_site_form_posts_are_refused() {
    let app = app_with(&[]).await;
    let id = paid_order(&app, "4000000000001000").await;
    let m = MerchantBrowser::signed_in(&app).await;
    let key = uuid::Uuid::new_v4().to_string();
    let res = app
        .client
        .post(format!("{}/merchant/orders/{id}/actions", app.url))
        .header("cookie", m.cookie.clone().unwrap())
        .header("origin", "https://evil.example")
        .form(&[("action", "refund"), ("amount", "5.00"), ("key", key.as_str()), ("confirmed", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(attempts(&app, &id, "refund").await.is_empty());
    let csp = m.get("/merchant/orders").await.csp.unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_is_throttled_on_its_own() {
    let app = app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let attempt = |client: &'static str, account: String| {
        app.client
            .post(format!("{}/merchant/sign-in", app.url))
            .header("x-forwarded-for", client)
            .form(&[("email", account.as_str()), ("password", "guess guess guess")])
            .send()
    };
    for i in 0..20 {
        assert_eq!(
            attempt("203.0.113.1", format!("nobody{i}@example.com")).await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = attempt("203.0.113.1", "someone@example.com".into()).await.unwrap();
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let other = attempt("203.0.113.2", "someone@example.com".into()).await.unwrap();
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED, "another client behind the same proxy is not locked out");
}
