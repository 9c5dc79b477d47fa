//! Failure paths end to end against a real moto server: missing dependencies are
//! *blocked* (reported with a reason, the rest still applied), an invalid desired set
//! is never applied, ambiguous API names stop the plan, and `validate` is offline.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

use aws_sdk_apigateway::Client;
use common::*;

fn config(prune: bool) -> String {
    format!("region: us-east-1\nprune: {prune}\n")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn assert_contains(haystack: &str, needle: &str, out: &Output) {
    assert!(
        haystack.contains(needle),
        "expected {needle:?}:\n{}",
        show(out)
    );
}

fn plan_json(out: &Output) -> serde_json::Value {
    serde_json::from_str(stdout(out).trim())
        .unwrap_or_else(|e| panic!("plan JSON: {e}\n{}", show(out)))
}

/// The JSON plan's actions as (action, statusCode) -> reason.
fn actions_by_status(doc: &serde_json::Value) -> BTreeMap<(String, String), String> {
    doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                (
                    a["action"].as_str().unwrap().to_owned(),
                    a["statusCode"].as_str().unwrap().to_owned(),
                ),
                a["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Every live integration response of an API as "path METHOD status".
async fn live_inventory(client: &Client, api: &str) -> BTreeSet<String> {
    let out = client
        .get_resources()
        .rest_api_id(api)
        .embed("methods")
        .limit(500)
        .send()
        .await
        .unwrap();
    let mut all = BTreeSet::new();
    for r in out.items() {
        for (method, m) in r.resource_methods().into_iter().flatten() {
            let irs = m
                .method_integration()
                .and_then(|i| i.integration_responses());
            for code in irs.into_iter().flatten().map(|(code, _)| code) {
                all.insert(format!("{} {method} {code}", r.path().unwrap_or_default()));
            }
        }
    }
    all
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const TEMPLATE: &str = "responseTemplates:\n  application/json: '{\"ok\": true}'\n";
const ERROR_PATTERN: &str = "selectionPattern: \"5\\\\d{2}\"\n";

#[tokio::test(flavor = "multi_thread")]
async fn missing_method_response_blocks_only_that_spec_and_the_other_is_applied() {
    let moto = Moto::start();
    let client = moto.client().await;
    let api = create_api(&client, "NoMethodResponse").await;
    let res = create_resource(&client, &api.api_id, &api.root_id, "things").await;
    // Only 200 has a method response.
    create_method(&client, &api.api_id, &res, "GET", &["200"]).await;
    let dir = desired_dir(&[
        (
            "ok.yaml",
            &spec("NoMethodResponse", "/things", "GET", "200", TEMPLATE),
        ),
        (
            "error.yaml",
            &spec("NoMethodResponse", "/things", "GET", "500", ERROR_PATTERN),
        ),
    ]);
    let cfg = config(false);

    let json = run(&moto, dir.path(), &cfg, &["plan", "--output", "json"], 2);
    let doc = plan_json(&json);
    assert_eq!(
        doc["summary"],
        serde_json::json!({"create": 1, "update": 0, "delete": 0, "blocked": 1}),
        "{doc}"
    );
    let actions = actions_by_status(&doc);
    assert!(
        actions.contains_key(&("create".into(), "200".into())),
        "{doc}"
    );
    let reason = &actions[&("blocked".into(), "500".into())];
    assert!(reason.contains("method response"), "reason: {reason}");
    assert!(reason.contains("500"), "reason: {reason}");
    let blocked = doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "blocked")
        .unwrap();
    assert_eq!(blocked["restApiId"], api.api_id.as_str());
    assert_eq!(blocked["resourceId"], res.as_str());
    assert_eq!(blocked["httpMethod"], "GET");

    let text = run(&moto, dir.path(), &cfg, &["plan"], 2);
    assert_contains(
        &stdout(&text),
        "Plan: 1 to create, 0 to update, 0 to delete, 1 blocked.",
        &text,
    );
    assert_contains(&stdout(&text), "error.yaml", &text);

    let apply = run(&moto, dir.path(), &cfg, &["apply"], 1);
    assert_contains(
        &stdout(&apply),
        "Apply: 1 created, 0 updated, 0 deleted, 0 failed, 1 blocked, 0 held.",
        &apply,
    );
    assert_contains(
        &stdout(&apply),
        "has no method response with status 500",
        &apply,
    );
    let live = get_ir(&client, &api.api_id, &res, "GET", "200")
        .await
        .expect("the unblocked spec is applied");
    assert_eq!(
        live.response_templates().unwrap()["application/json"],
        "{\"ok\": true}"
    );
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "500")
            .await
            .is_none()
    );

    // Still blocked on the next cycle, and the applied one stays converged.
    let json = run(&moto, dir.path(), &cfg, &["plan", "--output", "json"], 2);
    assert_eq!(
        plan_json(&json)["summary"],
        serde_json::json!({"create": 0, "update": 0, "delete": 0, "blocked": 1})
    );

    // Once the method response exists, the next cycle applies it.
    add_method_response(&client, &api.api_id, &res, "GET", "500").await;
    let apply = run(&moto, dir.path(), &cfg, &["apply"], 0);
    assert_contains(
        &stdout(&apply),
        "Apply: 1 created, 0 updated, 0 deleted, 0 failed, 0 blocked, 0 held.",
        &apply,
    );
    let live = get_ir(&client, &api.api_id, &res, "GET", "500")
        .await
        .expect("unblocked now");
    assert_eq!(live.selection_pattern(), Some(r"5\d{2}"));
    run(&moto, dir.path(), &cfg, &["plan"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_method_integration_resource_or_api_are_blocked_with_reasons() {
    let moto = Moto::start();
    let client = moto.client().await;
    let api = create_api(&client, "Deps").await;
    let res = create_resource(&client, &api.api_id, &api.root_id, "things").await;
    create_method(&client, &api.api_id, &res, "GET", &["200"]).await;
    // A method without integration on another resource.
    let bare = create_resource(&client, &api.api_id, &api.root_id, "bare").await;
    client
        .put_method()
        .rest_api_id(&api.api_id)
        .resource_id(&bare)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    // Something live that no spec names: must stay as it is.
    let other = create_resource(&client, &api.api_id, &api.root_id, "other").await;
    create_method(&client, &api.api_id, &other, "GET", &["200"]).await;
    put_live(&client, &api.api_id, &other, "GET", "200", None).await;

    let dir = desired_dir(&[
        (
            "a-ok.yaml",
            &spec("Deps", "/things", "GET", "200", TEMPLATE),
        ),
        (
            "b-broken.yaml",
            &[
                spec("Deps", "/things", "POST", "200", TEMPLATE),
                spec("Deps", "/nope", "GET", "200", TEMPLATE),
                spec("NoSuchApi", "/things", "GET", "200", TEMPLATE),
                spec("Deps", "/bare", "GET", "200", TEMPLATE),
            ]
            .join("---\n"),
        ),
    ]);
    let cfg = config(true);

    let json = run(&moto, dir.path(), &cfg, &["plan", "--output", "json"], 2);
    let doc = plan_json(&json);
    assert_eq!(
        doc["summary"],
        serde_json::json!({"create": 1, "update": 0, "delete": 0, "blocked": 4}),
        "{doc}"
    );
    let reasons: Vec<String> = doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "blocked")
        .map(|a| {
            a["reason"]
                .as_str()
                .expect("blocked actions have a reason")
                .to_owned()
        })
        .collect();
    let has = |needle: &str| {
        assert!(
            reasons.iter().any(|r| r.contains(needle)),
            "no blocked reason mentions {needle:?}: {reasons:#?}"
        )
    };
    has("has no POST method");
    has("has no resource /nope");
    has("no REST API with restApiName NoSuchApi");
    has("has no integration");

    let apply = run(&moto, dir.path(), &cfg, &["apply"], 1);
    assert_contains(
        &stdout(&apply),
        "Apply: 1 created, 0 updated, 0 deleted, 0 failed, 4 blocked, 0 held.",
        &apply,
    );
    assert!(
        !stdout(&apply).contains("failed to"),
        "blocked actions are not attempted:\n{}",
        show(&apply)
    );
    assert_eq!(
        live_inventory(&client, &api.api_id).await,
        set(&["/other GET 200", "/things GET 200"])
    );
    assert!(
        get_ir(&client, &api.api_id, &other, "GET", "200")
            .await
            .is_some()
    );

    // The next cycle: the applied one is converged, the rest still blocked.
    let json = run(&moto, dir.path(), &cfg, &["plan", "--output", "json"], 2);
    assert_eq!(
        plan_json(&json)["summary"],
        serde_json::json!({"create": 0, "update": 0, "delete": 0, "blocked": 4})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_spec_file_stops_everything_and_points_at_the_bad_value() {
    let moto = Moto::start();
    let client = moto.client().await;
    let api = create_api(&client, "Invalid").await;
    let res = create_resource(&client, &api.api_id, &api.root_id, "things").await;
    create_method(&client, &api.api_id, &res, "GET", &["200", "404", "500"]).await;
    // Live, on a managed method, desired by no spec: prune would delete it.
    put_live(&client, &api.api_id, &res, "GET", "500", Some(r"5\d{2}")).await;

    let valid = spec("Invalid", "/things", "GET", "200", TEMPLATE);
    // The bad document is the second one of its file: 6 lines, `---`, then its
    // statusCode on its 5th line: line 12, column 13 (the opening quote).
    let mixed = format!(
        "{}---\n{}",
        spec(
            "Invalid",
            "/things",
            "GET",
            "404",
            "selectionPattern: \".*NotFound.*\"\n"
        ),
        spec("Invalid", "/things", "GET", "2OO", "")
    );
    let dir = desired_dir(&[("a-valid.yaml", &valid), ("b-mixed.yaml", &mixed)]);
    let location = format!("{}:12:13", dir.path().join("b-mixed.yaml").display());
    let cfg = config(true);
    let before = live_inventory(&client, &api.api_id).await;
    assert_eq!(before, set(&["/things GET 500"]));

    for args in [
        &["validate"][..],
        &["plan"],
        &["plan", "--output", "json"],
        &["apply"],
    ] {
        let out = run(&moto, dir.path(), &cfg, args, 1);
        let err = stderr(&out);
        assert_contains(&err, &location, &out);
        assert_contains(&err, "statusCode", &out);
        assert_contains(&err, "2OO", &out);
        assert!(!stdout(&out).contains("Apply:"), "{}", show(&out));
        assert_eq!(
            live_inventory(&client, &api.api_id).await,
            before,
            "`{}` changed the live state",
            args.join(" ")
        );
    }
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "200")
            .await
            .is_none()
    );
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "500")
            .await
            .is_some()
    );

    // Fixed, the same directory applies (and prune removes the 500).
    std::fs::write(
        dir.path().join("b-mixed.yaml"),
        spec(
            "Invalid",
            "/things",
            "GET",
            "404",
            "selectionPattern: \".*NotFound.*\"\n",
        ),
    )
    .unwrap();
    run(&moto, dir.path(), &cfg, &["validate"], 0);
    run(&moto, dir.path(), &cfg, &["apply"], 0);
    assert_eq!(
        live_inventory(&client, &api.api_id).await,
        set(&["/things GET 200", "/things GET 404"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_apis_with_the_same_name_stop_the_plan_and_nothing_is_written() {
    let moto = Moto::start();
    let client = moto.client().await;
    let mut twins = Vec::new();
    for _ in 0..2 {
        let api = create_api(&client, "Twin").await;
        let res = create_resource(&client, &api.api_id, &api.root_id, "things").await;
        create_method(&client, &api.api_id, &res, "GET", &["200"]).await;
        twins.push((api, res));
    }
    let single = create_api(&client, "Single").await;
    let single_res = create_resource(&client, &single.api_id, &single.root_id, "things").await;
    create_method(&client, &single.api_id, &single_res, "GET", &["200"]).await;

    let dir = desired_dir(&[
        (
            "single.yaml",
            &spec("Single", "/things", "GET", "200", TEMPLATE),
        ),
        (
            "twin.yaml",
            &spec("Twin", "/things", "GET", "200", TEMPLATE),
        ),
    ]);
    let cfg = config(false);
    for args in [&["plan"][..], &["plan", "--output", "json"], &["apply"]] {
        let out = run(&moto, dir.path(), &cfg, args, 1);
        let err = stderr(&out);
        assert_contains(&err, "2 REST APIs are named `Twin`", &out);
        assert_contains(&err, "restApi: <id>", &out);
        assert_contains(&err, &twins[0].0.api_id, &out);
        assert_contains(&err, &twins[1].0.api_id, &out);
        assert_contains(&err, "twin.yaml:", &out);
    }
    for (api, res) in &twins {
        assert!(
            get_ir(&client, &api.api_id, res, "GET", "200")
                .await
                .is_none()
        );
    }
    assert!(
        get_ir(&client, &single.api_id, &single_res, "GET", "200")
            .await
            .is_none(),
        "no spec may be applied while the plan cannot be made"
    );

    // Naming one twin by id works.
    let (chosen, chosen_res) = &twins[1];
    std::fs::write(
        dir.path().join("twin.yaml"),
        format!(
            "kind: IntegrationResponse\nrestApi: {}\nresourcePath: /things\nhttpMethod: GET\nstatusCode: \"200\"\n{TEMPLATE}",
            chosen.api_id
        ),
    )
    .unwrap();
    run(&moto, dir.path(), &cfg, &["apply"], 0);
    assert!(
        get_ir(&client, &chosen.api_id, chosen_res, "GET", "200")
            .await
            .is_some()
    );
    assert!(
        get_ir(&client, &twins[0].0.api_id, &twins[0].1, "GET", "200")
            .await
            .is_none()
    );
    assert!(
        get_ir(&client, &single.api_id, &single_res, "GET", "200")
            .await
            .is_some()
    );
}

/// Run the binary against a closed port (nothing listens on the discard port).
fn run_offline(dir: &Path, args: &[&str]) -> Output {
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("reconciler.yaml");
    std::fs::write(&config, "region: us-east-1\n").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_apigw-reconciler"));
    cmd.arg("--config")
        .arg(&config)
        .arg("--desired")
        .arg(dir)
        .args(["--endpoint-url", "http://127.0.0.1:9", "--color", "never"])
        .args(args);
    with_test_credentials(&mut cmd);
    cmd.output().expect("run apigw-reconciler")
}

#[test]
fn validate_needs_no_network() {
    let dir = desired_dir(&[
        (
            "a.yaml",
            &spec("Anything", "/things", "GET", "200", TEMPLATE),
        ),
        (
            "nested/b.yml",
            &spec("Anything", "/things", "GET", "500", ERROR_PATTERN),
        ),
    ]);
    let out = run_offline(dir.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_contains(
        &stdout(&out),
        "2 integration response(s) in 2 file(s) are valid",
        &out,
    );

    // An invalid directory is still judged offline.
    std::fs::write(
        dir.path().join("c.yaml"),
        spec("Anything", "/things", "GET", "2OO", ""),
    )
    .unwrap();
    let out = run_offline(dir.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_contains(&stderr(&out), "c.yaml:5:13", &out);

    // The endpoint really is unreachable: plan, which needs it, fails.
    std::fs::remove_file(dir.path().join("c.yaml")).unwrap();
    let out = run_offline(dir.path(), &["plan"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
}

/// Without credentials, a one-shot command prints our one clear error and nothing of
/// the SDK's provider chain. The chain's WARN appears when the instance-metadata
/// endpoint answers (here a local stub refusing with 403, as a locked-down host does).
#[test]
fn without_credentials_only_our_error_is_printed() {
    use std::io::{Read, Write};
    let imds = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let imds_url = format!("http://{}", imds.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in imds.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\nConnection: close\r\n\r\ndenied",
            );
        }
    });
    let dir = desired_dir(&[("a.yaml", &spec("Anything", "/things", "GET", "200", ""))]);
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("reconciler.yaml");
    std::fs::write(&config, "region: us-east-1\n").unwrap();
    let run = |verbose: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_apigw-reconciler"));
        cmd.arg("--config")
            .arg(&config)
            .arg("--desired")
            .arg(dir.path())
            .args([
                "--endpoint-url",
                "http://127.0.0.1:9",
                "--color",
                "never",
                "plan",
            ])
            .args(verbose.then_some("-v"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("AWS_CONFIG_FILE", home.path().join("none"))
            .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("none"))
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds_url);
        cmd.output().expect("run apigw-reconciler")
    };
    let out = run(false);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "only the call count and our error:\n{err}");
    assert_eq!(lines[0], "API calls: none", "{err}");
    assert!(
        lines[1].contains("no usable AWS credentials: set AWS_PROFILE"),
        "{err}"
    );
    assert!(
        !err.contains("check the network"),
        "not a network problem:\n{err}"
    );
    // With -v the details are there for whoever asks.
    let out = run(true);
    assert!(
        stderr(&out).contains("provider failed to provide credentials"),
        "{}",
        show(&out)
    );
}
