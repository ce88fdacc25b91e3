//! Receives providers' signed transaction events (`POST /notifications/{provider}`): the provider checks the
//! signature and its age and reads the event; each event id is processed once, and the order's timeline and
//! amounts follow what happened at the provider (a refund made in its own portal, say), also while one of
//! our own is in flight. Actions we sent ourselves are counted once, by whichever arrives first: their
//! answer or their event.

use super::{
    db::{
        self,
        orders::{self, OrderError, Provider},
        payments,
    },
    providers::{Event, EventKind, Unread},
    state::AppState,
};
use crate::domain::status::PaymentStatus;
use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
};
use serde_json::{Value, json};

/// Far above any real event; what an event carries is stored, so it is bounded.
const MAX_BODY_LEN: usize = 64 * 1024;

/// `POST /notifications/{provider}`.
pub async fn receive(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    if body.len() > MAX_BODY_LEN {
        return (StatusCode::PAYLOAD_TOO_LARGE, Json(json!({"error": "body is too large"})));
    }
    let read = match Provider::parse(&provider) {
        Some(provider) => state.providers.read_event(provider, &headers, &body).map(|e| (provider, e)),
        None => Err(Unread::NotConfigured),
    };
    let (provider, event) = match read {
        Ok(read) => read,
        Err(Unread::Unauthorized(why)) => {
            tracing::warn!(why, "notification refused");
            return (StatusCode::UNAUTHORIZED, Json(json!({"error": why})));
        }
        Err(Unread::Malformed) => {
            return (StatusCode::BAD_REQUEST, Json(json!({"error": "body is not a transaction event"})));
        }
        Err(Unread::NotConfigured) => {
            return (StatusCode::NOT_FOUND, Json(json!({"error": "no such provider here"})));
        }
    };
    match apply(&state, provider, event).await {
        Ok(outcome) => (StatusCode::OK, Json(json!({"status": outcome}))),
        Err(e) => {
            tracing::error!(error = %e, "notification not processed");
            // Not 2xx: the provider delivers it again later.
            (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": "not processed"})))
        }
    }
}

async fn apply(state: &AppState, provider: Provider, n: Event) -> Result<&'static str, OrderError> {
    let reference = n.txn.merchant_reference.clone().unwrap_or_default();
    let order_id = orders::by_reference(&state.pool, &reference).await?;
    let mut tx = db::begin_write(&state.pool).await?;
    let inserted =
        payments::record_notification(&mut tx, provider, &n.id, &n.name, Some(&n.txn.id), order_id.as_deref()).await?;
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
        &json!({"event": n.name, "event_id": n.id, "transaction_id": n.txn.id, "status": n.txn.status,
                "amount_minor": n.txn.amount, "parent_id": n.parent_id}),
    );
    let order = orders::get_locked(&mut tx, &order_id).await?;
    match n.kind {
        EventKind::Action(action) => {
            let key = format!("notification:{}", n.id);
            super::actions::apply_reported(&mut tx, &order, action, &n.name, &n.txn, &key).await?;
        }
        EventKind::Payment if !n.txn.id.is_empty() => {
            payments::note_authorization(&mut tx, &order_id, &n.txn.id).await?;
        }
        EventKind::Payment | EventKind::Other => {}
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
