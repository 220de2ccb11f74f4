//! Operations: backups, health, readiness and metrics, rate and body limits, moving from
//! SQLite to PostgreSQL.

mod backup;
mod health;
mod limits;
mod migrate;
mod page_limits;
