//! What every handler and server function can reach.

use super::{
    config::Settings,
    db::Database,
    providers::{ProviderError, verifone::VerifoneClient},
};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;
use tokio::sync::OnceCell;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: Database,
    pub settings: Arc<Settings>,
    pub verifone: VerifoneClient,
    /// The card-capture public key: from settings, or fetched once from the sandbox.
    pub encryption_key: Arc<OnceCell<String>>,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, pool: Database, settings: Settings) -> AppState {
        AppState {
            leptos_options,
            pool,
            verifone: VerifoneClient::new(settings.verifone.clone()),
            encryption_key: Arc::new(OnceCell::new_with(settings.verifone.encryption_key.clone())),
            settings: Arc::new(settings),
        }
    }

    /// The state inside a server function (provided as context by `leptos_routes`).
    pub fn current() -> AppState {
        leptos::prelude::expect_context::<AppState>()
    }

    pub fn checkout(&self) -> super::checkout::Checkout<'_> {
        super::checkout::Checkout { pool: &self.pool, verifone: &self.verifone, settings: &self.settings }
    }

    pub fn limits(&self) -> super::limits::Limits<'_> {
        super::limits::Limits { pool: &self.pool, settings: &self.settings.limits }
    }

    /// The armored public key verifone.js encrypts cards to (fetched with Verifone's timeout; a failed fetch
    /// is tried again by the next checkout).
    pub async fn encryption_key(&self) -> Result<String, ProviderError> {
        self.encryption_key.get_or_try_init(|| self.verifone.sandbox_public_key()).await.cloned()
    }
}
