//! Troc application shell (store, HTTP, CLI).
pub mod ops;
pub mod store;
