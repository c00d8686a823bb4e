//! The Enclave server: configuration, persistence, services and the HTTP surface. The
//! `enclave` binary (`main.rs`) is a thin command-line front end over this library, which
//! tests drive directly.

pub mod aws;
pub mod bench_tools;
pub mod cli;
pub mod config;
pub mod data_plane_api;
pub mod demo;
pub mod feed;
pub mod http;
pub mod proxy;
pub mod reconciler;
pub mod scale;
pub mod services;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod webhooks;
