//! The service's own status, shown in the shell's footer.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// True when payments go to the embedded sandbox rather than a live provider.
    pub sandbox: bool,
    pub database_reachable: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum StatusError {
    #[error("something went wrong on our side; please try again")]
    Internal,
    #[error("the request could not be read")]
    Malformed,
    #[error("the server could not be reached: {0}")]
    Transport(String),
}

crate::server_error_family!(StatusError);

impl super::error::HttpStatus for StatusError {
    fn http_status(&self) -> u16 {
        match self {
            StatusError::Malformed => 400,
            StatusError::Internal | StatusError::Transport(_) => 500,
        }
    }
}

#[server(endpoint = "status")]
pub async fn service_status() -> Result<StatusReport, StatusError> {
    use crate::server::{db, state::AppState};
    let state = AppState::current();
    Ok(StatusReport {
        sandbox: state.settings.mounts_sandbox(),
        database_reachable: db::is_reachable(&state.pool).await,
    })
}
