//! Running every response test of a desired set and saying how each went, as a test
//! runner does: name and place, `ok` or `FAILED`, and for a failure the integration
//! response that was selected and a unified diff of expected vs actual.

use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use similar::TextDiff;

use super::simulate::{Used, simulate_recording};
use super::{ResponseTest, Simulation};
use crate::desired::{DesiredSet, EvalLimits, Evaluation, SpecError};
use crate::escape::visible;

/// How one test went.
#[derive(Clone, Debug)]
pub enum Outcome {
    Passed(Simulation),
    /// The response differs from the expectation: `expected` and `actual` are the
    /// compared parts as text, for the diff.
    Failed {
        simulation: Simulation,
        expected: String,
        actual: String,
        summary: String,
    },
    /// The test could not run (no integration response for its method, a template that
    /// failed, a pattern that backtracks forever).
    Error(String),
}

/// Every selected test of a set with its outcome, in directory order.
#[derive(Clone, Debug, Default)]
pub struct TestRun {
    pub results: Vec<(Arc<ResponseTest>, Outcome)>,
    /// How long each of `results` took, in the same order (for the JUnit report).
    pub times: Vec<Duration>,
    /// What each of `results` selected and rendered of the set it ran against, in the
    /// same order (for [`super::Coverage`]).
    pub used: Vec<Used>,
    /// How many tests of the set the selection left out.
    pub filtered_out: usize,
}

/// Which tests to run, as a test runner picks them: those whose name contains any of
/// `filters` (or equals one, with `exact`); no filter selects every test.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub filters: Vec<String>,
    pub exact: bool,
}

impl Selection {
    pub fn selects(&self, test: &ResponseTest) -> bool {
        self.filters.is_empty()
            || self.filters.iter().any(|f| {
                if self.exact {
                    test.name == *f
                } else {
                    test.name.contains(f.as_str())
                }
            })
    }
}

/// Run every response test of `desired` within the default limits.
pub fn run_all(desired: &DesiredSet) -> TestRun {
    run_all_within(desired, &Evaluation::start(EvalLimits::default()))
}

/// Run every response test of `desired`, each within the engines' budgets, all within
/// the evaluation's deadline: once it has passed, the remaining tests are not run (the
/// first of them says so).
pub fn run_all_within(desired: &DesiredSet, evaluation: &Evaluation) -> TestRun {
    run_selected_within(desired, evaluation, &Selection::default())
}

/// [`run_all_within`] for the tests `selection` selects; the others are only counted.
pub fn run_selected_within(
    desired: &DesiredSet,
    evaluation: &Evaluation,
    selection: &Selection,
) -> TestRun {
    let selected: Vec<&Arc<ResponseTest>> = desired
        .tests
        .iter()
        .filter(|t| selection.selects(t))
        .collect();
    let mut run = TestRun {
        results: Vec::with_capacity(selected.len()),
        times: Vec::with_capacity(selected.len()),
        used: Vec::with_capacity(selected.len()),
        filtered_out: desired.tests.len() - selected.len(),
    };
    // Each test on its own, on several threads; a test started once the deadline has
    // passed is not run (`None`), and the run ends at the first such test.
    let ran = crate::desired::par::map(selected.clone(), |t| {
        let start = Instant::now();
        if evaluation.overrun() {
            return None;
        }
        let mut meter = evaluation.meter();
        let mut used = Used::default();
        let outcome = run_one(t, desired, &mut meter, &mut used);
        Some((outcome, start.elapsed(), used))
    });
    for (i, (t, ran)) in selected.iter().zip(ran).enumerate() {
        let Some((outcome, time, used)) = ran else {
            let rest = selected.len() - i;
            let error = evaluation.overrun_error(
                t.location.clone(),
                &format!("running the response tests ({rest} not run, this one first)"),
            );
            run.results
                .push(((*t).clone(), Outcome::Error(error.message)));
            run.times.push(Duration::ZERO);
            run.used.push(Used::default());
            break;
        };
        run.results.push(((*t).clone(), outcome));
        run.times.push(time);
        run.used.push(used);
    }
    run
}

