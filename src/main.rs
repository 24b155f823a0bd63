//! The provider binary: see the library crate for the layout.

fn main() {}
