//! The checkout service through its server functions, over HTTP, against the embedded sandbox, down to what
//! SQLite holds: the whole test-case matrix, the merchant policy, pre-authorization, double submits, faults.

mod common;

use card_checkout::server::sandbox::scenarios::Matrix;
use common::{
    TestApp,
    checkout::{Shopper, order_id},
};
use serde_json::{Value, json};

async fn stored_status(app: &TestApp, id: &str) -> (String, Option<i64>, i64) {
    sqlx::query_as("SELECT status, liability_shifted, captured_minor FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Finishes a checkout the way a shopper would for this case: the right code for step-ups.
async fn finish(shopper: &Shopper<'_>, placed: &common::checkout::Placed) -> Value {
    if placed.next.get("Challenge").is_some() {
        shopper.challenge(placed, "submit", "1234").await
    } else {
        placed.next.clone()
    }
}

#[tokio::test]
async fn every_matrix_case_ends_as_the_rules_say() {
    let app = TestApp::spawn_with(&[("SANDBOX_TIMEOUT_DELAY_MS", "1500"), ("VERIFONE_TIMEOUT_MS", "1000")]).await;
    let shopper = Shopper::new(&app).await;
    let matrix = Matrix::load();
    let cases: Vec<_> = matrix.all().iter().filter(|c| c.card_number.is_some()).collect();
    for case in cases {
        let pan = case.card_number.as_deref().unwrap();
        let e = &case.expected;
        let label = format!("case {} {} {} {pan}", case.case, case.brand, case.protocol_version);
        let placed = shopper.place(pan, "tee:1").await;
        assert_eq!(placed.next.get("Challenge").is_some(), e.pares_status_lookup.as_deref() == Some("C"), "{label}");
        let next = finish(&shopper, &placed).await;
        let id = order_id(&next);
        let order = shopper.order(&id).await;
        // Y and A pay; everything else is declined under the default policy (decline without 3DS answer).
        let pays = matches!(e.pares_status_final.as_deref(), Some("Y" | "A"));
        let expected = if pays { "Captured" } else { "Declined" };
        assert_eq!(order["status"], expected, "{label}: {order}");
        let (status, shifted, captured) = stored_status(&app, &id).await;
        assert_eq!(status, if pays { "captured" } else { "declined" }, "{label}");
        assert_eq!(captured, if pays { 2400 } else { 0 }, "{label}");
        if e.enrolled.is_some() || e.pares_status_lookup.is_some() {
            assert_eq!(shifted, Some(i64::from(e.liability_shift)), "{label} liability");
        }
        assert!(order["reason"].as_str().is_some_and(|r| !r.is_empty()), "{label}");
    }
}

#[tokio::test]
async fn proceed_policy_pays_without_liability_shift() {
    let app = TestApp::spawn_with(&[
        ("THREEDS_POLICY", "proceed"),
        ("SANDBOX_TIMEOUT_DELAY_MS", "1500"),
        ("VERIFONE_TIMEOUT_MS", "1000"),
    ])
    .await;
    let shopper = Shopper::new(&app).await;
    for pan in ["4000000000001034", "4000000000001059", "4000000000001083", "4000000000001067"] {
        let placed = shopper.place(pan, "mug:2").await;
        let id = order_id(&placed.next);
        let order = shopper.order(&id).await;
        assert_eq!(order["status"], "Captured", "{pan}: {order}");
        assert_eq!(order["liability_shifted"], false, "{pan}");
    }
    // N and R are never authorized, whatever the policy.
    for pan in ["4000000000001018", "4000000000001042"] {
        let placed = shopper.place(pan, "mug:1").await;
        assert_eq!(shopper.order(&order_id(&placed.next)).await["status"], "Declined", "{pan}");
    }
}

#[tokio::test]
async fn wrong_codes_and_cancel_decline_the_payment() {
    let app = TestApp::spawn().await;
    let shopper = Shopper::new(&app).await;
    let placed = shopper.place("4000000000001091", "cap:1").await;
    for code in ["1", "2"] {
        shopper.answer_only(&placed, code).await;
    }
    let next = shopper.challenge(&placed, "submit", "3").await;
    assert_eq!(shopper.order(&order_id(&next)).await["status"], "Declined");

    let placed = shopper.place("4000000000001091", "cap:1").await;
    let next = shopper.challenge(&placed, "cancel", "").await;
    let order = shopper.order(&order_id(&next)).await;
    assert_eq!(order["status"], "Declined");
    assert_eq!(order["liability_shifted"], false);
}

#[tokio::test]
async fn a_double_submit_creates_one_order_and_one_payment() {
    let app = TestApp::spawn().await;
    let shopper = Shopper::new(&app).await;
    let placed = shopper.place("4111111111111111", "bag:1").await;
    let id = order_id(&placed.next);
    // The same checkout key again (a double click, a retried request): the same order, no new payment.
    let again = json!({"input": {
        "checkout_key": placed.start["checkout_key"], "cart": "bag:1", "billing": Shopper::billing(),
        "card": {"brand": "Visa", "bin6": "411111", "last4": "1111", "expiry_month": 1, "expiry_year": 2040},
        "session_id": "0_00000000-0000-4000-8000-000000000000", "encrypted_card": placed.encrypted_card,
    }});
    let (status, next) = shopper.call("checkout/place", again).await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(order_id(&next), id);
    let payments: i64 = sqlx::query_scalar("SELECT count(*) FROM payment_attempts WHERE order_id = $1")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(payments, 1);
    // The order records who authenticated it and who moved its money.
    let roles: (Option<String>, String) = sqlx::query_as("SELECT authenticator, provider FROM orders WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(roles, (Some("verifone".to_owned()), "verifone".to_owned()));
}

/// Submits of one checkout sent at once (a double click, a retry racing the first): whichever writes the order
/// first, every one is answered with that order (none with "not found" while it is not yet committed).
#[tokio::test]
async fn submits_sent_at_once_all_get_the_one_order() {
    let app = TestApp::spawn().await;
    let shopper = Shopper::new(&app).await;
    for _ in 0..3 {
        let (_, input, _) = shopper.prepare("4111111111111111", "4111111111111111", "bag:1").await.unwrap();
        let answers = futures_util::future::join_all(
            (0..8).map(|_| shopper.call("checkout/place", json!({"input": input.clone()}))),
        )
        .await;
        let ids: Vec<String> = answers
            .iter()
            .map(|(status, next)| {
                assert_eq!(*status, 200, "{next}");
                order_id(next)
            })
            .collect();
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        let payments: i64 = sqlx::query_scalar("SELECT count(*) FROM payment_attempts WHERE order_id = $1")
            .bind(&ids[0])
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(payments, 1);
    }
}

#[tokio::test]
async fn the_server_recomputes_the_total_and_validates_every_field() {
    let app = TestApp::spawn().await;
    let shopper = Shopper::new(&app).await;
    let (status, start) = shopper.call("checkout/start", json!({"cart": "tee:2,mug:1"})).await;
    assert_eq!(status, 200);
    assert_eq!(start["quote"]["total"], json!({"minor": 6000, "currency": "EUR"}));
    let (status, err) = shopper.call("checkout/start", json!({"cart": "tee:99"})).await;
    assert_eq!(status, 422, "{err}");
    assert!(err["Invalid"][0]["field"] == "cart", "{err}");

    let bad = json!({"input": {
        "checkout_key": start["checkout_key"], "cart": "tee:1",
        "billing": {"first_name": "", "last_name": "L", "address_1": "1", "city": "C", "country": "GBR", "email": "x"},
        "card": {"brand": "Visa", "bin6": "411111", "last4": "1111", "expiry_month": 1, "expiry_year": 2040},
        "session_id": "0_x", "encrypted_card": "x",
    }});
    let (status, err) = shopper.call("checkout/place", bad).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = err["Invalid"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["first_name", "country", "email"]);
    let expired = json!({"input": {
        "checkout_key": start["checkout_key"], "cart": "tee:1", "billing": Shopper::billing(),
        "card": {"brand": "Visa", "bin6": "411111", "last4": "1111", "expiry_month": 1, "expiry_year": 2020},
        "session_id": "0_x", "encrypted_card": "x",
    }});
    let (status, err) = shopper.call("checkout/place", expired).await;
    assert_eq!(status, 422);
    assert_eq!(err["Invalid"][0], json!({"field": "expiry", "message": "this card has expired"}));
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&app.pool).await.unwrap();
    assert_eq!(orders, 0, "nothing is stored for invalid input");
}

#[tokio::test]
async fn pre_authorization_mode_holds_the_funds() {
    let app = TestApp::spawn_with(&[("CAPTURE_MODE", "pre_auth")]).await;
    let shopper = Shopper::new(&app).await;
    let placed = shopper.place("5200000000001005", "tee:1").await;
    let order = shopper.order(&order_id(&placed.next)).await;
    assert_eq!(order["status"], "Authorized");
    assert_eq!(order["pre_auth"], true);
    let (_, _, captured) = stored_status(&app, order["id"].as_str().unwrap()).await;
    assert_eq!(captured, 0);
}

#[tokio::test]
async fn a_lost_payment_answer_is_resolved_without_paying_twice() {
    let app = TestApp::spawn().await;
    let shopper = Shopper::new(&app).await;
    let arm =
        json!({"path": "/verifone/oidc/api/v2/transactions/card", "fault": "drop", "body_contains": "\"amount\":3900"});
    let res = app.client.post(format!("{}/sandbox/_control/faults", app.url)).json(&arm).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let placed = shopper.place("4111111111111111", "bag:1").await;
    let id = order_id(&placed.next);
    let (status, _, _) = stored_status(&app, &id).await;
    assert_eq!(status, "unknown", "the answer was lost: the order says so");
    // Reading the order resolves it: the same idempotency key gets the first answer back.
    let order = shopper.order(&id).await;
    assert_eq!(order["status"], "Captured", "{order}");
    let attempts: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT status, pending_request FROM payment_attempts WHERE order_id = $1")
            .bind(&id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(attempts, vec![("succeeded".to_owned(), None)], "one attempt, its stored request cleared");
}

#[tokio::test]
async fn a_provider_error_fails_the_order_visibly() {
    let app = TestApp::spawn().await;
    let shopper = Shopper::new(&app).await;
    let arm = json!({"path": "/verifone/oidc/3ds-service/v2/lookup", "fault": "error", "status": 503});
    app.client.post(format!("{}/sandbox/_control/faults", app.url)).json(&arm).send().await.unwrap();
    let placed = shopper.place("4111111111111111", "cap:2").await;
    let order = shopper.order(&order_id(&placed.next)).await;
    assert_eq!(order["status"], "Declined", "no 3DS answer under the decline policy: {order}");
    let events: Vec<String> = sqlx::query_scalar("SELECT kind FROM order_events WHERE order_id = $1 ORDER BY id")
        .bind(order["id"].as_str().unwrap())
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert!(events.contains(&"lookup_failed".to_owned()), "{events:?}");
}

#[tokio::test]
async fn no_card_number_or_cvv_in_the_database_or_the_log() {
    let app = TestApp::spawn().await;
    let shopper = Shopper::new(&app).await;
    let pans = ["4000000000001000", "4000000000001091", "5200000000001005"];
    for pan in pans {
        let placed = shopper.place(pan, "tee:1").await;
        finish(&shopper, &placed).await;
    }
    // Every value in every table, and every log line.
    let tables = common::table_names(&app).await;
    let mut dump = String::new();
    for t in tables {
        for row in sqlx::query(&format!("SELECT * FROM \"{t}\"")).fetch_all(&app.pool).await.unwrap() {
            use sqlx::{Column, Row};
            for c in row.columns() {
                let text = row.try_get::<Option<String>, _>(c.ordinal()).ok().flatten();
                let number = row.try_get::<Option<i64>, _>(c.ordinal()).ok().flatten().map(|n| n.to_string());
                dump.push_str(&text.or(number).unwrap_or_default());
                dump.push('\n');
            }
        }
    }
    assert!(dump.contains("400000"), "the dump holds the stored card summary, so the check can fail");
    let logs = common::captured_logs();
    for pan in pans {
        assert!(!dump.contains(pan), "card number in the database");
        assert!(!logs.contains(pan), "card number in the log");
    }
    assert!(!dump.contains("\"cvv\""), "a CVV field in the database");
    assert!(!dump.contains("-----BEGIN PGP"), "an encrypted card left in the database");
}

#[tokio::test]
async fn pages_carry_a_strict_csp_and_server_functions_refuse_cross_site_calls() {
    let app = TestApp::spawn().await;
    let res = app.get("/checkout?tee=1").await;
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let html = res.text().await.unwrap();
    let nonce = csp.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).unwrap().to_owned();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the inline scripts carry the policy's nonce");
    assert!(!csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'self'"), "{csp}");

    let cross = app
        .client
        .post(format!("{}/api/checkout/start", app.url))
        .header("origin", "https://evil.example")
        .json(&json!({"cart": "tee:1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let same = app
        .client
        .post(format!("{}/api/checkout/start", app.url))
        .header("origin", app.url.clone())
        .json(&json!({"cart": "tee:1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 200);
}

#[tokio::test]
async fn a_checkout_left_mid_challenge_expires() {
    let app = TestApp::spawn_with(&[("CHECKOUT_ABANDON_MINUTES", "0"), ("SWEEP_INTERVAL_SECS", "1")]).await;
    let shopper = Shopper::new(&app).await;
    let placed = shopper.place("4000000000001091", "tee:1").await;
    let id = order_id(&placed.next);
    let mut status = String::new();
    for _ in 0..50 {
        status = stored_status(&app, &id).await.0;
        if status == "expired" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, "expired");
    let order = shopper.order(&id).await;
    assert_eq!(order["status"], "Expired");
    // A late completion of the abandoned challenge changes nothing.
    let next = shopper.challenge(&placed, "submit", "1234").await;
    assert_eq!(next["Done"]["order_id"], id.as_str());
    assert_eq!(stored_status(&app, &id).await.0, "expired");
}

#[tokio::test]
async fn server_functions_report_our_time_and_the_providers_apart() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(format!("{}/api/checkout/start", app.url))
        .json(&json!({"cart": "tee:1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let timing = res.headers()["server-timing"].to_str().unwrap().to_owned();
    let dur = |name: &str| -> f64 {
        timing.split(',').find_map(|p| p.trim().strip_prefix(name)?.strip_prefix(";dur=")?.parse().ok()).unwrap()
    };
    // start_checkout asks the 3DS service for a JWT: some of the time is the provider's.
    assert!(dur("provider") > 0.0, "{timing}");
    assert!(dur("app") >= 0.0, "{timing}");
    assert!(app.get("/shop").await.headers().get("server-timing").is_none(), "pages are not timed this way");
}
