//! The simulation and the runner against the semantics of docs/semantics.md §4–§7, one
//! rule per test. Sets and tests are read from YAML text through `parse_files`, as the
//! loader reads them, so what is tested is what a user writes.

mod comparison;
mod coverage;
mod headers;
mod inputs;
mod selection;
mod templates;

use super::*;
use crate::desired::{DesiredSet, SourceFile, parse_files};

const SPECS: &str = "d/api.yaml";
const TESTS: &str = "d/api.tests.yaml";

/// A set from (file name, text) pairs; fails the test, with the errors, if invalid.
/// Named texts as the files of a set.
fn source_files(files: &[(&str, &str)]) -> Vec<SourceFile> {
    files
        .iter()
        .map(|(name, text)| SourceFile {
            display_name: (*name).into(),
            bytes: text.as_bytes().to_vec(),
        })
        .collect()
}

fn set_of(files: &[(&str, &str)]) -> DesiredSet {
    parse_files(&source_files(files)).unwrap_or_else(|errors| {
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

/// The outcome of the single test of `test` against `specs`.
fn outcome(specs: &str, test: &str) -> Outcome {
    let set = set_of(&[(SPECS, specs), (TESTS, test)]);
    let run = run_all(&set);
    assert_eq!(run.results.len(), 1);
    run.results[0].1.clone()
}
