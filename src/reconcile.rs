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
use crate::live::limited::{Budgets, RateLimited, Scope};
use crate::live::sdk::{ConnectOptions, SdkApiGateway};
use crate::live::{self, ApiError, ApiGateway, ApiQuery, LiveSnapshot};
use crate::redeploy::{self, StageDeployment, StageStamps};

/// The client a cycle uses: the SDK behind the configured rate limit, timeouts,
/// region and endpoint.
pub async fn connect(config: &Config) -> Result<RateLimited<SdkApiGateway>, String> {
    let sdk = connect_sdk(config).await?;
    Ok(RateLimited::new(
        sdk,
        config.rate_limit.requests_per_second,
        config.rate_limit.burst,
    ))
}

async fn connect_sdk(config: &Config) -> Result<SdkApiGateway, String> {
    SdkApiGateway::connect(&ConnectOptions {
        region: config.region.clone(),
        endpoint_url: config.endpoint_url.clone(),
        connect_timeout: Some(config.timeouts.connect),
        attempt_timeout: Some(config.timeouts.attempt),
        assume_role: config
            .assume_role
            .as_ref()
            .map(|r| (r.role_arn.clone(), r.external_id.clone())),
        ..ConnectOptions::default()
    })
    .await
}

/// A target's client, and where it reaches: region and account.
pub struct Connected {
    pub client: RateLimited<SdkApiGateway>,
    pub region: String,
    /// The role's account, or the default credentials' (`None` when STS could not
    /// say).
    pub account: Option<String>,
}

/// How long [`connect_all`] waits for STS to name the default credentials' account.
const IDENTITY_WAIT: Duration = Duration::from_secs(10);

/// Clients for several targets: each target's own (its region, endpoint, role), those
/// in one account and region sharing one request budget (the quota is the account's
/// in a region). The default credentials' account is asked of STS once (a role's is
/// in its ARN), once per endpoint; when STS cannot say, targets on the default
/// credentials share a budget per region, and a warning says so. One result per
/// target, in order.
pub async fn connect_all(targets: &[Config]) -> (Vec<Result<Connected, String>>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut sdks = Vec::new();
    for config in targets {
        sdks.push(connect_sdk(config).await);
    }
    // One question per endpoint (an emulator's accounts are not AWS's), all at once.
    let mut asked: Vec<(Option<String>, &SdkApiGateway)> = Vec::new();
    for (config, sdk) in targets.iter().zip(&sdks) {
        if let Ok(sdk) = sdk
            && config.assume_role.is_none()
            && !asked.iter().any(|(e, _)| *e == config.endpoint_url)
        {
            asked.push((config.endpoint_url.clone(), sdk));
        }
    }
    let answers = futures_util::future::join_all(
        asked
            .iter()
            .map(|(_, sdk)| sdk.default_account(IDENTITY_WAIT)),
    )
    .await;
    let mut default_accounts = std::collections::BTreeMap::new();
    for ((endpoint, _), answer) in asked.iter().zip(answers) {
        match answer {
            Ok(account) => {
                default_accounts.insert(endpoint.clone(), account);
            }
            Err(e) => warnings.push(format!(
                "cannot tell the default credentials' account{} ({e}); targets there without \
                 `assumeRole` share one request budget per region",
                endpoint
                    .as_deref()
                    .map(|u| format!(" at {u}"))
                    .unwrap_or_default()
            )),
        }
    }
    let account_of = |config: &Config| match &config.assume_role {
        Some(role) => Some(role.account.clone()),
        None => default_accounts.get(&config.endpoint_url).cloned(),
    };
    let scope = |config: &Config, sdk: &SdkApiGateway| Scope {
        endpoint: config.endpoint_url.clone(),
        region: sdk.region(),
        account: account_of(config).unwrap_or_else(|| "default credentials".into()),
    };
    let budgets = Budgets::new(targets.iter().zip(&sdks).filter_map(|(c, sdk)| {
        let sdk = sdk.as_ref().ok()?;
        Some((
            scope(c, sdk),
            c.rate_limit.requests_per_second,
            c.rate_limit.burst,
        ))
    }));
    let connected = targets
        .iter()
        .zip(sdks)
        .map(|(config, sdk)| {
            let sdk = sdk?;
            let budget = budgets.get(
                &scope(config, &sdk),
                config.rate_limit.requests_per_second,
                config.rate_limit.burst,
            );
            Ok(Connected {
                region: sdk.region(),
                account: account_of(config),
                client: RateLimited::sharing(sdk, budget),
            })
        })
        .collect();
    (connected, warnings)
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
