//! `test`: run the selected response tests and print the runner's report (text, JUnit
//! XML or JSON) with what they left uncovered, or `--list` them.

use std::process::ExitCode;

use super::CliError;
use super::CommandResult;
use super::args::{GlobalArgs, TestOutput};
use super::common::{evaluate_within, load_config, print_warnings, target_error};
use crate::config::Config;
use crate::escape::visible;
use crate::response_test::{Coverage, Selection, TestRun};

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
    if !config.targets.is_empty() {
        return every_target(&config, selection, list, output, require_coverage);
    }
    let Some(ran) = run_target(&config, selection, list, require_coverage)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let Ran { run, coverage, .. } = &ran;
    match output {
        TestOutput::Junit => print!("{}", crate::render::test_run::junit(run, coverage)),
        TestOutput::Json => println!("{}", crate::render::test_run::json(run, coverage)),
        TestOutput::Text => print!("{}", ran.text(&config)),
    }
    note_nothing_selected(run, selection);
    Ok(if ran.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One target's run: its set, the tests' results and what they left uncovered.
struct Ran {
    tests: usize,
    run: TestRun,
    coverage: Coverage,
}

impl Ran {
    fn passed(&self) -> bool {
        self.run.failed() == 0 && self.coverage.failures() == 0
    }

    /// The text report.
    fn text(&self, config: &Config) -> String {
        if self.tests == 0 {
            format!(
                "{}: no response tests (documents with `kind: ResponseTest`)\n{}",
                config.desired_dir.display(),
                self.coverage.render()
            )
        } else {
            self.run.render_with(&self.coverage)
        }
    }
}

/// Loads one target's desired set without running its tests as a validity check,
/// then runs those `selection` selects; with `list` prints them instead (`None`).
fn run_target(
    config: &Config,
    selection: &Selection,
    list: bool,
    require_coverage: bool,
) -> Result<Option<Ran>, CliError> {
    let dir = config.desired_dir.clone();
    let limits = config.limits;
    let chosen = selection.clone();
    // Load and run under one deadline.
    let (loaded, run) = evaluate_within(config, move || {
        crate::evaluate::load_untested(&dir, limits).map(|loaded| {
            let run = (!list).then(|| {
                crate::response_test::run_selected_within(&loaded.set, &loaded.evaluation, &chosen)
            });
            (loaded, run)
        })
    })?
    .map_err(|e| e.to_string())?;
    print_warnings(config, &loaded.warnings);
    let Some(run) = run else {
        // `--list`: a line per selected test, machine-friendly: nothing in a name or
        // a path can add a line or a tab.
        for t in loaded.set.tests.iter().filter(|t| selection.selects(t)) {
            println!("{}\t{}", visible(&t.name), visible(&t.location.to_string()));
        }
        return Ok(None);
    };
    let coverage = Coverage::of(&loaded.set, &run).require(require_coverage);
    Ok(Some(Ran {
        tests: loaded.set.tests.len(),
        run,
        coverage,
    }))
}

fn note_nothing_selected(run: &TestRun, selection: &Selection) {
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
}

/// Every target's tests (no credentials needed): text under a `Target <name>:` heading
/// each, JUnit a suite per target, JSON a list of targets; exit 1 when any target
/// fails or cannot load.
fn every_target(
    config: &Config,
    selection: &Selection,
    list: bool,
    output: TestOutput,
    require_coverage: bool,
) -> CommandResult {
    let mut ran = Vec::new();
    let mut failed = false;
    for target in &config.targets {
        let name = target.target_name().unwrap_or_default().to_owned();
        match run_target(target, selection, list, require_coverage) {
            Ok(Some(r)) => {
                failed |= !r.passed();
                ran.push((name, target, r));
            }
            Ok(None) => {}
            Err(e) => {
                failed = true;
                eprintln!("error: target {name}: {}", target_error(e));
            }
        }
    }
    if list {
        return Ok(if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    let runs: Vec<(&str, &TestRun, &Coverage)> = ran
        .iter()
        .map(|(name, _, r)| (name.as_str(), &r.run, &r.coverage))
        .collect();
    match output {
        TestOutput::Junit => print!("{}", crate::render::test_run::junit_targets(&runs)),
        TestOutput::Json => println!("{}", crate::render::test_run::json_targets(&runs)),
        TestOutput::Text => {
            for (i, (name, target, r)) in ran.iter().enumerate() {
                if i > 0 {
                    println!();
                }
                println!("Target {name}:");
                print!("{}", r.text(target));
            }
        }
    }
    if let Some((_, _, first)) = ran.first()
        && ran.iter().all(|(_, _, r)| r.run.results.is_empty())
    {
        note_nothing_selected(&first.run, selection);
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
