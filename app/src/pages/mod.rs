//! Routed pages of the console.
//!
//! Pages are server components: they render on the server only (islands mode), and the
//! browser receives their HTML. What is interactive in them is an island
//! ([`crate::components`]), the only code compiled to wasm.

pub mod activity;
pub mod api_keys;
pub mod not_found;
pub mod operator;
pub mod org;
pub mod overview;
pub mod project;
pub mod setup;
pub mod sign_in;
pub mod trial;
pub mod webhooks;
