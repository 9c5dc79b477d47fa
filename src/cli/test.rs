//! `test`: run the selected response tests and print the runner's report (text, JUnit
//! XML or JSON) with what they left uncovered, or `--list` them.

use std::process::ExitCode;

use super::CommandResult;
use super::args::{GlobalArgs, TestOutput};
use super::common::{load_config, within_deadline};
use crate::escape::visible;
use crate::response_test::{Coverage, Selection};

/// Loads the desired set without running its tests as a validity check, then runs
/// the tests `selection` selects (none with `list`: those are printed instead);
/// `require_coverage` makes each integration response no test selected a failure.
pub(super) fn execute(
    global: &GlobalArgs,
    selection: &Selection,
    list: bool,
    output: TestOutput,
    require_coverage: bool,
) -> CommandResult {
    let config = load_config(global)?;
    let dir = config.desired_dir.clone();
    let limits = config.limits;
    let chosen = selection.clone();
    // Load and run under one deadline.
    let (loaded, run) = within_deadline(limits, move || {
        crate::evaluate::load_untested(&dir, limits).map(|loaded| {
            let run = (!list).then(|| {
                crate::response_test::run_selected_within(&loaded.set, &loaded.evaluation, &chosen)
            });
            (loaded, run)
        })
    })
    .map_err(|e| e.to_string())?;
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    let Some(run) = run else {
        // `--list`: a line per selected test, machine-friendly: nothing in a name or
        // a path can add a line or a tab.
        for t in loaded.set.tests.iter().filter(|t| selection.selects(t)) {
            println!("{}\t{}", visible(&t.name), visible(&t.location.to_string()));
        }
        return Ok(ExitCode::SUCCESS);
    };
    let coverage = Coverage::of(&loaded.set, &run).require(require_coverage);
    match output {
        TestOutput::Junit => print!("{}", crate::render::test_run::junit(&run, &coverage)),
        TestOutput::Json => println!("{}", crate::render::test_run::json(&run, &coverage)),
        TestOutput::Text if loaded.set.tests.is_empty() => {
            println!(
                "{}: no response tests (documents with `kind: ResponseTest`)",
                config.desired_dir.display()
            );
            print!("{}", coverage.render());
        }
        TestOutput::Text => print!("{}", run.render_with(&coverage)),
    }
    if run.results.is_empty() && run.filtered_out > 0 {
        eprintln!(
            "note: 0 tests selected: no test's name {} {}",
            if selection.exact { "is" } else { "contains" },
            selection
                .filters
                .iter()
                .map(|f| format!("`{}`", visible(f)))
                .collect::<Vec<_>>()
                .join(" or ")
        );
    }
    Ok(if run.failed() == 0 && coverage.failures() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
