//! Routed pages of the console.

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
