//! Pure report computations for the web front to render.
