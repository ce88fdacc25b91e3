//! The encrypted card and the CAVV are kept only while a call needs them, and once cleared they are gone from
//! the database files too: not in the file's free space, not in old page images in the write-ahead log.

mod common;

use common::{
    TestApp,
    checkout::{Placed, Shopper, order_id},
};
use serde_json::{Value, json};
use std::time::Duration;

/// What was sent with a checkout: to be found nowhere once it has ended.
struct Sent {
    pan: &'static str,
    placed: Placed,
}

/// Runs a checkout with `pan` and, for a challenge, answers it with `code` (none: the shopper walks away).
async fn checkout(shopper: &Shopper<'_>, pan: &'static str, cart: &str, code: Option<&str>) -> (String, Sent) {
    let placed = shopper.place(pan, cart).await;
    let id = order_id(&placed.next);
    if let (Some(code), Some(_)) = (code, placed.next.get("Challenge")) {
        shopper.challenge(&placed, "submit", code).await;
    }
    (id, Sent { pan, placed })
}

/// The CAVV the sandbox was sent with the order's payment, if it was paid with one.
async fn cavv_sent(app: &TestApp, shopper: &Shopper<'_>, id: &str) -> Option<String> {
    let txn: Option<String> = sqlx::query_scalar(
        "SELECT provider_transaction_id FROM payment_attempts WHERE order_id = $1 AND kind = 'authorize'",
    )
    .bind(id)
    .fetch_optional(&app.pool)
    .await
    .unwrap()
    .flatten();
    let (_, read) = shopper.sb.get(&format!("/verifone/oidc/api/v2/transaction/{}", txn?)).await;
    read["threed_authentication"]["cavv"].as_str().map(str::to_owned)
}

/// What of `secrets` is in the database file or its write-ahead log, by name.
fn found_in_files(db: &std::path::Path, secrets: &[(String, String)]) -> Vec<String> {
    let mut bytes = std::fs::read(db).unwrap();
    bytes.extend(std::fs::read(db.with_extension("db-wal")).unwrap_or_default());
    // Every secret is ASCII, so it is found in the lossy text exactly where it is in the bytes.
    let text = String::from_utf8_lossy(&bytes);
    secrets.iter().filter(|(_, s)| text.contains(s.as_str())).map(|(name, _)| name.clone()).collect()
}

#[tokio::test]
async fn no_card_or_cavv_is_left_in_the_database_files_once_checkouts_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retention.db");
    let url = format!("sqlite://{}", path.display());
    let mut secrets: Vec<(String, String)> = Vec::new();
    let (abandoned, paid_id) = {
        let app = TestApp::spawn_with(&[("DATABASE_URL", &url), ("SWEEP_INTERVAL_SECS", "1")]).await;
        let shopper = Shopper::new(&app).await;
        let lost = json!({"path": "/verifone/oidc/api/v2/transactions/card", "fault": "drop",
                          "body_contains": "\"amount\":3900"});
        assert!(shopper.sb.post("/_control/faults", &lost).await.0.is_success());
        let mut runs = vec![
            checkout(&shopper, "4000000000001000", "tee:1", None).await,
            checkout(&shopper, "4000000000001091", "tee:1", Some("1234")).await,
            checkout(&shopper, "4000000000001109", "tee:1", Some("1234")).await,
            checkout(&shopper, "4000000000001018", "mug:1", None).await,
            checkout(&shopper, "4111111111111111", "bag:1", None).await,
        ];
        // The lost answer is resolved (by reading the order, or by the sweeper).
        let (lost_id, _) = &runs[4];
        for _ in 0..100 {
            if shopper.order(lost_id).await["status"] != "Unknown" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let abandoned = checkout(&shopper, "5200000000001096", "cap:1", None).await;
        assert!(abandoned.1.placed.next.get("Challenge").is_some());
        let expected = ["Captured", "Captured", "Declined", "Declined", "Captured"];
        for ((id, _), status) in runs.iter().zip(expected) {
            assert_eq!(shopper.order(id).await["status"], status, "{id}");
        }
        for (id, _) in &runs {
            if let Some(cavv) = cavv_sent(&app, &shopper, id).await {
                secrets.push((format!("the CAVV of {id}"), cavv));
            }
        }
        assert!(secrets.len() >= 2, "the frictionless and the challenged payments carried CAVVs");
        let abandoned_id = abandoned.0.clone();
        runs.push(abandoned);
        for (id, sent) in &runs {
            secrets.push((format!("the card number of {id}"), sent.pan.to_owned()));
            // In chunks: a value split across database pages is still found.
            for (i, chunk) in sent.placed.encrypted_card.as_bytes().chunks(24).enumerate() {
                secrets
                    .push((format!("chunk {i} of the encrypted card of {id}"), String::from_utf8_lossy(chunk).into()));
            }
        }
        (abandoned_id, runs[0].0.clone())
        // The app stops here, as a crash would stop it.
    };
    secrets.push(("a card's plaintext".into(), "cardNumber".into()));
    secrets.push(("a CVV".into(), "\"cvv\"".into()));

    // Started again, it expires the checkout left mid-challenge; then nothing sent is left in the files.
    let app =
        TestApp::spawn_with(&[("DATABASE_URL", &url), ("CHECKOUT_ABANDON_MINUTES", "0"), ("SWEEP_INTERVAL_SECS", "1")])
            .await;
    let shopper = Shopper::new(&app).await;
    let mut left = Vec::new();
    for _ in 0..100 {
        let expired = shopper.order(&abandoned).await["status"] == Value::from("Expired");
        left = found_in_files(&path, &secrets);
        if expired && left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(shopper.order(&abandoned).await["status"], "Expired");
    assert!(left.is_empty(), "left in the database files: {left:?}");
    let known = [(String::from("an order id"), paid_id)];
    assert_eq!(found_in_files(&path, &known).len(), 1, "the scan reads the files");
}
