//! Receives Verifone's signed transaction events: the signature and its age are checked, each event id is
//! processed once, and the order's timeline and amounts follow what happened at the provider (a refund made
//! in Verifone's own portal, say), also while one of our own is in flight. Actions we sent ourselves are
//! counted once, by whichever arrives first: their answer or their event.

use super::{
    db::{
        self,
        orders::{self, OrderError},
        payments::{self, AttemptAnswer, AttemptStatus},
    },
    merchant::actions,
    providers::verifone::{Action, wire::Transaction},
    state::AppState,
};
use crate::domain::{money::Money, status::PaymentStatus};
use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "x-vfi-signature";
/// Older (or further in the future) signatures are refused, so a captured delivery cannot be replayed later.
const TOLERANCE_SECS: i64 = 300;
/// Far above any real event; what an event carries is stored, so it is bounded.
const MAX_BODY_LEN: usize = 64 * 1024;

#[derive(Deserialize)]
struct Envelope {
    id: String,
    event: String,
    #[serde(default)]
    data: Transaction,
}

/// `POST /notifications/verifone`.
pub async fn verifone(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> (StatusCode, Json<Value>) {
    if body.len() > MAX_BODY_LEN {
        return (StatusCode::PAYLOAD_TOO_LARGE, Json(json!({"error": "body is too large"})));
    }
    let secret = state.settings.verifone.notification_secret.expose_secret().as_bytes().to_vec();
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if let Err(why) = verify(&secret, signature, &body, db::now_ms() / 1000) {
        tracing::warn!(why, "notification refused");
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": why})));
    }
    let Ok(envelope) = serde_json::from_slice::<Envelope>(&body) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "body is not a transaction event"})));
    };

    match receive(&state, envelope).await {
        Ok(outcome) => (StatusCode::OK, Json(json!({"status": outcome}))),
        Err(e) => {
            tracing::error!(error = %e, "notification not processed");
            // Not 2xx: the provider delivers it again later.
            (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": "not processed"})))
        }
    }
}

/// Checks `t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{body}">` against the secret and the clock.
pub fn verify(secret: &[u8], header: &str, body: &[u8], now_secs: i64) -> Result<(), &'static str> {
    let field = |name: &str| header.split(',').find_map(|p| p.trim().strip_prefix(name)?.strip_prefix('='));
    let t: i64 = field("t").and_then(|t| t.parse().ok()).ok_or("missing or malformed signature")?;
    let v1 = field("v1").and_then(hex).ok_or("missing or malformed signature")?;
    if (now_secs - t).abs() > TOLERANCE_SECS {
        return Err("signature too old");
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    mac.verify_slice(&v1).map_err(|_| "signature does not match")
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// Events about the payment itself: they name its transaction, which a lost answer is resolved by reading.
const PAYMENT_EVENTS: [&str; 4] =
    ["TxnSaleApproved", "TxnSaleDeclined", "TxnAuthorisationApproved", "TxnAuthorisationDeclined"];

fn action_of(event: &str) -> Option<Action> {
    match event {
        "TxnRefundApproved" => Some(Action::Refund),
        "TxnCaptureApproved" => Some(Action::Capture),
        "TxnVoidApproved" => Some(Action::Void),
        _ => None,
    }
}

async fn receive(state: &AppState, n: Envelope) -> Result<&'static str, OrderError> {
    let reference = n.data.merchant_reference.clone().unwrap_or_default();
    let order_id = orders::by_reference(&state.pool, &reference).await?;
    let mut tx = db::begin_write(&state.pool).await?;
    let inserted =
        payments::record_notification(&mut tx, &n.id, &n.event, Some(&n.data.id), order_id.as_deref()).await?;
    if !inserted {
        return Ok("duplicate");
    }
    let Some(order_id) = order_id else {
        tx.commit().await?;
        return Ok("no matching order");
    };
    orders::append_event(
        &mut tx,
        &order_id,
        "notification_received",
        &json!({"event": n.event, "event_id": n.id, "transaction_id": n.data.id, "status": n.data.status,
                "amount_minor": n.data.amount, "parent_id": n.data.parent_id}),
    )
    .await?;
    let order = orders::get_locked(&mut tx, &order_id).await?;
    if let Some(action) = action_of(&n.event) {
        apply_external(&mut tx, &order, action, &n).await?;
    }
    if PAYMENT_EVENTS.contains(&n.event.as_str()) && !n.data.id.is_empty() {
        payments::note_authorization(&mut tx, &order_id, &n.data.id).await?;
    }
    tx.commit().await?;
    // A payment whose answer we lost: the event says it went through; resolve it the one safe way.
    if matches!(order.status, PaymentStatus::Unknown | PaymentStatus::Authorizing)
        && let Err(e) = state.checkout().resolve_unknown(&order_id).await
    {
        tracing::warn!(error = %e, "resolving a payment after its notification failed");
    }
    Ok("processed")
}

/// A refund, capture or void the event reports: counted unless its transaction is already (the answer to
/// our own call came first), and only if the order allows it. It is applied even while one of ours is in
/// flight: if the event is of ours, our answer then finds its transaction counted and adds nothing; if it is
/// one made at the provider (its portal), both count, each once.
async fn apply_external(
    tx: &mut db::Tx,
    order: &orders::Order,
    action: Action,
    n: &Envelope,
) -> Result<(), OrderError> {
    let kind = actions::kind_of(action);
    if payments::transaction_recorded(tx, kind, &n.data.id).await? {
        return Ok(());
    }
    // The event says how much moved; without a valid amount it is refused, never taken as "all that remains".
    let amount = match n.data.amount.map(|a| Money::new(a, order.amount.currency())) {
        Some(Ok(a)) => actions::check(order, action, Some(a)),
        _ => Err(actions::ActionError::Refused("the event has no valid amount".into())),
    };
    let amount = match amount {
        Ok(a) => a,
        Err(e) => {
            let details = json!({"event": n.event, "reason": e.to_string(), "amount": n.data.amount});
            return orders::append_event(tx, &order.id, "notification_not_applied", &details).await;
        }
    };
    let key = format!("notification:{}", n.id);
    let answer = AttemptAnswer {
        status: AttemptStatus::Succeeded,
        provider_transaction_id: Some(&n.data.id),
        provider_status: Some(&n.data.status),
        reason_code: n.data.reason_code.as_deref(),
        message: n.data.message.as_deref(),
    };
    payments::insert_answered_attempt(tx, &order.id, kind, amount.minor(), &key, &answer).await?;
    actions::apply(tx, &order.id, action, amount.minor()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::sandbox::notifications::sign;

    #[test]
    fn signatures_are_checked_for_key_body_and_age() {
        let body = br#"{"id":"e1"}"#;
        let t = 1_790_000_000;
        let good = format!("t={t},v1={}", sign(b"secret", t, std::str::from_utf8(body).unwrap()));
        assert_eq!(verify(b"secret", &good, body, t + 10), Ok(()));
        assert_eq!(verify(b"other", &good, body, t), Err("signature does not match"));
        assert_eq!(verify(b"secret", &good, br#"{"id":"e2"}"#, t), Err("signature does not match"));
        assert_eq!(verify(b"secret", &good, body, t + 301), Err("signature too old"));
        assert_eq!(verify(b"secret", "v1=00", body, t), Err("missing or malformed signature"));
        assert_eq!(verify(b"secret", "", body, t), Err("missing or malformed signature"));
    }
}
