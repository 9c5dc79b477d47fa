//! The cost of a plan in API calls: one GetRestApis and one GetResources page per API
//! the specs name, whatever the number of resources and integration responses.

mod common;

use common::*;

fn calls_line(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .find(|l| l.starts_with("API calls:"))
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_calls_do_not_grow_with_resources_or_responses() {
    let moto = Moto::start();
    let client = moto.client().await;
    let small = create_api(&client, "Small").await;
    let res = create_resource(&client, &small.api_id, &small.root_id, "one").await;
    create_method(&client, &small.api_id, &res, "GET", &["200"]).await;

    let big = create_api(&client, "Big").await;
    let mut specs = String::new();
    // The root plus 499 resources: 500 in all, the page size.
    for i in 0..499 {
        let id = create_resource(&client, &big.api_id, &big.root_id, &format!("r{i}")).await;
        if i % 10 == 0 {
            create_method(&client, &big.api_id, &id, "GET", &["200"]).await;
            specs.push_str(&format!(
                "---\nkind: IntegrationResponse\nrestApiName: Big\nresourcePath: /r{i}\nhttpMethod: GET\nstatusCode: 200\n"
            ));
        }
    }
    // An API no spec names is never read.
    create_api(&client, "Unrelated").await;

    let one = desired_dir(&[(
        "small.yaml",
        "kind: IntegrationResponse\nrestApiName: Small\nresourcePath: /one\nhttpMethod: GET\nstatusCode: 200\n",
    )]);
    let out = moto.cli(one.path(), "region: us-east-1\n", &["plan"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert_eq!(calls_line(&out), "API calls: GetResources 1, GetRestApis 1");

    let many = desired_dir(&[("big.yaml", &specs)]);
    let out = moto.cli(many.path(), "region: us-east-1\n", &["apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(stdout(&out).contains("Apply: 50 created"), "{}", show(&out));
    assert_eq!(
        calls_line(&out),
        "API calls: GetResources 1, GetRestApis 1, PutIntegrationResponse 50"
    );
    let out = moto.cli(many.path(), "region: us-east-1\n", &["plan"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(calls_line(&out), "API calls: GetResources 1, GetRestApis 1");
}

#[tokio::test(flavor = "multi_thread")]
async fn specs_naming_apis_by_id_skip_the_api_listing() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = seed_scaffold(&client).await;
    let by_id = format!(
        "kind: IntegrationResponse\nrestApi: {}\nresourceId: {res}\nhttpMethod: GET\nstatusCode: 200\n---\n\
         kind: IntegrationResponse\nrestApi: doesnotexist\nresourcePath: /x\nhttpMethod: GET\nstatusCode: 200\n",
        api.api_id
    );
    let dir = desired_dir(&[("ids.yaml", &by_id)]);
    let out = moto.cli(dir.path(), "region: us-east-1\n", &["apply"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stdout(&out).contains("no REST API with restApi doesnotexist"),
        "{}",
        show(&out)
    );
    assert!(stdout(&out).contains("Apply: 1 created"), "{}", show(&out));
    assert_eq!(
        calls_line(&out),
        "API calls: GetResources 2, PutIntegrationResponse 1"
    );
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "200")
            .await
            .is_some()
    );
}
