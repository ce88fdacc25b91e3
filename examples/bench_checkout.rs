//! Benchmark: N frictionless checkouts, C at a time, through our server functions against the embedded
//! sandbox, with every payment state change committed (SQLite synchronous=FULL). Prints checkouts/s and
//! p50/p99 of each server call; our overhead measured per call (its round trip minus the provider time the
//! server reports in `Server-Timing`); and, as a cross-check, the bare sandbox calls timed on their own, so
//! the overhead also shows as a difference and a ratio.
//!
//!     cargo run --release --example bench_checkout -- [checkouts] [concurrency] [rate]
//!
//! `BENCH_DATABASE_URL` runs it on that database instead of a new SQLite file (e.g. an empty PostgreSQL
//! database), and `BENCH_INSTANCES=N` starts N apps on it (in this process, each with its own pools and
//! embedded sandbox), the checkouts sent to them in turn: what scripts/bench-instances.sh compares.
//!
//! Without a rate, C checkouts run back to back (closed loop: the machine's most checkouts/s, with latency
//! growing as C grows past what 2 cores serve). With a rate, a checkout starts every 1/rate s (open loop,
//! up to C at once): the latency at that load.

mod support;

use card_checkout::server::config::sandbox_defaults as d;
use serde_json::{Value, json};
use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use support::{cardinal_setup as setup, drive, encrypt_card, ms, percentile};

type Timings = Arc<Mutex<BTreeMap<String, Vec<Duration>>>>;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let checkouts = args.first().copied().unwrap_or(400);
    let concurrency = args.get(1).copied().unwrap_or(16);
    let rate = args.get(2).copied();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run(checkouts, concurrency, rate));
}

