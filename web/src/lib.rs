//! Troc application shell (store, HTTP, CLI).
pub mod export;
pub mod store;
