//! Operations: backups, health, readiness and metrics, rate and body limits.

mod backup;
mod health;
mod limits;
