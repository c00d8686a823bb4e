//! The `enclave` command line: `serve` (the default) and `migrate`.

use clap::{Parser, Subcommand};

use crate::{
    config::{DatabaseConfig, ServeConfig},
    startup::Application,
    store::Store,
    telemetry::{self, LogFormat},
};

#[derive(Parser, Debug)]
#[command(
    name = "enclave",
    version,
    about = "Private-networking control plane and console"
)]
pub struct Cli {
    /// Log filter in RUST_LOG syntax, e.g. `info` or `enclave=debug,sqlx=warn`.
    #[arg(
        long,
        global = true,
        env = "ENCLAVE_LOG",
        default_value = "info,sqlx=warn"
    )]
    pub log: String,

    /// Log line format.
    #[arg(long, global = true, env = "ENCLAVE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Apply migrations and serve the console and API (the default).
    Serve(ServeConfig),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseConfig),
}

/// Runs the parsed command line. Errors are returned to `main`, which prints them and exits
/// non-zero.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(&cli.log, cli.log_format);
    let command = match cli.command {
        Some(command) => command,
        // `enclave` with no subcommand serves, configured from the environment alone.
        None => match Cli::parse_from(["enclave", "serve"]).command {
            Some(command) => command,
            None => unreachable!("`serve` always parses to a command"),
        },
    };
    match command {
        Command::Serve(config) => {
            let app = Application::build(&config).await?;
            tracing::info!(
                addr = %app.local_addr(),
                database = ?redacted_database(&config.database.database_url),
                "Enclave is listening on http://{}",
                app.local_addr()
            );
            app.run_until_stopped().await
        }
        Command::Migrate(config) => {
            let store = Store::connect(&config.database_url).await?;
            store.migrate().await?;
            store.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}

/// The database URL without its password, fit for logs.
pub fn redacted_database(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(
            redacted_database("postgres://app:s3cret@db:5432/enclave"),
            "postgres://app:***@db:5432/enclave"
        );
        assert_eq!(
            redacted_database("sqlite://data/enclave.db"),
            "sqlite://data/enclave.db"
        );
    }

    #[test]
    fn no_subcommand_means_serve_with_defaults() {
        let cli = Cli::parse_from(["enclave"]);
        assert!(cli.command.is_none());
        let serve = Cli::parse_from(["enclave", "serve", "--addr", "127.0.0.1:0"]);
        match serve.command {
            Some(Command::Serve(c)) => assert_eq!(c.addr.port(), 0),
            other => panic!("expected serve, got {other:?}"),
        }
    }
}
