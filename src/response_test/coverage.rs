//! What the response tests exercised of the desired set: which integration responses
//! no test selected, and which templates no test rendered.
//!
//! Computed after a run from what each simulation recorded ([`super::Used`]: the index
//! of the spec it selected and of the template that rendered), not from names: a test
//! covers what API Gateway would have picked for its backend answer. Only the tests
//! that ran count: with a filter, the selected ones. Integration responses with
//! `state: absent` are left out (nothing selects them); a template is a response
//! template with text (a passthrough entry renders nothing).

use std::fmt::Write;
use std::sync::Arc;

use super::TestRun;
use crate::desired::{DesiredSet, Location, Spec, State};
use crate::escape::visible;

/// How many of each list the text report shows; the JSON and JUnit reports list all.
const SHOWN: usize = 20;

/// A template of a spec, by its place.
#[derive(Clone, Debug)]
pub struct Template {
    pub spec: Arc<Spec>,
    pub media_type: String,
    /// The template's own place (its value in the file).
    pub location: Location,
}

/// The coverage of one run over the set it ran against.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    /// The integration responses counted (`state: present`).
    pub responses: usize,
    /// Those no test selected, in the set's order.
    pub not_selected: Vec<Arc<Spec>>,
    /// The templates counted (response templates with text, of those responses).
    pub templates: usize,
    /// Those no test rendered, in the set's order.
    pub not_rendered: Vec<Template>,
    /// The tests whose simulations count, and those a filter left out.
    pub tests: usize,
    pub filtered_out: usize,
    /// `--require-coverage`: each integration response no test selected is a failure.
    pub required: bool,
}

impl Coverage {
    /// The coverage of `run`, which ran against `desired` (its recorded indices are
    /// into `desired.specs`).
    pub fn of(desired: &DesiredSet, run: &TestRun) -> Coverage {
        let mut selected = vec![false; desired.specs.len()];
        // (spec, template) pairs that rendered; few per test, sorted for lookup.
        let mut rendered: Vec<(usize, usize)> = Vec::with_capacity(run.used.len());
        for used in &run.used {
            if let Some(s) = used.response.filter(|&s| s < selected.len()) {
                selected[s] = true;
                if let Some(t) = used.template {
                    rendered.push((s, t));
                }
            }
        }
        rendered.sort_unstable();
        let mut coverage = Coverage {
            tests: run.results.len(),
            filtered_out: run.filtered_out,
            ..Coverage::default()
        };
        for (s, spec) in desired.specs.iter().enumerate() {
            if spec.state != State::Present {
                continue;
            }
            coverage.responses += 1;
            if !selected[s] {
                coverage.not_selected.push(spec.clone());
            }
            for (t, (media_type, text)) in spec.settings.response_templates.iter().enumerate() {
                if text.is_empty() {
                    continue;
                }
                coverage.templates += 1;
                if rendered.binary_search(&(s, t)).is_err() {
                    coverage.not_rendered.push(Template {
                        spec: spec.clone(),
                        media_type: media_type.clone(),
                        location: spec.template_location(t),
                    });
                }
            }
        }
        coverage
    }

    /// The same, with `--require-coverage` on or off.
    pub fn require(self, required: bool) -> Coverage {
        Coverage { required, ..self }
    }

    pub fn selected(&self) -> usize {
        self.responses - self.not_selected.len()
    }

    pub fn rendered(&self) -> usize {
        self.templates - self.not_rendered.len()
    }

    /// The failures coverage adds to the run: each integration response no test
    /// selected, when coverage is required; else none.
    pub fn failures(&self) -> usize {
        if self.required {
            self.not_selected.len()
        } else {
            0
        }
    }

    /// `coverage: 2/3 integration responses selected, 4/5 templates rendered`, with
    /// what the counts cover when a filter left tests out.
    pub fn summary(&self) -> String {
        let scope = if self.filtered_out > 0 {
            format!(
                " of the {} selected test{} ({} filtered out)",
                self.tests,
                plural(self.tests),
                self.filtered_out
            )
        } else {
            String::new()
        };
        format!(
            "coverage{scope}: {}/{} integration responses selected, {}/{} templates rendered",
            self.selected(),
            self.responses,
            self.rendered(),
            self.templates
        )
    }

    /// The text report's part: the summary, a line per integration response not
    /// selected and per template not rendered (the first 20 of each), each with its
    /// place, and when coverage is required and incomplete a last `coverage FAILED`
    /// line. Every value from a spec is shown on one visible line.
    pub fn render(&self) -> String {
        let mut out = self.summary();
        out.push('\n');
        let lines = self
            .not_selected
            .iter()
            .map(|spec| format!("not selected: {} ({})", spec.location, label(spec)));
        list(&mut out, lines, self.not_selected.len(), "not selected");
        let lines = self.not_rendered.iter().map(|t| {
            format!(
                "not rendered: {} ({}, template {})",
                t.location,
                label(&t.spec),
                t.media_type
            )
        });
        list(&mut out, lines, self.not_rendered.len(), "not rendered");
        if self.failures() > 0 {
            let n = self.failures();
            let _ = writeln!(
                out,
                "coverage FAILED (--require-coverage): {n} integration response{} no test selects; \
                 add a response test whose backend answer selects {}",
                plural(n),
                if n == 1 { "it" } else { "each" }
            );
        }
        out
    }
}

/// `restApiName MyDemoAPI /orders GET 500`: an integration response as people name it.
pub fn label(spec: &Spec) -> String {
    format!("{} {}", spec.method_label(), spec.status_code)
}

/// What a test must give to select `spec`: a backend answer its selection pattern
/// matches, or for the default response one no other pattern matches.
pub fn how_to_select(spec: &Spec) -> String {
    match spec.settings.normalized().selection_pattern {
        Some(p) => format!(
            "add a response test of {} whose backend answer (a Lambda errorMessage, else the \
             backend's statusCode) matches its selectionPattern {p:?}",
            spec.method_label()
        ),
        None => format!(
            "add a response test of {} whose backend answer matches none of the method's \
             selection patterns (this is its default response)",
            spec.method_label()
        ),
    }
}

fn list(out: &mut String, lines: impl Iterator<Item = String>, total: usize, what: &str) {
    for line in lines.take(SHOWN) {
        let _ = writeln!(out, "  {}", visible(&line));
    }
    if total > SHOWN {
        let _ = writeln!(
            out,
            "  ... and {} more {what} (`--output json` lists every one)",
            total - SHOWN
        );
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
