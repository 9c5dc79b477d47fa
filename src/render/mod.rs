//! Rendering a [`Plan`] and an [`ExecutionReport`] for people (Terraform-like text,
//! template changes as unified diffs, colour only when asked; Markdown for a
//! pull-request comment) and for machines (the JSON object of docs/semantics.md §11).
//!
//! A plan is turned once into a [`view::PlanView`] (its changes with their kind,
//! labels and field diffs, and the summary counts), which three small renderers show:
//! [`text`], [`markdown`] and [`json`]. Every value from a spec or the live API is
//! escaped for the medium it reaches ([`escape`]).

// Escaping is a module of its own (crate::escape): validation uses it too, below render.
pub use crate::escape;
pub mod json;
pub mod markdown;
pub mod targets;
pub mod test_run;
pub mod text;
pub mod view;

use crate::diff::Plan;
use crate::executor::ExecutionReport;
use crate::redeploy::StageDeployment;
use view::PlanView;

pub use text::describe;

/// ANSI colours, or none.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
}

/// The text plan and the stages it would redeploy, ending with the `Plan: ...`
/// summary line.
pub fn render_text(plan: &Plan, redeploy: &[StageDeployment], style: Style) -> String {
    text::plan(&PlanView::new(plan, redeploy), style)
}

/// The plan as a pull-request comment (see [`markdown`]).
pub fn render_markdown(plan: &Plan, redeploy: &[StageDeployment]) -> String {
    markdown::plan(&PlanView::new(plan, redeploy))
}

/// The JSON plan: `{"summary": {...}, "actions": [...]}`.
pub fn render_json(plan: &Plan) -> String {
    json::plan(&PlanView::new(plan, &[]))
}

/// One line per executed action and the `Apply: ...` summary.
pub fn render_report(report: &ExecutionReport, style: Style) -> String {
    text::report(report, style)
}

#[cfg(test)]
mod tests;
