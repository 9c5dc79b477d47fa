//! `test`: run every response test and print the runner's report.

use std::process::ExitCode;

use super::{GlobalArgs, fail, load_config};
use crate::desired;

/// Loads the desired set without running its tests as a validity check, then runs
/// every response test.
pub(super) fn execute(global: &GlobalArgs) -> ExitCode {
    let config = match load_config(global) {
        Ok(config) => config,
        Err(message) => return fail(message),
    };
    let loaded = match desired::load_untested(&config.desired_dir) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    if loaded.set.tests.is_empty() {
        println!(
            "{}: no response tests (documents with `kind: ResponseTest`)",
            config.desired_dir.display()
        );
        return ExitCode::SUCCESS;
    }
    let run = crate::response_test::run_all(&loaded.set);
    print!("{}", run.render());
    if run.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
