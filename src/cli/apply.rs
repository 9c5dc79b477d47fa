//! `apply`: one reconcile cycle (plan, writes, deletes, stage deployments); exit 1 when
//! anything failed or is blocked. With `targets`, every target at once, each target's
//! output under its heading.

use std::fmt::Write;
use std::process::ExitCode;

use super::CommandResult;
use super::args::GlobalArgs;
use super::common::{
    Client, connect, load_config, make_plan, plan_targets, prepare_target, report_calls, style,
    worst,
};
use crate::config::Config;
use crate::executor::RetryPolicy;
use crate::reconcile::{self, Planned};
use crate::render::{self, Style};

pub(super) async fn execute(global: &GlobalArgs) -> CommandResult {
    let config = load_config(global)?;
    if !config.targets.is_empty() {
        return Ok(every_target(global, &config).await);
    }
    let mut prepared = prepare_target(config)?;
    let config = &prepared.config;
    let client = connect(config).await?;
    let planned = make_plan(config, &prepared.loaded, &client, &mut prepared.timings).await?;
    let (text, converged) = apply_planned(config, &client, &planned, style(global)).await;
    print!("{text}");
    report_calls(&client);
    prepared.timings.report(global.verbose);
    Ok(if converged {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Applies one target's plan: its text plan, the report of what ran and the stage
/// deployments, and whether it converged.
async fn apply_planned(
    config: &Config,
    client: &Client,
    planned: &Planned,
    style: Style,
) -> (String, bool) {
    let mut out = render::render_text(&planned.plan, &planned.redeploy, style);
    let report = reconcile::apply(client, &planned.plan, &RetryPolicy::default()).await;
    if !report.results.is_empty() {
        out.push('\n');
        out.push_str(&render::render_report(&report, style));
    }
    let stages = reconcile::stages_after(config, planned, &report);
    let mut deployed_all = true;
    for (stage, result) in crate::redeploy::redeploy(client, &stages).await {
        match result {
            Ok(()) => {
                let _ = writeln!(out, "deployed {stage}");
            }
            Err(e) => {
                deployed_all = false;
                let _ = writeln!(out, "failed to deploy {stage}: {e}");
            }
        }
    }
    (out, report.converged() && deployed_all)
}

/// Every target applied at once; each one's output under `Target <heading>:`, in the
/// config's order; exit 1 when any target did not converge.
async fn every_target(global: &GlobalArgs, config: &Config) -> ExitCode {
    let style = style(global);
    let runs = plan_targets(config).await;
    let applied = futures_util::future::join_all(runs.iter().map(|run| async move {
        match (&run.planned, &run.client) {
            (Ok(planned), Some(client)) => apply_planned(&run.config, client, planned, style).await,
            (Err(e), _) => (render::targets::error_lines(e), false),
            (Ok(_), None) => ("error: no client\n".into(), false),
        }
    }))
    .await;
    for (i, (run, (text, _))) in runs.iter().zip(&applied).enumerate() {
        if i > 0 {
            println!();
        }
        println!("Target {}:", run.info.heading());
        print!("{text}");
    }
    for run in &runs {
        run.report_calls();
    }
    worst(applied.iter().map(|(_, converged)| u8::from(!converged)))
}
