//! `run`: the daemon, with the config's log level and format (-v raises the level).

use super::args::GlobalArgs;
use super::common::load_config;
use super::{CommandResult, block_on, logging};

pub(super) fn execute(global: GlobalArgs, dry_run: bool) -> CommandResult {
    let config = load_config(&global)?;
    let level = match global.verbose {
        0 => config.log.level.as_str(),
        1 => "info",
        _ => "debug",
    };
    logging::daemon(level, config.log.format);
    block_on(async move {
        Ok(crate::daemon::run(std::sync::Arc::new(move || load_config(&global)), dry_run).await)
    })
}
