//! Operations: backups, health, readiness and metrics.

mod backup;
mod health;
