//! Troc application shell (store, HTTP, CLI).
pub mod activity;
pub mod demo;
pub mod http;
pub mod market;
pub mod people;
pub mod store;
pub mod trade;
