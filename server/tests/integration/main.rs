//! Every integration test of the server, in one test binary so the server (and the AWS SDK)
//! is linked once: the REST API, the console over HTTP, the operator CLI, the data-plane
//! proxy, the AWS provider against moto, the store, and trials. Each runs on SQLite, and on
//! PostgreSQL too when `TEST_DATABASE_URL` is set (`on_both_backends!`).

#[macro_use]
mod common;

mod activity;
mod api;
mod aws;
mod cli;
mod clouds;
mod console_auth;
mod console_setup;
mod durability;
mod front_door;
mod http;
mod instances;
mod neon_routes;
mod proxy;
mod store;
mod trials;
mod upgrades;
mod webhooks;
