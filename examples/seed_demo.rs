//! Fills a database with demo orders for the back office: first some through the real checkout (server
//! functions → service → Verifone client → embedded sandbox → SQLite), as sales and pre-authorizations,
//! then the bulk written in batched transactions with the same shapes.
//!
//!     cargo run --release --example seed_demo -- [orders, default 100000] [database URL]

mod support;

use card_checkout::{domain::card::CardNumber, domain::money::Currency, server::db};
use serde_json::{Value, json};
use std::time::Instant;

/// Frictionless test cards: authenticated (Y), attempted (A), not authenticated (N), unavailable (U), MC, Amex.
const CARDS: [&str; 6] = [
    "4000000000001000",
    "4000000000001026",
    "4000000000001018",
    "4000000000001034",
    "5200000000001005",
    "340000000001007",
];
const CARTS: [&str; 4] = ["tee:1", "mug:2,cap:1", "bag:1", "tee:2,bag:1"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let orders: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let url = args.get(1).cloned().unwrap_or_else(|| "sqlite://data/checkout.db".into());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run(orders, &url));
}

async fn run(orders: usize, url: &str) {
    let started = Instant::now();
    let http = reqwest::Client::new();
    let mut real = 0;
    for mode in ["sale", "pre_auth"] {
        let base = support::start_app(url, &[("CAPTURE_MODE", mode), ("SANDBOX_NOTIFICATION_URL", "none")]).await;
        let key = support::encryption_key(&http, &base).await;
        for (i, pan) in CARDS.iter().enumerate() {
            checkout(&http, &base, &key, pan, CARTS[i % CARTS.len()], i).await;
            real += 1;
        }
    }
    println!("{real} orders through the real checkout in {:.1} s", started.elapsed().as_secs_f64());
    let database = db::connect(url).await.unwrap();
    let bulk = orders.saturating_sub(real);
    let started = Instant::now();
    // One transaction: the history never shows half a seed, and the load pays one commit.
    db::demo::insert_orders(&database, bulk, bulk, Currency::EUR, 7).await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    println!("{bulk} demo orders written in {secs:.1} s ({:.0} orders/s) into {url}", bulk as f64 / secs);
}

/// What the checkout page does for a frictionless card: start, Cardinal setup, encrypt, place.
async fn checkout(
    http: &reqwest::Client,
    base: &str,
    key: &pgp::composed::SignedPublicKey,
    pan: &str,
    cart: &str,
    i: usize,
) {
    let post = |path: &str, body: Value| http.post(format!("{base}/api/{path}")).json(&body).send();
    let start: Value = post("checkout/start", json!({"cart": cart})).await.unwrap().json().await.unwrap();
    let session = support::cardinal_setup(http, base, start["plan"]["sdk"]["jwt"].as_str().unwrap()).await;
    let year = card_checkout::server::clock::today().year + 3;
    let card = CardNumber::parse(pan).unwrap();
    let input = json!({"input": {
        "checkout_key": start["checkout_key"], "cart": cart,
        "billing": {"first_name": "Demo", "last_name": format!("Shopper {i}"), "address_1": "1 Main St",
                    "city": "London", "country": "GB", "email": format!("shopper{i}@example.com")},
        "card": {"brand": card.brand(), "bin6": card.bin6(), "last4": card.last4(), "expiry_month": 1, "expiry_year": year},
        "session_id": session, "encrypted_card": support::encrypt_card(key, pan, year),
    }});
    let res = post("checkout/place", input).await.unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap_or_default());
}
