pub mod bridge;
pub mod components;
pub mod pages;