async fn run(checkouts: usize, concurrency: usize, rate: Option<usize>) {
    let dir = tempfile::tempdir().unwrap();
    let database_url =
        std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| format!("sqlite://{}/bench.db", dir.path().display()));
    let instances: usize = std::env::var("BENCH_INSTANCES").ok().and_then(|n| n.parse().ok()).unwrap_or(1).max(1);
    let mut bases = Vec::new();
    for _ in 0..instances {
        // All checkouts come from one address: its limits must not be what is measured.
        let unlimited = [("CHECKOUT_STARTS_PER_ADDRESS", "1000000"), ("CHECKOUT_PLACES_PER_ADDRESS", "1000000")];
        bases.push(support::start_app(&database_url, &unlimited).await);
    }
    let base = bases[0].clone();
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency * 2).build().unwrap();

    // The browser's part, done up front: one encrypted card per checkout (verifone.js's work), to the key of
    // the instance's sandbox the checkout goes to.
    let year = card_checkout::server::clock::today().year + 3;
    let mut per_instance = Vec::new();
    for b in &bases {
        let key = support::encryption_key(&http, b).await;
        let cards: Vec<String> =
            (0..checkouts * 2 / instances + 2).map(|_| encrypt_card(&key, "4000000000001000", year)).collect();
        per_instance.push(Arc::new(Mutex::new(cards)));
    }
    let cards = per_instance[0].clone();

    println!(
        "database: {}, instances: {instances}, checkouts: {checkouts}, concurrency: {concurrency}, rate: {}, machine: {} cores",
        database_url.split(':').next().unwrap_or(""),
        rate.map_or("as fast as possible".to_owned(), |r| format!("{r}/s")),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let ours: Timings = Arc::default();
    let started = Instant::now();
    drive(checkouts, concurrency, rate, |i| {
        let (http, base, cards, ours) =
            (http.clone(), bases[i % instances].clone(), per_instance[i % instances].clone(), ours.clone());
        async move { checkout(&http, &base, &cards, &ours, year).await }
    })
    .await;
    let elapsed = started.elapsed();
    println!(
        "\nthrough our server functions: {:.0} checkouts/s ({checkouts} in {:.2} s)",
        checkouts as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    report(&ours);
    {
        let p99 = |k: &str| ms(percentile(ours.lock().unwrap().get(k).unwrap(), 0.99));
        println!(
            "SUMMARY checkouts_per_s={:.1} start_ours_p99_ms={:.2} place_ours_p99_ms={:.2} result_ours_p99_ms={:.2}",
            checkouts as f64 / elapsed.as_secs_f64(),
            p99("start_checkout (ours)"),
            p99("place_order (ours)"),
            p99("order_result (ours)")
        );
    }
    if std::env::var("BENCH_SKIP_BARE").is_ok() {
        return;
    }

    let bare: Timings = Arc::default();
    let started = Instant::now();
    drive(checkouts, concurrency, rate, |_| {
        let (http, base, cards, bare) = (http.clone(), base.clone(), cards.clone(), bare.clone());
        async move { bare_sandbox(&http, &base, &cards, &bare).await }
    })
    .await;
    let elapsed = started.elapsed();
    println!(
        "\nbare sandbox calls (what our server calls per checkout): {:.0} sequences/s",
        checkouts as f64 / elapsed.as_secs_f64()
    );
    report(&bare);

    let p = |t: &Timings, k: &str, q: f64| percentile(t.lock().unwrap().get(k).unwrap(), q);
    println!("\nour overhead, measured: each call's round trip minus the provider time the server reports for it");
    for call in ["start_checkout", "place_order", "order_result"] {
        let key = format!("{call} (ours)");
        println!("  {call:<16} p50 {:>6.2} ms   p99 {:>6.2} ms", ms(p(&ours, &key, 0.5)), ms(p(&ours, &key, 0.99)));
    }
    println!("\nour overhead, estimated: server call minus the bare sandbox calls (timed apart) inside it");
    for (ours_call, inside, q) in [
        ("start_checkout", vec!["jwt/create"], 0.50),
        ("start_checkout", vec!["jwt/create"], 0.99),
        ("place_order", vec!["lookup", "transactions/card"], 0.50),
        ("place_order", vec!["lookup", "transactions/card"], 0.99),
    ] {
        let total = p(&ours, ours_call, q);
        let inner: Duration = inside.iter().map(|k| p(&bare, k, q)).sum();
        println!(
            "  {ours_call:<16} p{:<2.0} {:>8.2} ms vs {:>8.2} ms inside: overhead {:>6.2} ms, ratio {:.2}",
            q * 100.0,
            ms(total),
            ms(inner),
            ms(total) - ms(inner),
            ms(total) / ms(inner).max(0.001)
        );
    }
}

/// Sends, records the round trip under `name` and, when the server says how long the providers took inside
/// it (`Server-Timing: provider;dur=…`), our own part of it under `name (ours)`.
async fn timed(t: &Timings, name: &'static str, req: reqwest::RequestBuilder) -> Value {
    let started = Instant::now();
    let res = req.send().await.unwrap();
    let status = res.status();
    let provider = res
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').find_map(|p| p.trim().strip_prefix("provider;dur=")?.parse::<f64>().ok()));
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let elapsed = started.elapsed();
    let mut t = t.lock().unwrap();
    t.entry(name.to_owned()).or_default().push(elapsed);
    if let Some(ms) = provider {
        t.entry(format!("{name} (ours)"))
            .or_default()
            .push(elapsed.saturating_sub(Duration::from_secs_f64(ms / 1000.0)));
    }
    assert!(status.is_success(), "{name}: {status} {body}");
    body
}

/// What the checkout page does: start, Cardinal setup (browser ↔ sandbox, not timed), place the order,
/// read the result.
async fn checkout(http: &reqwest::Client, base: &str, cards: &Mutex<Vec<String>>, t: &Timings, year: u16) {
    let start =
        timed(t, "start_checkout", http.post(format!("{base}/api/checkout/start")).json(&json!({"cart": "tee:1"})))
            .await;
    let session = setup(http, base, start["plan"]["sdk"]["jwt"].as_str().unwrap()).await;
    let card = cards.lock().unwrap().pop().unwrap();
    let input = json!({"input": {
        "checkout_key": start["checkout_key"], "cart": "tee:1",
        "billing": {"first_name": "Ada", "last_name": "Lovelace", "address_1": "1 Main St", "city": "London", "country": "GB", "email": "ada@example.com"},
        "card": {"brand": "Visa", "bin6": "400000", "last4": "1000", "expiry_month": 1, "expiry_year": year},
        "session_id": session, "encrypted_card": card,
    }});
    let next = timed(t, "place_order", http.post(format!("{base}/api/checkout/place")).json(&input)).await;
    let id = next["Done"]["order_id"].clone();
    let order =
        timed(t, "order_result", http.post(format!("{base}/api/checkout/order")).json(&json!({"order_id": id}))).await;
    assert_eq!(order["status"], "Captured", "{order}");
}

/// The provider calls our server makes for one checkout, made directly.
async fn bare_sandbox(http: &reqwest::Client, base: &str, cards: &Mutex<Vec<String>>, t: &Timings) {
    let auth = |r: reqwest::RequestBuilder| r.basic_auth(d::VERIFONE_USER_UID, Some(d::VERIFONE_API_KEY));
    let v = format!("{base}/sandbox/verifone/oidc");
    let jwt = timed(
        t,
        "jwt/create",
        auth(http.post(format!("{v}/3ds-service/v2/jwt/create")))
            .json(&json!({"threeds_contract_id": d::VERIFONE_3DS_CONTRACT_ID})),
    )
    .await;
    let session = setup(http, base, jwt["jwt"].as_str().unwrap()).await;
    let card = cards.lock().unwrap().pop().unwrap();
    let lookup = timed(t, "lookup", auth(http.post(format!("{v}/3ds-service/v2/lookup"))).json(&json!({
        "amount": 2400, "currency_code": "EUR", "merchant_reference": "bench", "email": "ada@example.com",
        "billing_first_name": "Ada", "billing_last_name": "Lovelace", "billing_address_1": "1 Main St",
        "billing_city": "London", "billing_country_code": "GB", "device_info_id": session,
        "threeds_contract_id": d::VERIFONE_3DS_CONTRACT_ID, "encrypted_card": card, "public_key_alias": d::VERIFONE_PUBLIC_KEY_ALIAS,
    }))).await;
    let threed = json!({"eci_flag": lookup["eci_flag"], "enrolled": lookup["enrolled"], "cavv": lookup["cavv"],
        "pares_status": lookup["pares_status"], "threeds_version": lookup["threeds_version"],
        "ds_transaction_id": lookup["ds_transaction_id"], "signature_verification": lookup["signature_verification"]});
    timed(
        t,
        "transactions/card",
        auth(http.post(format!("{v}/api/v2/transactions/card")))
            .header("x-vfi-api-idempotencyKey", uuid::Uuid::new_v4().to_string())
            .json(&json!({
                "payment_provider_contract": d::VERIFONE_PAYMENT_CONTRACT, "amount": 2400, "currency_code": "EUR",
                "merchant_reference": "bench", "card_brand": "VISA", "public_key_alias": d::VERIFONE_PUBLIC_KEY_ALIAS,
                "encrypted_card": card, "threed_authentication": threed, "capture_now": true,
            })),
    )
    .await;
}

fn report(t: &Timings) {
    for (name, v) in t.lock().unwrap().iter() {
        println!(
            "  {name:<26} n={:<5} p50 {:>7.2} ms   p99 {:>7.2} ms",
            v.len(),
            ms(percentile(v, 0.5)),
            ms(percentile(v, 0.99))
        );
    }
}
