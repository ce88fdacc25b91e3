//! What every handler and server function can reach.

use super::{
    config::Settings,
    db::{Database, sealed::Seal},
    providers::Providers,
};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: Database,
    /// The keys of the columns the database keeps sealed (server/db/sealed.rs).
    pub seal: Seal,
    pub settings: Arc<Settings>,
    pub providers: Providers,
    pub mailer: super::mail::Mailer,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, pool: Database, seal: Seal, settings: Settings) -> AppState {
        AppState {
            leptos_options,
            pool,
            seal,
            providers: Providers::new(&settings),
            mailer: super::mail::Mailer::new(settings.saved_cards.mail_url.clone()),
            settings: Arc::new(settings),
        }
    }

    /// The state inside a server function (provided as context by `leptos_routes`).
    pub fn current() -> AppState {
        leptos::prelude::expect_context::<AppState>()
    }

    pub fn checkout(&self) -> super::checkout::Checkout<'_> {
        super::checkout::Checkout {
            pool: &self.pool,
            seal: &self.seal,
            providers: &self.providers,
            settings: &self.settings,
        }
    }

    pub fn actions(&self) -> super::actions::Actions<'_> {
        super::actions::Actions { pool: &self.pool, seal: &self.seal, providers: &self.providers }
    }

    pub fn history(&self) -> super::history::History<'_> {
        super::history::History { pool: &self.pool }
    }

    pub fn saved_cards(&self) -> super::saved_cards::SavedCards<'_> {
        super::saved_cards::SavedCards { pool: &self.pool, settings: &self.settings, mailer: &self.mailer }
    }

    pub fn limits(&self) -> super::limits::Limits<'_> {
        super::limits::Limits { pool: &self.pool, settings: &self.settings.limits }
    }
}