fn run_one(
    test: &ResponseTest,
    desired: &DesiredSet,
    meter: &mut crate::vtl::Meter,
    used: &mut Used,
) -> Outcome {
    let mut simulation = match simulate_recording(test, desired, meter, used) {
        Ok(s) => s,
        Err(e) => return Outcome::Error(e),
    };
    if passes(&test.expect, &simulation.response) {
        // Nothing reports a passing test's body: 1,000 passing tests of 20 KB bodies
        // would hold 20 MB until the report is printed.
        simulation.response.body = String::new();
        return Outcome::Passed(simulation);
    }
    let response = &simulation.response;
    let expect = &test.expect;
    let mut expected = String::new();
    let mut actual = String::new();
    let mut differences = Vec::new();
    if let Some(status) = &expect.status_code {
        let _ = writeln!(expected, "status: {status}");
        let _ = writeln!(actual, "status: {}", response.status);
        if *status != response.status {
            differences.push(format!("status {} (expected {status})", response.status));
        }
    }
    for (name, value) in &expect.headers {
        let got = response.header(name);
        let _ = writeln!(expected, "header {name}: {value}");
        let _ = writeln!(actual, "header {name}: {}", got.unwrap_or("(not set)"));
        if got != Some(value.as_str()) {
            differences.push(format!("header {name}"));
        }
    }
    if let Some(body) = &expect.body {
        let _ = writeln!(expected, "body:\n{body}");
        let _ = writeln!(actual, "body:\n{}", response.body);
        if *body != response.body {
            differences.push("body".into());
        }
    }
    if let Some(json) = &expect.json {
        let json = &json.value();
        let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
        let _ = writeln!(expected, "json:\n{}", pretty(json));
        match serde_json::from_str::<serde_json::Value>(&response.body) {
            Ok(got) => {
                let _ = writeln!(actual, "json:\n{}", pretty(&got));
                if !same_json(&got, json) {
                    differences.push("body (as JSON)".into());
                }
            }
            Err(e) => {
                let _ = writeln!(
                    actual,
                    "json: the body is not JSON ({e}):\n{}",
                    response.body
                );
                differences.push("body (not JSON)".into());
            }
        }
    }
    if differences.is_empty() {
        Outcome::Passed(simulation)
    } else {
        Outcome::Failed {
            simulation,
            expected,
            actual,
            summary: differences.join(", "),
        }
    }
}

/// Whether `response` is what `expect` asks for, decided without building the report's
/// text (the pretty-printed JSON, the lines of a diff): most tests pass, and only a
/// failure shows those. `false` means "look closer": [`run_one`] then compares again,
/// building the text, and finds what differs.
fn passes(expect: &super::Expect, response: &super::Response) -> bool {
    expect
        .status_code
        .as_ref()
        .is_none_or(|s| *s == response.status)
        && expect
            .headers
            .iter()
            .all(|(name, value)| response.header(name) == Some(value.as_str()))
        && expect.body.as_ref().is_none_or(|b| *b == response.body)
        && expect
            .json
            .as_ref()
            .is_none_or(|json| json_compare::equal(&response.body, &json.value()))
}

