//! Troc application shell (store, HTTP, CLI).
pub mod demo;
pub mod http;
pub mod people;
pub mod store;
