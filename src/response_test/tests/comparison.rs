//! Comparing the response with what the test expects, and the runner's report.

use super::*;

#[test]
fn expected_header_names_compare_case_insensitively() {
    let spec = ir(
        "200",
        "responseParameters:\n  method.response.header.X-Trace: \"'abc'\"\n",
    );
    let pass = test_doc(
        "t",
        "mock",
        "expect:\n  headers:\n    x-trace: abc\n    CONTENT-TYPE: application/json\n",
    );
    assert!(matches!(outcome(&spec, &pass), Outcome::Passed(_)));
    // The value is compared exactly.
    let fail = test_doc("t", "mock", "expect:\n  headers:\n    x-trace: ABC\n");
    let Outcome::Failed { summary, .. } = outcome(&spec, &fail) else {
        panic!("a different header value must fail")
    };
    assert_eq!(summary, "header x-trace");
    // A header that is not set fails, and the report says so.
    let fail = test_doc("t", "mock", "expect:\n  headers:\n    X-Other: abc\n");
    let Outcome::Failed { actual, .. } = outcome(&spec, &fail) else {
        panic!("a missing header must fail")
    };
    assert!(actual.contains("header X-Other: (not set)"), "{actual}");
}

#[test]
fn expected_json_ignores_key_order_and_whitespace() {
    let spec = ir("200", "");
    let backend = "backend:\n  body: '{\"b\":2,   \"a\": [1, {\"c\": null}]}'\n";
    let pass = test_doc(
        "t",
        "http",
        &format!("{backend}expect:\n  json: {{a: [1, {{c: null}}], b: 2}}\n"),
    );
    assert!(matches!(outcome(&spec, &pass), Outcome::Passed(_)));
    // ...but not values: a number is not its string.
    let fail = test_doc(
        "t",
        "http",
        &format!("{backend}expect:\n  json: {{a: [1, {{c: null}}], b: \"2\"}}\n"),
    );
    let Outcome::Failed { summary, .. } = outcome(&spec, &fail) else {
        panic!("a different JSON value must fail")
    };
    assert_eq!(summary, "body (as JSON)");
    // An exact body compares the text, whitespace included: a block scalar's final
    // line break is part of the expected body.
    let fail = test_doc(
        "t",
        "http",
        "backend:\n  body: 'x'\nexpect:\n  body: |\n    x\n",
    );
    let Outcome::Failed { summary, .. } = outcome(&spec, &fail) else {
        panic!("a final line break must count")
    };
    assert_eq!(summary, "body");
    let fail = test_doc(
        "t",
        "http",
        &format!("{backend}expect:\n  body: '{{\"b\":2, \"a\": [1, {{\"c\": null}}]}}'\n"),
    );
    assert!(matches!(outcome(&spec, &fail), Outcome::Failed { .. }));
}

#[test]
fn expected_json_reports_a_body_that_is_not_json() {
    let fail = test_doc(
        "t",
        "http",
        "backend:\n  body: '<xml/>'\nexpect:\n  json: {a: 1}\n",
    );
    let Outcome::Failed {
        summary, actual, ..
    } = outcome(&ir("200", ""), &fail)
    else {
        panic!("a body that is not JSON must fail a json expectation")
    };
    assert_eq!(summary, "body (not JSON)");
    assert!(actual.contains("the body is not JSON"), "{actual}");
    assert!(actual.contains("<xml/>"), "{actual}");
}

#[test]
fn only_what_is_listed_is_compared() {
    // Status 404 and a body, but the test only asks for a header that is there.
    let specs = docs(&[
        ir("200", ""),
        ir(
            "404",
            "selectionPattern: \"4\\\\d{2}\"\nresponseParameters:\n  method.response.header.X-A: \"'a'\"\n",
        ),
    ]);
    let t = test_doc(
        "t",
        "http",
        "backend:\n  statusCode: 404\n  body: anything\nexpect:\n  headers:\n    X-A: a\n",
    );
    assert!(matches!(outcome(&specs, &t), Outcome::Passed(_)));
}

// ------------------------------------------------------------------- the report

