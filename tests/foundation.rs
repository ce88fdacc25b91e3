//! The skeleton through real HTTP: health, pages, 404, a server function, logging and the database rules.

mod common;

use card_checkout::{
    domain::{
        customer::BillingDetails,
        money::{Currency, Money},
        status::PaymentStatus,
    },
    server::db::{self, orders},
};
use common::{TestApp, captured_logs};

#[tokio::test]
async fn health_reports_the_database() {
    let app = TestApp::spawn().await;
    let res = app.get("/health").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["database"], "reachable");
}

#[tokio::test]
async fn serves_the_shell_with_navigation_and_hydration_scripts() {
    let app = TestApp::spawn().await;
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let html = res.text().await.unwrap();
    assert!(html.contains("Card payments with 3-D Secure"));
    assert!(html.contains(r#"href="/checkout""#) && html.contains(r#"href="/merchant/orders""#));
    assert!(html.contains("/pkg/card-checkout.js"), "hydration script missing");
    assert_eq!(app.get("/checkout").await.status(), 200);
    // The back office is its own server-rendered app: it starts at sign-in.
    assert_eq!(app.get("/merchant").await.headers()["location"], "/merchant/orders");
    assert_eq!(app.get("/merchant/sign-in").await.status(), 200);
}

/// Islands: the checkout's card form is the one part of any page that hydrates (its props travel in the HTML);
/// every other page, and the rest of the checkout page, is server HTML the wasm never touches.
#[tokio::test]
async fn only_the_checkout_form_is_an_island() {
    let app = TestApp::spawn().await;
    let checkout = app.get("/checkout?tee=1").await.text().await.unwrap();
    assert_eq!(checkout.matches("<leptos-island").count(), 1, "{checkout}");
    assert!(checkout.contains(r#"<leptos-island data-component="CheckoutForm_"#), "{checkout}");
    // The shell's script (`app::IslandScripts`) imports the bundle and hydrates each island.
    let islands_script = "import init, * as islands from '/pkg/card-checkout.js'";
    assert!(checkout.contains(islands_script), "the shell does not load the islands script");
    for path in ["/", "/shop", "/checkout", "/checkout/no-such-order", "/no/such/page"] {
        let html = app.get(path).await.text().await.unwrap();
        assert!(html.contains(islands_script), "{path}: the shell does not load the islands script");
        assert!(!html.contains("<leptos-island"), "{path} has an island:\n{html}");
    }
}

#[tokio::test]
async fn unknown_pages_get_a_styled_404() {
    let app = TestApp::spawn().await;
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status(), 404);
    let html = res.text().await.unwrap();
    assert!(html.contains("Page not found"));
    assert!(html.contains("Back to the start page"));
}

#[tokio::test]
async fn server_function_answers_json() {
    let app = TestApp::spawn().await;
    let res = app.client.post(format!("{}/api/status", app.url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"sandbox": true, "database_reachable": true}));
}

#[tokio::test]
async fn a_card_number_in_a_request_never_reaches_the_log() {
    let app = TestApp::spawn().await;
    let pan = "4111111111111111";
    app.get(&format!("/checkout?card_number={pan}&cvv=123")).await;
    app.get(&format!("/{pan}")).await;
    app.get(&format!("/checkout/{pan}")).await;
    app.client
        .post(format!("{}/api/status", app.url))
        .header("x-card-number", pan)
        .form(&[("card_number", pan), ("cvv", "123")])
        .send()
        .await
        .unwrap();
    app.client.post(format!("{}/api/no_such_fn", app.url)).body(format!("card={pan}")).send().await.unwrap();

    let logs = captured_logs();
    // The requests were logged (so this check can fail), without the number in any form.
    assert!(logs.contains(r#""route":"/checkout""#), "request spans missing from the log:\n{logs}");
    assert!(logs.contains(r#""route":"/api/status""#));
    assert!(!logs.contains(pan), "card number leaked into the log");
    assert!(!logs.contains("4111 1111"), "card number leaked into the log");
}

fn billing() -> BillingDetails {
    BillingDetails {
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        address_1: "1 Main St".into(),
        city: "London".into(),
        country: "GB".into(),
        email: "ada@example.com".into(),
    }
}

fn new_order(reference: &str) -> orders::NewOrder {
    orders::NewOrder {
        checkout_key: None,
        merchant_reference: reference.into(),
        amount: Money::new(1999, Currency::EUR).unwrap(),
        billing: billing(),
        card: None,
        authenticator: Some(orders::Provider::Verifone),
        provider: orders::Provider::Verifone,
        capture_mode: orders::CaptureMode::Sale,
    }
}

/// SQLite: WAL, `synchronous=FULL`, foreign keys on. PostgreSQL: each commit waits for its log to be flushed.
#[tokio::test]
async fn the_database_is_durable_with_foreign_keys() {
    let app = TestApp::spawn().await;
    let pool = &app.pool;
    if common::engine() == db::Engine::Postgres {
        let sync: String =
            sqlx::query_scalar("SELECT current_setting('synchronous_commit')").fetch_one(pool).await.unwrap();
        assert_eq!(sync, "on");
        let fsync: String = sqlx::query_scalar("SELECT current_setting('fsync')").fetch_one(pool).await.unwrap();
        assert_eq!(fsync, "on");
        return;
    }
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(pool).await.unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(pool).await.unwrap();
    assert_eq!(sync, 2, "synchronous=FULL");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(pool).await.unwrap();
    assert_eq!(fk, 1);
    let timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(pool).await.unwrap();
    assert!(timeout >= 1000);
}

#[tokio::test]
async fn orders_follow_the_state_machine_and_log_every_step() {
    let app = TestApp::spawn().await;
    let pool = &app.pool;
    let mut tx = db::begin_write(&app.db).await.unwrap();
    let id = orders::insert(&mut tx, &new_order("ref-1")).await.unwrap();
    orders::transition(&mut tx, &id, PaymentStatus::Authenticating).await.unwrap();
    tx.commit().await.unwrap();

    // Events are written when their transaction commits: a dropped one's are gone with it.
    let mut tx = db::begin_write(&app.db).await.unwrap();
    orders::append_event(&mut tx, &id, "dropped_with_its_transaction", &serde_json::json!({}));
    let err = orders::transition(&mut tx, &id, PaymentStatus::Captured).await.unwrap_err();
    assert!(matches!(err, orders::OrderError::Transition(_)), "{err}");
    drop(tx);

    let order = orders::get(pool, &id).await.unwrap();
    assert_eq!(order.status, PaymentStatus::Authenticating);
    assert_eq!(order.amount, Money::new(1999, Currency::EUR).unwrap());
    assert_eq!((order.authenticator, order.provider), (Some(orders::Provider::Verifone), orders::Provider::Verifone));
    let kinds: Vec<String> = orders::events(pool, &id).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["order_created", "status_changed"]);

    // A finish moves the order and says why in the same statement; its events keep their order.
    let mut tx = db::begin_write(&app.db).await.unwrap();
    orders::append_event(&mut tx, &id, "before", &serde_json::json!({"n": 1}));
    orders::finish(&mut tx, &id, PaymentStatus::Failed, "the bank said no").await.unwrap();
    orders::append_event(&mut tx, &id, "after", &serde_json::json!({"n": 2}));
    tx.commit().await.unwrap();
    let order = orders::get(pool, &id).await.unwrap();
    assert_eq!((order.status, order.outcome_reason.as_deref()), (PaymentStatus::Failed, Some("the bank said no")));
    let events = orders::events(pool, &id).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["order_created", "status_changed", "before", "status_changed", "after"]);
    assert_eq!(events[3].details, serde_json::json!({"from": "authenticating", "to": "failed"}));
    assert_eq!(events[4].details, serde_json::json!({"n": 2}));

    let mut tx = db::begin_write(&app.db).await.unwrap();
    assert!(orders::insert(&mut tx, &new_order("ref-1")).await.is_err(), "merchant reference is unique");
}

#[tokio::test]
async fn event_log_is_append_only() {
    let app = TestApp::spawn().await;
    let pool = &app.pool;
    let mut tx = db::begin_write(&app.db).await.unwrap();
    let id = orders::insert(&mut tx, &new_order("ref-2")).await.unwrap();
    tx.commit().await.unwrap();
    let update = sqlx::query("UPDATE order_events SET kind = 'x' WHERE order_id = $1").bind(&id).execute(pool).await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM order_events WHERE order_id = $1").bind(&id).execute(pool).await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

#[tokio::test]
async fn the_schema_cannot_hold_a_card_number() {
    let app = TestApp::spawn().await;
    let pool = &app.pool;
    let mut tx = db::begin_write(&app.db).await.unwrap();
    let id = orders::insert(&mut tx, &new_order("ref-3")).await.unwrap();
    tx.commit().await.unwrap();
    for (column, value) in
        [("card_bin6", "4111111111111111"), ("card_last4", "4111111111111111"), ("card_last4", "41a1")]
    {
        let sql = format!("UPDATE orders SET {column} = $1 WHERE id = $2");
        let res = sqlx::query(&sql).bind(value).bind(&id).execute(pool).await;
        assert!(res.is_err(), "{column} accepted {value}");
    }
    let columns: Vec<String> = sqlx::query_scalar(match common::engine() {
        db::Engine::Sqlite => {
            "SELECT name FROM pragma_table_info('orders') UNION ALL SELECT name FROM pragma_table_info('payment_attempts')
             UNION ALL SELECT name FROM pragma_table_info('threeds_results')"
        }
        db::Engine::Postgres => {
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
             WHERE table_name IN ('orders', 'payment_attempts', 'threeds_results')"
        }
    })
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(columns.len() > 40, "{columns:?}");
    for c in &columns {
        assert!(!c.contains("pan") && !c.contains("cvv") && c != "card_number", "column {c}");
    }
}

#[tokio::test]
async fn one_live_authorization_per_order() {
    let app = TestApp::spawn().await;
    let pool = &app.pool;
    let mut tx = db::begin_write(&app.db).await.unwrap();
    let id = orders::insert(&mut tx, &new_order("ref-4")).await.unwrap();
    tx.commit().await.unwrap();
    let insert = |key: &'static str| {
        sqlx::query(
            "INSERT INTO payment_attempts (id, order_id, kind, idempotency_key, amount_minor, status, created_at, updated_at)
             VALUES ($1, $2, 'authorize', $3, 1999, 'pending', 0, 0)",
        )
        .bind(key)
        .bind(id.clone())
        .bind(key)
        .execute(pool)
    };
    insert("a").await.unwrap();
    assert!(insert("b").await.is_err(), "a second live authorization was accepted");
}