/// JSON values equal as JSON (RFC 8259): objects whatever their key order, numbers by
/// value, so `expect.json`'s `1e3` (a YAML float) is the body's `1000`. Integers compare
/// exactly; a float and any other number as doubles, which is how a JSON client reads them.
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => match (x.as_i128(), y.as_i128()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Comparing a body with `expect.json` as it is read, without building the body's
/// JSON value (a 20 KB body is thousands of values, and most tests pass).
mod json_compare {
    use std::fmt;

    use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde_json::Value as J;

    /// Whether `body` is one JSON text equal to `expected` as [`super::same_json`]
    /// compares. `false` for anything else: a difference, a body that is not JSON, or a
    /// key written twice (where the last one counts); the full comparison says which.
    pub(super) fn equal(body: &str, expected: &J) -> bool {
        let mut de = serde_json::Deserializer::from_str(body);
        Against(expected).deserialize(&mut de).is_ok() && de.end().is_ok()
    }

    /// Reads one JSON value and fails at the first place it differs from its
    /// expectation (the error's text is never shown).
    struct Against<'a>(&'a J);

    fn differs<E: de::Error>() -> E {
        E::custom("differs")
    }

    impl<'de> DeserializeSeed<'de> for Against<'_> {
        type Value = ();
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    /// A number of the body against the expected one: integers exactly, anything else
    /// as doubles (as `same_json`).
    fn number<E: de::Error>(expected: &J, int: Option<i128>, float: f64) -> Result<(), E> {
        let J::Number(n) = expected else {
            return Err(differs());
        };
        let same = match (n.as_i128(), int) {
            (Some(x), Some(y)) => x == y,
            _ => n.as_f64() == Some(float),
        };
        if same { Ok(()) } else { Err(differs()) }
    }

    impl<'de> Visitor<'de> for Against<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON value")
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
            if *self.0 == J::Bool(v) {
                Ok(())
            } else {
                Err(differs())
            }
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
            number(self.0, Some(i128::from(v)), v as f64)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
            number(self.0, Some(i128::from(v)), v as f64)
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
            number(self.0, None, v)
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
            match self.0 {
                J::String(s) if s == v => Ok(()),
                _ => Err(differs()),
            }
        }

        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            if self.0.is_null() {
                Ok(())
            } else {
                Err(differs())
            }
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let J::Array(items) = self.0 else {
                return Err(differs());
            };
            for item in items {
                if seq.next_element_seed(Against(item))?.is_none() {
                    return Err(differs());
                }
            }
            match seq.next_element::<IgnoredAny>()? {
                None => Ok(()),
                Some(_) => Err(differs()),
            }
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let J::Object(fields) = self.0 else {
                return Err(differs());
            };
            // The expected keys met so far (by address: each is met as the field it
            // found): a key met twice is a difference here.
            let mut met: Vec<*const String> = Vec::with_capacity(fields.len());
            let mut many = std::collections::HashSet::new();
            while let Some((key, value)) = map.next_key_seed(Key(fields))? {
                let key: *const String = key;
                let again = if fields.len() <= 16 {
                    met.contains(&key)
                } else {
                    !many.insert(key)
                };
                if again {
                    return Err(differs());
                }
                met.push(key);
                map.next_value_seed(Against(value))?;
            }
            if met.len() == fields.len() {
                Ok(())
            } else {
                Err(differs())
            }
        }
    }

    /// A key of the body, found among the expected object's fields.
    struct Key<'a>(&'a serde_json::Map<String, J>);

    impl<'de, 'a> DeserializeSeed<'de> for Key<'a> {
        type Value = (&'a String, &'a J);
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(self)
        }
    }

    impl<'de, 'a> Visitor<'de> for Key<'a> {
        type Value = (&'a String, &'a J);

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a key")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            self.0.get_key_value(v).ok_or_else(differs)
        }
    }
}

