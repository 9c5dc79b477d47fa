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

/// The three tests of the selection and report tests: FOUND (passes, line 1), the
/// 410 (fails, line 13) and the 404 (passes, line 28).
fn three_tests() -> String {
    format!("{FOUND}---\n{}---\n{}", missing("410"), missing("404"))
}

#[test]
fn a_filter_runs_the_tests_whose_name_contains_it_and_exact_whose_name_is_it() {
    let desired = desired_dir(&[
        ("orders.yaml", ORDERS),
        ("orders.tests.yaml", &three_tests()),
    ]);
    let out = offline(desired.path(), &["test", "found"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let report = stdout(&out);
    assert!(
        report.contains("test a found order is a 200 with its id ... ok"),
        "{}",
        show(&out)
    );
    assert!(!report.contains("missing order"), "{}", show(&out));
    assert_eq!(
        report.lines().last(),
        Some("1 passed, 0 failed, 2 filtered out")
    );

    // Either of two filters; the failing one is among them.
    let out = offline(desired.path(), &["test", "410", "found"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(
        stdout(&out).lines().last(),
        Some("1 passed, 1 failed, 1 filtered out")
    );

    // --exact: the whole name; a part of it selects nothing.
    let out = offline(
        desired.path(),
        &["test", "--exact", "a missing order is a 404"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        stdout(&out).lines().last(),
        Some("1 passed, 0 failed, 2 filtered out")
    );
    let out = offline(desired.path(), &["test", "--exact", "a missing order"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        stdout(&out).lines().last(),
        Some("0 passed, 0 failed, 3 filtered out")
    );
    assert!(
        stderr(&out).contains("note: 0 tests selected: no test's name is `a missing order`"),
        "{}",
        show(&out)
    );
    // validate runs every test whatever one runs by hand.
    let out = offline(desired.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
}

#[test]
fn list_prints_each_selected_test_with_its_place_and_runs_none() {
    let desired = desired_dir(&[
        ("orders.yaml", ORDERS),
        ("orders.tests.yaml", &three_tests()),
    ]);
    let dir = desired.path().display().to_string();
    // The 410 fails, but listing runs nothing: exit code 0.
    let out = offline(desired.path(), &["test", "--list", "missing"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "a missing order is a 410\t{dir}/orders.tests.yaml:13:1\na missing order is a 404\t{dir}/orders.tests.yaml:28:1\n"
        )
    );
    let out = offline(desired.path(), &["test", "--list"]);
    assert_eq!(stdout(&out).lines().count(), 3, "{}", show(&out));
}

/// ORDERS plus a spec whose template reaches `#include`: a test of it cannot run.
const INCLUDE: &str = "kind: IntegrationResponse\nrestApiName: Orders\nresourcePath: /include\nhttpMethod: GET\nstatusCode: \"200\"\nresponseTemplates:\n  application/json: '#include(\"x.vm\")'\n";

/// A passing test with a name made to break XML, and one that cannot run.
const HOSTILE_AND_ERROR: &str = r#"kind: ResponseTest
name: "<b>&\"'</testcase>]]>\x01\u2028 x"
restApiName: Orders
resourcePath: /orders/{id}
httpMethod: GET
integration: lambda
backend:
  body: '{"id": 7}'
expect:
  json: {id: 7}
---
kind: ResponseTest
name: an included file cannot be tested
restApiName: Orders
resourcePath: /include
httpMethod: GET
integration: mock
expect:
  statusCode: "200"
"#;

#[test]
fn the_junit_report_is_junit_xml_with_a_testcase_per_test_its_place_and_the_diff() {
    let desired = desired_dir(&[
        ("orders.yaml", ORDERS),
        ("include.yaml", INCLUDE),
        ("orders.tests.yaml", &three_tests()),
        ("other.tests.yaml", HOSTILE_AND_ERROR),
    ]);
    let dir = desired.path().display().to_string();
    let out = offline(desired.path(), &["test", "--output", "junit"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let xml = stdout(&out);
    let doc = roxmltree::Document::parse(&xml)
        .unwrap_or_else(|e| panic!("the JUnit report is not XML: {e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites", "{xml}");
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(suites.len(), 1, "{xml}");
    let suite = suites[0];
    assert_eq!(suite.tag_name().name(), "testsuite");
    assert_eq!(
        suite.attribute("name"),
        Some("apigw-reconciler response tests")
    );
    for node in [root, suite] {
        assert_eq!(node.attribute("tests"), Some("5"), "{xml}");
        assert_eq!(node.attribute("failures"), Some("1"), "{xml}");
        assert_eq!(node.attribute("errors"), Some("1"), "{xml}");
        let time: f64 = node.attribute("time").unwrap().parse().unwrap();
        assert!(time >= 0.0, "{xml}");
    }
    // The suite holds, in the order JUnit's schema wants: its properties (coverage's
    // counts), the testcases, its system-out (coverage's listing).
    let children: Vec<_> = suite.children().filter(|n| n.is_element()).collect();
    let names: Vec<&str> = children.iter().map(|c| c.tag_name().name()).collect();
    assert_eq!(names.first(), Some(&"properties"), "{xml}");
    assert_eq!(names.last(), Some(&"system-out"), "{xml}");
    let cases = &children[1..children.len() - 1];
    assert!(
        cases.iter().all(|c| c.tag_name().name() == "testcase"),
        "{xml}"
    );
    // Each test in directory order (include.yaml has no test; orders before other),
    // with its name as written (escapes of what XML cannot hold), file and line.
    let summary: Vec<(&str, &str, &str, &str)> = cases
        .iter()
        .map(|c| {
            assert!(c.attribute("time").unwrap().parse::<f64>().unwrap() >= 0.0);
            (
                c.attribute("name").unwrap(),
                c.attribute("classname").unwrap(),
                c.attribute("file").unwrap(),
                c.attribute("line").unwrap(),
            )
        })
        .collect();
    let orders = format!("{dir}/orders.tests.yaml");
    let other = format!("{dir}/other.tests.yaml");
    let method = "restApiName Orders /orders/{id} GET";
    assert_eq!(
        summary,
        [
            (
                "a found order is a 200 with its id",
                method,
                orders.as_str(),
                "1"
            ),
            ("a missing order is a 410", method, orders.as_str(), "13"),
            ("a missing order is a 404", method, orders.as_str(), "28"),
            (
                "<b>&\"'</testcase>]]>\\x01\\u{2028} x",
                method,
                other.as_str(),
                "1"
            ),
            (
                "an included file cannot be tested",
                "restApiName Orders /include GET",
                other.as_str(),
                "12"
            ),
        ],
        "{xml}"
    );
    let outcome = |c: &roxmltree::Node| -> Vec<String> {
        c.children()
            .filter(|n| n.is_element())
            .map(|n| n.tag_name().name().to_string())
            .collect()
    };
    assert_eq!(
        cases.iter().map(outcome).collect::<Vec<_>>(),
        [
            vec![],
            vec!["failure".to_string()],
            vec![],
            vec![],
            vec!["error".to_string()]
        ],
        "{xml}"
    );
    let failure = cases[1].first_element_child().unwrap();
    assert_eq!(
        failure.attribute("message"),
        Some("got a different status 404 (expected 410)")
    );
    let text = failure.text().unwrap();
    for line in [
        format!(
            "selected: GET 404 (selectionPattern \"Not found: .*\") at {dir}/orders.yaml:9:1, template application/json"
        )
        .as_str(),
        "--- expected",
        "+++ actual",
        "-status: 410",
        "+status: 404",
    ] {
        assert!(text.lines().any(|l| l == line), "no line {line:?} in\n{text}");
    }
    let error = cases[4].first_element_child().unwrap();
    assert!(
        error.attribute("message").unwrap().contains("#include"),
        "{xml}"
    );

    // Deterministic apart from the times.
    let again = stdout(&offline(desired.path(), &["test", "--output", "junit"]));
    let untimed = |x: &str| {
        x.split("time=\"")
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part
                } else {
                    part.split_once('"').unwrap().1
                }
            })
            .collect::<String>()
    };
    assert_eq!(untimed(&xml), untimed(&again));

    // A filter selects the testcases too; everything passing is exit code 0.
    let out = offline(desired.path(), &["test", "--output", "junit", "found"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let xml = stdout(&out);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().attribute("tests"), Some("1"), "{xml}");
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count(),
        1
    );
}

#[test]
fn the_json_report_is_one_object_with_each_test_and_a_summary() {
    let desired = desired_dir(&[
        ("orders.yaml", ORDERS),
        ("include.yaml", INCLUDE),
        ("orders.tests.yaml", &three_tests()),
        ("other.tests.yaml", HOSTILE_AND_ERROR),
    ]);
    let dir = desired.path().display().to_string();
    let out = offline(
        desired.path(),
        &["test", "--output", "json", "order", "included"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("not JSON: {e}\n{}", show(&out)));
    assert_eq!(
        report["summary"],
        serde_json::json!({"passed": 2, "failed": 1, "errors": 1, "filteredOut": 1})
    );
    let tests = report["tests"].as_array().unwrap();
    let statuses: Vec<&str> = tests
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["passed", "failed", "passed", "error"]);
    let failed = &tests[1];
    assert_eq!(failed["name"], "a missing order is a 410");
    assert_eq!(failed["file"], format!("{dir}/orders.tests.yaml"));
    assert_eq!(
        (failed["line"].as_u64(), failed["column"].as_u64()),
        (Some(13), Some(1))
    );
    assert_eq!(failed["method"], "restApiName Orders /orders/{id} GET");
    assert_eq!(
        failed["message"],
        "got a different status 404 (expected 410)"
    );
    assert_eq!(
        failed["selected"],
        serde_json::json!({
            "statusCode": "404",
            "selectionPattern": "Not found: .*",
            "file": format!("{dir}/orders.yaml"),
            "line": 9,
            "column": 1,
            "template": "application/json",
            "noMatch": false,
        })
    );
    let diff = failed["diff"].as_str().unwrap();
    assert!(diff.lines().any(|l| l == "-status: 410"), "{diff}");
    assert!(diff.lines().any(|l| l == "+status: 404"), "{diff}");
    // A passing test has no diff and no message; one that could not run no selection.
    assert_eq!(
        (&tests[0]["diff"], &tests[0]["message"]),
        (&serde_json::Value::Null, &serde_json::Value::Null)
    );
    assert_eq!(
        tests[0]["selected"]["selectionPattern"],
        serde_json::Value::Null
    );
    assert_eq!(tests[3]["selected"], serde_json::Value::Null);
    assert!(tests[3]["message"].as_str().unwrap().contains("#include"));
}

#[test]
fn require_coverage_fails_on_a_response_no_test_selects_in_every_format() {
    // FOUND selects the 200; nothing selects the 404 (line 9) or renders its template.
    let desired = desired_dir(&[("orders.yaml", ORDERS), ("orders.tests.yaml", FOUND)]);
    let dir = desired.path().display().to_string();
    let uncovered = format!(
        "  not selected: {dir}/orders.yaml:9:1 (restApiName Orders /orders/{{id}} GET 404)"
    );
    // Reported, not failed, by default.
    let out = offline(desired.path(), &["test"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let report = stdout(&out);
    for line in [
        "coverage: 1/2 integration responses selected, 1/2 templates rendered",
        uncovered.as_str(),
    ] {
        assert!(
            report.lines().any(|l| l == line),
            "no {line:?} in\n{}",
            show(&out)
        );
    }
    assert_eq!(report.lines().last(), Some("1 passed, 0 failed"));

    let out = offline(desired.path(), &["test", "--require-coverage"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(
        stdout(&out).lines().last(),
        Some("1 passed, 0 failed, 1 uncovered (--require-coverage)"),
        "{}",
        show(&out)
    );

    let out = offline(
        desired.path(),
        &["test", "--require-coverage", "--output", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["coverage"]["failures"], 1, "{report}");
    let not_selected = &report["coverage"]["integrationResponses"]["notSelected"];
    assert_eq!(not_selected[0]["file"], format!("{dir}/orders.yaml"));
    assert_eq!(not_selected[0]["statusCode"], "404");

    let out = offline(
        desired.path(),
        &["test", "--require-coverage", "--output", "junit"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let xml = stdout(&out);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(doc.root_element().attribute("failures"), Some("1"), "{xml}");
    let case = doc
        .descendants()
        .find(|n| {
            n.attribute("name")
                == Some("no response test selects restApiName Orders /orders/{id} GET 404")
        })
        .unwrap_or_else(|| panic!("no coverage testcase in\n{xml}"));
    assert_eq!(case.attribute("line"), Some("9"));
    assert!(case.children().any(|n| n.has_tag_name("failure")), "{xml}");

    // A test of the 404 covers it: required coverage passes.
    let tests = format!("{FOUND}---\n{}", missing("404"));
    fs::write(desired.path().join("orders.tests.yaml"), &tests).unwrap();
    let out = offline(desired.path(), &["test", "--require-coverage"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        stdout(&out)
            .contains("coverage: 2/2 integration responses selected, 2/2 templates rendered\n"),
        "{}",
        show(&out)
    );
    // With a filter only the selected tests count, and the report says so.
    let out = offline(desired.path(), &["test", "--require-coverage", "found"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stdout(&out).contains("coverage of the 1 selected test (1 filtered out): 1/2"),
        "{}",
        show(&out)
    );
    // --list runs nothing, so there is no coverage to require.
    let out = offline(desired.path(), &["test", "--list", "--require-coverage"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
}
