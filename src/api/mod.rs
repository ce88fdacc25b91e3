//! Server functions: thin, each parses its input, calls one service function and maps errors to a typed,
//! JSON-encoded error the UI can match on.

pub mod checkout;
pub mod error;
pub mod saved_cards;
pub mod shop;
pub mod status;
