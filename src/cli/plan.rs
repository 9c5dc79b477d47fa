//! `plan`: what `apply` would change, as text, JSON or Markdown; exit 2 when anything
//! is pending.

use std::process::ExitCode;
use std::time::Instant;

use super::{GlobalArgs, OutputFormat, connect, make_plan, prepare, report_calls, style};
use crate::render;

pub(super) async fn execute(global: &GlobalArgs, output: OutputFormat) -> ExitCode {
    let mut prepared = match prepare(global) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let timings = &mut prepared.timings;
    let client = match connect(&prepared.config).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let (plan, redeploy) =
        match make_plan(&prepared.config, &prepared.loaded, &client, timings).await {
            Ok(planned) => (planned.plan, planned.redeploy),
            Err(code) => return code,
        };
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
    if plan.is_converged() && redeploy.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}
