//! Demo orders written straight to the database, in batched transactions, with the shapes the real checkout
//! leaves behind (order, items, 3-D Secure answer, authorization attempt, events): for trying the back
//! office and measuring it on a large history. `examples/seed_demo.rs` drives it.

use super::{Database, now_ms};
use crate::domain::{catalog::PRODUCTS, money::Currency};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use serde_json::json;

/// Test cards: brand, BIN6, last four.
const CARDS: [(&str, &str, &str); 6] = [
    ("VISA", "400000", "1000"),
    ("VISA", "400000", "1026"),
    ("MASTERCARD", "520000", "1005"),
    ("AMEX", "340000", "1007"),
    ("DISCOVER", "601100", "0009"),
    ("JCB", "352800", "0007"),
];
const FIRST: [&str; 8] = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Linus"];
const LAST: [&str; 8] = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton", "Torvalds"];
const CITIES: [(&str, &str); 5] =
    [("London", "GB"), ("Paris", "FR"), ("Berlin", "DE"), ("Lisbon", "PT"), ("Toronto", "CA")];

/// One 3-D Secure outcome: enrolled, PAResStatus, whether challenged, weight in 100.
const OUTCOMES: [(Option<&str>, Option<&str>, bool, u32); 7] = [
    (Some("Y"), Some("Y"), false, 60),
    (Some("Y"), Some("Y"), true, 15),
    (Some("Y"), Some("A"), false, 10),
    (Some("Y"), Some("N"), false, 5),
    (Some("U"), Some("U"), false, 4),
    (Some("Y"), Some("R"), false, 1),
    (None, None, false, 5),
];

fn eci(brand: &str, pares: Option<&str>) -> Option<&'static str> {
    let mc = brand == "MASTERCARD";
    match pares? {
        "Y" => Some(if mc { "02" } else { "05" }),
        "A" => Some(if mc { "01" } else { "06" }),
        _ => Some(if mc { "00" } else { "07" }),
    }
}

/// Writes `count` demo orders created over the last year, `batch` per transaction. Deterministic for a seed.
pub async fn insert_orders(
    db: &Database,
    count: usize,
    batch: usize,
    shop: Currency,
    seed: u64,
) -> Result<(), sqlx::Error> {
    let mut rng = StdRng::seed_from_u64(seed);
    let now = now_ms();
    let mut written = 0;
    while written < count {
        let mut tx = super::begin_write(db).await?;
        for i in written..(written + batch).min(count) {
            insert_one(&mut tx, &mut rng, i, now, shop).await?;
        }
        tx.commit().await?;
        written = (written + batch).min(count);
    }
    Ok(())
}

