//! The response tests' run for CI: a JUnit XML report (as GitHub's test reporters,
//! GitLab's `artifacts:reports:junit` and Jenkins' JUnit plugin read it) and one JSON
//! object. The text report is [`TestRun::render`].
//!
//! Every value from a spec (names, method labels, file names, messages, diffs of
//! bodies) goes through [`escape::xml_attr`] or [`escape::xml_text`] in XML; JSON is
//! written by serde_json. Apart from the `time` attributes, both are deterministic.

use std::fmt::Write;
use std::time::Duration;

use serde_json::{Value, json};

use super::escape::{xml_attr, xml_text};
use crate::response_test::{Outcome, ResponseTest, Simulation, TestRun, selected};

/// The JUnit report's one suite.
pub const SUITE: &str = "apigw-reconciler response tests";

fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// `<testsuites>` with one `<testsuite>` and a `<testcase>` per selected test (with
/// its `file` and `line`; `classname` is the method, `MyDemoAPI /orders GET`): a
/// failure is a `<failure>` whose text is the selected integration response and the
/// diff, a test that could not run an `<error>`; warnings are its `<system-out>`.
pub fn junit(run: &TestRun) -> String {
    let failures = run.failed() - run.errored();
    let total: Duration = run.times.iter().sum();
    let counts = format!(
        "tests=\"{}\" failures=\"{failures}\" errors=\"{}\" time=\"{}\"",
        run.results.len(),
        run.errored(),
        seconds(total)
    );
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"apigw-reconciler\" {counts}>");
    let _ = writeln!(out, "  <testsuite name=\"{SUITE}\" {counts} skipped=\"0\">");
    for (i, (t, o)) in run.results.iter().enumerate() {
        let time = run.times.get(i).copied().unwrap_or_default();
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\" time=\"{}\"",
            xml_attr(&t.name),
            xml_attr(&t.method_label()),
            xml_attr(&t.location.file),
            t.location.pos.line,
            seconds(time)
        );
        let warnings = o.simulation().map(|s| s.warnings.as_slice()).unwrap_or(&[]);
        if matches!(o, Outcome::Passed(_)) && warnings.is_empty() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        let message = xml_attr(&o.message().unwrap_or_default());
        match o {
            Outcome::Passed(_) => {}
            Outcome::Failed { simulation, .. } => {
                let text = format!(
                    "{}\n{}",
                    selected(t, simulation),
                    o.diff().unwrap_or_default()
                );
                let _ = writeln!(
                    out,
                    "      <failure message=\"{message}\" type=\"mismatch\">{}</failure>",
                    xml_text(&text)
                );
            }
            Outcome::Error(e) => {
                let _ = writeln!(
                    out,
                    "      <error message=\"{message}\" type=\"not run\">{}</error>",
                    xml_text(e)
                );
            }
        }
        if !warnings.is_empty() {
            let text: String = warnings.iter().map(|w| format!("warning: {w}\n")).collect();
            let _ = writeln!(out, "      <system-out>{}</system-out>", xml_text(&text));
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// `{"tests": [...], "summary": {"passed", "failed", "errors", "filteredOut"}}`, a test
/// as `name`, `file`, `line`, `column`, `method`, `status` (`passed`, `failed` or
/// `error`), `selected` (the integration response, null when the test did not run),
/// `diff` and `message` (null when it passed), `warnings`.
pub fn json(run: &TestRun) -> String {
    let tests: Vec<Value> = run.results.iter().map(|(t, o)| test_json(t, o)).collect();
    json!({
        "tests": tests,
        "summary": {
            "passed": run.passed(),
            "failed": run.failed() - run.errored(),
            "errors": run.errored(),
            "filteredOut": run.filtered_out,
        },
    })
    .to_string()
}

fn test_json(t: &ResponseTest, o: &Outcome) -> Value {
    let status = match o {
        Outcome::Passed(_) => "passed",
        Outcome::Failed { .. } => "failed",
        Outcome::Error(_) => "error",
    };
    let sim = o.simulation();
    json!({
        "name": t.name,
        "file": &*t.location.file,
        "line": t.location.pos.line,
        "column": t.location.pos.col,
        "method": t.method_label(),
        "status": status,
        "selected": sim.map(selected_json),
        "diff": o.diff(),
        "message": o.message(),
        "warnings": sim.map(|s| s.warnings.clone()).unwrap_or_default(),
    })
}

/// The integration response a test's answer came from: its status code, its pattern
/// (null: the default response), its place and the template used (null: the body
/// passed through); `noMatch` for API Gateway's own 500 when none matches.
fn selected_json(sim: &Simulation) -> Value {
    match &sim.selected {
        None => json!({
            "statusCode": sim.response.status,
            "selectionPattern": null,
            "file": null,
            "line": null,
            "column": null,
            "template": null,
            "noMatch": true,
        }),
        Some(spec) => {
            let pattern = spec
                .settings
                .selection_pattern
                .as_deref()
                .filter(|p| !p.is_empty() && *p != "-");
            json!({
                "statusCode": spec.status_code,
                "selectionPattern": pattern,
                "file": &*spec.location.file,
                "line": spec.location.pos.line,
                "column": spec.location.pos.col,
                "template": sim.template,
                "noMatch": false,
            })
        }
    }
}