#[test]
fn the_report_lists_each_test_and_shows_each_failure_with_a_diff() {
    let specs = docs(&[
        ir(
            "200",
            "responseTemplates:\n  application/json: '{\"ok\": true}'\n",
        ),
        ir(
            "404",
            "selectionPattern: \"Not found.*\"\nresponseTemplates:\n  application/json: '{\"message\": \"$input.path(''$.errorMessage'')\"}'\n",
        ),
    ]);
    let tests = docs(&[
        test_doc(
            "success is ok",
            "lambda",
            "expect:\n  statusCode: \"200\"\n  json: {ok: true}\n",
        ),
        test_doc(
            "not found is a 410",
            "lambda",
            "backend:\n  errorMessage: 'Not found: 42'\nexpect:\n  statusCode: \"410\"\n  body: '{\"message\": \"Gone\"}'\n",
        ),
    ]);
    let set = set_of(&[(SPECS, &specs), (TESTS, &tests)]);
    let run = run_all(&set);
    assert_eq!((run.passed(), run.failed()), (1, 1));
    let report = run.render();
    let expected = "\
test success is ok ... ok  [d/api.tests.yaml:1:1]
test not found is a 410 ... FAILED  [d/api.tests.yaml:11:1]

failures:

---- not found is a 410 [d/api.tests.yaml:11:1]
selected: GET 404 (selectionPattern \"Not found.*\") at d/api.yaml:9:1, template application/json
--- expected
+++ actual
@@ -1,3 +1,3 @@
-status: 410
+status: 404
 body:
-{\"message\": \"Gone\"}
+{\"message\": \"Not found: 42\"}

1 passed, 1 failed
";
    assert_eq!(report, expected);
}

#[test]
fn the_report_says_when_api_gateway_answers_its_own_500() {
    let specs = ir("404", "selectionPattern: \"Not found.*\"\n");
    let t = test_doc("t", "lambda", "expect:\n  statusCode: \"200\"\n");
    let set = set_of(&[(SPECS, &specs), (TESTS, &t)]);
    let report = run_all(&set).render();
    assert!(
        report.contains(
            "selected: none of restApiName A /r GET's integration responses matches and there is no default, so API Gateway answers 500"
        ),
        "{report}"
    );
    assert!(report.contains("-status: 200\n+status: 500\n"), "{report}");
}

#[test]
fn each_failing_test_is_one_error_at_the_tests_place() {
    let specs = ir("200", "");
    let tests = docs(&[
        test_doc("passes", "mock", ""),
        test_doc("wrong status", "mock", "expect:\n  statusCode: \"201\"\n"),
        format!(
            "# the third\n{}",
            test_doc("wrong header", "mock", "expect:\n  headers: {X-A: a}\n")
        ),
    ]);
    let set = set_of(&[(SPECS, &specs), (TESTS, &tests)]);
    let errors: Vec<String> = run_all(&set)
        .errors()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        [
            "d/api.tests.yaml:10:1: response test `wrong status` failed: got a different status 200 (expected 201); `apigw-reconciler test` shows the diff",
            "d/api.tests.yaml:20:1: response test `wrong header` failed: got a different header X-A; `apigw-reconciler test` shows the diff",
        ]
    );
    // A passing set has no errors.
    let set = set_of(&[(SPECS, &specs), (TESTS, &test_doc("passes", "mock", ""))]);
    assert!(run_all(&set).errors().is_empty());
}

#[test]
fn a_test_whose_method_has_no_integration_response_is_an_error_saying_why() {
    let specs = ir("200", "");
    // The same API, but named by id (the specs use its name): not the same method.
    let by_id = test_doc("by id", "mock", "").replace("restApiName: A", "restApi: a1b2c3");
    let other_method = test_doc("post", "mock", "").replace("httpMethod: GET", "httpMethod: POST");
    for (test, label) in [
        (by_id, "restApi a1b2c3 /r GET"),
        (other_method, "restApiName A /r POST"),
    ] {
        let set = set_of(&[(SPECS, &specs), (TESTS, &test)]);
        let e = simulate(&set.tests[0], &set, &mut crate::vtl::Meter::default()).unwrap_err();
        assert!(
            e.starts_with(&format!(
                "no integration response in the desired set for {label} "
            )),
            "{e}"
        );
        assert!(e.contains("by id or by name and path"), "{e}");
        let run = run_all(&set);
        assert!(matches!(run.results[0].1, Outcome::Error(_)));
        assert_eq!((run.passed(), run.failed()), (0, 1));
        let errors = run.errors();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .to_string()
                .starts_with("d/api.tests.yaml:1:1: response test "),
            "{}",
            errors[0]
        );
        assert!(run.render().contains(" ... ERROR  [d/api.tests.yaml:1:1]"));
    }
}

#[test]
fn a_template_that_fails_while_rendering_is_an_error_not_a_pass() {
    // API Gateway answers 500 for such a template; the test cannot pass either way.
    let spec = ir(
        "200",
        "responseTemplates:\n  application/json: '$context.stage.substring(10)'\n",
    );
    let t = test_doc(
        "t",
        "mock",
        "request:\n  context: {stage: prod}\nexpect:\n  statusCode: \"200\"\n",
    );
    let Outcome::Error(e) = outcome(&spec, &t) else {
        panic!("a failing template must be an error")
    };
    assert!(
        e.starts_with("the application/json template of d/api.yaml:1:1 failed at its line 1:"),
        "{e}"
    );
}

/// A test's name comes from a spec: the text report prints it (and its place) on one
/// visible line, so no name can clear the terminal or forge a line of the report.
#[test]
fn the_text_report_shows_a_hostile_test_name_on_one_visible_line() {
    let specs = ir("200", "");
    let t = test_doc(
        "\"x\\e[2J\\r\\ntest forged ... ok\\u2028y\"",
        "http",
        "expect:\n  statusCode: \"404\"\n",
    );
    let set = set_of(&[(SPECS, &specs), (TESTS, &t)]);
    let report = run_all(&set).render();
    assert!(
        !report.contains('\u{1b}') && !report.contains('\r') && !report.contains('\u{2028}'),
        "{report:?}"
    );
    assert_eq!(
        report.lines().filter(|l| l.starts_with("test ")).count(),
        1,
        "{report}"
    );
    assert!(report.contains("FAILED"), "{report}");
}
