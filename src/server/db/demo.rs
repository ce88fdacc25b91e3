//! Demo orders written straight to the database with the shapes the real checkout leaves behind (order,
//! items, 3-D Secure answer, authorization attempt, events): for trying the back office and measuring it on a
//! large history. `examples/seed_demo.rs` drives it. Orders are written oldest first, as a shop receives
//! them, in multi-row INSERTs of a fixed size (each prepared once) on the write connection taken for the
//! load, with settings for the load only; the history's rollups get the loaded orders once per transaction.

use super::{Database, Engine, now_ms};
use crate::domain::{catalog::PRODUCTS, money::Currency};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use serde_json::json;
use sqlx::AnyConnection;

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

/// Rows per INSERT statement (the largest, an order's 27 columns, stays under SQLite's 32,766 parameters).
/// Each is `INSERT OR FAIL`: a failure rolls the whole transaction back anyway, so a statement need not be
/// able to undo itself alone, and SQLite keeps no journal for it.
const ROWS_PER_INSERT: usize = 500;

/// Page cache of the writing connection while it loads (KiB), for the pages each index is growing at. More
/// measured no faster (a million orders took as long with 4 GiB) and only took memory.
const LOAD_CACHE_KIB: i64 = 1 << 18;

/// Writes `count` demo orders created over the last year, `batch` per transaction. Deterministic for a seed.
///
/// It takes the write connection for the whole load and runs plain transactions on it, not the shared
/// transaction's savepoints: a savepoint would copy every page the load touches into its journal. Writers of
/// this process wait meanwhile; readers see the orders once each transaction commits.
pub async fn insert_orders(
    db: &Database,
    count: usize,
    batch: usize,
    shop: Currency,
    seed: u64,
) -> Result<(), sqlx::Error> {
    let Some(shared) = &db.writer else {
        // PostgreSQL: plain transactions on a connection of the pool, each holding the write lock.
        let mut conn = db.read.acquire().await?;
        let loaded = load(&mut conn, Engine::Postgres, count, batch.max(1), shop, seed).await;
        if loaded.is_err() {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        }
        return loaded;
    };
    let mut writer = shared.lock().await;
    writer.settle().await?;
    if writer.open {
        let generation = writer.generation;
        writer.flush(generation).await?;
    }
    let conn = &mut writer.conn;
    // For the load only: a large page cache; statement journals (each multi-row INSERT has one) in memory;
    // no zeroing of the space B-tree balancing frees (what `secure_delete` is for, clearing card data, does
    // not happen here); no foreign key look-ups, the rows name orders written just before them (the test
    // runs `foreign_key_check`).
    let pragmas = [
        ("cache_size", format!("-{LOAD_CACHE_KIB}")),
        ("temp_store", "MEMORY".to_owned()),
        ("secure_delete", "OFF".to_owned()),
        ("foreign_keys", "OFF".to_owned()),
    ];
    let mut saved = Vec::new();
    for (name, load) in &pragmas {
        let was: i64 = sqlx::query_scalar(&format!("PRAGMA {name}")).fetch_one(&mut *conn).await?;
        saved.push((name, was));
        sqlx::query(&format!("PRAGMA {name} = {load}")).execute(&mut *conn).await?;
    }
    let loaded = load(conn, Engine::Sqlite, count, batch.max(1), shop, seed).await;
    if loaded.is_err() {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    for (name, was) in saved {
        sqlx::query(&format!("PRAGMA {name} = {was}")).execute(&mut *conn).await?;
    }
    loaded
}

async fn load(
    conn: &mut AnyConnection,
    engine: Engine,
    count: usize,
    batch: usize,
    shop: Currency,
    seed: u64,
) -> Result<(), sqlx::Error> {
    // Rows are made on another thread while SQLite writes the previous ones.
    let (made, mut ready) = tokio::sync::mpsc::channel::<Rows>(2);
    let maker = tokio::task::spawn_blocking(move || {
        let mut rng = StdRng::seed_from_u64(seed);
        let now = now_ms();
        let mut created: Vec<i64> = (0..count).map(|_| now - rng.gen_range(60_000..365 * 86_400_000i64)).collect();
        created.sort_unstable();
        for (first, end) in chunks(count, batch) {
            let mut rows = Rows::default();
            for i in first..end {
                demo_order(&mut rows, &mut rng, i, created[i], shop);
            }
            if made.blocking_send(rows).is_err() {
                return; // the load stopped
            }
        }
    });
    let mut tables = Tables::default();
    let (mut before, mut rollup_trigger) = (0i64, String::new());
    let mut chunks = chunks(count, batch).peekable();
    while let Some((first, _)) = chunks.next() {
        if first % batch == 0 && engine == Engine::Postgres {
            sqlx::query("BEGIN").execute(&mut *conn).await?;
            sqlx::query("SELECT 1 FROM pg_advisory_xact_lock($1)").bind(super::WRITE_LOCK).execute(&mut *conn).await?;
            before = sqlx::query_scalar("SELECT coalesce(max(rowid), 0) FROM orders").fetch_one(&mut *conn).await?;
            // As below: the rollups are filled once at the end; the trigger is off in this transaction only.
            sqlx::query(&format!("ALTER TABLE orders DISABLE TRIGGER {ROLLUP_TRIGGER}")).execute(&mut *conn).await?;
        } else if first % batch == 0 {
            sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
            before = sqlx::query_scalar("SELECT coalesce(max(rowid), 0) FROM orders").fetch_one(&mut *conn).await?;
            // The rollups are filled once at the end rather than by the trigger at each order: it would cost
            // more than everything else the load does. It is back before the transaction commits.
            rollup_trigger = sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = $1")
                .bind(ROLLUP_TRIGGER)
                .fetch_one(&mut *conn)
                .await?;
            sqlx::query(&format!("DROP TRIGGER {ROLLUP_TRIGGER}")).execute(&mut *conn).await?;
            // Nothing is left half written (a failure rolls the whole transaction back), so a statement
            // needs no journal of its own: foreign keys are checked at commit and `OR FAIL` stops in place.
            sqlx::query("PRAGMA defer_foreign_keys = ON").execute(&mut *conn).await?;
        }
        let mut rows = ready.recv().await.ok_or_else(|| sqlx::Error::Protocol("the demo rows stopped".into()))?;
        for (table, values) in tables.all().into_iter().zip(rows.all()) {
            table.values.append(values);
        }
        tables.orders.write_all(conn).await?;
        for t in tables.children() {
            t.write_full(conn).await?;
        }
        if chunks.peek().is_none_or(|(next, _)| next % batch == 0) {
            for t in tables.children() {
                t.write_all(conn).await?;
            }
            for rollup in ROLLUPS {
                sqlx::query(rollup).bind(before).execute(&mut *conn).await?;
            }
            match engine {
                Engine::Sqlite => sqlx::query(&rollup_trigger).execute(&mut *conn).await?,
                Engine::Postgres => {
                    sqlx::query(&format!("ALTER TABLE orders ENABLE TRIGGER {ROLLUP_TRIGGER}"))
                        .execute(&mut *conn)
                        .await?
                }
            };
            sqlx::query("COMMIT").execute(&mut *conn).await?;
        }
    }
    maker.await.map_err(|e| sqlx::Error::Protocol(format!("making the demo rows failed: {e}")))
}

/// The trigger that adds each new order to the rollups (migrations 0009 and 0014).
const ROLLUP_TRIGGER: &str = "order_totals_on_insert";

/// What that trigger does, for the orders after a rowid at once (through the view that migration defines).
const ROLLUPS: [&str; 4] = [
    "INSERT INTO order_totals AS t
        SELECT currency, day, status, provider, card_brand, liability, count(*), sum(amount_minor),
            sum(captured_minor), sum(refunded_minor)
        FROM order_rollup_keys WHERE order_rowid > $1 GROUP BY 1, 2, 3, 4, 5, 6
     ON CONFLICT (currency, day, status, provider, card_brand, liability) DO UPDATE SET orders = t.orders + excluded.orders,
        amount_minor = t.amount_minor + excluded.amount_minor, captured_minor = t.captured_minor + excluded.captured_minor,
        refunded_minor = t.refunded_minor + excluded.refunded_minor",
    "INSERT INTO order_totals_by_last4 AS t
        SELECT card_last4, currency, day, status, provider, card_brand, liability, count(*), sum(amount_minor),
            sum(captured_minor), sum(refunded_minor)
        FROM order_rollup_keys WHERE order_rowid > $1 GROUP BY 1, 2, 3, 4, 5, 6, 7
     ON CONFLICT (card_last4, currency, day, status, provider, card_brand, liability) DO UPDATE SET orders = t.orders + excluded.orders,
        amount_minor = t.amount_minor + excluded.amount_minor, captured_minor = t.captured_minor + excluded.captured_minor,
        refunded_minor = t.refunded_minor + excluded.refunded_minor",
    "INSERT INTO order_totals_by_amount AS t
        SELECT currency, amount_minor, month, status, provider, card_brand, liability, count(*), sum(amount_minor),
            sum(captured_minor), sum(refunded_minor)
        FROM order_rollup_keys WHERE order_rowid > $1 GROUP BY 1, 2, 3, 4, 5, 6, 7
     ON CONFLICT (currency, amount, month, status, provider, card_brand, liability) DO UPDATE SET orders = t.orders + excluded.orders,
        amount_minor = t.amount_minor + excluded.amount_minor, captured_minor = t.captured_minor + excluded.captured_minor,
        refunded_minor = t.refunded_minor + excluded.refunded_minor",
    "INSERT INTO order_totals_monthly AS t
        SELECT currency, month, status, provider, card_brand, liability, count(*), sum(amount_minor),
            sum(captured_minor), sum(refunded_minor)
        FROM order_rollup_keys WHERE order_rowid > $1 GROUP BY 1, 2, 3, 4, 5, 6
     ON CONFLICT (currency, month, status, provider, card_brand, liability) DO UPDATE SET orders = t.orders + excluded.orders,
        amount_minor = t.amount_minor + excluded.amount_minor, captured_minor = t.captured_minor + excluded.captured_minor,
        refunded_minor = t.refunded_minor + excluded.refunded_minor",
];

/// The orders `first..end` of each multi-row INSERT: `ROWS_PER_INSERT` at a time, none across transactions.
fn chunks(count: usize, batch: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..count).step_by(batch).flat_map(move |tx| {
        let end = (tx + batch).min(count);
        (tx..end).step_by(ROWS_PER_INSERT).map(move |first| (first, (first + ROWS_PER_INSERT).min(end)))
    })
}

