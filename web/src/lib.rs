//! Troc application shell (store, HTTP, CLI).
pub mod store;
