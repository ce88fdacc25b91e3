//! Verifone's Basic authentication (`user_uid:api_key`) and its error bodies.

use super::{Sandbox, now_secs};
use axum::{
    Json,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

/// Verifone's error body: `{code, message, details, timestamp}` (the eCommerce API adds `reversal_status`).
pub fn error(status: StatusCode, message: &str, details: Value) -> Response {
    let body = json!({
        "code": status.as_u16(),
        "message": message,
        "details": details,
        "timestamp": now_secs() * 1000,
    });
    (status, Json(body)).into_response()
}

pub fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, message, json!({}))
}

/// The request body as a JSON object, or the published 400 (never the framework's plain-text rejection).
pub fn json_object(body: &[u8]) -> Result<Value, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(bad_request("Request body is not a JSON object")),
    }
}

/// Checks `Authorization: Basic base64(user_uid:api_key)`; the error is the 401 to send.
pub fn check(sandbox: &Sandbox, headers: &HeaderMap, ecommerce: bool) -> Result<(), Response> {
    let expected = format!("{}:{}", sandbox.config.user_uid, sandbox.config.api_key);
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| STANDARD.decode(b64.trim()).ok())
        .unwrap_or_default();
    if bool::from(given.ct_eq(expected.as_bytes())) {
        return Ok(());
    }
    let mut body = json!({
        "code": 401,
        "message": "Authentication failed: invalid or missing credentials",
        "details": {},
        "timestamp": now_secs() * 1000,
    });
    if ecommerce {
        body["reversal_status"] = json!("NONE");
    }
    Err((StatusCode::UNAUTHORIZED, Json(body)).into_response())
}
