//! Crashes and company: a daemon killed with SIGKILL in the middle of 500 writes
//! resumes with no lost and no repeated work, and two daemons on the same specs and
//! API converge without flapping.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_apigateway::Client;
use common::*;

const CODES: [&str; 4] = ["200", "400", "404", "500"];

/// An API with `resources` resources, each with GET and method responses for CODES,
/// and specs for all of them: 4 integration responses per resource.
async fn fixture(client: &Client, name: &str, resources: usize) -> (Fixture, tempfile::TempDir) {
    let api = create_api(client, name).await;
    let mut docs = Vec::new();
    for i in 0..resources {
        let id = create_resource(client, &api.api_id, &api.root_id, &format!("r{i}")).await;
        create_method(client, &api.api_id, &id, "GET", &CODES).await;
        for code in CODES {
            let pattern = if code == "200" {
                String::new()
            } else {
                format!("selectionPattern: \"{code}\"\n")
            };
            docs.push(format!(
                "kind: IntegrationResponse\nrestApiName: {name}\nresourcePath: /r{i}\nhttpMethod: GET\nstatusCode: \"{code}\"\n\
                 {pattern}responseTemplates: {{application/json: \"t-{i}-{code}\"}}\n"
            ));
        }
    }
    (api, desired_dir(&[("specs.yaml", &docs.join("---\n"))]))
}

/// Live templates by (path, status code).
async fn live(client: &Client, api: &Fixture) -> BTreeMap<(String, String), String> {
    let resources = client
        .get_resources()
        .rest_api_id(&api.api_id)
        .embed("methods")
        .limit(500)
        .send()
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for r in resources.items() {
        let irs = r
            .resource_methods()
            .and_then(|m| m.get("GET"))
            .and_then(|m| m.method_integration())
            .and_then(|i| i.integration_responses());
        for (code, ir) in irs.into_iter().flatten() {
            let template = ir
                .response_templates()
                .and_then(|t| t.get("application/json"))
                .cloned();
            out.insert(
                (r.path().unwrap().to_owned(), code.clone()),
                template.unwrap_or_default(),
            );
        }
    }
    out
}

fn expected(resources: usize) -> BTreeMap<(String, String), String> {
    (0..resources)
        .flat_map(|i| CODES.map(|c| ((format!("/r{i}"), c.to_owned()), format!("t-{i}-{c}"))))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_in_the_middle_of_500_writes_resumes_without_lost_or_repeated_work() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, desired) = fixture(&client, "Crash", 125).await;
    let slow = "region: us-east-1\ninterval: 1h\nrateLimit: {requestsPerSecond: 50, burst: 1}\n";
    let mut first = moto.daemon(desired.path(), slow, &[]);
    wait_until(Duration::from_secs(60), "100 writes", || {
        // No sample before the first write is applied.
        first.metric_or_zero("apigw_reconciler_actions_total{kind=\"create\",outcome=\"applied\"}")
            >= 100.0
    });
    first.kill();
    let applied_before = live(&client, &api).await.len();
    assert!(
        (100..500).contains(&applied_before),
        "killed mid-way: {applied_before} applied"
    );

    let fast = "region: us-east-1\ninterval: 1h\nrateLimit: {requestsPerSecond: 500, burst: 50}\n";
    let second = moto.daemon(desired.path(), fast, &[]);
    wait_until(Duration::from_secs(120), "converged after restart", || {
        second.status()["lastCycle"]["result"] == "converged"
    });
    assert_eq!(live(&client, &api).await, expected(125), "nothing lost");
    let puts =
        second.metric("apigw_reconciler_api_calls_total{operation=\"PutIntegrationResponse\"}");
    assert_eq!(
        puts as usize,
        500 - applied_before,
        "exactly the missing ones were written, none twice"
    );
    assert_eq!(
        second.metric_or_zero(
            "apigw_reconciler_api_calls_total{operation=\"DeleteIntegrationResponse\"}"
        ),
        0.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_daemons_on_the_same_specs_converge_and_do_not_flap() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, desired) = fixture(&client, "Twins", 5).await;
    let config = "region: us-east-1\ninterval: 1s\nprune: true\nrateLimit: {requestsPerSecond: 200, burst: 50}\n";
    let a = moto.daemon(desired.path(), config, &[]);
    let b = moto.daemon(desired.path(), config, &[]);
    for d in [&a, &b] {
        wait_until(Duration::from_secs(30), "converged", || {
            d.status()["lastCycle"]["result"] == "converged"
        });
    }
    assert_eq!(live(&client, &api).await, expected(5));
    let writes = |d: &Daemon| {
        d.metric_or_zero("apigw_reconciler_api_calls_total{operation=\"PutIntegrationResponse\"}")
            + d.metric_or_zero(
                "apigw_reconciler_api_calls_total{operation=\"DeleteIntegrationResponse\"}",
            )
    };
    let (wa, wb) = (writes(&a), writes(&b));
    // Three more full cycles each (interval ticks): no writes, no drift, stable.
    for _ in 0..3 {
        a.wait_next_cycle();
        b.wait_next_cycle();
    }
    assert_eq!(
        (writes(&a), writes(&b)),
        (wa, wb),
        "no daemon undoes the other's work"
    );
    assert_eq!(a.metric("apigw_reconciler_drift_detected_total"), 0.0);
    assert_eq!(b.metric("apigw_reconciler_drift_detected_total"), 0.0);
    assert_eq!(live(&client, &api).await, expected(5));
}
