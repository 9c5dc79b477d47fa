//! Response tests (`kind: ResponseTest`) end to end through the built binary: the
//! `test` command's report and exit code, a failing test making the desired set
//! invalid for `validate`, `plan`, `apply` and the daemon (nothing written to a real
//! moto server), and a template that does not parse placed at its file line and
//! column. Every wait is on a condition with a deadline.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::*;

const WAIT: Duration = Duration::from_secs(30);
/// Only file events, signals and HTTP trigger cycles.
const QUIET: &str = "region: us-east-1\ninterval: 1h\ndebounce: 100ms\n";
/// Offline commands never connect: this endpoint refuses connections.
const NOWHERE: &str = "http://127.0.0.1:1";

/// Run an offline command (`test`, `validate`) on `dir`.
fn offline(dir: &Path, args: &[&str]) -> std::process::Output {
    run_cli(NOWHERE, dir, "region: us-east-1\n", args, &[])
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A Lambda-backed GET /orders/{id}: 200 by default, 404 for "Not found: ...".
const ORDERS: &str = r#"kind: IntegrationResponse
restApiName: Orders
resourcePath: /orders/{id}
httpMethod: GET
statusCode: "200"
responseTemplates:
  application/json: '{"id": $input.json(''$.id'')}'
---
kind: IntegrationResponse
restApiName: Orders
resourcePath: /orders/{id}
httpMethod: GET
statusCode: "404"
selectionPattern: "Not found: .*"
responseParameters:
  method.response.header.X-Request-Id: context.requestId
responseTemplates:
  application/json: |
    {"message": "$util.escapeJavaScript($input.path('$.errorMessage'))"}
"#;

/// The test of a found order (passes); 11 lines.
const FOUND: &str = r#"kind: ResponseTest
name: a found order is a 200 with its id
restApiName: Orders
resourcePath: /orders/{id}
httpMethod: GET
integration: lambda
backend:
  body: '{"id": 42, "secret": "x"}'
expect:
  statusCode: "200"
  json: {id: 42}
"#;

/// A missing order, expected as a 410 (the specs answer 404: fails) or a 404 (passes).
fn missing(status: &str) -> String {
    format!(
        r#"kind: ResponseTest
name: a missing order is a {status}
restApiName: Orders
resourcePath: /orders/{{id}}
httpMethod: GET
integration: lambda
backend:
  errorMessage: "Not found: order 42"
request:
  context: {{requestId: r-1}}
expect:
  statusCode: "{status}"
  headers: {{x-request-id: r-1}}
  json: {{message: "Not found: order 42"}}
"#
    )
}

#[test]
fn test_reports_each_test_and_a_failure_with_its_place_selection_and_diff() {
    let tests = format!("{FOUND}---\n{}", missing("410"));
    let desired = desired_dir(&[("orders.yaml", ORDERS), ("orders.tests.yaml", &tests)]);
    let dir = desired.path().display().to_string();
    let out = offline(desired.path(), &["test"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let report = stdout(&out);
    // The failing test is the second document: line 13 of its file.
    for line in [
        format!("test a found order is a 200 with its id ... ok  [{dir}/orders.tests.yaml:1:1]"),
        format!("test a missing order is a 410 ... FAILED  [{dir}/orders.tests.yaml:13:1]"),
        format!("---- a missing order is a 410 [{dir}/orders.tests.yaml:13:1]"),
        format!(
            "selected: GET 404 (selectionPattern \"Not found: .*\") at {dir}/orders.yaml:9:1, template application/json"
        ),
        "--- expected".into(),
        "+++ actual".into(),
        "-status: 410".into(),
        "+status: 404".into(),
        // What matched is context, not a difference.
        " header x-request-id: r-1".into(),
    ] {
        assert!(
            report.lines().any(|l| l == line),
            "no line {line:?} in the report:\n{}",
            show(&out)
        );
    }
    assert_eq!(
        report.lines().last(),
        Some("1 passed, 1 failed"),
        "{}",
        show(&out)
    );
}

#[test]
fn test_exits_0_when_every_test_passes() {
    let tests = format!("{FOUND}---\n{}", missing("404"));
    let desired = desired_dir(&[("orders.yaml", ORDERS), ("orders.tests.yaml", &tests)]);
    let out = offline(desired.path(), &["test"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(!stdout(&out).contains("FAILED"), "{}", show(&out));
    assert_eq!(stdout(&out).lines().last(), Some("2 passed, 0 failed"));
    // validate agrees: the set is valid and its tests pass.
    let out = offline(desired.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        stdout(&out).ends_with(
            "2 integration response(s) in 2 file(s) are valid; 2 response test(s) pass\n"
        ),
        "{}",
        show(&out)
    );
    // The repository's own example tests pass too.
    let out = offline(&repo_root().join("desired"), &["test"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(stdout(&out).lines().last(), Some("2 passed, 0 failed"));
}

#[test]
fn validate_names_the_failing_test_at_its_place() {
    let tests = format!("{FOUND}---\n{}", missing("410"));
    let desired = desired_dir(&[("orders.yaml", ORDERS), ("orders.tests.yaml", &tests)]);
    let dir = desired.path().display().to_string();
    let out = offline(desired.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{dir}/orders.tests.yaml:13:1: response test `a missing order is a 410` failed: got a different status 404 (expected 410)"
        )),
        "{}",
        show(&out)
    );
    assert!(!err.contains("a found order"), "{}", show(&out));
}

#[test]
fn validate_places_a_template_that_does_not_parse_at_its_file_line_and_column() {
    // Folding joins "ok" and "x #set($a 1)" into one template line; the `1` it
    // stumbles on stands on file line 9, column 15. The single-quoted one is on line 10.
    let spec = "kind: IntegrationResponse\nrestApiName: Orders\nresourcePath: /orders\nhttpMethod: GET\nstatusCode: \"200\"\nresponseTemplates:\n  application/json: >\n    ok\n    x #set($a 1)\n  text/plain: 'fine #if($a & $b)x#end'\n";
    let desired = desired_dir(&[("bad.yaml", spec)]);
    let dir = desired.path().display().to_string();
    let out = offline(desired.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = stderr(&out);
    for expected in [
        format!(
            "{dir}/bad.yaml:9:15: the `application/json` template does not parse: unexpected \"1\", expected '=' in #set"
        ),
        format!(
            "{dir}/bad.yaml:10:28: the `text/plain` template does not parse: unexpected character '&' in a directive's arguments"
        ),
    ] {
        assert!(
            err.lines().any(|l| l.trim() == expected),
            "no line {expected:?}:\n{}",
            show(&out)
        );
    }
    // `test` refuses the invalid set the same way.
    let out = offline(desired.path(), &["test"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(stderr(&out).contains(&format!("{dir}/bad.yaml:9:15:")));
}

/// The seed scaffold's GET /mydemoresource answers `{"greeting": "hello"}`.
fn greeting_spec() -> String {
    seed_spec("{\"greeting\": \"hello\"}")
}

/// A test of the seed scaffold's method expecting `greeting`.
fn greeting_test(greeting: &str) -> String {
    format!(
        "kind: ResponseTest\nname: the greeting is {greeting}\nrestApiName: MyDemoAPI\nresourcePath: /mydemoresource\nhttpMethod: GET\nintegration: mock\nexpect:\n  json: {{greeting: {greeting}}}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_and_apply_write_nothing_while_a_test_fails() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = seed_scaffold(&client).await;
    let desired = desired_dir(&[
        ("api.yaml", &greeting_spec()),
        ("api.tests.yaml", &greeting_test("bonjour")),
    ]);
    let dir = desired.path().display().to_string();
    let config = "region: us-east-1\n";
    let failing = format!(
        "{dir}/api.tests.yaml:1:1: response test `the greeting is bonjour` failed: got a different body (as JSON)"
    );
    for command in ["validate", "plan", "apply"] {
        let out = run(&moto, desired.path(), config, &[command], 1);
        assert!(
            stderr(&out).contains(&failing),
            "{command}:\n{}",
            show(&out)
        );
        assert!(
            stderr(&out).contains("Nothing was read from or written to API Gateway"),
            "{command}:\n{}",
            show(&out)
        );
    }
    assert_eq!(
        seed_template(&client, &api, &res).await,
        None,
        "a failing test must stop apply before any write"
    );
    // The test's own fault, not the spec's: correct the test and apply writes.
    fs::write(
        desired.path().join("api.tests.yaml"),
        greeting_test("hello"),
    )
    .unwrap();
    run(&moto, desired.path(), config, &["apply"], 0);
    assert_eq!(
        seed_template(&client, &api, &res).await.as_deref(),
        Some("{\"greeting\": \"hello\"}")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_is_not_ready_while_a_test_fails_and_applies_once_it_passes() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = seed_scaffold(&client).await;
    let desired = desired_dir(&[
        ("api.yaml", &greeting_spec()),
        ("api.tests.yaml", &greeting_test("bonjour")),
    ]);
    let dir = desired.path().display().to_string();
    let daemon = moto.daemon(desired.path(), QUIET, &[]);
    wait_until(WAIT, "the first cycle", || daemon.cycle_id() >= 1);

    let (code, why) = daemon.request("GET", "/readyz");
    assert_eq!(code, 503, "/readyz {why}\n{}", daemon.log());
    assert!(
        why.contains("desired set invalid")
            && why.contains(&format!(
                "{dir}/api.tests.yaml:1:1: response test `the greeting is bonjour` failed"
            )),
        "/readyz {why}"
    );
    assert_eq!(daemon.status()["desiredSetValid"], false);
    assert_eq!(daemon.metric("apigw_reconciler_desired_set_valid"), 0.0);
    // Asked again, it still writes nothing.
    let seen = daemon.cycle_id();
    let (code, body) = daemon.request("POST", "/reconcile");
    assert_eq!(code / 100, 2, "POST /reconcile: {code} {body}");
    wait_until(WAIT, "the requested cycle", || daemon.cycle_id() > seen);
    assert_eq!(daemon.request("GET", "/readyz").0, 503);
    assert_eq!(
        seed_template(&client, &api, &res).await,
        None,
        "nothing may be written while a test fails\n{}",
        daemon.log()
    );

    // Correct the test: the file change alone makes it ready and applied.
    fs::write(
        desired.path().join("api.tests.yaml"),
        greeting_test("hello"),
    )
    .unwrap();
    wait_until(WAIT, "ready after the fix", || {
        daemon.request("GET", "/readyz").0 == 200
    });
    wait_live(WAIT, "the spec applied", || async {
        seed_template(&client, &api, &res).await.as_deref() == Some("{\"greeting\": \"hello\"}")
    })
    .await;
    assert_eq!(daemon.metric("apigw_reconciler_desired_set_valid"), 1.0);
}
