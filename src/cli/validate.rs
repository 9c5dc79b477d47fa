//! `validate`: load and check the desired set offline, response tests included.

use std::process::ExitCode;

use super::{GlobalArgs, prepare};

pub(super) fn execute(global: &GlobalArgs) -> ExitCode {
    let prepared = match prepare(global) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
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
    ExitCode::SUCCESS
}
