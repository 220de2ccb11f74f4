//! Troc application shell: the store, the HTTP front, exports, audit and operations tools,
//! used by the thin `troc` binary.
pub mod activity;
pub mod actor;
pub mod approvals;
pub mod audit;
pub mod config;
pub mod console;
pub mod demo;
pub mod einvoice;
pub mod export;
pub mod http;
pub mod invoices;
pub mod mail;
pub mod market;
pub mod metrics;
pub mod network;
pub mod news;
pub mod ops;
pub mod people;
pub mod retry;
pub mod spending;
pub mod standing;
pub mod store;
pub mod tokens;
pub mod totp;
pub mod trade;
pub mod webhooks;
