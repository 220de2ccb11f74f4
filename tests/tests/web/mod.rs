//! HTTP stories against the real app and a real database, on both backends.

mod auth;
pub mod client;
