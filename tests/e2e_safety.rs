//! Safety against the moto server: prune never empties a method because a replacement
//! is blocked or fails, and export never loses a spec to a file-name collision.

mod common;
mod faults;

use common::*;
use faults::{Fault, FaultPlan, Op, Proxy, Rule};

const PRUNE: &str = "region: us-east-1\nprune: true\n";

/// GET /things with method response 200 and a live default response 200 made by
/// another tool.
async fn live_default(client: &aws_sdk_apigateway::Client, name: &str) -> (Fixture, String) {
    let api = create_api(client, name).await;
    let res = create_resource(client, &api.api_id, &api.root_id, "things").await;
    create_method(client, &api.api_id, &res, "GET", &["200"]).await;
    put_live(client, &api.api_id, &res, "GET", "200", None).await;
    (api, res)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blocked_replacement_never_costs_the_response_it_replaces() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = live_default(&client, "Held").await;
    // The status code changes to 201, whose method response does not exist yet.
    let dir = desired_dir(&[("things.yaml", &spec("Held", "/things", "GET", "201", ""))]);

    let plan = run(&moto, dir.path(), PRUNE, &["plan"], 2);
    let text = stdout(&plan);
    assert!(
        text.contains("Plan: 0 to create, 0 to update, 0 to delete, 2 blocked."),
        "{text}"
    );
    assert!(
        text.contains("prune held: a write on this method is blocked"),
        "{text}"
    );
    let apply = run(&moto, dir.path(), PRUNE, &["apply"], 1);
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "200")
            .await
            .is_some(),
        "GET kept its working response:\n{}",
        show(&apply)
    );

    // Once the dependency exists, the replacement happens: old default out, new in.
    add_method_response(&client, &api.api_id, &res, "GET", "201").await;
    let apply = run(&moto, dir.path(), PRUNE, &["apply"], 0);
    assert!(
        stdout(&apply)
            .contains("Apply: 1 created, 0 updated, 1 deleted, 0 failed, 0 blocked, 0 held."),
        "{}",
        show(&apply)
    );
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "201")
            .await
            .is_some()
    );
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "200")
            .await
            .is_none()
    );
    run(&moto, dir.path(), PRUNE, &["plan"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_new_default_puts_the_old_one_back() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = live_default(&client, "Swap").await;
    add_method_response(&client, &api.api_id, &res, "GET", "201").await;
    let new_key = format!("{}/{res}/GET/201", api.api_id);
    let proxy = Proxy::start(
        &moto.endpoint,
        11,
        FaultPlan::none().rule(Rule::key(
            Op::PutIntegrationResponse,
            &new_key,
            Fault::BadRequest,
        )),
    );
    let dir = desired_dir(&[("things.yaml", &spec("Swap", "/things", "GET", "201", ""))]);

    let apply = run_cli(&proxy.url, dir.path(), PRUNE, &["apply"], &[]);
    assert_eq!(apply.status.code(), Some(1), "{}", show(&apply));
    let out = stdout(&apply);
    assert!(out.contains("failed to create"), "{}", show(&apply));
    assert!(out.contains("status 200 was put back"), "{}", show(&apply));
    let ir = get_ir(&client, &api.api_id, &res, "GET", "200")
        .await
        .expect("the old default is back");
    assert_eq!(
        ir.response_templates()
            .and_then(|t| t.get("application/json"))
            .map(String::as_str),
        Some("{\"live\": true}"),
        "restored with its settings"
    );
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "201")
            .await
            .is_none()
    );

    proxy.set_plan(FaultPlan::none());
    run_cli(&proxy.url, dir.path(), PRUNE, &["apply"], &[]);
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "201")
            .await
            .is_some()
    );
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "200")
            .await
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn export_never_writes_two_paths_into_one_file() {
    let moto = Moto::start();
    let client = moto.client().await;
    let api = create_api(&client, "Collide").await;
    // /a/b, /a_b and /a_b-2 gave a_b.yaml, a_b-2.yaml and a_b-2.yaml again; /Pets and
    // /pets collide on a case-insensitive file system.
    let a = create_resource(&client, &api.api_id, &api.root_id, "a").await;
    let ab = create_resource(&client, &api.api_id, &a, "b").await;
    let mut ids = vec![ab];
    for part in ["a_b", "a_b-2", "Pets", "pets"] {
        ids.push(create_resource(&client, &api.api_id, &api.root_id, part).await);
    }
    for id in &ids {
        create_method(&client, &api.api_id, id, "GET", &["200"]).await;
        put_live(&client, &api.api_id, id, "GET", "200", None).await;
    }

    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("adopted");
    let empty = desired_dir(&[]);
    let export = run(
        &moto,
        empty.path(),
        PRUNE,
        &[
            "export",
            "--rest-api",
            "Collide",
            "--out",
            dir.to_str().unwrap(),
        ],
        0,
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let lower: std::collections::BTreeSet<String> =
        names.iter().map(|n| n.to_lowercase()).collect();
    assert_eq!(lower.len(), 5, "{names:?}\n{}", show(&export));
    assert!(
        stderr_of(&export).contains("exported 5 integration response(s)"),
        "{}",
        show(&export)
    );
    let validate = run(&moto, &dir, PRUNE, &["validate"], 0);
    assert!(
        stdout(&validate).contains("5 integration response(s) in 5 file(s)"),
        "{}",
        show(&validate)
    );
    // With prune on, a lost spec would be a delete here.
    let plan = run(&moto, &dir, PRUNE, &["plan"], 0);
    assert!(
        stdout(&plan).contains("Plan: 0 to create, 0 to update, 0 to delete, 0 blocked."),
        "{}",
        show(&plan)
    );
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