async fn insert_one(
    tx: &mut super::Tx,
    rng: &mut StdRng,
    i: usize,
    now: i64,
    shop: Currency,
) -> Result<(), sqlx::Error> {
    let id = uuid::Builder::from_random_bytes(rng.r#gen()).into_uuid().to_string();
    let currency = match rng.gen_range(0..100) {
        0..85 => shop,
        85..95 => Currency::USD,
        _ => Currency::GBP,
    };
    let scale = 10i64.pow(currency.exponent());
    let mut products = PRODUCTS.to_vec();
    products.shuffle(rng);
    let lines: Vec<_> = products[..rng.gen_range(1..=3)].iter().map(|p| (p, rng.gen_range(1..=3i64))).collect();
    let amount: i64 = lines.iter().map(|(p, q)| p.price_major * scale * q).sum();
    let (brand, bin6, last4) = CARDS[rng.gen_range(0..CARDS.len())];
    let mut pick = rng.gen_range(0..100);
    let &(enrolled, pares, challenged, _) = OUTCOMES
        .iter()
        .find(|o| {
            let hit = pick < o.3;
            pick = pick.saturating_sub(o.3);
            hit
        })
        .unwrap_or(&OUTCOMES[0]);
    let authenticated = matches!(pares, Some("Y" | "A"));
    let pre_auth = rng.gen_bool(0.15);
    let roll = rng.gen_range(0..100);
    let (status, captured, refunded) = match (authenticated, pre_auth, roll) {
        (false, _, _) => ("declined", 0, 0),
        (true, _, 0..5) => ("declined", 0, 0),
        (true, _, 5..7) => ("failed", 0, 0),
        (true, true, 7..60) => ("authorized", 0, 0),
        (true, true, 60..70) => ("voided", 0, 0),
        (true, _, 90..95) => ("partially_refunded", amount, amount / 2),
        (true, _, 95..) => ("refunded", amount, amount),
        (true, _, _) => ("captured", amount, 0),
    };
    let created = now - rng.gen_range(60_000..365 * 86_400_000i64);
    let (first, last) = (FIRST[rng.gen_range(0..8)], LAST[rng.gen_range(0..8)]);
    let (city, country) = CITIES[rng.gen_range(0..CITIES.len())];
    let eci = eci(brand, pares);
    let reference = format!("DEMO-{i:07}");
    sqlx::query(
        "INSERT INTO orders (id, merchant_reference, amount_minor, currency, captured_minor, refunded_minor, email,
            billing_first_name, billing_last_name, billing_address_1, billing_city, billing_country, card_brand,
            card_bin6, card_last4, card_expiry_month, card_expiry_year, status, authenticator, provider, capture_mode,
            liability_shifted, threeds_enrolled, threeds_pares_status, threeds_eci, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'verifone', 'verifone', ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(&reference)
    .bind(amount)
    .bind(currency.code())
    .bind(captured)
    .bind(refunded)
    .bind(format!("{}.{}{}@example.com", first.to_lowercase(), last.to_lowercase(), i % 5000))
    .bind(first)
    .bind(last)
    .bind(format!("{} Market Street", 1 + i % 200))
    .bind(city)
    .bind(country)
    .bind(brand)
    .bind(bin6)
    .bind(last4)
    .bind(rng.gen_range(1..=12i64))
    .bind(rng.gen_range(2027..=2031i64))
    .bind(status)
    .bind(if pre_auth { "pre_auth" } else { "sale" })
    .bind(pares.map(|_| authenticated && enrolled == Some("Y")))
    .bind(enrolled)
    .bind(pares)
    .bind(eci)
    .bind(created)
    .bind(created + 4_000)
    .execute(&mut **tx)
    .await?;
    for (p, q) in &lines {
        sqlx::query("INSERT INTO order_items (order_id, sku, name, unit_minor, quantity) VALUES (?, ?, ?, ?, ?)")
            .bind(&id)
            .bind(p.sku)
            .bind(p.name)
            .bind(p.price_major * scale)
            .bind(q)
            .execute(&mut **tx)
            .await?;
    }
    if let Some(pares) = pares {
        sqlx::query(
            "INSERT INTO threeds_results (order_id, stage, transaction_id, threeds_version, enrolled, pares_status,
                signature_verification, eci_flag, cavv_present, liability_shifted, created_at)
             VALUES (?, ?, ?, '2.1.0', ?, ?, 'Y', ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(if challenged { "challenge" } else { "lookup" })
        .bind(uuid::Builder::from_random_bytes(rng.r#gen()).into_uuid().to_string())
        .bind(enrolled)
        .bind(pares)
        .bind(eci)
        .bind(authenticated)
        .bind(authenticated && enrolled == Some("Y"))
        .bind(created + 1_000)
        .execute(&mut **tx)
        .await?;
    }
    let txn = uuid::Builder::from_random_bytes(rng.r#gen()).into_uuid().to_string();
    if authenticated {
        let (attempt, provider_status) = match status {
            "declined" => ("declined", "DECLINED"),
            "failed" => ("failed", "FAILED"),
            _ => ("succeeded", if pre_auth { "AUTHORIZED" } else { "SETTLEMENT_REQUESTED" }),
        };
        sqlx::query(
            "INSERT INTO payment_attempts (id, order_id, kind, idempotency_key, amount_minor, status,
                provider_transaction_id, provider_status, created_at, updated_at)
             VALUES (?, ?, 'authorize', ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(uuid::Builder::from_random_bytes(rng.r#gen()).into_uuid().to_string())
        .bind(&id)
        .bind(uuid::Builder::from_random_bytes(rng.r#gen()).into_uuid().to_string())
        .bind(amount)
        .bind(attempt)
        .bind(&txn)
        .bind(provider_status)
        .bind(created + 2_000)
        .bind(created + 3_000)
        .execute(&mut **tx)
        .await?;
    }
    let events = [
        ("order_created", json!({"amount_minor": amount, "currency": currency.code(), "provider": "verifone"})),
        ("lookup_answered", json!({"enrolled": enrolled, "pares_status": pares, "eci_flag": eci})),
        ("payment_answered", json!({"id": txn, "status": status})),
        ("status_changed", json!({"from": "authorizing", "to": status})),
    ];
    for (n, (kind, details)) in events.iter().enumerate() {
        sqlx::query("INSERT INTO order_events (order_id, kind, details, created_at) VALUES (?, ?, ?, ?)")
            .bind(&id)
            .bind(kind)
            .bind(details.to_string())
            .bind(created + n as i64 * 1_000)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
