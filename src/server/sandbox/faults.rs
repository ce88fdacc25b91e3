//! Fault injection for tests: arm a fault for the next calls to a sandbox path, and the sandbox answers slowly,
//! with a 5xx, with malformed JSON, or drops the connection.
//!
//! `POST /sandbox/_control/faults` with `{"path": "/verifone/oidc/api/v2/transactions/card", "fault": "slow",
//! "delay_ms": 15000, "times": 1, "body_contains": "order-42"}`; `DELETE` clears all; `GET` lists them.
//! `slow`, `malformed` and `drop` let the provider do the work first (the charge happens, the answer is lost:
//! the worst case for a client); `error` refuses before doing anything.
//!
//! The control routes answer only callers on this machine (loopback peers): the sandbox is mounted only in
//! sandbox mode, and even there a fault armed from outside would let anyone break a shop's payments.

use super::{SandboxState, auth};
use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{ConnectInfo, Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::{net::SocketAddr, sync::Mutex, time::Duration};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Slow,
    Error,
    Malformed,
    Drop,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fault {
    /// The path below `/sandbox`, e.g. `/verifone/oidc/3ds-service/v2/lookup`.
    pub path: String,
    pub fault: FaultKind,
    #[serde(default = "one")]
    pub times: u32,
    #[serde(default)]
    pub delay_ms: Option<u64>,
    #[serde(default)]
    pub status: Option<u16>,
    /// Only requests whose body contains this text (to keep parallel tests apart).
    #[serde(default)]
    pub body_contains: Option<String>,
}

fn one() -> u32 {
    1
}

#[derive(Default)]
pub struct Faults(Mutex<Vec<Fault>>);

impl Faults {
    /// Takes one use of the first armed fault matching this request.
    fn take(&self, path: &str, body: &[u8]) -> Option<Fault> {
        let mut armed = self.0.lock().unwrap();
        let i = armed.iter().position(|f| {
            path.ends_with(&f.path)
                && f.body_contains
                    .as_ref()
                    .is_none_or(|needle| body.windows(needle.len().max(1)).any(|w| w == needle.as_bytes()))
        })?;
        let fault = armed[i].clone();
        armed[i].times -= 1;
        if armed[i].times == 0 {
            armed.remove(i);
        }
        Some(fault)
    }
}

pub fn control_router() -> Router<SandboxState> {
    Router::new().route("/faults", get(list).post(arm).delete(clear)).layer(axum::middleware::from_fn(loopback_only))
}

/// Refuses every caller whose TCP peer is not a loopback address (or is unknown).
async fn loopback_only(request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if peer.is_some_and(|ip| ip.is_loopback()) {
        return next.run(request).await;
    }
    auth::error(StatusCode::FORBIDDEN, "The sandbox's control routes answer only on this machine", json!({}))
}

async fn arm(State(sb): State<SandboxState>, Json(fault): Json<Fault>) -> impl IntoResponse {
    if fault.times == 0 || fault.path.is_empty() {
        return (StatusCode::BAD_REQUEST, Json(json!({"message": "path and times ≥ 1 are required"})));
    }
    sb.faults.0.lock().unwrap().push(fault.clone());
    (StatusCode::CREATED, Json(json!(fault)))
}

async fn list(State(sb): State<SandboxState>) -> Json<Vec<Fault>> {
    Json(sb.faults.0.lock().unwrap().clone())
}

async fn clear(State(sb): State<SandboxState>) -> StatusCode {
    sb.faults.0.lock().unwrap().clear();
    StatusCode::NO_CONTENT
}

/// Middleware in front of every sandbox route.
pub async fn inject(State(sb): State<SandboxState>, request: Request, next: Next) -> Response {
    if sb.faults.0.lock().unwrap().is_empty() {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return auth::bad_request("Request body too large");
    };
    let Some(fault) = sb.faults.take(parts.uri.path(), &bytes) else {
        return next.run(Request::from_parts(parts, Body::from(bytes))).await;
    };
    tracing::info!(path = %fault.path, fault = ?fault.fault, "sandbox fault injected");
    if fault.fault == FaultKind::Error {
        let status = StatusCode::from_u16(fault.status.unwrap_or(503)).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return auth::error(status, "Service temporarily unavailable (injected fault)", json!({}));
    }
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    match fault.fault {
        FaultKind::Slow => {
            tokio::time::sleep(Duration::from_millis(fault.delay_ms.unwrap_or(15_000))).await;
            response
        }
        FaultKind::Malformed => {
            (response.status(), [("content-type", "application/json")], r#"{"id": "#).into_response()
        }
        // Headers go out, then the body fails: the client sees the connection end mid-answer.
        _ => {
            let broken =
                futures_util::stream::once(async { Err::<Bytes, std::io::Error>(std::io::Error::other("dropped")) });
            (response.status(), Body::from_stream(broken)).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::sandbox::{Sandbox, SandboxConfig};
    use tower::ServiceExt;

    async fn call_from(peer: &str) -> StatusCode {
        let app = control_router().with_state(Sandbox::new(SandboxConfig::new("http://127.0.0.1:1/sandbox")));
        let mut request = Request::builder().uri("/faults").body(Body::empty()).unwrap();
        if !peer.is_empty() {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer.parse().unwrap()));
        }
        app.oneshot(request).await.unwrap().status()
    }

    #[tokio::test]
    async fn control_routes_answer_only_loopback_peers() {
        assert_eq!(call_from("127.0.0.1:5000").await, StatusCode::OK);
        assert_eq!(call_from("[::1]:5000").await, StatusCode::OK);
        assert_eq!(call_from("192.0.2.7:5000").await, StatusCode::FORBIDDEN);
        assert_eq!(call_from("[2001:db8::1]:5000").await, StatusCode::FORBIDDEN);
        assert_eq!(call_from("").await, StatusCode::FORBIDDEN);
    }
}
