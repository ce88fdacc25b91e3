//! What the examples share: the app started in this process on a database of their choice, the browser's
//! part of a checkout (Cardinal setup, card encryption) and latency statistics.

#![allow(dead_code)]

pub mod procfs;

use base64::{Engine, engine::general_purpose::STANDARD};
use card_checkout::server::{config::Settings, config::sandbox_defaults as d, startup::Application};
use pgp::composed::{ArmorOptions, Deserializable, MessageBuilder, SignedPublicKey};
use pgp::crypto::sym::SymmetricKeyAlgorithm;
use serde_json::{Value, json};
use std::{collections::HashMap, sync::Arc, time::Duration};

/// Starts the app (embedded sandbox) on a free port with `DATABASE_URL` and extra settings; returns its URL.
pub async fn start_app(database_url: &str, extra: &[(&str, &str)]) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut vars: HashMap<String, String> = HashMap::from([
        ("APP_ADDR".into(), addr.to_string()),
        ("DATABASE_URL".into(), database_url.into()),
        ("LOG_LEVEL".into(), "warn".into()),
    ]);
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    // PostgreSQL names no default seal key file: the instances on one database share one.
    if database_url.starts_with("postgres") {
        let name = database_url.rsplit('/').next().unwrap_or("db");
        let file = std::env::temp_dir().join(format!("card-checkout-bench-seal-{name}.key"));
        vars.entry("SEAL_KEY_FILE".into()).or_insert_with(|| file.display().to_string());
    }
    let app = Application::with_listener(Settings::from_vars(&vars).unwrap(), listener).await.unwrap();
    tokio::spawn(app.run_until_stopped());
    format!("http://{addr}")
}

/// The sandbox's card-encryption key (what verifone.js encrypts to).
pub async fn encryption_key(http: &reqwest::Client, base: &str) -> SignedPublicKey {
    let url = format!("{base}/sandbox/verifone/keys/{}", d::VERIFONE_PUBLIC_KEY_ALIAS);
    let armored = http.get(url).send().await.unwrap().text().await.unwrap();
    SignedPublicKey::from_string(&armored).unwrap().0
}

/// A card as verifone.js encrypts it: OpenPGP to the provider's key, base64 of the armored message.
pub fn encrypt_card(key: &SignedPublicKey, pan: &str, year: u16) -> String {
    // Now, as verifone.js writes it: an encrypted card older than 15 minutes is refused.
    let now = card_checkout::server::clock::format_time(card_checkout::server::db::now_ms());
    let capture_time = now.trim_end_matches(" UTC").replacen(' ', "T", 1) + "Z";
    let plain = json!({"captureTime": capture_time, "cardNumber": pan, "expiryMonth": "01",
        "expiryYear": year.to_string(), "cvv": if pan.starts_with("34") { "1234" } else { "123" }})
    .to_string();
    let mut b =
        MessageBuilder::from_bytes("", plain.into_bytes()).seipd_v1(rand::thread_rng(), SymmetricKeyAlgorithm::AES256);
    b.encrypt_to_key(rand::thread_rng(), &key.public_subkeys[0]).unwrap();
    STANDARD.encode(b.to_armored_string(rand::thread_rng(), ArmorOptions::default()).unwrap())
}

/// Cardinal's setup as the browser does it; returns the session id the lookup needs.
pub async fn cardinal_setup(http: &reqwest::Client, base: &str, jwt: &str) -> String {
    let s: Value = http
        .post(format!("{base}/sandbox/cardinal/setup"))
        .json(&json!({"jwt": jwt}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = s["sessionId"].as_str().unwrap().to_owned();
    http.post(format!("{base}/sandbox/cardinal/device-data"))
        .json(&json!({"sessionId": session}))
        .send()
        .await
        .unwrap();
    session
}

/// Runs `job(0..n)` with at most `concurrency` at once and, with a rate, starting one every 1/rate s.
pub async fn drive<F, Fut>(n: usize, concurrency: usize, rate: Option<usize>, job: F)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut ticks = rate.map(|r| tokio::time::interval(Duration::from_secs_f64(1.0 / r.max(1) as f64)));
    let mut tasks = Vec::new();
    for i in 0..n {
        if let Some(t) = ticks.as_mut() {
            t.tick().await;
        }
        let permit = semaphore.clone().acquire_owned().await.unwrap();
        let fut = job(i);
        tasks.push(tokio::spawn(async move {
            fut.await;
            drop(permit);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

pub fn percentile(v: &[Duration], q: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// This process's peak resident memory (VmHWM, KiB).
pub fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).unwrap_or("0");
    field.trim().trim_end_matches("kB").trim().parse().unwrap_or(0)
}

/// Resets the peak to the current resident memory (Linux `clear_refs` 5) and returns that (KiB).
pub fn reset_peak_rss() -> u64 {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    peak_rss_kib()
}
