//! Everything with I/O. Compiled for the server only.

pub mod actions;
pub mod bank;
pub mod checkout;
pub mod client_address;
pub mod clock;
pub mod config;
pub mod cookies;
pub mod crash;
pub mod csp;
pub mod db;
pub mod history;
pub mod limits;
pub mod mail;
pub mod merchant;
pub mod notifications;
pub mod providers;
pub mod routes;
pub mod sandbox;
pub mod saved_card_forms;
pub mod saved_cards;
pub mod startup;
pub mod state;
pub mod telemetry;
