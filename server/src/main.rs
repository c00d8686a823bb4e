//! `enclave`: the control-plane server and operator command line.

use clap::Parser;
use enclave::cli::{exit_code, run, Cli};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("enclave: {err:#}");
            std::process::ExitCode::from(exit_code(&err))
        }
    }
}
