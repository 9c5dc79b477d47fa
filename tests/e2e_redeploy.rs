//! Stage redeploys against the moto server: `plan` names the stages, `apply` deploys
//! each configured stage of a changed API once, and nothing when nothing changed.

mod common;

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
