//! The response tests' run for CI: a JUnit XML report (as GitHub's test reporters,
//! GitLab's `artifacts:reports:junit` and Jenkins' JUnit plugin read it) and one JSON
//! object. The text report is [`TestRun::render`] and [`Coverage::render`].
//!
//! Both carry the run's coverage ([`Coverage`]): JUnit as `<properties>` of the suite
//! (the counts) and its `<system-out>` (the text listing), and, with
//! `--require-coverage`, a failed `<testcase>` per integration response no test
//! selected; JSON as a `coverage` object.
//!
//! Every value from a spec (names, method labels, file names, messages, diffs of
//! bodies) goes through [`escape::xml_attr`] or [`escape::xml_text`] in XML; JSON is
//! written by serde_json. Apart from the `time` attributes, both are deterministic.

use std::fmt::Write;
use std::time::Duration;

use serde_json::{Value, json};

use super::escape::{xml_attr, xml_text};
use crate::response_test::coverage::{how_to_select, label};
use crate::response_test::{Coverage, Outcome, ResponseTest, Simulation, TestRun, selected};

/// The JUnit report's one suite.
pub const SUITE: &str = "apigw-reconciler response tests";

fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// `<testsuites>` with one `<testsuite>` and a `<testcase>` per selected test (with
/// its `file` and `line`; `classname` is the method, `MyDemoAPI /orders GET`): a
/// failure is a `<failure>` whose text is the selected integration response and the
/// diff, a test that could not run an `<error>`; warnings are its `<system-out>`.
///
/// The suite's `<properties>` (first, as the JUnit schemas Jenkins, GitLab and
/// GitHub's reporters follow want them) hold the coverage counts, `coverage.*`; its
/// `<system-out>` (last) the coverage text. When coverage is required, each
/// integration response no test selected is one more failed `<testcase>`, named for
/// what it lacks (`no response test selects restApiName A /r GET 500`) at the spec's
/// place, counted in `tests` and `failures`.
pub fn junit(run: &TestRun, coverage: &Coverage) -> String {
    suites(&[(SUITE.to_owned(), run, coverage)])
}

/// [`junit`] for several targets: one `<testsuite>` per target, named
/// `apigw-reconciler response tests: <target>`, the `<testsuites>` counting them all.
pub fn junit_targets(targets: &[(&str, &TestRun, &Coverage)]) -> String {
    let named: Vec<_> = targets
        .iter()
        .map(|(name, run, coverage)| (format!("{SUITE}: {name}"), *run, *coverage))
        .collect();
    suites(&named)
}

/// A suite's counts: tests, failures, errors, time.
fn counts(run: &TestRun, coverage: &Coverage) -> (usize, usize, usize, Duration) {
    let uncovered = coverage.failures();
    (
        run.results.len() + uncovered,
        run.failed() - run.errored() + uncovered,
        run.errored(),
        run.times.iter().sum(),
    )
}

fn counts_attrs((tests, failures, errors, time): (usize, usize, usize, Duration)) -> String {
    format!(
        "tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{}\"",
        seconds(time)
    )
}

fn suites(suites: &[(String, &TestRun, &Coverage)]) -> String {
    let total = suites
        .iter()
        .map(|(_, run, coverage)| counts(run, coverage))
        .fold((0, 0, 0, Duration::ZERO), |a, c| {
            (a.0 + c.0, a.1 + c.1, a.2 + c.2, a.3 + c.3)
        });
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"apigw-reconciler\" {}>",
        counts_attrs(total)
    );
    for (name, run, coverage) in suites {
        suite(&mut out, name, run, coverage);
    }
    out.push_str("</testsuites>\n");
    out
}

/// One `<testsuite>` (see [`junit`]).
fn suite(out: &mut String, name: &str, run: &TestRun, coverage: &Coverage) {
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" {} skipped=\"0\">",
        xml_attr(name),
        counts_attrs(counts(run, coverage))
    );
    out.push_str("    <properties>\n");
    for (name, value) in coverage_properties(coverage) {
        let _ = writeln!(
            out,
            "      <property name=\"{name}\" value=\"{}\"/>",
            xml_attr(&value)
        );
    }
    out.push_str("    </properties>\n");
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
    if coverage.required {
        for spec in &coverage.not_selected {
            let _ = writeln!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\" time=\"0.000\">",
                xml_attr(&format!("no response test selects {}", label(spec))),
                xml_attr(&spec.method_label()),
                xml_attr(&spec.location.file),
                spec.location.pos.line,
            );
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"uncovered\">{}</failure>",
                xml_attr(&format!(
                    "no response test selects {} (--require-coverage)",
                    label(spec)
                )),
                xml_text(&format!(
                    "{}: {}: {}",
                    spec.location,
                    label(spec),
                    how_to_select(spec)
                ))
            );
            out.push_str("    </testcase>\n");
        }
    }
    let _ = writeln!(
        out,
        "    <system-out>{}</system-out>",
        xml_text(&coverage.render())
    );
    out.push_str("  </testsuite>\n");
}

