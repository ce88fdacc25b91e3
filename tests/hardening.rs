//! Payment-safety defects found in review, each proven over HTTP against the real binary: amounts read
//! strictly, typed errors with their HTTP status, no 5xx or partial order for any malformed input, sign-in
//! throttling that parallel guesses cannot outrun, the same-origin check behind a proxy, the Verifone
//! sandbox refusing what the real API refuses, and sweeps, password resets and key fetches that cannot stall.

mod common;

use card_checkout::server::{config::sandbox_defaults as d, db, sandbox::notifications::sign};
use common::{
    TestApp,
    checkout::{Shopper, order_id},
    event_kinds, eventually,
    merchant::{EMAIL, MerchantBrowser, PASSWORD, USER},
    order_row,
    verifone::{Sandbox, test_card_expiry, threed_from_lookup},
};
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::{collections::HashSet, time::Duration};

const PAY: &str = "/verifone/oidc/api/v2/transactions/card";
const MIB: usize = 1 << 20;

async fn app_with(extra: &[(&str, &str)]) -> TestApp {
    let mut vars = USER.to_vec();
    vars.extend_from_slice(extra);
    TestApp::spawn_with(&vars).await
}

/// A paid order (EUR 24.00 for one tee) through the real checkout; returns its id.
async fn paid_order(app: &TestApp) -> String {
    let shopper = Shopper::new(app).await;
    order_id(&shopper.place("4000000000001000", "tee:1").await.next)
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

/// Posts a server function's raw body; a dropped connection (a panic in the handler) reads as status 0.
async fn call_raw(app: &TestApp, name: &str, body: String) -> (u16, Value) {
    let res = app
        .client
        .post(format!("{}/api/{name}", app.url))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    match res {
        Ok(res) => {
            let status = res.status().as_u16();
            (status, res.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

async fn call(app: &TestApp, name: &str, args: Value) -> (u16, Value) {
    call_raw(app, name, args.to_string()).await
}

// Item 10 -------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_signed_refund_event_without_a_valid_amount_refunds_nothing() {
    let app = TestApp::spawn_with(&[("SANDBOX_NOTIFICATION_URL", "none")]).await;
    let id = paid_order(&app).await;
    let reference: String = sqlx::query_scalar("SELECT merchant_reference FROM orders WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let url = format!("{}/notifications/verifone", app.url);
    for (n, amount) in [json!(-100), Value::Null].into_iter().enumerate() {
        let mut data = json!({"id": format!("ext-refund-{n}"), "status": "REFUNDED", "merchant_reference": reference});
        if !amount.is_null() {
            data["amount"] = amount;
        }
        let body = json!({"id": format!("evt-bad-amount-{n}"), "event": "TxnRefundApproved", "data": data}).to_string();
        let now = db::now_ms() / 1000;
        let signature = format!("t={now},v1={}", sign(d::NOTIFICATION_SECRET.as_bytes(), now, &body));
        let res = app
            .client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-vfi-signature", signature)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "a signed event is acknowledged, so it is not sent again");
    }
    assert_eq!(order_row(&app, &id).await, ("captured".into(), 2400, 0), "an event without an amount refunded");
    let refused = event_kinds(&app, &id).await.iter().filter(|k| *k == "notification_not_applied").count();
    assert_eq!(refused, 2, "each rejected event is on the timeline");
}

// Item 11 -------------------------------------------------------------------------------------------------

#[tokio::test]
async fn refund_amounts_are_read_strictly_by_the_currency_exponent() {
    let app = app_with(&[]).await;
    let id = paid_order(&app).await;
    let m = MerchantBrowser::signed_in(&app).await;
    // A decimal comma means what the merchant meant: EUR 1.20, not 12.00.
    let key = uuid::Uuid::new_v4().to_string();
    let ask = m
        .post(&format!("/merchant/orders/{id}/actions"), &[("action", "refund"), ("amount", "1,2"), ("key", &key)])
        .await;
    assert!(ask.body.contains("Refund EUR 1.20 to"), "{}", ask.body);
    assert_eq!(m.act(&id, "refund", "1,2").await.status, StatusCode::SEE_OTHER);
    assert_eq!(order_row(&app, &id).await, ("partially_refunded".into(), 2400, 120));
    for bad in ["1_0", "1,,,", "1,234.50", "1.2.3", "1,2.3", "1.234", "1 0", "+1", "1e2", "١٠"] {
        let page = m.act(&id, "refund", bad).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(order_row(&app, &id).await, ("partially_refunded".into(), 2400, 120), "a loose amount was refunded");
}

// Item 12 -------------------------------------------------------------------------------------------------

#[tokio::test]
async fn typed_errors_answer_with_their_http_status_and_json_body() {
    let app = TestApp::spawn().await;
    let (status, err) = call(&app, "checkout/start", json!({"cart": "tee:99"})).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["Invalid"][0]["field"], "cart", "{err}");

    let (status, err) = call(&app, "checkout/order", json!({"order_id": uuid::Uuid::new_v4().to_string()})).await;
    assert_eq!((status, err), (404, json!("NotFound")));

    // What could not be read is named, without the decoder's words (they may quote what was sent).
    let (status, err) = call_raw(&app, "checkout/place", "{\"input\":".into()).await;
    assert_eq!((status, err), (400, json!("Malformed")));
    let (status, err) = call(&app, "checkout/place", json!({"input": {"card": {"brand": "4111111111111111"}}})).await;
    assert_eq!((status, err), (400, json!("Malformed")));

    // An order that is authenticating without a pending challenge: completing one is a conflict.
    let id = paid_order(&app).await;
    sqlx::query("UPDATE orders SET status = 'authenticating' WHERE id = $1")
        .bind(&id)
        .execute(&app.pool)
        .await
        .unwrap();
    let (status, err) = call(&app, "checkout/challenge", json!({"order_id": id, "jwt": "a.b.c"})).await;
    assert_eq!(status, 409, "{err}");
    assert!(err["Conflict"].is_string(), "{err}");
}

// Item 13 -------------------------------------------------------------------------------------------------

fn place_input(checkout_key: &str) -> Value {
    let (month, year) = test_card_expiry();
    json!({
        "checkout_key": checkout_key, "cart": "tee:1", "billing": Shopper::billing(),
        "card": {"brand": "Visa", "bin6": "411111", "last4": "1111",
                 "expiry_month": month.parse::<u8>().unwrap(), "expiry_year": year.parse::<u16>().unwrap()},
        "session_id": "0_00000000-0000-4000-8000-000000000000", "encrypted_card": "eA==",
    })
}

#[tokio::test]
async fn malformed_huge_negative_and_overflowing_input_never_answers_5xx() {
    let app = app_with(&[]).await;
    let huge = "9".repeat(MIB);
    let carts = [
        "tee:4294967295,tee:1",
        "tee:-1",
        "tee:99999999999999999999",
        "tee:1e3",
        "tee:1:2",
        ":",
        ",,,",
        "\u{0}:1",
        &"tee:1,".repeat(100_000),
        &huge,
    ];
    for cart in carts {
        let (status, err) = call(&app, "checkout/start", json!({"cart": cart})).await;
        assert_eq!(status, 422, "start {:.40}: {err:.200}", cart);
    }

    let key = uuid::Uuid::new_v4().to_string();
    let mut unreadable: Vec<(&str, Value)> = vec![
        ("/card/expiry_month", json!(-1)),
        ("/card/expiry_month", json!(256)),
        ("/card/expiry_year", json!(70000)),
        ("/card/expiry_year", json!(4294967296u64)),
        ("/card/expiry_year", json!("2030")),
        ("/card/brand", json!("Diners")),
        ("/billing", Value::Null),
    ];
    let mut invalid: Vec<(&str, Value)> = vec![
        ("/cart", json!("tee:4294967295,tee:1")),
        ("/checkout_key", json!("k".repeat(MIB))),
        ("/checkout_key", json!("not-a-key")),
        ("/session_id", json!("s".repeat(MIB))),
        ("/encrypted_card", json!("e".repeat(MIB))),
        ("/billing/first_name", json!("a".repeat(MIB))),
        ("/billing/email", json!(format!("{}@example.com", "a".repeat(MIB)))),
        ("/card/expiry_month", json!(0)),
        ("/card/expiry_month", json!(13)),
        ("/card/expiry_year", json!(65535)),
        ("/card/expiry_year", json!(1999)),
        ("/card/bin6", json!("41111")),
        ("/card/bin6", json!("4".repeat(MIB))),
        ("/card/last4", json!("abcd")),
    ];
    for (expected, cases) in [(400, &mut unreadable), (422, &mut invalid)] {
        for (pointer, value) in cases.drain(..) {
            let mut input = place_input(&key);
            *input.pointer_mut(pointer).unwrap() = value;
            let (status, err) = call(&app, "checkout/place", json!({"input": input})).await;
            assert_eq!(status, expected, "place with {pointer} changed: {err:.200}");
        }
    }
    assert_eq!(count(&app, "SELECT count(*) FROM orders").await, 0, "an order was stored for invalid input");

    let (status, err) = call(&app, "checkout/order", json!({"order_id": huge})).await;
    assert_eq!((status, err), (404, json!("NotFound")));
    let id = paid_order(&app).await;
    let (status, err) = call(&app, "checkout/challenge", json!({"order_id": id, "jwt": huge})).await;
    assert_eq!(status, 422, "challenge with a huge jwt: {err:.200}");

    // A two-digit expiry year is the year the browser means, stored as such.
    let shopper = Shopper::new(&app).await;
    let (_, start) = shopper.call("checkout/start", json!({"cart": "mug:1"})).await;
    let session = shopper.sb.session().await;
    let (month, year) = test_card_expiry();
    let mut input = place_input(start["checkout_key"].as_str().unwrap());
    input["cart"] = json!("mug:1");
    input["session_id"] = json!(session);
    input["encrypted_card"] = json!(shopper.sb.encrypt("4111111111111111", &month, &year));
    input["card"]["expiry_year"] = json!(year.parse::<u16>().unwrap() % 100);
    let (status, next) = shopper.call("checkout/place", json!({"input": input})).await;
    assert_eq!(status, 200, "{next}");
    let stored: i64 = sqlx::query_scalar("SELECT card_expiry_year FROM orders WHERE id = $1")
        .bind(order_id(&next))
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored.to_string(), year);

    // The back office's forms.
    let m = MerchantBrowser::signed_in(&app).await;
    let path = format!("/merchant/orders/{id}/actions");
    let key = uuid::Uuid::new_v4().to_string();
    for form in [
        [("action", "refund"), ("amount", "99999999999999999999"), ("key", key.as_str())],
        [("action", "refund"), ("amount", "-5"), ("key", key.as_str())],
        [("action", "refund"), ("amount", huge.as_str()), ("key", key.as_str())],
        [("action", huge.as_str()), ("amount", "1"), ("key", key.as_str())],
        [("action", "refund"), ("amount", "1"), ("key", huge.as_str())],
    ] {
        let page = m.post(&path, &form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.len() < 64 * 1024, "the page echoes the huge value back");
    }
    assert_eq!(order_row(&app, &id).await, ("captured".into(), 2400, 0));
    for query in ["min=-1", "max=99999999999999999999", &format!("q={}", "a".repeat(8192))] {
        assert_eq!(m.get(&format!("/merchant/orders?{query}")).await.status, StatusCode::BAD_REQUEST, "{query:.40}");
    }
    let mut anonymous = MerchantBrowser::anonymous(&app);
    let page = anonymous.sign_in(&huge, "guess guess guess").await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.body.len() < 64 * 1024, "the sign-in page echoes the huge email back");
    assert_eq!(anonymous.sign_in("x@example.com", &huge).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(count(&app, "SELECT count(*) FROM sign_in_failures WHERE length(account) > 254").await, 0);
}

// Item 14 -------------------------------------------------------------------------------------------------

#[tokio::test]
async fn parallel_guesses_cannot_outrun_the_sign_in_throttle() {
    let app = app_with(&[]).await;
    let guess = || {
        app.client
            .post(format!("{}/merchant/sign-in", app.url))
            .form(&[("email", EMAIL), ("password", "wrong password!")])
            .send()
    };
    let answers: Vec<StatusCode> =
        join_all((0..50).map(|_| guess())).await.into_iter().map(|r| r.unwrap().status()).collect();
    let checked = answers.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    assert!(checked <= 5, "{checked} of 50 parallel guesses were checked: {answers:?}");
    assert!(
        answers.iter().all(|s| [
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::SERVICE_UNAVAILABLE
        ]
        .contains(s)),
        "{answers:?}"
    );
    let mut m = MerchantBrowser::anonymous(&app);
    assert_eq!(m.sign_in(EMAIL, PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
}

// Item 16 -------------------------------------------------------------------------------------------------

#[tokio::test]
async fn behind_a_proxy_that_rewrites_host_the_public_origin_may_post() {
    let app = app_with(&[("PUBLIC_URL", "https://shop.example.com/")]).await;
    let post = |path: &str, origin: &str| {
        app.client
            .post(format!("{}{path}", app.url))
            .header("origin", origin)
            .form(&[("email", EMAIL), ("password", PASSWORD)])
            .send()
    };
    // The proxy sends Host 127.0.0.1:port; the browser's Origin is the public one.
    let res = post("/merchant/sign-in", "https://shop.example.com").await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = post("/api/status", "https://shop.example.com").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // An origin that merely matches the Host header is not ours.
    assert_eq!(post("/merchant/sign-in", &app.url).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(post("/api/status", "https://evil.example").await.unwrap().status(), StatusCode::FORBIDDEN);
}

// Item 17 -------------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_verifone_sandbox_charges_once_per_idempotency_key_even_in_parallel() {
    let app = TestApp::spawn().await;
    let sb = Sandbox::of(&app).await;
    let body = sb.payment_body("4111111111111111", 1234, None).await;
    // Many rounds: the race needs two requests inside one handler's run at once.
    for _ in 0..30 {
        let key = uuid::Uuid::new_v4().to_string();
        // Open the connections first, so the payments arrive together.
        join_all((0..12).map(|_| sb.get(PAY))).await;
        let answers = join_all((0..12).map(|_| sb.post_with(PAY, &body, Some(&key)))).await;
        let ids: HashSet<&str> =
            answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).filter_map(|(_, b)| b["id"].as_str()).collect();
        assert_eq!(ids.len(), 1, "one key charged {} times: {ids:?}", ids.len());
        for (status, body) in &answers {
            assert!(*status == StatusCode::CREATED || *status == StatusCode::CONFLICT, "{status} {body}");
            if *status == StatusCode::CONFLICT {
                assert_eq!(body["code"], 409, "{body}");
            }
        }
    }
}

#[tokio::test]
async fn the_verifone_sandbox_refuses_malformed_3ds_data_and_currency() {
    let app = TestApp::spawn().await;
    let sb = Sandbox::of(&app).await;
    let pan = "4000000000001000";
    for threed in [json!("Y"), json!([{"cavv": "x"}]), json!(5)] {
        let body = sb.payment_body(pan, 1000, Some(threed.clone())).await;
        let (status, answer) = sb.post(PAY, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{threed}: {answer}");
        assert_eq!(answer["code"], 400, "{answer}");
        assert!(answer["message"].as_str().unwrap().contains("threed_authentication"), "{answer}");
    }
    let mut body = sb.payment_body(pan, 1000, None).await;
    body["currency_code"] = json!("eur");
    let (status, answer) = sb.post(PAY, &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("currency_code"), "{answer}");
}

#[tokio::test]
async fn the_verifone_sandbox_refuses_a_cavv_of_another_authentication() {
    let app = TestApp::spawn().await;
    let sb = Sandbox::of(&app).await;
    let pan = "4000000000001000";
    let (_, first) = sb.lookup(pan, 1000).await;
    let (_, second) = sb.lookup(pan, 1000).await;
    assert_ne!(first["cavv"], second["cavv"]);
    // The second authentication's values with the first one's CAVV: same card, same amount.
    let mut mixed = threed_from_lookup(&second);
    mixed["cavv"] = first["cavv"].clone();
    let (status, answer) = sb.post(PAY, &sb.payment_body(pan, 1000, Some(mixed)).await).await;
    assert_eq!((status, answer["status"].as_str()), (StatusCode::CREATED, Some("DECLINED")), "{answer}");
    for lookup in [&first, &second] {
        let (_, answer) = sb.post(PAY, &sb.payment_body(pan, 1000, Some(threed_from_lookup(lookup))).await).await;
        assert_eq!(answer["status"], "AUTHORIZED", "each authentication's own data still pays: {answer}");
    }
}

// Item 19 -------------------------------------------------------------------------------------------------

#[tokio::test]
async fn one_failing_item_does_not_stop_the_sweep() {
    let app = app_with(&[("VERIFONE_TIMEOUT_MS", "800"), ("SWEEP_INTERVAL_SECS", "1")]).await;
    let first = paid_order(&app).await;
    let second = paid_order(&app).await;
    let shopper = Shopper::new(&app).await;
    let m = MerchantBrowser::signed_in(&app).await;
    let stuck_key = uuid::Uuid::new_v4().to_string();
    // The first order's refund can never be recorded as done: resolving it fails every time.
    let trigger = match common::engine() {
        db::Engine::Sqlite => format!(
            "CREATE TRIGGER stuck BEFORE UPDATE OF status ON payment_attempts
             WHEN OLD.idempotency_key = '{stuck_key}' AND NEW.status = 'succeeded'
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        ),
        db::Engine::Postgres => format!(
            "CREATE FUNCTION stuck() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'injected failure'; END $$;
             CREATE TRIGGER stuck BEFORE UPDATE OF status ON payment_attempts FOR EACH ROW
             WHEN (OLD.idempotency_key = '{stuck_key}' AND NEW.status = 'succeeded') EXECUTE FUNCTION stuck()"
        ),
    };
    sqlx::raw_sql(&trigger).execute(&app.pool).await.unwrap();
    for (id, amount, minor, key) in
        [(&first, "7.00", 700, stuck_key.clone()), (&second, "8.00", 800, uuid::Uuid::new_v4().to_string())]
    {
        let fault = json!({"path": "/refund", "fault": "slow", "delay_ms": 2000,
                           "body_contains": format!("\"amount\":{minor}")});
        assert!(shopper.sb.post("/_control/faults", &fault).await.0.is_success());
        let path = format!("/merchant/orders/{id}/actions");
        let form = [("action", "refund"), ("amount", amount), ("key", key.as_str()), ("confirmed", "yes")];
        assert_eq!(m.post(&path, &form).await.status, StatusCode::SEE_OTHER);
    }
    eventually("the second refund to be resolved past the first", async || {
        order_row(&app, &second).await == ("partially_refunded".to_owned(), 2400, 800)
    })
    .await;
    let stuck: String = sqlx::query_scalar("SELECT status FROM payment_attempts WHERE idempotency_key = $1")
        .bind(&stuck_key)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stuck, "unknown");
}

#[tokio::test]
async fn a_password_reset_ends_the_users_sessions() {
    let app = app_with(&[]).await;
    let m = MerchantBrowser::signed_in(&app).await;
    // A restart with the same MERCHANT_PASSWORD changes nothing: the merchant stays signed in.
    let same = app_with(&[("DATABASE_URL", &app.database_url)]).await;
    assert_eq!(m.get("/merchant/orders").await.status, StatusCode::OK, "a restart signed the merchant out");
    drop(same);
    // A new MERCHANT_PASSWORD at start-up ends every session of the user.
    let _reset = TestApp::spawn_with(&[
        ("DATABASE_URL", &app.database_url),
        ("MERCHANT_EMAIL", EMAIL),
        ("MERCHANT_PASSWORD", "a brand new passphrase"),
    ])
    .await;
    assert_eq!(m.get("/merchant/orders").await.status, StatusCode::SEE_OTHER, "the session outlived the reset");

    // And so does `create-merchant` for an existing user.
    let mut m = MerchantBrowser::anonymous(&app);
    assert_eq!(m.sign_in(EMAIL, "a brand new passphrase").await.status, StatusCode::SEE_OTHER);
    let reset = std::process::Command::new(env!("CARGO_BIN_EXE_card-checkout"))
        .args(["create-merchant", EMAIL])
        .env("DATABASE_URL", &app.database_url)
        .env("MERCHANT_PASSWORD", "yet another passphrase")
        .env("LOG_LEVEL", "warn")
        .output()
        .unwrap();
    assert!(reset.status.success(), "{}", String::from_utf8_lossy(&reset.stderr));
    assert_eq!(m.get("/merchant/orders").await.status, StatusCode::SEE_OTHER, "the session outlived the reset");
}

#[tokio::test]
async fn the_card_key_fetch_gives_up_after_the_provider_timeout() {
    let app = TestApp::spawn_with(&[("VERIFONE_TIMEOUT_MS", "1000")]).await;
    let fault =
        json!({"path": format!("/verifone/keys/{}", d::VERIFONE_PUBLIC_KEY_ALIAS), "fault": "slow", "delay_ms": 30000});
    let res = app.client.post(format!("{}/sandbox/_control/faults", app.url)).json(&fault).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let answer = tokio::time::timeout(Duration::from_secs(8), call(&app, "checkout/start", json!({"cart": "tee:1"})))
        .await
        .expect("the checkout waited for the key without a timeout");
    assert_eq!(answer, (503, json!("Unavailable")));
    // The next try fetches the key again and works.
    let (status, start) = call(&app, "checkout/start", json!({"cart": "tee:1"})).await;
    assert_eq!(status, 200, "{start}");
}
