//! Changes end to end against a real moto server: updating each field of an
//! integration response, removing a field, status-code changes with and without
//! prune, `state: absent`, prune's scope (managed methods only) and the
//! mass-deletion guard. Every test checks the exit codes and reads the live state
//! back through the SDK.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::Output;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::operation::get_integration_response::GetIntegrationResponseOutput;
use aws_sdk_apigateway::types::ContentHandlingStrategy;
use common::*;

/// Config text for the runs.
fn config(prune: bool, max_deletes: Option<usize>) -> String {
    let mut text = format!("region: us-east-1\nprune: {prune}\n");
    if let Some(max) = max_deletes {
        text.push_str(&format!("maxDeletesPerCycle: {max}\n"));
    }
    text
}

#[track_caller]
fn assert_contains(out: &Output, needle: &str) {
    let all = format!("{}{}", stdout(out), String::from_utf8_lossy(&out.stderr));
    assert!(
        all.contains(needle),
        "expected {needle:?} in the output:\n{}",
        show(out)
    );
}

fn plan_line(create: usize, update: usize, delete: usize, blocked: usize) -> String {
    format!("Plan: {create} to create, {update} to update, {delete} to delete, {blocked} blocked.")
}

fn apply_line(
    created: usize,
    updated: usize,
    deleted: usize,
    failed: usize,
    blocked: usize,
) -> String {
    format!(
        "Apply: {created} created, {updated} updated, {deleted} deleted, {failed} failed, {blocked} blocked, 0 held."
    )
}

