//! The `enclave` command line: `serve` (the default), `migrate`, and the operator commands
//! (organizations, users, projects, API keys). Operator commands are non-interactive, print
//! JSON with `--output json`, and exit with a code that says what went wrong (see
//! [`exit_code`]).

mod args;
mod operator;
mod output;

pub use args::*;

use clap::Parser;

use crate::{
    services::{ErrorKind, ServiceError},
    startup::Application,
    telemetry,
};

/// A failed operator command: the service error, kept so the exit code can name its kind.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CommandFailed(pub ServiceError);

/// Exit codes for scripts: 1 internal or database failure, 2 bad input (also clap's usage
/// errors), 3 not found, 4 conflict with the current state, 5 not allowed.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    match err.downcast_ref::<CommandFailed>().map(|e| e.0.kind) {
        Some(ErrorKind::BadRequest | ErrorKind::Unprocessable) => 2,
        Some(ErrorKind::NotFound) => 3,
        Some(ErrorKind::Conflict) => 4,
        Some(ErrorKind::Forbidden | ErrorKind::Unauthenticated) => 5,
        _ => 1,
    }
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
            if config.demo {
                // Printed (not logged) so it is visible whatever the log level.
                if crate::demo::seed(app.services()).await? {
                    println!("{}", crate::demo::sign_in_help(app.local_addr()));
                } else {
                    println!(
                        "--demo: the database already has users or organizations; no demo data was added. \
                         Demo accounts (if this database was seeded before) use the password \"{}\".",
                        crate::demo::DEMO_PASSWORD
                    );
                }
            }
            tracing::info!(
                addr = %app.local_addr(),
                database = ?redacted_database(&config.database.database_url),
                "Enclave is listening on http://{}",
                app.local_addr()
            );
            app.run_until_stopped().await
        }
        Command::Migrate(config) => {
            let store = crate::startup::open_and_migrate(&config.database_url).await?;
            let check = store.check_schema().await?;
            store.close().await;
            tracing::info!(?check, "migrations applied");
            Ok(())
        }
        Command::Proxy(config) => crate::proxy::run(config).await,
        Command::BenchBare { addr } => crate::bench_tools::bare(addr).await,
        Command::BenchLoad(args) => crate::bench_tools::load(args).await,
        operator => operator::run(operator, cli.output).await,
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
