//! Defense in depth: raw SQL that bypasses the application is refused by the database.
