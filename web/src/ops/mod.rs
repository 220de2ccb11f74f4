//! Operations tooling: online backups and restores, and moving a network from SQLite to
//! PostgreSQL (`migrate`).
//!
//! What this module does *not* do: back up PostgreSQL (use `pg_dump` or a base backup, see
//! `docs/operations.md`), or run while a server writes to the database being restored.

pub mod backup;
pub mod migrate;
