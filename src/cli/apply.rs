//! `apply`: one reconcile cycle (plan, writes, deletes, stage deployments); exit 1 when
//! anything failed or is blocked.

use std::process::ExitCode;

use super::CommandResult;
use super::args::GlobalArgs;
use super::common::{connect, make_plan, prepare, report_calls, style};
use crate::executor::RetryPolicy;
use crate::reconcile;
use crate::render;

pub(super) async fn execute(global: &GlobalArgs) -> CommandResult {
    let mut prepared = prepare(global)?;
    let config = &prepared.config;
    let style = style(global);
    let client = connect(config).await?;
    let planned = make_plan(config, &prepared.loaded, &client, &mut prepared.timings).await?;
    print!(
        "{}",
        render::render_text(&planned.plan, &planned.redeploy, style)
    );
    let report = reconcile::apply(&client, &planned.plan, &RetryPolicy::default()).await;
    if !report.results.is_empty() {
        println!();
        print!("{}", render::render_report(&report, style));
    }
    let stages = reconcile::stages_after(config, &planned, &report);
    let mut deployed_all = true;
    for (stage, result) in crate::redeploy::redeploy(&client, &stages).await {
        match result {
            Ok(()) => println!("deployed {stage}"),
            Err(e) => {
                deployed_all = false;
                println!("failed to deploy {stage}: {e}");
            }
        }
    }
    report_calls(&client);
    prepared.timings.report(global.verbose);
    Ok(if report.converged() && deployed_all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
