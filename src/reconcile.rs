//! One reconcile cycle's steps, shared by `plan`, `apply` and (later) the daemon:
//! fetch the live state the desired set refers to, diff, execute.

use std::time::{Duration, Instant};

use crate::config::Config;
use crate::diff::{self, DiffError, DiffOptions, Plan};
use crate::executor::{self, ExecutionReport, RetryPolicy};
use crate::live::limited::RateLimited;
use crate::live::sdk::{ConnectOptions, SdkApiGateway};
use crate::live::{self, ApiError, ApiGateway, ApiQuery, LiveSnapshot};
use crate::redeploy::{self, StageDeployment};
use crate::spec::DesiredSet;

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

/// A plan, the stages it would redeploy, and how long its parts took.
#[derive(Debug)]
pub struct Planned {
    pub plan: Plan,
    pub live: LiveSnapshot,
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
    let fetch_time = started.elapsed();
    let started = Instant::now();
    let mut plan = diff::diff(desired, &live, options)?;
    plan.redeploy = redeploy::stages_for(&config.deployments, &plan.changed_apis(), &live);
    Ok(Planned {
        plan,
        live,
        fetch_time,
        diff_time: started.elapsed(),
    })
}

/// The stages to deploy after `report`: those of the APIs it actually changed.
pub fn stages_after(
    config: &Config,
    report: &ExecutionReport,
    live: &LiveSnapshot,
) -> Vec<StageDeployment> {
    let changed: std::collections::BTreeSet<&str> = report
        .results
        .iter()
        .filter(|r| r.outcome == executor::Outcome::Applied)
        .map(|r| r.action.key.rest_api_id.as_str())
        .collect();
    redeploy::stages_for(&config.deployments, &changed, live)
}

/// Execute a plan.
pub async fn apply<C: ApiGateway>(client: &C, plan: &Plan, retry: &RetryPolicy) -> ExecutionReport {
    executor::execute(client, plan, retry).await
}
