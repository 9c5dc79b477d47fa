//! The `apigw-reconciler` binary: parse the command line, hand over to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    apigw_reconciler::cli::main(apigw_reconciler::cli::Cli::parse())
}
