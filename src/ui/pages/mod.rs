pub mod checkout;
pub mod home;
pub mod merchant;
pub mod not_found;
pub mod receipt;
pub mod shop;