fn sorted(map: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    map.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn btree(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Status codes of the live integration responses of one method, read with
/// GetResources(embed=methods) like the tool does.
async fn live_codes(client: &Client, api: &str, res: &str, method: &str) -> BTreeSet<String> {
    let out = client
        .get_resources()
        .rest_api_id(api)
        .embed("methods")
        .limit(500)
        .send()
        .await
        .unwrap();
    out.items()
        .iter()
        .find(|r| r.id() == Some(res))
        .and_then(|r| r.resource_methods())
        .and_then(|methods| methods.get(method))
        .and_then(|m| m.method_integration())
        .and_then(|i| i.integration_responses())
        .map(|irs| irs.keys().cloned().collect())
        .unwrap_or_default()
}

fn codes(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|c| c.to_string()).collect()
}

/// One field update: v1 is applied, then v2 must be exactly one update.
struct FieldCase {
    name: &'static str,
    v1: &'static str,
    v2: &'static str,
    /// Text the plan must show for the change.
    shows: &'static str,
    check: fn(&GetIntegrationResponseOutput),
}

fn field_cases() -> Vec<FieldCase> {
    vec![
        FieldCase {
            name: "selectionPattern changed",
            v1: "selectionPattern: \"4\\\\d{2}\"\n",
            v2: "selectionPattern: \"5\\\\d{2}\"\n",
            shows: r#"selectionPattern: "4\\d{2}" -> "5\\d{2}""#,
            check: |ir| assert_eq!(ir.selection_pattern(), Some(r"5\d{2}")),
        },
        FieldCase {
            name: "selectionPattern removed (becomes the default response)",
            v1: "selectionPattern: \"4\\\\d{2}\"\n",
            v2: "",
            shows: "selectionPattern:",
            check: |ir| assert_eq!(ir.selection_pattern().filter(|p| !p.is_empty()), None),
        },
        FieldCase {
            name: "responseParameters changed and added",
            v1: "responseParameters:\n  method.response.header.X-A: \"'one'\"\n",
            v2: "responseParameters:\n  method.response.header.X-A: \"'two'\"\n  method.response.header.X-B: integration.response.header.X-Up\n",
            shows: "responseParameters:",
            check: |ir| {
                assert_eq!(
                    sorted(ir.response_parameters()),
                    btree(&[
                        ("method.response.header.X-A", "'two'"),
                        (
                            "method.response.header.X-B",
                            "integration.response.header.X-Up"
                        ),
                    ])
                )
            },
        },
        FieldCase {
            name: "responseParameters removed",
            v1: "responseParameters:\n  method.response.header.X-A: \"'one'\"\n  method.response.header.X-B: integration.response.body.code\n",
            v2: "responseTemplates:\n  application/json: '{}'\n",
            shows: "responseParameters:",
            check: |ir| {
                assert_eq!(sorted(ir.response_parameters()), BTreeMap::new());
                assert_eq!(
                    sorted(ir.response_templates()),
                    btree(&[("application/json", "{}")])
                );
            },
        },
        FieldCase {
            name: "responseTemplates changed and added",
            v1: "responseTemplates:\n  application/json: '{\"v\": 1}'\n",
            v2: "responseTemplates:\n  application/json: |\n    {\"v\": 2,\n     \"m\": \"$input.path('$')\"}\n  application/xml: \"<v>2</v>\"\n",
            shows: "responseTemplates[\"application/json\"]:",
            check: |ir| {
                assert_eq!(
                    sorted(ir.response_templates()),
                    btree(&[
                        (
                            "application/json",
                            "{\"v\": 2,\n \"m\": \"$input.path('$')\"}\n"
                        ),
                        ("application/xml", "<v>2</v>"),
                    ])
                )
            },
        },
        FieldCase {
            name: "responseTemplates removed",
            v1: "responseTemplates:\n  application/json: '{\"v\": 1}'\n",
            v2: "",
            shows: "responseTemplates[\"application/json\"]:",
            check: |ir| assert_eq!(sorted(ir.response_templates()), BTreeMap::new()),
        },
        FieldCase {
            name: "contentHandling changed",
            v1: "contentHandling: CONVERT_TO_TEXT\n",
            v2: "contentHandling: CONVERT_TO_BINARY\n",
            shows: "contentHandling: CONVERT_TO_TEXT -> CONVERT_TO_BINARY",
            check: |ir| {
                assert_eq!(
                    ir.content_handling(),
                    Some(&ContentHandlingStrategy::ConvertToBinary)
                )
            },
        },
        FieldCase {
            name: "contentHandling added",
            v1: "",
            v2: "contentHandling: CONVERT_TO_TEXT\n",
            shows: "contentHandling: (none) -> CONVERT_TO_TEXT",
            check: |ir| {
                assert_eq!(
                    ir.content_handling(),
                    Some(&ContentHandlingStrategy::ConvertToText)
                )
            },
        },
        FieldCase {
            name: "contentHandling removed",
            v1: "contentHandling: CONVERT_TO_BINARY\n",
            v2: "",
            shows: "contentHandling: CONVERT_TO_BINARY -> (none)",
            check: |ir| assert_eq!(ir.content_handling(), None),
        },
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_or_removing_each_field_is_one_update_that_reaches_the_live_state() {
    let moto = Moto::start();
    let client = moto.client().await;
    let cfg = config(false, None);
    for (i, case) in field_cases().into_iter().enumerate() {
        let name = format!("FieldUpdate{i}");
        let api = create_api(&client, &name).await;
        let res = create_resource(&client, &api.api_id, &api.root_id, "things").await;
        create_method(&client, &api.api_id, &res, "GET", &["200"]).await;
        declare_headers(&client, &api.api_id, &res, "GET", "200", &["X-A", "X-B"]).await;
        let dir = desired_dir(&[("ir.yaml", &spec(&name, "/things", "GET", "200", case.v1))]);

        run(&moto, dir.path(), &cfg, &["apply"], 0);
        assert!(
            get_ir(&client, &api.api_id, &res, "GET", "200")
                .await
                .is_some(),
            "{}: v1 applied",
            case.name
        );
        run(&moto, dir.path(), &cfg, &["plan"], 0);

        std::fs::write(
            dir.path().join("ir.yaml"),
            spec(&name, "/things", "GET", "200", case.v2),
        )
        .unwrap();
        let plan = run(&moto, dir.path(), &cfg, &["plan"], 2);
        assert_contains(&plan, &plan_line(0, 1, 0, 0));
        assert_contains(&plan, "~ update");
        assert_contains(&plan, case.shows);
        let json = run(&moto, dir.path(), &cfg, &["plan", "--output", "json"], 2);
        let doc: serde_json::Value = serde_json::from_str(stdout(&json).trim()).expect("plan JSON");
        assert_eq!(doc["summary"]["update"], 1, "{}: {doc}", case.name);
        assert_eq!(
            doc["actions"][0]["action"], "update",
            "{}: {doc}",
            case.name
        );
        assert_eq!(doc["actions"][0]["restApiId"], api.api_id.as_str());
        assert_eq!(doc["actions"][0]["resourceId"], res.as_str());
        assert_eq!(doc["actions"][0]["httpMethod"], "GET");
        assert_eq!(doc["actions"][0]["statusCode"], "200");

        let apply = run(&moto, dir.path(), &cfg, &["apply"], 0);
        assert_contains(&apply, &apply_line(0, 1, 0, 0, 0));
        let live = get_ir(&client, &api.api_id, &res, "GET", "200")
            .await
            .unwrap_or_else(|| panic!("{}: integration response gone after the update", case.name));
        (case.check)(&live);

        let again = run(&moto, dir.path(), &cfg, &["plan"], 0);
        assert_contains(&again, &plan_line(0, 0, 0, 0));
    }
}

/// Scaffold for the status-code tests: /things GET with method responses 200 and 201.
async fn two_status_scaffold(client: &Client, name: &str) -> (Fixture, String) {
    let api = create_api(client, name).await;
    let res = create_resource(client, &api.api_id, &api.root_id, "things").await;
    create_method(client, &api.api_id, &res, "GET", &["200", "201"]).await;
    (api, res)
}

const TEMPLATE: &str = "responseTemplates:\n  application/json: '{\"ok\": true}'\n";

#[tokio::test(flavor = "multi_thread")]
async fn status_code_change_with_prune_is_a_delete_and_a_create() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = two_status_scaffold(&client, "StatusPrune").await;
    let cfg = config(true, None);
    let dir = desired_dir(&[(
        "ir.yaml",
        &spec("StatusPrune", "/things", "GET", "200", TEMPLATE),
    )]);
    run(&moto, dir.path(), &cfg, &["apply"], 0);
    assert_eq!(
        live_codes(&client, &api.api_id, &res, "GET").await,
        codes(&["200"])
    );

    std::fs::write(
        dir.path().join("ir.yaml"),
        spec("StatusPrune", "/things", "GET", "201", TEMPLATE),
    )
    .unwrap();
    let plan = run(&moto, dir.path(), &cfg, &["plan"], 2);
    assert_contains(&plan, &plan_line(1, 0, 1, 0));
    let json = run(&moto, dir.path(), &cfg, &["plan", "--output", "json"], 2);
    let doc: serde_json::Value = serde_json::from_str(stdout(&json).trim()).unwrap();
    let actions: BTreeSet<(String, String)> = doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap().to_owned(),
                a["statusCode"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        BTreeSet::from([
            ("create".to_owned(), "201".to_owned()),
            ("delete".to_owned(), "200".to_owned())
        ]),
        "{doc}"
    );

    let apply = run(&moto, dir.path(), &cfg, &["apply"], 0);
    assert_contains(&apply, &apply_line(1, 0, 1, 0, 0));
    assert_eq!(
        live_codes(&client, &api.api_id, &res, "GET").await,
        codes(&["201"])
    );
    let live = get_ir(&client, &api.api_id, &res, "GET", "201")
        .await
        .unwrap();
    assert_eq!(
        sorted(live.response_templates()),
        btree(&[("application/json", "{\"ok\": true}")])
    );
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "200")
            .await
            .is_none()
    );

    let again = run(&moto, dir.path(), &cfg, &["plan"], 0);
    assert_contains(&again, &plan_line(0, 0, 0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn status_code_change_without_prune_keeps_the_old_response_and_says_so() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = two_status_scaffold(&client, "StatusKeep").await;
    let cfg = config(false, None);
    let dir = desired_dir(&[(
        "ir.yaml",
        &spec("StatusKeep", "/things", "GET", "200", TEMPLATE),
    )]);
    run(&moto, dir.path(), &cfg, &["apply"], 0);

    // A second default response would be refused by API Gateway (409 "Integration
    // response with selection pattern default already exists"): blocked, with the why.
    std::fs::write(
        dir.path().join("ir.yaml"),
        spec("StatusKeep", "/things", "GET", "201", TEMPLATE),
    )
    .unwrap();
    let plan = run(&moto, dir.path(), &cfg, &["plan"], 2);
    assert_contains(&plan, &plan_line(0, 0, 0, 1));
    assert_contains(&plan, "status 200 is already the default response");

    // With a pattern, 201 can live next to the kept 200.
    std::fs::write(
        dir.path().join("ir.yaml"),
        spec(
            "StatusKeep",
            "/things",
            "GET",
            "201",
            &format!("selectionPattern: \"2\\\\d{{2}}\"\n{TEMPLATE}"),
        ),
    )
    .unwrap();
    let plan = run(&moto, dir.path(), &cfg, &["plan"], 2);
    assert_contains(&plan, &plan_line(1, 0, 0, 0));
    assert_contains(
        &plan,
        "note: 1 live integration response(s) on managed methods are not in any spec and are kept (prune is off)",
    );

    let apply = run(&moto, dir.path(), &cfg, &["apply"], 0);
    assert_contains(&apply, &apply_line(1, 0, 0, 0, 0));
    assert_eq!(
        live_codes(&client, &api.api_id, &res, "GET").await,
        codes(&["200", "201"])
    );

    // Converged: the kept response is not a pending change, but it is still mentioned.
    let again = run(&moto, dir.path(), &cfg, &["plan"], 0);
    assert_contains(&again, &plan_line(0, 0, 0, 0));
    assert_contains(&again, "note: 1 live integration response(s)");
    assert_eq!(
        live_codes(&client, &api.api_id, &res, "GET").await,
        codes(&["200", "201"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn state_absent_deletes_an_existing_response_and_is_a_no_op_when_it_is_gone() {
    let moto = Moto::start();
    let client = moto.client().await;
    let api = create_api(&client, "AbsentApi").await;
    let res = create_resource(&client, &api.api_id, &api.root_id, "things").await;
    create_method(&client, &api.api_id, &res, "GET", &["200", "500"]).await;
    put_live(&client, &api.api_id, &res, "GET", "500", Some(r"5\d{2}")).await;
    put_live(&client, &api.api_id, &res, "GET", "200", None).await;
    let cfg = config(false, None);
    let absent = spec("AbsentApi", "/things", "GET", "500", "state: absent\n");
    let dir = desired_dir(&[("absent.yaml", &absent)]);

    let plan = run(&moto, dir.path(), &cfg, &["plan"], 2);
    assert_contains(&plan, &plan_line(0, 0, 1, 0));
    assert_contains(&plan, "state: absent");
    let apply = run(&moto, dir.path(), &cfg, &["apply"], 0);
    assert_contains(&apply, &apply_line(0, 0, 1, 0, 0));
    assert!(
        get_ir(&client, &api.api_id, &res, "GET", "500")
            .await
            .is_none()
    );
    // Prune is off: the other response of the method stays.
    assert_eq!(
        live_codes(&client, &api.api_id, &res, "GET").await,
        codes(&["200"])
    );

    let again = run(&moto, dir.path(), &cfg, &["plan"], 0);
    assert_contains(&again, &plan_line(0, 0, 0, 0));
    let again = run(&moto, dir.path(), &cfg, &["apply"], 0);
    assert!(!stdout(&again).contains("deleted "), "{}", show(&again));

    // Absent specs for things that never existed: a status, a method, a resource, an API.
    let dir = desired_dir(&[(
        "absent.yaml",
        &[
            spec("AbsentApi", "/things", "GET", "404", "state: absent\n"),
            spec("AbsentApi", "/things", "DELETE", "200", "state: absent\n"),
            spec("AbsentApi", "/nothing", "GET", "200", "state: absent\n"),
            spec("NoSuchApi", "/things", "GET", "200", "state: absent\n"),
        ]
        .join("---\n"),
    )]);
    let plan = run(&moto, dir.path(), &cfg, &["plan"], 0);
    assert_contains(&plan, &plan_line(0, 0, 0, 0));
    run(&moto, dir.path(), &cfg, &["apply"], 0);
    assert_eq!(
        live_codes(&client, &api.api_id, &res, "GET").await,
        codes(&["200"])
    );
}

/// /things GET (200 and 500 live), /things POST (200 live) and /other GET (200 live),
/// all made through the SDK. Only /things GET 200 gets a spec.
async fn prune_scaffold(client: &Client, name: &str) -> (Fixture, String, String) {
    let api = create_api(client, name).await;
    let things = create_resource(client, &api.api_id, &api.root_id, "things").await;
    let other = create_resource(client, &api.api_id, &api.root_id, "other").await;
    create_method(client, &api.api_id, &things, "GET", &["200", "500"]).await;
    create_method(client, &api.api_id, &things, "POST", &["200"]).await;
    create_method(client, &api.api_id, &other, "GET", &["200"]).await;
    put_live(client, &api.api_id, &things, "GET", "200", None).await;
    put_live(client, &api.api_id, &things, "GET", "500", Some(r"5\d{2}")).await;
    put_live(client, &api.api_id, &things, "POST", "200", None).await;
    put_live(client, &api.api_id, &other, "GET", "200", None).await;
    (api, things, other)
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_off_keeps_unwanted_responses_and_prune_on_deletes_only_those_of_managed_methods() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, things, other) = prune_scaffold(&client, "PruneApi").await;
    // Same as the live 200, so the only difference is the unwanted 500.
    let wanted = spec(
        "PruneApi",
        "/things",
        "GET",
        "200",
        "responseTemplates:\n  application/json: '{\"live\": true}'\n",
    );
    let dir = desired_dir(&[("ir.yaml", &wanted)]);

    let off = config(false, None);
    let plan = run(&moto, dir.path(), &off, &["plan"], 0);
    assert_contains(&plan, &plan_line(0, 0, 0, 0));
    assert_contains(
        &plan,
        "note: 1 live integration response(s) on managed methods are not in any spec and are kept (prune is off)",
    );
    run(&moto, dir.path(), &off, &["apply"], 0);
    assert_eq!(
        live_codes(&client, &api.api_id, &things, "GET").await,
        codes(&["200", "500"])
    );

    let on = config(true, None);
    let plan = run(&moto, dir.path(), &on, &["plan"], 2);
    assert_contains(&plan, &plan_line(0, 0, 1, 0));
    let json = run(&moto, dir.path(), &on, &["plan", "--output", "json"], 2);
    let doc: serde_json::Value = serde_json::from_str(stdout(&json).trim()).unwrap();
    assert_eq!(doc["actions"].as_array().unwrap().len(), 1, "{doc}");
    assert_eq!(doc["actions"][0]["action"], "delete");
    assert_eq!(doc["actions"][0]["resourceId"], things.as_str());
    assert_eq!(doc["actions"][0]["httpMethod"], "GET");
    assert_eq!(doc["actions"][0]["statusCode"], "500");

    let apply = run(&moto, dir.path(), &on, &["apply"], 0);
    assert_contains(&apply, &apply_line(0, 0, 1, 0, 0));
    assert_eq!(
        live_codes(&client, &api.api_id, &things, "GET").await,
        codes(&["200"])
    );
    // Methods no spec names are not managed: never pruned.
    assert_eq!(
        live_codes(&client, &api.api_id, &things, "POST").await,
        codes(&["200"])
    );
    assert_eq!(
        live_codes(&client, &api.api_id, &other, "GET").await,
        codes(&["200"])
    );

    let again = run(&moto, dir.path(), &on, &["plan"], 0);
    assert_contains(&again, &plan_line(0, 0, 0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_never_touches_a_method_that_no_spec_names_even_if_everything_else_goes() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, things, other) = prune_scaffold(&client, "PruneScope").await;
    // The only spec is for a different method of another resource, and it is absent.
    let dir = desired_dir(&[(
        "ir.yaml",
        &spec("PruneScope", "/things", "PUT", "200", "state: absent\n"),
    )]);
    let on = config(true, None);
    run(&moto, dir.path(), &on, &["plan"], 0);
    run(&moto, dir.path(), &on, &["apply"], 0);
    assert_eq!(
        live_codes(&client, &api.api_id, &things, "GET").await,
        codes(&["200", "500"])
    );
    assert_eq!(
        live_codes(&client, &api.api_id, &things, "POST").await,
        codes(&["200"])
    );
    assert_eq!(
        live_codes(&client, &api.api_id, &other, "GET").await,
        codes(&["200"])
    );

    // A spec on /other GET manages that method only; /things stays untouched.
    let dir = desired_dir(&[(
        "ir.yaml",
        &spec(
            "PruneScope",
            "/other",
            "GET",
            "200",
            "responseTemplates:\n  application/json: '{\"live\": true}'\n",
        ),
    )]);
    let plan = run(&moto, dir.path(), &on, &["plan"], 0);
    assert_contains(&plan, &plan_line(0, 0, 0, 0));
    assert_eq!(
        live_codes(&client, &api.api_id, &things, "GET").await,
        codes(&["200", "500"])
    );
    assert_eq!(
        live_codes(&client, &api.api_id, &things, "POST").await,
        codes(&["200"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mass_deletion_guard_refuses_a_cycle_that_would_delete_too_much() {
    let moto = Moto::start();
    let client = moto.client().await;
    let api = create_api(&client, "GuardApi").await;
    let res = create_resource(&client, &api.api_id, &api.root_id, "things").await;
    create_method(
        &client,
        &api.api_id,
        &res,
        "GET",
        &["200", "400", "404", "500"],
    )
    .await;
    put_live(&client, &api.api_id, &res, "GET", "200", None).await;
    put_live(&client, &api.api_id, &res, "GET", "400", Some("400")).await;
    put_live(
        &client,
        &api.api_id,
        &res,
        "GET",
        "404",
        Some(".*NotFound.*"),
    )
    .await;
    put_live(&client, &api.api_id, &res, "GET", "500", Some(r"5\d{2}")).await;
    let wanted = spec(
        "GuardApi",
        "/things",
        "GET",
        "200",
        "responseTemplates:\n  application/json: '{\"live\": true}'\n",
    );
    let dir = desired_dir(&[("ir.yaml", &wanted)]);
    let guarded = config(true, Some(1));

    let plan = run(&moto, dir.path(), &guarded, &["plan"], 2);
    assert_contains(&plan, &plan_line(0, 0, 0, 3));
    assert_contains(&plan, "maxDeletesPerCycle");
    let apply = run(&moto, dir.path(), &guarded, &["apply"], 1);
    assert_contains(&apply, "maxDeletesPerCycle");
    assert_contains(&apply, &apply_line(0, 0, 0, 0, 3));
    assert_eq!(
        live_codes(&client, &api.api_id, &res, "GET").await,
        codes(&["200", "400", "404", "500"])
    );

    // With a limit that allows it, the same cycle goes through.
    let enough = config(true, Some(3));
    let apply = run(&moto, dir.path(), &enough, &["apply"], 0);
    assert_contains(&apply, &apply_line(0, 0, 3, 0, 0));
    assert_eq!(
        live_codes(&client, &api.api_id, &res, "GET").await,
        codes(&["200"])
    );
    run(&moto, dir.path(), &guarded, &["plan"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dash_selection_pattern_made_outside_the_tool_is_the_default_response() {
    let moto = Moto::start();
    let client = moto.client().await;
    let api = create_api(&client, "OutsideDash").await;
    let res = create_resource(&client, &api.api_id, &api.root_id, "things").await;
    create_method(&client, &api.api_id, &res, "GET", &["200"]).await;
    // "-" is what the console shows for "the default response".
    put_live(&client, &api.api_id, &res, "GET", "200", Some("-")).await;
    let dir = desired_dir(&[(
        "ir.yaml",
        &spec(
            "OutsideDash",
            "/things",
            "GET",
            "200",
            "responseTemplates:\n  application/json: '{\"live\": true}'\n",
        ),
    )]);
    let cfg = config(true, None);
    let plan = run(&moto, dir.path(), &cfg, &["plan"], 0);
    assert_contains(&plan, &plan_line(0, 0, 0, 0));
}

/// Passthrough templates (`""`) written by someone else: API Gateway (and moto) return
/// them as `null` values in `responseTemplates`. docs/semantics.md §2: `""`/null templates are
/// normalised, so a spec with a passthrough template is converged, and reading the
/// API must not fail.
#[tokio::test(flavor = "multi_thread")]
async fn passthrough_templates_made_outside_the_tool_read_back_as_null_and_compare_equal() {
    let moto = Moto::start();
    let client = moto.client().await;
    let api = create_api(&client, "OutsideNull").await;
    let res = create_resource(&client, &api.api_id, &api.root_id, "things").await;
    create_method(&client, &api.api_id, &res, "GET", &["200", "500"]).await;
    for (code, pattern) in [("200", None), ("500", Some(r"5\d{2}"))] {
        let put = client
            .put_integration_response()
            .rest_api_id(&api.api_id)
            .resource_id(&res)
            .http_method("GET")
            .status_code(code)
            .set_selection_pattern(pattern.map(str::to_owned))
            .response_templates("application/json", "")
            .response_templates("application/xml", "<e/>")
            .send()
            .await;
        // The write goes through, but moto answers with `"application/json": null`,
        // which aws-sdk-apigateway refuses to parse ("dense map cannot contain null
        // values"): only that error is acceptable here.
        if let Err(e) = put {
            let detail = format!("{e:?}");
            assert!(
                detail.contains("dense map cannot contain null values"),
                "{detail}"
            );
        }
    }
    let dir = desired_dir(&[(
        "ir.yaml",
        &[
            spec(
                "OutsideNull",
                "/things",
                "GET",
                "200",
                "responseTemplates:\n  application/json: \"\"\n  application/xml: <e/>\n",
            ),
            spec(
                "OutsideNull",
                "/things",
                "GET",
                "500",
                "selectionPattern: \"5\\\\d{2}\"\nresponseTemplates:\n  application/json:\n  application/xml: <e/>\n",
            ),
        ]
        .join("---\n"),
    )]);
    let cfg = config(true, None);
    let plan = run(&moto, dir.path(), &cfg, &["plan"], 0);
    assert_contains(&plan, &plan_line(0, 0, 0, 0));
    let apply = run(&moto, dir.path(), &cfg, &["apply"], 0);
    assert_contains(&apply, &plan_line(0, 0, 0, 0));
    // The SDK itself cannot read these responses back (that is the point of the
    // test), so the tool's own read is the witness: still converged, nothing pruned.
    let again = run(&moto, dir.path(), &cfg, &["plan", "--output", "json"], 0);
    assert_contains(
        &again,
        r#"{"summary":{"create":0,"update":0,"delete":0,"blocked":0},"actions":[]}"#,
    );
}
