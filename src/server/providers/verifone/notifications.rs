//! Verifone's signed transaction events: the signature and its age are checked, then the event is read
//! into the services' terms.

use super::wire::Transaction;
use crate::domain::status::Action;
use crate::server::providers::{Event, EventKind, Unread};
use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

const SIGNATURE_HEADER: &str = "x-vfi-signature";
/// Older (or further in the future) signatures are refused, so a captured delivery cannot be replayed later.
const TOLERANCE_SECS: i64 = 300;

#[derive(Deserialize)]
struct Envelope {
    id: String,
    event: String,
    #[serde(default)]
    data: Transaction,
}

/// Checks the delivery's signature against `secret` and the clock, then reads it.
pub fn read(secret: &[u8], headers: &HeaderMap, body: &[u8], now_secs: i64) -> Result<Event, Unread> {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    verify(secret, signature, body, now_secs).map_err(Unread::Unauthorized)?;
    let n: Envelope = serde_json::from_slice(body).map_err(|_| Unread::Malformed)?;
    Ok(Event {
        kind: kind_of(&n.event),
        parent_id: n.data.parent_id.clone(),
        id: n.id,
        name: n.event,
        txn: super::txn(n.data),
    })
}

/// Checks `t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{body}">` against the secret and the clock.
fn verify(secret: &[u8], header: &str, body: &[u8], now_secs: i64) -> Result<(), &'static str> {
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

/// The event names, mapped once.
fn kind_of(event: &str) -> EventKind {
    match event {
        "TxnSaleApproved" | "TxnSaleDeclined" | "TxnAuthorisationApproved" | "TxnAuthorisationDeclined" => {
            EventKind::Payment
        }
        "TxnRefundApproved" => EventKind::Action(Action::Refund),
        "TxnCaptureApproved" => EventKind::Action(Action::Capture),
        "TxnVoidApproved" => EventKind::Action(Action::Void),
        _ => EventKind::Other,
    }
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

    #[test]
    fn event_name_table() {
        let table = [
            ("TxnSaleApproved", EventKind::Payment),
            ("TxnSaleDeclined", EventKind::Payment),
            ("TxnAuthorisationApproved", EventKind::Payment),
            ("TxnAuthorisationDeclined", EventKind::Payment),
            ("TxnRefundApproved", EventKind::Action(Action::Refund)),
            ("TxnCaptureApproved", EventKind::Action(Action::Capture)),
            ("TxnVoidApproved", EventKind::Action(Action::Void)),
            ("TxnRefundDeclined", EventKind::Other),
            ("", EventKind::Other),
        ];
        for (name, kind) in table {
            assert_eq!(kind_of(name), kind, "{name}");
        }
    }

    #[test]
    fn a_signed_event_is_read_and_an_unsigned_one_is_not() {
        let body = r#"{"id":"e1","event":"TxnRefundApproved","data":{"id":"t2","status":"REFUNDED","amount":500,"parent_id":"t1"}}"#;
        let t = 1_790_000_000;
        let signed = |body: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(SIGNATURE_HEADER, format!("t={t},v1={}", sign(b"secret", t, body)).parse().unwrap());
            headers
        };
        let e = read(b"secret", &signed(body), body.as_bytes(), t).unwrap();
        assert_eq!((e.id.as_str(), e.kind, e.txn.amount), ("e1", EventKind::Action(Action::Refund), Some(500)));
        assert_eq!(e.parent_id.as_deref(), Some("t1"));
        let refused = read(b"other", &signed(body), body.as_bytes(), t).err();
        assert_eq!(refused, Some(Unread::Unauthorized("signature does not match")));
        assert_eq!(
            read(b"secret", &HeaderMap::new(), body.as_bytes(), t).err(),
            Some(Unread::Unauthorized("missing or malformed signature"))
        );
        assert_eq!(read(b"secret", &signed("{}"), b"{}", t).err(), Some(Unread::Malformed));
    }
}
