//! `plan`: what `apply` would change, as text, JSON or Markdown; exit 2 when anything
//! is pending. With `targets`, every target's plan, grouped by target.

use std::process::ExitCode;
use std::time::Instant;

use super::CommandResult;
use super::args::{GlobalArgs, OutputFormat};
use super::common::{
    connect, load_config, make_plan, plan_targets, prepare_target, report_calls, style, worst,
};
use crate::config::Config;
use crate::render;
use crate::render::targets::TargetPlan;

pub(super) async fn execute(global: &GlobalArgs, output: OutputFormat) -> CommandResult {
    let config = load_config(global)?;
    if !config.targets.is_empty() {
        return Ok(every_target(global, &config, output).await);
    }
    let mut prepared = prepare_target(config)?;
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

/// Every target's plan in one output; the exit code is the worst target's (a target
/// that could not be planned: 1).
async fn every_target(global: &GlobalArgs, config: &Config, output: OutputFormat) -> ExitCode {
    let runs = plan_targets(config).await;
    let plans: Vec<TargetPlan<'_>> = runs
        .iter()
        .map(|r| TargetPlan {
            target: r.info.clone(),
            plan: r
                .planned
                .as_ref()
                .map(|p| (&p.plan, p.redeploy.as_slice()))
                .map_err(Clone::clone),
        })
        .collect();
    let text = match output {
        OutputFormat::Text => render::targets::text(&plans, style(global)),
        OutputFormat::Json => render::targets::json(&plans) + "\n",
        OutputFormat::Markdown => render::targets::markdown(&plans),
    };
    print!("{text}");
    for run in &runs {
        run.report_calls();
    }
    worst(runs.iter().map(|r| match &r.planned {
        Err(_) => 1,
        Ok(p) if p.plan.is_converged() && p.redeploy.is_empty() => 0,
        Ok(_) => 2,
    }))
}
