//! Troc application shell (store, HTTP, CLI).
