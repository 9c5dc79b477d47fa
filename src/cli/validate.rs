//! `validate`: load and check the desired set offline, response tests included; with
//! `targets`, every target's set (no credentials needed), exit 1 when any is invalid.

use std::process::ExitCode;

use super::CommandResult;
use super::args::GlobalArgs;
use super::common::{load_config, prepare_target, target_error, worst};
use crate::config::Config;

pub(super) fn execute(global: &GlobalArgs) -> CommandResult {
    let config = load_config(global)?;
    if config.targets.is_empty() {
        println!("{}", valid_line(config)?);
        return Ok(ExitCode::SUCCESS);
    }
    let codes = config.targets.iter().map(|target| {
        let name = target.target_name().unwrap_or_default().to_owned();
        match valid_line(target.clone()) {
            Ok(line) => {
                println!("target {name}: {line}");
                0
            }
            Err(e) => {
                eprintln!("error: target {name}: {}", target_error(e));
                1
            }
        }
    });
    Ok(worst(codes.collect::<Vec<_>>()))
}

/// `<dir>: N integration response(s) in N file(s) are valid; N response test(s) pass`.
fn valid_line(config: Config) -> Result<String, super::CliError> {
    let prepared = prepare_target(config)?;
    let set = &prepared.loaded.set;
    let tests = match set.tests.len() {
        0 => String::new(),
        n => format!("; {n} response test(s) pass"),
    };
    Ok(format!(
        "{}: {} integration response(s) in {} file(s) are valid{tests}",
        prepared.config.desired_dir.display(),
        set.specs.len(),
        prepared.loaded.files
    ))
}
