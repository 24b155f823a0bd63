//! The `planton` provider (placeholder).
