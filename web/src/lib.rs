//! Troc application shell (store, HTTP, CLI).
pub mod audit;
pub mod store;