/// The coverage counts as JUnit properties: `coverage.tests` (the tests counted),
/// `coverage.filteredOut`, `coverage.required`, and selected/total integration
/// responses and rendered/total templates.
fn coverage_properties(c: &Coverage) -> [(&'static str, String); 7] {
    [
        ("coverage.tests", c.tests.to_string()),
        ("coverage.filteredOut", c.filtered_out.to_string()),
        ("coverage.required", c.required.to_string()),
        (
            "coverage.integrationResponses.selected",
            c.selected().to_string(),
        ),
        (
            "coverage.integrationResponses.total",
            c.responses.to_string(),
        ),
        ("coverage.templates.rendered", c.rendered().to_string()),
        ("coverage.templates.total", c.templates.to_string()),
    ]
}

/// `{"tests": [...], "coverage": {...}, "summary": {"passed", "failed", "errors",
/// "filteredOut"}}`, a test as `name`, `file`, `line`, `column`, `method`, `status`
/// (`passed`, `failed` or `error`), `selected` (the integration response, null when
/// the test did not run), `diff` and `message` (null when it passed), `warnings`;
/// `coverage` as [`coverage_json`] gives it. `summary` counts tests only.
pub fn json(run: &TestRun, coverage: &Coverage) -> String {
    json_value(run, coverage).to_string()
}

/// [`json`] for several targets: `{"targets": [{"name", "tests", "coverage",
/// "summary"}], "summary": {...all targets}}`.
pub fn json_targets(targets: &[(&str, &TestRun, &Coverage)]) -> String {
    let mut total = serde_json::Map::new();
    let list: Vec<Value> = targets
        .iter()
        .map(|(name, run, coverage)| {
            let mut value = json_value(run, coverage);
            if let Some(Value::Object(summary)) = value.get("summary") {
                for (k, v) in summary {
                    let sum =
                        total.get(k).and_then(Value::as_u64).unwrap_or(0) + v.as_u64().unwrap_or(0);
                    total.insert(k.clone(), json!(sum));
                }
            }
            let mut entry = serde_json::Map::new();
            entry.insert("name".into(), json!(name));
            if let Value::Object(fields) = &mut value {
                entry.append(fields);
            }
            Value::Object(entry)
        })
        .collect();
    json!({"targets": list, "summary": total}).to_string()
}

fn json_value(run: &TestRun, coverage: &Coverage) -> Value {
    let tests: Vec<Value> = run.results.iter().map(|(t, o)| test_json(t, o)).collect();
    json!({
        "tests": tests,
        "coverage": coverage_json(coverage),
        "summary": {
            "passed": run.passed(),
            "failed": run.failed() - run.errored(),
            "errors": run.errored(),
            "filteredOut": run.filtered_out,
        },
    })
}

/// `{"tests", "filteredOut", "required", "failures", "integrationResponses":
/// {"selected", "total", "notSelected": [...]}, "templates": {"rendered", "total",
/// "notRendered": [...]}}`: `tests` are those counted (with a filter, the selected
/// ones); `failures` the integration responses no test selected when coverage is
/// required (`--require-coverage`), else 0; an integration
/// response as `file`, `line`, `column`, `method`, `statusCode`, `selectionPattern`
/// (null: the default response); a template as `file`, `line`, `column` (its own
/// place), `method`, `statusCode` and `mediaType`. Every one is listed.
pub fn coverage_json(c: &Coverage) -> Value {
    let not_selected: Vec<Value> = c
        .not_selected
        .iter()
        .map(|spec| {
            json!({
                "file": &*spec.location.file,
                "line": spec.location.pos.line,
                "column": spec.location.pos.col,
                "method": spec.method_label(),
                "statusCode": spec.status_code,
                "selectionPattern": spec.settings.normalized().selection_pattern,
            })
        })
        .collect();
    let not_rendered: Vec<Value> = c
        .not_rendered
        .iter()
        .map(|t| {
            json!({
                "file": &*t.location.file,
                "line": t.location.pos.line,
                "column": t.location.pos.col,
                "method": t.spec.method_label(),
                "statusCode": t.spec.status_code,
                "mediaType": t.media_type,
            })
        })
        .collect();
    json!({
        "tests": c.tests,
        "filteredOut": c.filtered_out,
        "required": c.required,
        "failures": c.failures(),
        "integrationResponses": {
            "selected": c.selected(),
            "total": c.responses,
            "notSelected": not_selected,
        },
        "templates": {
            "rendered": c.rendered(),
            "total": c.templates,
            "notRendered": not_rendered,
        },
    })
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

#[cfg(test)]
mod tests;