/// One column value of a row waiting to be written.
enum Val {
    Int(i64),
    Str(&'static str),
    Text(String),
    /// PostgreSQL wants a null of the column's type.
    NullInt,
    NullText,
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}

impl From<&'static str> for Val {
    fn from(v: &'static str) -> Val {
        Val::Str(v)
    }
}

impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}

impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Val {
        v.map_or(Val::NullInt, Val::Int)
    }
}

impl From<Option<&'static str>> for Val {
    fn from(v: Option<&'static str>) -> Val {
        v.map_or(Val::NullText, Val::Str)
    }
}

impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Val {
        v.map_or(Val::NullText, Val::Text)
    }
}

impl From<Option<bool>> for Val {
    fn from(v: Option<bool>) -> Val {
        v.map_or(Val::NullInt, |b| Val::Int(b.into()))
    }
}

impl From<bool> for Val {
    fn from(v: bool) -> Val {
        Val::Int(v.into())
    }
}

/// Rows of one table waiting to be written, as multi-row INSERTs of `ROWS_PER_INSERT` rows.
struct Pending {
    head: &'static str,
    columns: usize,
    values: Vec<Val>,
    /// The statement for a full block of rows (the same text each time, so sqlx prepares it once).
    full: Option<String>,
}

impl Pending {
    fn new(head: &'static str, columns: usize) -> Pending {
        Pending { head, columns, values: Vec::new(), full: None }
    }

