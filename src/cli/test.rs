//! `test`: run every response test and print the runner's report.

use std::process::ExitCode;

use super::{GlobalArgs, fail, load_config, within_deadline};
use crate::desired;

/// Loads the desired set without running its tests as a validity check, then runs
/// every response test.
pub(super) fn execute(global: &GlobalArgs) -> ExitCode {
    let config = match load_config(global) {
        Ok(config) => config,
        Err(message) => return fail(message),
    };
    let dir = config.desired_dir.clone();
    let limits = config.limits;
    // Load and run under one deadline.
    let evaluated = within_deadline(limits, move || {
        desired::load_untested(&dir, limits).map(|loaded| {
            let run = crate::response_test::run_all_within(&loaded.set, &loaded.evaluation);
            (loaded, run)
        })
    });
    let (loaded, run) = match evaluated {
        Ok(both) => both,
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
    print!("{}", run.render());
    if run.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
