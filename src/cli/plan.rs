//! `plan`: what `apply` would change, as text, JSON or Markdown; exit 2 when anything
//! is pending.

use std::process::ExitCode;
use std::time::Instant;

use super::CommandResult;
use super::args::{GlobalArgs, OutputFormat};
use super::common::{connect, make_plan, prepare, report_calls, style};
use crate::render;

pub(super) async fn execute(global: &GlobalArgs, output: OutputFormat) -> CommandResult {
    let mut prepared = prepare(global)?;
    let timings = &mut prepared.timings;
    let client = connect(&prepared.config).await?;
    let planned = make_plan(&prepared.config, &prepared.loaded, &client, timings).await?;
    let (plan, redeploy) = (planned.plan, planned.redeploy);
    let started = Instant::now();
    let text = match output {
        OutputFormat::Text => render::render_text(&plan, &redeploy, style(global)),
        OutputFormat::Json => render::render_json(&plan) + "\n",
        OutputFormat::Markdown => render::render_markdown(&plan, &redeploy),
    };
    timings.render = started.elapsed();
    print!("{text}");
    report_calls(&client);
    timings.report(global.verbose);
    // A stage that would be redeployed is a pending change too.
    Ok(if plan.is_converged() && redeploy.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
