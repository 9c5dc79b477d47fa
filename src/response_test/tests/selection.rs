//! Which integration response API Gateway selects for what the backend returned.

use super::*;

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
