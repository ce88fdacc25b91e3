//! Transaction events POSTed to the merchant's URL, signed, retried with backoff until accepted.
//! Signature header: `x-vfi-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{body}">` [I: Stripe's
//! scheme; Verifone's own is not public].

use super::{new_id, now_secs};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;

pub const SIGNATURE_HEADER: &str = "x-vfi-signature";
const ATTEMPTS: u32 = 6;

#[derive(Clone)]
pub struct Notifier {
    url: Option<String>,
    secret: Vec<u8>,
    client: reqwest::Client,
    first_backoff: Duration,
}

impl Notifier {
    pub fn new(url: Option<String>, secret: &str) -> Notifier {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("http client");
        Notifier { url, secret: secret.as_bytes().to_vec(), client, first_backoff: Duration::from_millis(200) }
    }

    /// Sends `event` about `transaction` in the background; returns at once.
    pub fn send(&self, event: &str, transaction: &Value) {
        let Some(url) = self.url.clone() else { return };
        let body = json!({
            "id": new_id(),
            "event": event,
            "created_at": now_secs(),
            "transaction_id": transaction["id"],
            "data": transaction,
        })
        .to_string();
        let this = self.clone();
        tokio::spawn(async move {
            let mut backoff = this.first_backoff;
            for attempt in 1..=ATTEMPTS {
                let t = now_secs();
                let signature = sign(&this.secret, t, &body);
                let sent = this
                    .client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header(SIGNATURE_HEADER, format!("t={t},v1={signature}"))
                    .body(body.clone())
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => return,
                    Ok(r) => tracing::warn!(attempt, status = r.status().as_u16(), "notification refused"),
                    Err(e) => tracing::warn!(attempt, error = %e, "notification not delivered"),
                }
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            tracing::error!("notification given up after {ATTEMPTS} attempts");
        });
    }
}

/// Hex HMAC-SHA256 of `"{t}.{body}"`.
pub fn sign(secret: &[u8], t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(format!("{t}.{body}").as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}
