//! One reconcile cycle's steps, shared by `plan`, `apply` and the daemon
//! ([`crate::daemon`]): connect, fetch the live state the desired set refers to and
//! diff ([`plan`]), execute ([`apply`]; the daemon runs the executor itself, one
//! action at a time, so it can stop between them), and the stages to redeploy after
//! ([`stages_after`]).

use std::time::{Duration, Instant};

use crate::config::Config;
use crate::desired::DesiredSet;
use crate::diff::{self, DiffError, DiffOptions, Plan};
use crate::executor::{self, ExecutionReport, RetryPolicy};
use crate::live::limited::RateLimited;
use crate::live::sdk::{ConnectOptions, SdkApiGateway};
use crate::live::{self, ApiError, ApiGateway, ApiQuery, LiveSnapshot};
use crate::redeploy::{self, StageDeployment, StageStamps};

/// The client a cycle uses: the SDK behind the configured rate limit, timeouts,
/// region and endpoint.
pub async fn connect(config: &Config) -> Result<RateLimited<SdkApiGateway>, String> {
    let sdk = SdkApiGateway::connect(&ConnectOptions {
        region: config.region.clone(),
        endpoint_url: config.endpoint_url.clone(),
        connect_timeout: Some(config.timeouts.connect),
        attempt_timeout: Some(config.timeouts.attempt),
        ..ConnectOptions::default()
    })
    .await?;
    Ok(RateLimited::new(
        sdk,
        config.rate_limit.requests_per_second,
        config.rate_limit.burst,
    ))
}

/// The diff settings the config asks for.
pub fn diff_options(config: &Config) -> DiffOptions {
    DiffOptions {
        prune: config.prune,
        max_deletes: config.max_deletes_per_cycle,
        allowed_apis: config.rest_apis.clone(),
        need_names: !config.deployments.is_empty(),
    }
}

/// Why a cycle could not produce a plan.
#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    #[error("reading live state: {0}")]
    Fetch(#[from] ApiError),
    #[error(transparent)]
    Diff(#[from] DiffError),
}

/// A plan, the stages it would redeploy, what was read, and how long its parts took.
#[derive(Debug)]
pub struct Planned {
    pub plan: Plan,
    /// Configured stages whose deployment would not match the state after the plan's
    /// writes (the cycle pairs them with the plan; the diff knows nothing of stages).
    pub redeploy: Vec<StageDeployment>,
    pub live: LiveSnapshot,
    /// What the configured stages serve now (read only when `deployments` is set).
    pub stamps: StageStamps,
    pub fetch_time: Duration,
    pub diff_time: Duration,
}

/// Fetch what `desired` refers to and diff it, as `config` asks.
pub async fn plan<C: ApiGateway>(
    client: &C,
    desired: &DesiredSet,
    config: &Config,
) -> Result<Planned, CycleError> {
    let options = &diff_options(config);
    let started = Instant::now();
    let query = match diff::ids_without_listing(desired, options) {
        Some(ids) => ApiQuery::Ids(ids),
        None => ApiQuery::Listed(|apis: &[live::RestApiSummary]| {
            diff::apis_to_fetch(desired, apis, options)
        }),
    };
    let live = live::fetch(client, query).await?;
    let stamps = redeploy::read_stamps(client, &config.deployments, &live).await?;
    let fetch_time = started.elapsed();
    let started = Instant::now();
    let plan = diff::diff(desired, &live, options)?;
    let redeploy = redeploy::due(
        &config.deployments,
        &live,
        &stamps,
        &plan.managed,
        &plan.writes(),
    );
    Ok(Planned {
        plan,
        redeploy,
        live,
        stamps,
        fetch_time,
        diff_time: started.elapsed(),
    })
}

/// The stages to deploy after `report`: those whose deployment does not match what
/// is live once the writes that succeeded are counted.
pub fn stages_after(
    config: &Config,
    planned: &Planned,
    report: &ExecutionReport,
) -> Vec<StageDeployment> {
    let applied: Vec<&diff::Action> = report
        .results
        .iter()
        .filter(|r| r.outcome == executor::Outcome::Applied)
        .map(|r| &r.action)
        .collect();
    redeploy::due(
        &config.deployments,
        &planned.live,
        &planned.stamps,
        &planned.plan.managed,
        &applied,
    )
}

/// Execute a plan.
pub async fn apply<C: ApiGateway>(client: &C, plan: &Plan, retry: &RetryPolicy) -> ExecutionReport {
    executor::execute(client, plan, retry).await
}
