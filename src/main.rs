//! The `apigw-reconciler` binary: parse the command line, hand over to the library.

use clap::Parser;

/// Loading a desired set allocates and frees millions of small values (YAML nodes,
/// JSON values): mimalloc does that faster than the system's malloc (BENCHMARKS.md
/// section 10).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    apigw_reconciler::cli::main(apigw_reconciler::cli::Cli::parse())
}