    /// SQLite gets `?`, not `$N`: sqlx's SQLite driver finds each numbered parameter by scanning the names of
    /// all of them, which for these INSERTs of thousands of values made the load 11 times slower.
    fn sql(head: &str, columns: usize, rows: usize, postgres: bool) -> String {
        let value = |n: usize| if postgres { format!("${n}") } else { "?".to_owned() };
        let values: Vec<String> = (0..rows)
            .map(|r| format!("({})", (1..=columns).map(|c| value(r * columns + c)).collect::<Vec<_>>().join(", ")))
            .collect();
        // `OR FAIL` is SQLite's; PostgreSQL's INSERT stops at the first error anyway.
        let head = if postgres { head.replacen("INSERT OR FAIL", "INSERT", 1) } else { head.to_owned() };
        format!("{head} VALUES {}", values.join(", "))
    }

    fn rows(&self) -> usize {
        self.values.len() / self.columns
    }

    /// Writes the full blocks; the rest waits for more rows.
    async fn write_full(&mut self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        while self.rows() >= ROWS_PER_INSERT {
            self.write(conn, ROWS_PER_INSERT).await?;
        }
        Ok(())
    }

    async fn write_all(&mut self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        self.write_full(conn).await?;
        match self.rows() {
            0 => Ok(()),
            rest => self.write(conn, rest).await,
        }
    }

