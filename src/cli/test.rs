//! `test`: run every response test and print the runner's report.

use std::process::ExitCode;

use super::CommandResult;
use super::args::GlobalArgs;
use super::common::{load_config, within_deadline};

/// Loads the desired set without running its tests as a validity check, then runs
/// every response test.
pub(super) fn execute(global: &GlobalArgs) -> CommandResult {
    let config = load_config(global)?;
    let dir = config.desired_dir.clone();
    let limits = config.limits;
    // Load and run under one deadline.
    let (loaded, run) = within_deadline(limits, move || {
        crate::evaluate::load_untested(&dir, limits).map(|loaded| {
            let run = crate::response_test::run_all_within(&loaded.set, &loaded.evaluation);
            (loaded, run)
        })
    })
    .map_err(|e| e.to_string())?;
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    if loaded.set.tests.is_empty() {
        println!(
            "{}: no response tests (documents with `kind: ResponseTest`)",
            config.desired_dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", run.render());
    Ok(if run.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
