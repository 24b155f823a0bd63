//! Plugin transport (placeholder until the server lands).
