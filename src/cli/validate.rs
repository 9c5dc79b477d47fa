//! `validate`: load and check the desired set offline, response tests included.

use std::process::ExitCode;

use super::CommandResult;
use super::args::GlobalArgs;
use super::common::prepare;

pub(super) fn execute(global: &GlobalArgs) -> CommandResult {
    let prepared = prepare(global)?;
    let set = &prepared.loaded.set;
    let tests = match set.tests.len() {
        0 => String::new(),
        n => format!("; {n} response test(s) pass"),
    };
    println!(
        "{}: {} integration response(s) in {} file(s) are valid{tests}",
        prepared.config.desired_dir.display(),
        set.specs.len(),
        prepared.loaded.files
    );
    Ok(ExitCode::SUCCESS)
}
