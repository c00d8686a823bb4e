//! Routed pages of the console.

pub mod not_found;
pub mod overview;
