//! Pure types and rules, compiled for the server and the browser alike. No I/O here.

pub mod card;
pub mod catalog;
pub mod checkout;
pub mod customer;
pub mod money;
pub mod saved_card;
pub mod status;
pub mod threeds;
