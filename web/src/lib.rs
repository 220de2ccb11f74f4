//! Troc application shell (store, HTTP, CLI).
pub mod audit;
pub mod demo;
pub mod export;
pub mod http;
pub mod people;
pub mod store;
