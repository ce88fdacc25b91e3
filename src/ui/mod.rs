pub mod bridge;
pub mod components;
pub mod hydrated;
pub mod pages;
