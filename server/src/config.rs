//! Configuration for `enclave serve` and `enclave migrate`, from flags and environment.

use std::net::SocketAddr;

use clap::Args;

/// Where the database lives. Shared by every subcommand that touches it.
#[derive(Args, Clone, Debug)]
pub struct DatabaseConfig {
    /// Database URL: `sqlite://path/to/file.db` (embedded, the default) or
    /// `postgres://user@host:port/db`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/enclave.db")]
    pub database_url: String,
}

/// Settings for the HTTP server.
#[derive(Args, Clone, Debug)]
pub struct ServeConfig {
    #[command(flatten)]
    pub database: DatabaseConfig,

    /// Address to listen on. Port 0 picks a free port.
    #[arg(long, env = "ENCLAVE_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Directory holding the built console assets (`pkg/` with the wasm, JS and CSS).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
}