impl TestRun {
    pub fn passed(&self) -> usize {
        self.results
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Passed(_)))
            .count()
    }

    /// Tests that did not pass: failures and errors.
    pub fn failed(&self) -> usize {
        self.results.len() - self.passed()
    }

    /// Tests that could not run (an [`Outcome::Error`]).
    pub fn errored(&self) -> usize {
        self.results
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Error(_)))
            .count()
    }

    /// Warnings of passing and failing tests alike (several patterns matching).
    pub fn warnings(&self) -> Vec<String> {
        self.results
            .iter()
            .flat_map(|(t, o)| {
                let sim = match o {
                    Outcome::Passed(s) | Outcome::Failed { simulation: s, .. } => Some(s),
                    Outcome::Error(_) => None,
                };
                sim.into_iter()
                    .flat_map(|s| s.warnings.iter())
                    .map(move |w| format!("{}: response test `{}`: {w}", t.location, t.name))
            })
            .collect()
    }

    /// Each failing test as a validation error at the test's place: a failing test makes
    /// the desired set invalid.
    pub fn errors(&self) -> Vec<SpecError> {
        self.results
            .iter()
            .filter_map(|(t, o)| {
                let why = match o {
                    Outcome::Passed(_) => return None,
                    Outcome::Failed { summary, .. } => {
                        format!("got a different {summary}; `apigw-reconciler test` shows the diff")
                    }
                    // The test could not run: its error says why, there is no diff.
                    Outcome::Error(e) => e.clone(),
                };
                Some(SpecError {
                    location: t.location.clone(),
                    message: format!("response test `{}` failed: {why}", t.name),
                })
            })
            .collect()
    }

    /// The runner's report: a line per test, then each failure in full, then
    /// `N passed, N failed`.
    pub fn render(&self) -> String {
        let mut out = self.render_tests();
        out.push('\n');
        out.push_str(&self.summary(None));
        out
    }

    /// [`TestRun::render`] with the run's coverage before the last line, which counts
    /// coverage's failures too: `N passed, N failed, N uncovered (--require-coverage)`.
    pub fn render_with(&self, coverage: &super::Coverage) -> String {
        let mut out = self.render_tests();
        out.push('\n');
        out.push_str(&coverage.render());
        out.push('\n');
        out.push_str(&self.summary(Some(coverage)));
        out
    }

    /// `N passed, N failed[, N filtered out][, N uncovered (--require-coverage)]`.
    fn summary(&self, coverage: Option<&super::Coverage>) -> String {
        let mut out = format!("{} passed, {} failed", self.passed(), self.failed());
        if self.filtered_out > 0 {
            let _ = write!(out, ", {} filtered out", self.filtered_out);
        }
        if let Some(n) = coverage.map(|c| c.failures()).filter(|&n| n > 0) {
            let _ = write!(out, ", {n} uncovered (--require-coverage)");
        }
        out.push('\n');
        out
    }

    /// A line per test, the warnings, then each failure in full.
    fn render_tests(&self) -> String {
        let mut out = String::new();
        for (t, o) in &self.results {
            let verdict = match o {
                Outcome::Passed(_) => "ok",
                Outcome::Failed { .. } => "FAILED",
                Outcome::Error(_) => "ERROR",
            };
            // a test's name and place come from a spec: one visible line each
            let _ = writeln!(
                out,
                "test {} ... {verdict}  [{}]",
                visible(&t.name),
                visible(&t.location.to_string())
            );
        }
        for warning in self.warnings() {
            let _ = writeln!(out, "warning: {warning}");
        }
        let failures: Vec<_> = self
            .results
            .iter()
            .filter(|(_, o)| !matches!(o, Outcome::Passed(_)))
            .collect();
        if !failures.is_empty() {
            out.push_str("\nfailures:\n");
        }
        for (t, o) in failures {
            let _ = writeln!(
                out,
                "\n---- {} [{}]",
                visible(&t.name),
                visible(&t.location.to_string())
            );
            match o {
                Outcome::Error(e) => {
                    let _ = writeln!(out, "{e}");
                }
                Outcome::Failed { simulation, .. } => {
                    let _ = writeln!(out, "{}", selected(t, simulation));
                    out.push_str(&o.diff().unwrap_or_default());
                }
                Outcome::Passed(_) => {}
            }
        }
        out
    }
}

impl Outcome {
    /// The simulation of a test that ran (passed or failed).
    pub fn simulation(&self) -> Option<&Simulation> {
        match self {
            Outcome::Passed(s) | Outcome::Failed { simulation: s, .. } => Some(s),
            Outcome::Error(_) => None,
        }
    }

    /// A failure's unified diff of expected vs actual (`--- expected`, `+++ actual`).
    pub fn diff(&self) -> Option<String> {
        let Outcome::Failed {
            expected, actual, ..
        } = self
        else {
            return None;
        };
        // A diff of two large bodies may take long; past the timeout it is less
        // minimal, never slower.
        let diff = TextDiff::configure()
            .timeout(Duration::from_secs(2))
            .diff_lines(expected.as_str(), actual.as_str());
        Some(
            diff.unified_diff()
                .context_radius(3)
                .header("expected", "actual")
                .to_string(),
        )
    }