    async fn write(&mut self, conn: &mut AnyConnection, rows: usize) -> Result<(), sqlx::Error> {
        let postgres = conn.backend_name() == "PostgreSQL";
        let (head, columns) = (self.head, self.columns);
        let sql = match rows {
            ROWS_PER_INSERT => self.full.get_or_insert_with(|| Self::sql(head, columns, rows, postgres)).clone(),
            _ => Self::sql(head, columns, rows, postgres),
        };
        let mut q = sqlx::query(&sql);
        for v in self.values.drain(..rows * self.columns) {
            q = match v {
                Val::Int(i) => q.bind(i),
                Val::Str(s) => q.bind(s),
                Val::Text(s) => q.bind(s),
                Val::NullInt => q.bind(None::<i64>),
                Val::NullText => q.bind(None::<String>),
            };
        }
        q.execute(conn).await.map(|_| ())
    }
}

/// The columns of each table, in the order `Rows` holds their values.
struct Tables {
    orders: Pending,
    items: Pending,
    threeds: Pending,
    attempts: Pending,
    events: Pending,
}

impl Default for Tables {
    fn default() -> Tables {
        Tables {
            orders: Pending::new(
                "INSERT OR FAIL INTO orders (id, merchant_reference, amount_minor, currency, captured_minor,
                    refunded_minor, email, billing_first_name, billing_last_name, billing_address_1, billing_city,
                    billing_country, card_brand, card_bin6, card_last4, card_expiry_month, card_expiry_year, status,
                    authenticator, provider, capture_mode, liability_shifted, threeds_enrolled, threeds_pares_status,
                    threeds_eci, created_at, updated_at)",
                27,
            ),
            items: Pending::new("INSERT OR FAIL INTO order_items (order_id, sku, name, unit_minor, quantity)", 5),
            threeds: Pending::new(
                "INSERT OR FAIL INTO threeds_results (order_id, stage, transaction_id, threeds_version, enrolled,
                    pares_status, signature_verification, eci_flag, cavv_present, liability_shifted, created_at)",
                11,
            ),
            attempts: Pending::new(
                "INSERT OR FAIL INTO payment_attempts (id, order_id, kind, idempotency_key, amount_minor, status,
                    provider_transaction_id, provider_status, created_at, updated_at)",
                10,
            ),
            events: Pending::new("INSERT OR FAIL INTO order_events (order_id, kind, details, created_at)", 4),
        }
    }
}

