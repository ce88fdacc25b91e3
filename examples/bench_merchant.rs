//! Benchmark: the back office's order history on a large database. Writes N demo orders (default 100,000),
//! signs in, then times each kind of list request (first page, filters, search, a deep page, an order's
//! detail page) over HTTP on loopback and prints p50/p99 against the 20 ms budget, then the CSV export:
//! streamed page by page in this process (rows/s and the peak memory it added), and over HTTP.
//!
//!     cargo run --release --example bench_merchant -- [orders] [requests per kind] [database URL]
//!
//! With a database URL its orders are used as they are (e.g. ones `seed_demo` wrote); an empty one (a fresh
//! PostgreSQL database, say) gets the N demo orders first.

mod support;

use card_checkout::domain::money::Currency;
use card_checkout::server::{clock, db, db::order_list, merchant::list};
use futures_util::TryStreamExt;
use std::time::{Duration, Instant};

/// The budget of every history request (p99, HTTP round trip on loopback).
const BUDGET_MS: f64 = 20.0;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let orders = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let requests = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run(orders, requests, args.get(2).cloned()));
}

async fn run(orders: usize, requests: usize, url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let url = url.unwrap_or_else(|| format!("sqlite://{}/merchant.db", dir.path().display()));
    let database = db::connect(&url).await.unwrap();
    let had: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&*database).await.unwrap();
    if had == 0 {
        let started = Instant::now();
        db::demo::insert_orders(&database, orders, orders, Currency::EUR, 7).await.unwrap();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{orders} demo orders written to {:?} in {secs:.1} s ({:.0} orders/s)",
            database.engine(),
            orders as f64 / secs
        );
    }
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&*database).await.unwrap();
    let (email, password) = ("bench@example.com", "benchmark password");
    let base = support::start_app(&url, &[("MERCHANT_EMAIL", email), ("MERCHANT_PASSWORD", password)]).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = http
        .post(format!("{base}/merchant/sign-in"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();

    // A deep page: follow "Older" 20 times from the newest.
    let mut deep = "/merchant/orders".to_owned();
    for _ in 0..20 {
        let html = get(&http, &base, &cookie, &deep).await.1;
        let Some(at) = html.find("rel=\"next\"").and_then(|_| html.find("href=\"/merchant/orders?")) else { break };
        let rest = &html[at + 6..];
        let next = &rest[..rest.find('"').unwrap()];
        deep = next.replace("&amp;", "&");
    }
    let html = get(&http, &base, &cookie, "/merchant/orders?q=DEMO-0000042").await.1;
    let at = html.find("href=\"/merchant/orders/").unwrap() + 6;
    let detail = html[at..at + html[at..].find('"').unwrap()].to_owned();

    let day = |days_ago: i64| clock::format_date(db::now_ms() - days_ago * 86_400_000);
    let kinds: Vec<(&str, String)> = vec![
        ("first page, no filter", "/merchant/orders".into()),
        ("status = refunded", "/merchant/orders?status=refunded".into()),
        ("liability = no", "/merchant/orders?liability=no".into()),
        ("brand = JCB", "/merchant/orders?brand=JCB".into()),
        ("date range (30 days)", format!("/merchant/orders?from={}", day(30))),
        ("dates 200 to 20 days ago", format!("/merchant/orders?from={}&to={}", day(200), day(20))),
        ("declined, 100 to 10 days", format!("/merchant/orders?status=declined&from={}&to={}", day(100), day(10))),
        ("amount 50–60 EUR", "/merchant/orders?min=50&max=60".into()),
        ("amount 50–60, 90 days", format!("/merchant/orders?min=50&max=60&from={}", day(90))),
        ("amount 1000–2000 (none)", "/merchant/orders?min=1000&max=2000".into()),
        (
            "all filters",
            "/merchant/orders?status=captured&liability=yes&brand=VISA&provider=verifone&currency=EUR&min=20&max=200"
                .into(),
        ),
        ("search last four", "/merchant/orders?q=1005".into()),
        ("last four, 60 days", format!("/merchant/orders?q=1005&status=captured&from={}", day(60))),
        ("search email", "/merchant/orders?q=ada.lovelace42%40example.com".into()),
        ("search reference", "/merchant/orders?q=DEMO-0099999".into()),
        ("page 21 (keyset)", deep),
        ("order detail", detail),
    ];
    println!("\n{requests} requests each, one at a time, {orders} orders (HTTP round trip on loopback):");
    let mut worst = Duration::ZERO;
    for (name, path) in &kinds {
        let mut times = Vec::with_capacity(requests);
        let mut shown = 0;
        for _ in 0..requests {
            let (t, html) = get(&http, &base, &cookie, path).await;
            times.push(t);
            shown = html.matches("href=\"/merchant/orders/").count();
        }
        let p99 = support::percentile(&times, 0.99);
        worst = worst.max(p99);
        println!(
            "  {name:<26} p50 {:>7.2} ms   p99 {:>7.2} ms   {shown:>3} orders shown",
            support::ms(support::percentile(&times, 0.5)),
            support::ms(p99)
        );
    }
    let verdict = if support::ms(worst) <= BUDGET_MS { "within" } else { "OVER" };
    println!("worst p99: {:.2} ms ({verdict} the {BUDGET_MS} ms budget)", support::ms(worst));

    // The export as the history streams it: one page of rows in memory at a time. The peak is reset first,
    // so it shows what the export itself needed.
    let rss_before = support::reset_peak_rss();
    let started = Instant::now();
    let mut rows = 0usize;
    let mut bytes = 0usize;
    let mut pages = std::pin::pin!(order_list::pages((*database).clone(), Default::default(), 2_000));
    let mut line = String::new();
    while let Some(page) = pages.try_next().await.unwrap() {
        line.clear();
        for r in &page {
            list::csv_line(&mut line, r);
        }
        rows += page.len();
        bytes += line.len();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "CSV export streamed: {rows} rows ({:.0} MB) in {:.2} s = {:.0} rows/s; peak RSS {} MB -> {} MB",
        bytes as f64 / 1e6,
        secs,
        rows as f64 / secs,
        rss_before / 1024,
        support::peak_rss_kib() / 1024
    );
    // Over HTTP, read chunk by chunk as a browser saving the file would: the peak is then the server's.
    let rss_before = support::reset_peak_rss();
    let started = Instant::now();
    let mut res = http.get(format!("{base}/merchant/orders.csv")).header("cookie", &cookie).send().await.unwrap();
    assert!(res.status().is_success(), "orders.csv: {}", res.status());
    let mut lines = 0usize;
    while let Some(chunk) = res.chunk().await.unwrap() {
        lines += chunk.iter().filter(|&&b| b == b'\n').count();
    }
    let secs = started.elapsed().as_secs_f64();
    let rows = lines - 1;
    println!(
        "CSV export over HTTP (/merchant/orders.csv): {rows} rows in {secs:.2} s = {:.0} rows/s; peak RSS {} MB -> {} MB",
        rows as f64 / secs,
        rss_before / 1024,
        support::peak_rss_kib() / 1024
    );
}

async fn get(http: &reqwest::Client, base: &str, cookie: &str, path: &str) -> (Duration, String) {
    let started = Instant::now();
    let res = http.get(format!("{base}{path}")).header("cookie", cookie).send().await.unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    let body = res.text().await.unwrap();
    (started.elapsed(), body)
}