    /// Why a test did not pass, on one line: what differs, or why it could not run.
    pub fn message(&self) -> Option<String> {
        match self {
            Outcome::Passed(_) => None,
            Outcome::Failed { summary, .. } => Some(format!("got a different {summary}")),
            Outcome::Error(e) => Some(e.clone()),
        }
    }
}

/// `selected: GET 404 (selectionPattern "Not found.*") at file:line:col, template
/// application/json`, or API Gateway's own 500.
pub fn selected(test: &ResponseTest, sim: &Simulation) -> String {
    match &sim.selected {
        None => format!(
            "selected: none of {}'s integration responses matches and there is no default, so API Gateway answers 500",
            test.method_label()
        ),
        Some(spec) => {
            let pattern = match spec.settings.selection_pattern.as_deref() {
                Some(p) if !p.is_empty() && p != "-" => format!("selectionPattern {p:?}"),
                _ => "the default response".into(),
            };
            let template = match &sim.template {
                Some(t) => format!("template {t}"),
                None => "body passed through".into(),
            };
            format!(
                "selected: {} {} ({pattern}) at {}, {template}",
                test.http_method, spec.status_code, spec.location
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value as J;

    use super::{json_compare, same_json};

    /// JSON values with few distinct keys and small numbers, so that two of them are
    /// often equal or nearly so.
    fn value() -> impl Strategy<Value = J> {
        let leaf = prop_oneof![
            Just(J::Null),
            any::<bool>().prop_map(J::Bool),
            (-3i64..4).prop_map(J::from),
            prop_oneof![Just(1.0f64), Just(-0.5), Just(3.0), Just(1e3)].prop_map(J::from),
            prop_oneof![Just(""), Just("a"), Just("é\"\\")].prop_map(J::from),
        ];
        leaf.prop_recursive(4, 40, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
                prop::collection::vec((prop_oneof![Just("a"), Just("b"), Just("c")], inner), 0..4)
                    .prop_map(|kv| J::Object(
                        kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                    )),
            ]
        })
    }

    /// `v` written with its objects' keys in reverse order and with spaces, as a
    /// backend might: the same JSON.
    fn rewritten(v: &J) -> String {
        match v {
            J::Array(items) => format!(
                "[ {} ]",
                items.iter().map(rewritten).collect::<Vec<_>>().join(" , ")
            ),
            J::Object(fields) => format!(
                "{{ {} }}",
                fields
                    .iter()
                    .rev()
                    .map(|(k, v)| format!("{} : {}", J::from(k.as_str()), rewritten(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            other => other.to_string(),
        }
    }

    proptest! {
        /// Reading the body against the expectation decides as building the body's
        /// value and comparing does, whenever it says "equal"; and it says so for
        /// every equal pair (no key written twice here).
        #[test]
        fn streaming_comparison_agrees_with_same_json(a in value(), b in value(), reorder: bool) {
            let body = if reorder { rewritten(&a) } else { a.to_string() };
            let got: J = serde_json::from_str(&body).unwrap();
            prop_assert_eq!(json_compare::equal(&body, &b), same_json(&got, &b), "{} vs {}", body, b);
            prop_assert!(json_compare::equal(&body, &a), "{} vs itself", body);
        }
    }

    #[test]
    fn what_is_not_one_equal_json_text_is_left_to_the_full_comparison() {
        let expected = serde_json::json!({"a": 1});
        assert!(json_compare::equal(r#" {"a": 1.0e0} "#, &expected));
        assert!(
            !json_compare::equal(r#"{"a": 1} x"#, &expected),
            "trailing text"
        );
        assert!(
            !json_compare::equal(r#"{"a": 1, "a": 1}"#, &expected),
            "a key twice"
        );
        assert!(!json_compare::equal(r#"{"a": 1"#, &expected), "cut short");
        assert!(!json_compare::equal(r#"{"a": 2}"#, &expected));
        assert!(!json_compare::equal(r#"{"a": 1, "b": 1}"#, &expected));
        assert!(!json_compare::equal(r#"{}"#, &expected));
    }
}
