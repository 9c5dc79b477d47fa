//! The command line: the arguments ([`args`], clap), the dispatch to one file per
//! command (`validate.rs`, `plan.rs`, ...) and [`CliError`]; what those commands share
//! (loading the config and the desired set, connecting, the call and timing reports)
//! is in `common.rs`.
//!
//! Each command returns `Result<ExitCode, CliError>`: its own exit code when it ran
//! (`plan`'s 2 for pending changes, 1 when `apply` did not converge), or the error
//! that stopped it, printed here as `error: ...` with exit code 1.

mod apply;
mod args;
mod common;
mod export;
mod logging;
mod plan;
mod run;
mod schema;
mod test;
mod validate;

use std::process::ExitCode;

pub use args::{Cli, ColorChoice, Command, GlobalArgs, OutputFormat, TestOutput};
pub use common::load_config;

/// Why a command stopped before its end; exit code 1.
#[derive(Debug)]
pub enum CliError {
    /// Printed as `error: <message>`.
    Message(String),
    /// The desired set is invalid: printed as `error: <message>`, then that nothing
    /// was read from or written to API Gateway.
    InvalidSpecs(String),
}

impl From<String> for CliError {
    fn from(message: String) -> Self {
        CliError::Message(message)
    }
}

impl CliError {
    /// Prints the error to stderr and returns the exit code for it.
    fn report(self) -> ExitCode {
        match self {
            CliError::Message(message) => eprintln!("error: {message}"),
            CliError::InvalidSpecs(message) => {
                eprintln!("error: {message}");
                eprintln!(
                    "Nothing was read from or written to API Gateway. Fix the files above and run again."
                );
            }
        }
        ExitCode::from(1)
    }
}

/// What a command returns: its exit code, or the error that stopped it.
type CommandResult = Result<ExitCode, CliError>;

/// Run the parsed command line and return the process exit code.
pub fn main(cli: Cli) -> ExitCode {
    dispatch(cli).unwrap_or_else(CliError::report)
}

fn dispatch(cli: Cli) -> CommandResult {
    let global = cli.global;
    match cli.command {
        Command::Schema { kind } => schema::execute(kind),
        Command::Test {
            filters,
            exact,
            list,
            output,
            require_coverage,
        } => {
            let selection = crate::response_test::Selection { filters, exact };
            test::execute(&global, &selection, list, output, require_coverage)
        }
        Command::Run { dry_run } => run::execute(global, dry_run),
        Command::Validate => {
            logging::one_shot(global.verbose);
            validate::execute(&global)
        }
        Command::Export { rest_api, out } => {
            logging::one_shot(global.verbose);
            block_on(export::execute(&global, &rest_api, out.as_deref()))
        }
        Command::Plan { output } => {
            logging::one_shot(global.verbose);
            block_on(plan::execute(&global, output))
        }
        Command::Apply => {
            logging::one_shot(global.verbose);
            block_on(apply::execute(&global))
        }
    }
}

/// Runs a command's future on a fresh multi-threaded runtime.
fn block_on<T>(command: impl Future<Output = Result<T, CliError>>) -> Result<T, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(command)
}
