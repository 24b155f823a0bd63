//! The plan pipeline (filled in below).
