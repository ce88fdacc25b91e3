pub mod checkout;
pub mod home;
pub mod not_found;
pub mod receipt;
pub mod shop;
