//! The simulation and the runner against DESIGN.md's "Response tests" semantics, one
//! rule per test. Sets and tests are read from YAML text through `parse_files`, as the
//! loader reads them, so what is tested is what a user writes.

use super::*;
use crate::desired::{DesiredSet, SourceFile, parse_files};

const SPECS: &str = "d/api.yaml";
const TESTS: &str = "d/api.tests.yaml";

/// A set from (file name, text) pairs; fails the test, with the errors, if invalid.
fn set_of(files: &[(&str, &str)]) -> DesiredSet {
    let files: Vec<SourceFile> = files
        .iter()
        .map(|(name, text)| SourceFile {
            display_name: (*name).into(),
            bytes: text.as_bytes().to_vec(),
        })
        .collect();
    parse_files(&files).unwrap_or_else(|errors| {
        panic!(
            "the set is invalid:\n{}",
            errors
                .iter()
                .map(|e| format!("  {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

/// One integration response of `restApiName A`, `/r`, GET; `extra` is more YAML lines.
fn ir(code: &str, extra: &str) -> String {
    format!(
        "kind: IntegrationResponse\nrestApiName: A\nresourcePath: /r\nhttpMethod: GET\nstatusCode: \"{code}\"\n{extra}"
    )
}

/// Documents joined into one multi-document file.
fn docs(parts: &[String]) -> String {
    parts.join("---\n")
}

/// One response test of GET /r named `name`; `extra` holds backend/request/expect
/// lines. Without an `expect:` of its own, it expects nothing but status 200 (for
/// tests that look at the simulation, not at the comparison).
fn test_doc(name: &str, integration: &str, extra: &str) -> String {
    let expect = if extra.contains("expect:") {
        ""
    } else {
        "expect:\n  statusCode: \"200\"\n"
    };
    format!(
        "kind: ResponseTest\nname: {name}\nrestApiName: A\nresourcePath: /r\nhttpMethod: GET\nintegration: {integration}\n{extra}{expect}"
    )
}

/// Simulate the one test of `tests` against `specs`.
fn sim(specs: &str, test: &str) -> Simulation {
    let set = set_of(&[(SPECS, specs), (TESTS, test)]);
    assert_eq!(set.tests.len(), 1, "one test expected");
    simulate(&set.tests[0], &set, &mut crate::vtl::Meter::default())
        .unwrap_or_else(|e| panic!("the simulation failed: {e}"))
}

/// The status code of the integration response the simulation selected.
fn selected_code(s: &Simulation) -> Option<&str> {
    s.selected.as_deref().map(|spec| spec.status_code.as_str())
}

fn lambda_error(message: &str) -> String {
    format!("backend:\n  errorMessage: {message:?}\n")
}

fn http_status(code: &str) -> String {
    format!("backend:\n  statusCode: {code}\n")
}

// ------------------------------------------------------------------- selection

#[test]
fn lambda_selection_matches_the_pattern_against_the_error_message() {
    let specs = docs(&[
        ir("200", ""),
        ir("404", "selectionPattern: \"Not found: .*\"\n"),
        ir("500", "selectionPattern: \"Internal.*\"\n"),
    ]);
    for (message, want) in [
        ("Not found: order 42", "404"),
        ("Internal: disk full", "500"),
        ("something else", "200"),
    ] {
        let s = sim(&specs, &test_doc("t", "lambda", &lambda_error(message)));
        assert_eq!(selected_code(&s), Some(want), "{message}");
        assert_eq!(s.response.status, want, "{message}");
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }
}

#[test]
fn a_successful_lambda_call_is_matched_as_an_empty_message() {
    // `.*` matches the empty message of a successful call, so it captures successes...
    let specs = docs(&[ir("200", ""), ir("400", "selectionPattern: \".*\"\n")]);
    let s = sim(&specs, &test_doc("t", "lambda", ""));
    assert_eq!(selected_code(&s), Some("400"));
    // ...while `.+` needs at least one character: the success goes to the default.
    let specs = docs(&[ir("200", ""), ir("400", "selectionPattern: \".+\"\n")]);
    let s = sim(&specs, &test_doc("t", "lambda", ""));
    assert_eq!(selected_code(&s), Some("200"));
    // A failed call with a message is captured by `.+`.
    let s = sim(&specs, &test_doc("t", "lambda", &lambda_error("x")));
    assert_eq!(selected_code(&s), Some("400"));
}

#[test]
fn http_aws_and_mock_selection_matches_the_pattern_against_the_status_code() {
    let specs = docs(&[
        ir("200", ""),
        ir("404", "selectionPattern: \"4\\\\d{2}\"\n"),
        ir("500", "selectionPattern: \"5\\\\d{2}\"\n"),
    ]);
    for kind in ["http", "aws", "mock"] {
        for (backend, want) in [
            ("404", "404"),
            ("429", "404"),
            ("503", "500"),
            ("201", "200"),
        ] {
            let s = sim(&specs, &test_doc("t", kind, &http_status(backend)));
            assert_eq!(selected_code(&s), Some(want), "{kind} {backend}");
        }
    }
}

#[test]
fn a_backend_without_a_status_code_is_matched_as_200() {
    // The default response is 500 here, so only a 200 input reaches 202.
    let specs = docs(&[ir("500", ""), ir("202", "selectionPattern: \"200\"\n")]);
    for kind in ["http", "aws", "mock"] {
        let s = sim(&specs, &test_doc("t", kind, ""));
        assert_eq!(selected_code(&s), Some("202"), "{kind}");
    }
}

#[test]
fn a_pattern_must_match_the_whole_string() {
    // "40" is in "404" and "Not found" starts the message: neither is a whole match.
    let specs = docs(&[ir("200", ""), ir("404", "selectionPattern: \"40\"\n")]);
    let s = sim(&specs, &test_doc("t", "http", &http_status("404")));
    assert_eq!(selected_code(&s), Some("200"));
    let specs = docs(&[
        ir("200", ""),
        ir("404", "selectionPattern: \"Not found\"\n"),
    ]);
    let s = sim(
        &specs,
        &test_doc("t", "lambda", &lambda_error("Not found: order 42")),
    );
    assert_eq!(selected_code(&s), Some("200"));
    let s = sim(&specs, &test_doc("t", "lambda", &lambda_error("Not found")));
    assert_eq!(selected_code(&s), Some("404"));
}

#[test]
fn dot_does_not_cross_newlines_in_a_multi_line_error_message() {
    let message = "lambda_handler failed\nNot found: order 42\n  at index.js:3";
    // `.` stops at a line break (Java without DOTALL): the first line does not match.
    let specs = docs(&[
        ir("200", ""),
        ir("404", "selectionPattern: \".*Not found.*\"\n"),
    ]);
    let s = sim(&specs, &test_doc("t", "lambda", &lambda_error(message)));
    assert_eq!(selected_code(&s), Some("200"));
    // The documented workaround spans the lines.
    let specs = docs(&[
        ir("200", ""),
        ir("404", "selectionPattern: '(\\n|.)*Not found(\\n|.)*'\n"),
    ]);
    let s = sim(&specs, &test_doc("t", "lambda", &lambda_error(message)));
    assert_eq!(selected_code(&s), Some("404"));
}

#[test]
fn no_match_selects_the_default_response() {
    let specs = docs(&[
        ir("404", "selectionPattern: \"Not found.*\"\n"),
        ir("502", ""),
    ]);
    let s = sim(&specs, &test_doc("t", "lambda", &lambda_error("boom")));
    assert_eq!(selected_code(&s), Some("502"));
    assert_eq!(s.response.status, "502");
}

#[test]
fn no_match_and_no_default_is_api_gateways_own_500() {
    let specs = docs(&[ir("404", "selectionPattern: \"Not found.*\"\n")]);
    let s = sim(&specs, &test_doc("t", "lambda", &lambda_error("boom")));
    assert!(s.selected.is_none(), "{:?}", s.selected);
    assert_eq!(s.response.status, "500");
    assert_eq!(s.response.body, r#"{"message": "Internal server error"}"#);
    assert_eq!(s.response.header("content-type"), Some("application/json"));
}

#[test]
fn several_matching_patterns_pick_the_lowest_status_and_warn() {
    // The higher status is first in the file, so neither file order nor "the last
    // one" would give 400.
    let specs = docs(&[
        ir("404", "selectionPattern: \"Not found.*\"\n"),
        ir("200", ""),
        ir("400", "selectionPattern: \".*order.*\"\n"),
    ]);
    let set = set_of(&[
        (SPECS, &specs),
        (
            TESTS,
            &test_doc("overlap", "lambda", &lambda_error("Not found: order 42")),
        ),
    ]);
    let s = simulate(&set.tests[0], &set, &mut crate::vtl::Meter::default()).unwrap();
    assert_eq!(selected_code(&s), Some("400"));
    let run = run_all(&set);
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = &warnings[0];
    assert!(
        w.starts_with("d/api.tests.yaml:1:1: response test `overlap`: "),
        "{w}"
    );
    assert!(
        w.contains("400") && w.contains("404") && w.contains("lowest"),
        "{w}"
    );
    // The warning is also in the report, and the test itself passes or fails on
    // its own merits.
    assert!(run.render().contains(&format!("warning: {w}")));
    // One match gives no warning.
    let set = set_of(&[
        (SPECS, &specs),
        (
            TESTS,
            &test_doc("one", "lambda", &lambda_error("Not found: 42")),
        ),
    ]);
    assert!(run_all(&set).warnings().is_empty());
}

#[test]
fn responses_with_state_absent_are_never_selected() {
    let specs = docs(&[
        ir("200", ""),
        ir("404", "selectionPattern: \"Not found.*\"\nstate: absent\n"),
    ]);
    let s = sim(
        &specs,
        &test_doc("t", "lambda", &lambda_error("Not found: 1")),
    );
    assert_eq!(selected_code(&s), Some("200"));
}

// ------------------------------------------------------------------- templates

/// A 200 default response with the given `responseTemplates` lines (indented by two).
fn templated(templates: &str) -> String {
    ir("200", &format!("responseTemplates:\n{templates}"))
}

/// application/json is neither first in the file nor first by media type.
const THREE: &str = "  text/plain: text\n  application/xml: xml\n  application/json: json\n  application/atom+xml: atom\n";

fn accept(a: &str) -> String {
    format!("request:\n  accept: {a:?}\n")
}

#[test]
fn accept_picks_the_template_ignoring_parameters_and_case() {
    let s = sim(
        &templated(THREE),
        &test_doc("t", "mock", &accept("Application/XML; charset=UTF-8")),
    );
    assert_eq!(s.response.body, "xml");
    assert_eq!(s.template.as_deref(), Some("application/xml"));
    assert_eq!(s.response.header("Content-Type"), Some("application/xml"));
    let s = sim(
        &templated(THREE),
        &test_doc("t", "mock", &accept("text/plain")),
    );
    assert_eq!(s.response.body, "text");
    // The template's key is a media type too: any case.
    let s = sim(
        &templated("  application/json: json\n  application/vnd.Example+JSON: vnd\n"),
        &test_doc("t", "mock", &accept("application/vnd.example+json")),
    );
    assert_eq!(s.response.body, "vnd");
}

#[test]
fn no_accept_or_an_unmatched_one_uses_application_json() {
    // Chosen by name, not by place (see THREE).
    let s = sim(&templated(THREE), &test_doc("t", "mock", ""));
    assert_eq!(s.response.body, "json");
    assert_eq!(s.response.header("Content-Type"), Some("application/json"));
    let s = sim(
        &templated(THREE),
        &test_doc("t", "mock", &accept("image/png")),
    );
    assert_eq!(s.response.body, "json");
}

#[test]
fn without_an_application_json_template_the_first_one_is_used() {
    // "The first" is the first by media type: a spec's maps are order-free (API
    // Gateway stores a JSON object; reordering a file's templates plans no change),
    // so the file's order must not decide a test either. text/plain is written first
    // here and application/xml is still chosen.
    let two = "  text/plain: text\n  application/xml: xml\n";
    for a in ["", "image/png"] {
        let request = if a.is_empty() {
            String::new()
        } else {
            accept(a)
        };
        let s = sim(&templated(two), &test_doc("t", "mock", &request));
        assert_eq!(s.response.body, "xml", "accept {a:?}");
        assert_eq!(s.template.as_deref(), Some("application/xml"));
        assert_eq!(s.response.header("Content-Type"), Some("application/xml"));
    }
}

#[test]
fn a_passthrough_entry_passes_the_body_through_with_json_content_type() {
    let body = "backend:\n  body: '<raw>body</raw>'\n";
    // Picked by Accept over the application/json template: the entry is real.
    let templates = "  application/json: json\n  text/plain: \"\"\n";
    let s = sim(
        &templated(templates),
        &test_doc("t", "mock", &format!("{body}{}", accept("text/plain"))),
    );
    assert_eq!(s.response.body, "<raw>body</raw>");
    assert_eq!(s.template, None);
    assert_eq!(s.response.header("Content-Type"), Some("application/json"));
    // A null value is a passthrough entry too, and it is the fallback here.
    let s = sim(
        &templated("  application/json: null\n  text/plain: text\n"),
        &test_doc("t", "mock", body),
    );
    assert_eq!(s.response.body, "<raw>body</raw>");
}

#[test]
fn without_templates_the_body_passes_through() {
    let s = sim(
        &ir("200", ""),
        &test_doc(
            "t",
            "http",
            &format!("backend:\n  body: 'plain text'\n{}", accept("text/html")),
        ),
    );
    assert_eq!(s.response.body, "plain text");
    assert_eq!(s.template, None);
    assert_eq!(s.response.header("Content-Type"), Some("application/json"));
}

#[test]
fn a_content_type_mapping_replaces_the_passthrough_content_type() {
    let spec = ir(
        "200",
        "responseParameters:\n  method.response.header.Content-Type: \"'text/csv'\"\n",
    );
    let s = sim(&spec, &test_doc("t", "http", "backend:\n  body: 'a,b'\n"));
    let content_types: Vec<_> = s
        .response
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .collect();
    assert_eq!(
        content_types,
        [&("Content-Type".to_owned(), "text/csv".to_owned())]
    );
}

#[test]
fn a_content_type_mapping_also_replaces_the_templates_media_type() {
    // DESIGN.md names only the passthrough case; the code lets a mapping win over the
    // template's media type too (a mapped header is what the method response says).
    let spec = ir(
        "200",
        "responseParameters:\n  method.response.header.content-type: \"'application/hal+json'\"\nresponseTemplates:\n  application/json: '{}'\n",
    );
    let s = sim(&spec, &test_doc("t", "http", ""));
    assert_eq!(s.template.as_deref(), Some("application/json"));
    assert_eq!(
        s.response.header("Content-Type"),
        Some("application/hal+json")
    );
    assert_eq!(s.response.headers.len(), 1, "{:?}", s.response.headers);
}

#[test]
fn response_override_sets_status_and_headers() {
    let spec = ir(
        "200",
        "responseParameters:\n  method.response.header.X-Trace: \"'mapped'\"\nresponseTemplates:\n  application/json: |\n    #set($context.responseOverride.status = 404)\n    #set($context.responseOverride.header.x-trace = 'overridden')\n    #set($context.responseOverride.header.X-New = 'y')\n    gone\n",
    );
    let s = sim(&spec, &test_doc("t", "mock", ""));
    assert_eq!(selected_code(&s), Some("200"));
    assert_eq!(s.response.status, "404");
    assert_eq!(s.response.body, "gone\n");
    assert_eq!(s.response.header("X-New"), Some("y"));
    // The override replaces the mapped header of the same name (any case).
    let traces: Vec<_> = s
        .response
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("x-trace"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(traces, ["overridden"]);
}

// ------------------------------------------------------------------- lambda body

#[test]
fn a_failed_lambda_without_a_body_has_its_error_object_as_the_body() {
    let specs = docs(&[
        ir("200", ""),
        ir(
            "404",
            "selectionPattern: \"Not found.*\"\nresponseTemplates:\n  application/json: '{\"message\": \"$input.path(''$.errorMessage'')\"}'\n  text/plain: \"\"\n",
        ),
    ]);
    let s = sim(
        &specs,
        &test_doc("t", "lambda", &lambda_error("Not found: order 42")),
    );
    let got: serde_json::Value = serde_json::from_str(&s.response.body).unwrap();
    assert_eq!(got, serde_json::json!({"message": "Not found: order 42"}));
    // Passed through, it is exactly the error object.
    let s = sim(
        &specs,
        &test_doc(
            "t",
            "lambda",
            &format!("{}{}", lambda_error("Not found: 1"), accept("text/plain")),
        ),
    );
    let got: serde_json::Value = serde_json::from_str(&s.response.body).unwrap();
    assert_eq!(got, serde_json::json!({"errorMessage": "Not found: 1"}));
    // A body the test gives wins.
    let s = sim(
        &specs,
        &test_doc(
            "t",
            "lambda",
            "backend:\n  errorMessage: 'Not found: 1'\n  body: 'custom'\nrequest:\n  accept: text/plain\n",
        ),
    );
    assert_eq!(s.response.body, "custom");
}

// ------------------------------------------------------------------- headers

/// The headers a 200 default response with these mappings gives for `backend`/`request`.
fn mapped(mappings: &[(&str, &str)], extra: &str) -> Vec<(String, String)> {
    let mut spec = ir("200", "responseParameters:\n");
    for (name, source) in mappings {
        spec.push_str(&format!("  method.response.header.{name}: {source:?}\n"));
    }
    let s = sim(&spec, &test_doc("t", "http", extra));
    let mut headers: Vec<_> = s
        .response
        .headers
        .into_iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("content-type"))
        .collect();
    headers.sort();
    headers
}

/// Header pairs, sorted as [`mapped`] sorts them.
fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut p: Vec<_> = p
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    p.sort();
    p
}

#[test]
fn header_mapping_from_an_integration_response_header_ignores_case() {
    let got = mapped(
        &[
            ("X-Trace", "integration.response.header.X-TRACE"),
            ("X-Missing", "integration.response.header.X-Nope"),
        ],
        "backend:\n  headers:\n    x-trace: abc\n",
    );
    assert_eq!(got, pairs(&[("X-Trace", "abc")]));
}

#[test]
fn header_mapping_from_a_multivalue_header_joins_with_commas() {
    let got = mapped(
        &[(
            "Set-Cookie",
            "integration.response.multivalueheader.set-cookie",
        )],
        "backend:\n  multiValueHeaders:\n    Set-Cookie: [a=1, b=2, c=3]\n",
    );
    assert_eq!(got, pairs(&[("Set-Cookie", "a=1,b=2,c=3")]));
}

#[test]
fn header_mapping_from_the_whole_body() {
    let got = mapped(
        &[("X-Body", "integration.response.body")],
        "backend:\n  body: '{\"a\": 1}'\n",
    );
    assert_eq!(got, pairs(&[("X-Body", "{\"a\": 1}")]));
}

#[test]
fn header_mapping_from_a_body_json_path() {
    let got = mapped(
        &[
            ("X-Code", "integration.response.body.error.code"),
            ("X-Detail", "integration.response.body.error.detail"),
            ("X-Count", "integration.response.body.count"),
            ("X-Missing", "integration.response.body.error.nope"),
        ],
        "backend:\n  body: '{\"error\": {\"code\": \"E1\", \"detail\": {\"x\": [1, 2]}}, \"count\": 3}'\n",
    );
    assert_eq!(
        got,
        pairs(&[
            ("X-Code", "E1"),
            ("X-Detail", "{\"x\":[1,2]}"),
            ("X-Count", "3")
        ])
    );
    // A body that is not JSON has no paths: the header is not set.
    let got = mapped(
        &[("X-Code", "integration.response.body.error.code")],
        "backend:\n  body: 'not json'\n",
    );
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn header_mapping_from_context_variables_nested_or_not() {
    let got = mapped(
        &[
            ("X-Ip", "context.identity.sourceIp"),
            ("X-Request", "context.requestId"),
            ("X-Nope", "context.identity.nope"),
        ],
        "request:\n  context:\n    requestId: r-1\n    identity:\n      sourceIp: 192.0.2.1\n",
    );
    assert_eq!(got, pairs(&[("X-Ip", "192.0.2.1"), ("X-Request", "r-1")]));
}

#[test]
fn header_mapping_from_stage_variables_and_static_values() {
    let got = mapped(
        &[
            ("Access-Control-Allow-Origin", "stageVariables.origin"),
            ("Access-Control-Allow-Methods", "'GET,OPTIONS'"),
            ("X-Unset", "stageVariables.nope"),
        ],
        "request:\n  stageVariables:\n    origin: https://example.com\n",
    );
    assert_eq!(
        got,
        pairs(&[
            ("Access-Control-Allow-Origin", "https://example.com"),
            ("Access-Control-Allow-Methods", "GET,OPTIONS"),
        ])
    );
}

#[test]
fn mappings_to_reserved_headers_are_renamed() {
    // DESIGN.md's list, written out here rather than taken from the code.
    let reserved = [
        "Authorization",
        "Connection",
        "Content-Length",
        "Content-MD5",
        "Date",
        "Expect",
        "Host",
        "Max-Forwards",
        "Proxy-Authenticate",
        "Server",
        "Trailer",
        "Upgrade",
        "User-Agent",
        "WWW-Authenticate",
    ];
    let mappings: Vec<(&str, &str)> = reserved.iter().map(|h| (*h, "'v'")).collect();
    let got = mapped(&mappings, "");
    let mut want: Vec<(String, String)> = reserved
        .iter()
        .map(|h| (format!("x-amzn-Remapped-{h}"), "v".to_owned()))
        .collect();
    want.sort();
    assert_eq!(got, want);
    // Any case of the name is reserved.
    let got = mapped(&[("server", "'v'")], "");
    assert_eq!(got, pairs(&[("x-amzn-Remapped-server", "v")]));
}

#[test]
fn mappings_to_via_and_transfer_encoding_are_dropped() {
    let got = mapped(
        &[
            ("Via", "'1.1 proxy'"),
            ("Transfer-Encoding", "'chunked'"),
            ("transfer-encoding", "'gzip'"),
            ("X-Kept", "'yes'"),
        ],
        "",
    );
    assert_eq!(got, pairs(&[("X-Kept", "yes")]));
}

// ------------------------------------------------------------------- comparison

/// The outcome of the single test of `test` against `specs`.
fn outcome(specs: &str, test: &str) -> Outcome {
    let set = set_of(&[(SPECS, specs), (TESTS, test)]);
    let run = run_all(&set);
    assert_eq!(run.results.len(), 1);
    run.results[0].1.clone()
}

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

// ------------------------------------------------------------------- YAML types

/// The errors of a set, as `file:line:col: message`.
fn set_errors(files: &[(&str, &str)]) -> Vec<String> {
    let files: Vec<SourceFile> = files
        .iter()
        .map(|(name, text)| SourceFile {
            display_name: (*name).into(),
            bytes: text.as_bytes().to_vec(),
        })
        .collect();
    match parse_files(&files) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

/// The AWS guide's pet-store transformation ("Mapping template examples": askingPrice
/// from the integration response's price).
const PETS: &str = "responseTemplates:\n  application/json: |\n    #set($inputRoot = $input.path('$'))\n    [\n    #foreach($elem in $inputRoot)\n      {\"description\": \"Item $elem.id is a $elem.type.\", \"askingPrice\": $elem.price}#if($foreach.hasNext),#end\n    #end\n    ]\n";
const PETS_BODY: &str = "backend:\n  body: '[{\"id\": 1, \"type\": \"dog\", \"price\": 249.99}, {\"id\": 2, \"type\": \"cat\", \"price\": 1e3}]'\n";

#[test]
fn plain_yaml_numbers_in_expect_json_are_numbers() {
    // Plain scalars are typed by YAML 1.2's core schema: 249.99 and 1e3 are numbers
    // (1e3 is the body's 1e3, and would be its 1000 too: numbers compare by value).
    let pass = test_doc(
        "t",
        "http",
        &format!(
            "{PETS_BODY}expect:\n  json:\n    - {{description: Item 1 is a dog., askingPrice: 249.99}}\n    - {{description: Item 2 is a cat., askingPrice: 1e3}}\n"
        ),
    );
    let got = outcome(&ir("200", PETS), &pass);
    assert!(matches!(got, Outcome::Passed(_)), "{got:?}");
    let thousand = test_doc(
        "t",
        "http",
        "backend:\n  body: '{\"n\": 1000, \"f\": 0.5}'\nexpect:\n  json: {n: 1e3, f: .5}\n",
    );
    assert!(matches!(
        outcome(&ir("200", ""), &thousand),
        Outcome::Passed(_)
    ));
    // Quoted, it is the text, and the number in the body is not.
    let quoted = test_doc(
        "t",
        "http",
        "backend:\n  body: '{\"price\": 249.99}'\nexpect:\n  json: {price: '249.99'}\n",
    );
    let Outcome::Failed { summary, .. } = outcome(&ir("200", ""), &quoted) else {
        panic!("a quoted number is a string")
    };
    assert_eq!(summary, "body (as JSON)");
}

#[test]
fn plain_yaml_numbers_in_the_request_context_are_numbers() {
    // A string is not greater than 2.5 in Velocity; the number 3.5 is.
    let spec = ir(
        "200",
        "responseTemplates:\n  application/json: '#if($context.limit > 2.5)big#{else}small#end $context.limit'\n",
    );
    for (limit, want) in [
        ("3.5", "big 3.5"),
        ("'3.5'", "small 3.5"),
        ("0x10", "big 16"),
    ] {
        let s = sim(
            &spec,
            &test_doc(
                "t",
                "mock",
                &format!("request:\n  context: {{limit: {limit}}}\n"),
            ),
        );
        assert_eq!(s.response.body, want, "limit: {limit}");
    }
}

#[test]
fn infinity_and_nan_in_free_form_values_are_errors_at_their_place() {
    // JSON cannot hold them, so no body can match them: refused, not read as text.
    let t = test_doc(
        "t",
        "mock",
        "request:\n  context:\n    rate: .nan\nexpect:\n  json:\n    max: -.inf\n    label: '.inf'\n",
    );
    assert_eq!(
        set_errors(&[(SPECS, &ir("200", "")), (TESTS, &t)]),
        [
            "d/api.tests.yaml:9:11: value of `request.context.rate` is `.nan`, which YAML reads as a number JSON cannot hold (infinite or not a number); quote it ('.nan') if you mean the text",
            "d/api.tests.yaml:12:10: value of `expect.json.max` is `-.inf`, which YAML reads as a number JSON cannot hold (infinite or not a number); quote it ('-.inf') if you mean the text",
        ]
    );
    // A core tag its text does not fit is refused too; `!!str` keeps the text.
    let t = test_doc(
        "t",
        "http",
        "backend:\n  body: '{\"a\": \"12\", \"b\": 12}'\nexpect:\n  json: {a: !!str 12, b: !!int 12}\n",
    );
    assert!(matches!(outcome(&ir("200", ""), &t), Outcome::Passed(_)));
    let t = test_doc("t", "mock", "expect:\n  json: {b: !!int twelve}\n");
    let errors = set_errors(&[(SPECS, &ir("200", "")), (TESTS, &t)]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("d/api.tests.yaml:8:19: value of `expect.json.b` is tagged !!int but `twelve` is not an integer"),
        "{errors:?}"
    );
}

// ------------------------------------------------------------------- $input and $util

#[test]
fn url_encode_of_null_renders_as_nothing() {
    // The template of LocalStack's test_input_body_formatting, recorded against AWS:
    // `$input.body` is a string, so `.testAccess` is null, and AWS renders
    // `EncodedBodyAccess=` (java.net.URLEncoder would throw: API Gateway's 500).
    let spec = ir(
        "200",
        "responseTemplates:\n  application/json: 'EncodedBodyAccess=$util.urlEncode($input.body.testAccess)'\n",
    );
    let t = test_doc(
        "t",
        "http",
        "backend:\n  body: '{\"some\": \"value\"}'\nexpect:\n  body: EncodedBodyAccess=\n",
    );
    let got = outcome(&spec, &t);
    assert!(matches!(got, Outcome::Passed(_)), "{got:?}");
}

#[test]
fn a_body_that_is_not_json_has_nothing_at_any_path() {
    // An HTTP backend's plain-text 503: $input.path finds nothing (null, rendered as
    // nothing) and $input.json gives the JSON of an empty string, as for a JSON body
    // without the path (LocalStack's test_template_mapping.py, from the AWS console).
    let specs = docs(&[
        ir("200", ""),
        ir(
            "502",
            "selectionPattern: \"5\\\\d{2}\"\nresponseTemplates:\n  application/json: '{\"message\": $input.json(''$.message''), \"code\": \"$input.path(''$.code'')\"}'\n",
        ),
    ]);
    for body in ["Service Unavailable", "{\"error\": \"busy\"}"] {
        let t = test_doc(
            "t",
            "http",
            &format!(
                "backend:\n  statusCode: 503\n  body: {body:?}\nexpect:\n  statusCode: \"502\"\n  json: {{message: '', code: ''}}\n"
            ),
        );
        let got = outcome(&specs, &t);
        assert!(matches!(got, Outcome::Passed(_)), "{body}: {got:?}");
    }
}

// ------------------------------------------------------------------- overrides, body mappings

#[test]
fn lambda_custom_error_json_is_read_by_body_to_header_mappings() {
    // "Handle custom Lambda errors in API Gateway" (AWS developer guide), its example
    // error, mappings and headers as the guide gives them.
    let error = r#"{"errorType":"InternalServerError","httpStatus":500,"requestId":"e5849002-39a0-11e7-a419-5bb5807c9fb2","trace":{"function":"abc()","line":123,"file":"abc.js"}}"#;
    let spec = ir(
        "200",
        "responseParameters:\n  method.response.header.error_trace_function: integration.response.body.errorMessage.trace.function\n  method.response.header.error_status: integration.response.body.errorMessage.httpStatus\n  method.response.header.error_type: integration.response.body.errorMessage.errorType\n  method.response.header.error_trace: integration.response.body.errorMessage.trace\n",
    );
    let s = sim(&spec, &test_doc("t", "lambda", &lambda_error(error)));
    let header = |n| s.response.header(n);
    assert_eq!(header("error_trace_function"), Some("abc()"));
    assert_eq!(header("error_status"), Some("500"));
    assert_eq!(header("error_type"), Some("InternalServerError"));
    assert_eq!(
        header("error_trace"),
        Some(r#"{"function":"abc()","line":123,"file":"abc.js"}"#)
    );
    // Only header mappings deserialize it: the body passes through as Lambda sent it.
    let got: serde_json::Value = serde_json::from_str(&s.response.body).unwrap();
    assert_eq!(got, serde_json::json!({ "errorMessage": error }));
    // A message that is not JSON has no paths below it.
    let s = sim(
        &spec,
        &test_doc("t", "lambda", &lambda_error("Malformed input ...")),
    );
    assert_eq!(s.response.header("error_type"), None);
    // A successful call's body is not an error: its errorMessage stays a string.
    let ok = format!(
        "backend:\n  body: {:?}\n",
        serde_json::json!({ "errorMessage": error }).to_string()
    );
    let s = sim(&spec, &test_doc("t", "lambda", &ok));
    assert_eq!(s.response.header("error_type"), None);
}

#[test]
fn the_whole_empty_body_maps_to_a_header_as_an_empty_object() {
    // As `$input.body` reads it (LocalStack's test_parameters_mapping.py,
    // test_body_mapping_empty, response side).
    let got = mapped(&[("X-Body", "integration.response.body")], "");
    assert_eq!(got, pairs(&[("X-Body", "{}")]));
    let got = mapped(
        &[("X-Body", "integration.response.body")],
        "backend:\n  body: ''\n",
    );
    assert_eq!(got, pairs(&[("X-Body", "{}")]));
}

#[test]
fn a_status_override_outside_100_to_599_is_ignored() {
    // LocalStack: integration_response.py ("AWS ignores the status if the override
    // isn't an integer between 100 and 599") and its test_status_code (600, 99).
    let spec = |value: &str| {
        ir(
            "201",
            &format!(
                "responseTemplates:\n  application/json: '#set($context.responseOverride.status = {value})done'\n"
            ),
        )
    };
    for (value, want) in [
        ("600", "201"),
        ("99", "201"),
        ("0", "201"),
        ("1000", "201"),
        ("-404", "201"),
        ("404.5", "201"),
        ("100", "100"),
        ("599", "599"),
        ("''404''", "404"),
    ] {
        let s = sim(&spec(value), &test_doc("t", "mock", ""));
        assert_eq!(s.response.status, want, "override {value}");
        assert_eq!(s.response.body, "done");
        let warned = s.warnings.iter().any(|w| w.contains("ignores"));
        assert_eq!(warned, want == "201", "override {value}: {:?}", s.warnings);
    }
}