impl Tables {
    fn all(&mut self) -> [&mut Pending; 5] {
        [&mut self.orders, &mut self.items, &mut self.threeds, &mut self.attempts, &mut self.events]
    }

    /// The tables whose rows name an order.
    fn children(&mut self) -> [&mut Pending; 4] {
        [&mut self.items, &mut self.threeds, &mut self.attempts, &mut self.events]
    }
}

/// The values of demo rows made, table by table (as `Tables` lists them), row after row.
#[derive(Default)]
struct Rows {
    orders: Vec<Val>,
    items: Vec<Val>,
    threeds: Vec<Val>,
    attempts: Vec<Val>,
    events: Vec<Val>,
}

impl Rows {
    fn all(&mut self) -> [&mut Vec<Val>; 5] {
        [&mut self.orders, &mut self.items, &mut self.threeds, &mut self.attempts, &mut self.events]
    }
}

/// A time-ordered UUID (version 7) made at `ms`: ids of orders written oldest first then go in at the end of
/// their indexes instead of all over them, which is most of what makes a million orders load in seconds.
/// Lookups by id are the same either way.
fn uuid(rng: &mut StdRng, ms: i64) -> String {
    uuid::Builder::from_unix_timestamp_millis(ms as u64, &rng.r#gen()).into_uuid().to_string()
}

/// The rows of one demo order, created at `created`.
fn demo_order(t: &mut Rows, rng: &mut StdRng, i: usize, created: i64, shop: Currency) {
    let id = uuid(rng, created);
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
    let (first, last) = (FIRST[rng.gen_range(0..8)], LAST[rng.gen_range(0..8)]);
    let (city, country) = CITIES[rng.gen_range(0..CITIES.len())];
    let eci = eci(brand, pares);
    let liability = pares.map(|_| authenticated && enrolled == Some("Y"));
    t.orders.extend([
        id.clone().into(),
        format!("DEMO-{i:07}").into(),
        amount.into(),
        currency.code().into(),
        captured.into(),
        refunded.into(),
        format!("{}.{}{}@example.com", first.to_lowercase(), last.to_lowercase(), i % 5000).into(),
        first.into(),
        last.into(),
        format!("{} Market Street", 1 + i % 200).into(),
        city.into(),
        country.into(),
        brand.into(),
        bin6.into(),
        last4.into(),
        rng.gen_range(1..=12i64).into(),
        rng.gen_range(2027..=2031i64).into(),
        status.into(),
        "verifone".into(),
        "verifone".into(),
        (if pre_auth { "pre_auth" } else { "sale" }).into(),
        liability.into(),
        enrolled.into(),
        pares.into(),
        eci.into(),
        created.into(),
        (created + 4_000).into(),
    ]);
    for (p, q) in &lines {
        t.items.extend([id.clone().into(), p.sku.into(), p.name.into(), (p.price_major * scale).into(), (*q).into()]);
    }
    if let Some(pares) = pares {
        t.threeds.extend([
            id.clone().into(),
            (if challenged { "challenge" } else { "lookup" }).into(),
            uuid(rng, created + 1_000).into(),
            "2.1.0".into(),
            enrolled.into(),
            pares.into(),
            "Y".into(),
            eci.into(),
            authenticated.into(),
            (authenticated && enrolled == Some("Y")).into(),
            (created + 1_000).into(),
        ]);
    }
    let txn = uuid(rng, created + 2_000);
    if authenticated {
        let (attempt, provider_status) = match status {
            "declined" => ("declined", "DECLINED"),
            "failed" => ("failed", "FAILED"),
            _ => ("succeeded", if pre_auth { "AUTHORIZED" } else { "SETTLEMENT_REQUESTED" }),
        };
        t.attempts.extend([
            uuid(rng, created + 2_000).into(),
            id.clone().into(),
            "authorize".into(),
            uuid(rng, created + 2_000).into(),
            amount.into(),
            attempt.into(),
            txn.clone().into(),
            provider_status.into(),
            (created + 2_000).into(),
            (created + 3_000).into(),
        ]);
    }
    let events = [
        ("order_created", json!({"amount_minor": amount, "currency": currency.code(), "provider": "verifone"})),
        ("lookup_answered", json!({"enrolled": enrolled, "pares_status": pares, "eci_flag": eci})),
        ("payment_answered", json!({"id": txn, "status": status})),
        ("status_changed", json!({"from": "authorizing", "to": status})),
    ];
    for (n, (kind, details)) in events.into_iter().enumerate() {
        t.events.extend([
            id.clone().into(),
            kind.into(),
            details.to_string().into(),
            (created + n as i64 * 1_000).into(),
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn count(db: &Database, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&**db).await.unwrap()
    }

    /// A load in several transactions leaves whole orders, rollups that match them, the rollup trigger in
    /// place and the write connection's settings as they were; a failed one leaves nothing of itself.
    #[tokio::test]
    async fn a_load_is_whole_and_leaves_the_connection_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let db = super::super::connect(&format!("sqlite://{}/d.db", dir.path().display())).await.unwrap();
        insert_orders(&db, 1_234, 500, Currency::EUR, 9).await.unwrap();
        assert_eq!(count(&db, "SELECT count(*) FROM orders").await, 1_234);
        assert_eq!(count(&db, "SELECT count(*) FROM order_events").await, 4 * 1_234);
        assert_eq!(count(&db, "SELECT count(DISTINCT order_id) FROM order_items").await, 1_234);
        let orphans: Vec<(String,)> =
            sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check").fetch_all(&*db).await.unwrap();
        assert!(orphans.is_empty(), "{orphans:?}");
        // Oldest first: references follow creation.
        let newest: String = sqlx::query_scalar("SELECT merchant_reference FROM orders ORDER BY created_at DESC")
            .fetch_one(&*db)
            .await
            .unwrap();
        assert_eq!(newest, "DEMO-0001233");
        for (rollup, keys) in [
            ("order_totals", "currency, day, status, provider, card_brand, liability"),
            ("order_totals_by_last4", "card_last4, currency, day, status, provider, card_brand, liability"),
            ("order_totals_by_amount", "currency, amount_minor, month, status, provider, card_brand, liability"),
            ("order_totals_monthly", "currency, month, status, provider, card_brand, liability"),
        ] {
            let differ = format!(
                "SELECT count(*) FROM (SELECT {keys}, count(*), sum(amount_minor), sum(captured_minor),
                    sum(refunded_minor) FROM order_rollup_keys GROUP BY {keys}
                 EXCEPT SELECT * FROM {rollup})"
            );
            assert_eq!(count(&db, &differ).await, 0, "{rollup}");
            let groups =
                count(&db, &format!("SELECT count(*) FROM (SELECT 1 FROM order_rollup_keys GROUP BY {keys})")).await;
            assert_eq!(count(&db, &format!("SELECT count(*) FROM {rollup}")).await, groups, "{rollup}");
        }

        let trigger = "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name = 'order_totals_on_insert'";
        let again = insert_orders(&db, 10, 10, Currency::EUR, 9).await;
        assert!(again.is_err(), "the same references twice");
        assert_eq!(count(&db, "SELECT count(*) FROM orders").await, 1_234);
        assert_eq!(count(&db, trigger).await, 1);
        let mut tx = super::super::begin_write(&db).await.unwrap();
        for (pragma, was) in [("foreign_keys", 1), ("secure_delete", 1), ("temp_store", 0), ("cache_size", -2000)] {
            let now: i64 = sqlx::query_scalar(&format!("PRAGMA {pragma}")).fetch_one(&mut *tx).await.unwrap();
            assert_eq!(now, was, "{pragma}");
        }
    }
}
