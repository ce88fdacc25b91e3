//! Plain HTTP routes that are not pages or server functions.

use super::{db, state::AppState};
use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};

/// Liveness and readiness in one: 200 when the database answers, 503 when it does not.
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if db::is_reachable(&state.pool).await {
        (StatusCode::OK, Json(json!({"status": "ok", "database": "reachable"})))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "degraded", "database": "unreachable"})))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::config::Settings;
    use leptos::config::LeptosOptions;
    use std::collections::HashMap;

    #[tokio::test]
    async fn health_is_503_when_the_database_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let pool = db::connect(&format!("sqlite://{}/h.db", dir.path().display())).await.unwrap();
        let state = AppState::new(
            LeptosOptions::builder().output_name("card-checkout").build(),
            pool.clone(),
            db::sealed::Seal::start(None, &pool).await.unwrap(),
            Settings::from_vars(&HashMap::new()).unwrap(),
        );
        assert_eq!(health(State(state.clone())).await.0, StatusCode::OK);
        pool.close().await;
        let (status, Json(body)) = health(State(state)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["database"], "unreachable");
    }
}
