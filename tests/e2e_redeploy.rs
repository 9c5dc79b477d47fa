//! Stage redeploys against the moto server: `plan` names the stages, `apply` deploys
//! each configured stage of a changed API once, and nothing when nothing changed.

mod common;
mod faults;

use common::*;

async fn deployments(client: &aws_sdk_apigateway::Client, api_id: &str) -> usize {
    client
        .get_deployments()
        .rest_api_id(api_id)
        .send()
        .await
        .unwrap()
        .items()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_redeploys_each_configured_stage_once() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, _) = seed_scaffold(&client).await;
    let other = create_api(&client, "Untouched").await;
    let desired = desired_dir(&[("api.yaml", &seed_spec("v1"))]);
    let config = "region: us-east-1\nrateLimit: {requestsPerSecond: 50, burst: 10}\ndeployments:\n  - {restApiName: MyDemoAPI, stage: prod}\n  - {restApiName: MyDemoAPI, stage: beta, description: canary}\n  - {restApiName: Untouched, stage: prod}\n";

    let plan = moto.cli(desired.path(), config, &["plan"]);
    assert_eq!(plan.status.code(), Some(2), "{}", show(&plan));
    let text = stdout(&plan);
    assert!(
        text.contains(&format!(
            "> redeploy stage beta of MyDemoAPI ({})",
            api.api_id
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "> redeploy stage prod of MyDemoAPI ({})",
            api.api_id
        )),
        "{text}"
    );
    assert!(!text.contains("Untouched"), "{text}");
    assert_eq!(
        deployments(&client, &api.api_id).await,
        0,
        "plan changes nothing"
    );

    let apply = moto.cli(desired.path(), config, &["apply"]);
    assert_eq!(apply.status.code(), Some(0), "{}", show(&apply));
    assert!(
        stdout(&apply).contains("deployed stage prod of MyDemoAPI"),
        "{}",
        show(&apply)
    );
    assert_eq!(deployments(&client, &api.api_id).await, 2);
    assert_eq!(deployments(&client, &other.api_id).await, 0);
    let stages = client
        .get_stages()
        .rest_api_id(&api.api_id)
        .send()
        .await
        .unwrap();
    let mut names: Vec<_> = stages
        .item()
        .iter()
        .filter_map(|s| s.stage_name())
        .collect();
    names.sort();
    assert_eq!(names, ["beta", "prod"]);

    let again = moto.cli(desired.path(), config, &["apply"]);
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert_eq!(
        deployments(&client, &api.api_id).await,
        2,
        "no change, no deployment"
    );
}

/// Crash safety without state: the write lands, its deployment does not (CreateDeployment
/// faulted, as if the process had died in between); a fresh run deploys the stage
/// exactly once, and the run after it not at all.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_deployment_is_made_by_the_next_fresh_run_exactly_once() {
    use faults::{Fault, FaultPlan, Op, Proxy, Rule};
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, _) = seed_scaffold(&client).await;
    let proxy = Proxy::start(
        &moto.endpoint,
        7,
        FaultPlan::none().rule(Rule::ops(&[Op::CreateDeployment], 1.0, &[Fault::Status503])),
    );
    let desired = desired_dir(&[("api.yaml", &seed_spec("v1"))]);
    let config = "region: us-east-1\nrateLimit: {requestsPerSecond: 50, burst: 10}\ndeployments:\n  - {restApiName: MyDemoAPI, stage: prod}\n";

    let apply = run_cli(&proxy.url, desired.path(), config, &["apply"], &[]);
    assert_eq!(
        apply.status.code(),
        Some(1),
        "the deployment failed:\n{}",
        show(&apply)
    );
    assert!(stdout(&apply).contains("created"), "{}", show(&apply));
    assert!(
        stdout(&apply).contains("failed to deploy stage prod of MyDemoAPI"),
        "{}",
        show(&apply)
    );
    assert_eq!(deployments(&client, &api.api_id).await, 0);

    // A fresh process: no writes are needed, the stage is still owed its deployment.
    proxy.set_plan(FaultPlan::none());
    let plan = run_cli(&proxy.url, desired.path(), config, &["plan"], &[]);
    assert_eq!(plan.status.code(), Some(2), "{}", show(&plan));
    assert!(
        stdout(&plan).contains("> redeploy stage prod of MyDemoAPI"),
        "{}",
        show(&plan)
    );
    assert!(
        stdout(&plan).contains("Plan: 0 to create, 0 to update, 0 to delete, 0 blocked."),
        "{}",
        show(&plan)
    );
    let apply = run_cli(&proxy.url, desired.path(), config, &["apply"], &[]);
    assert_eq!(apply.status.code(), Some(0), "{}", show(&apply));
    assert_eq!(deployments(&client, &api.api_id).await, 1, "deployed once");

    let again = run_cli(&proxy.url, desired.path(), config, &["apply"], &[]);
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert!(!stdout(&again).contains("deployed"), "{}", show(&again));
    assert_eq!(deployments(&client, &api.api_id).await, 1, "exactly once");
    let plan = run_cli(&proxy.url, desired.path(), config, &["plan"], &[]);
    assert_eq!(plan.status.code(), Some(0), "{}", show(&plan));
}
