//! `run`: the daemon, with the config's log level and format (-v raises the level).

use std::process::ExitCode;

use super::{GlobalArgs, block_on, fail, load_config, logging};

pub(super) fn execute(global: GlobalArgs, dry_run: bool) -> ExitCode {
    let config = match load_config(&global) {
        Ok(config) => config,
        Err(message) => return fail(message),
    };
    let level = match global.verbose {
        0 => config.log.level.as_str(),
        1 => "info",
        _ => "debug",
    };
    logging::daemon(level, config.log.format);
    block_on(crate::daemon::run(
        Box::new(move || load_config(&global)),
        dry_run,
    ))
}
