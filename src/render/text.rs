//! The text plan (Terraform-like, for terminals and logs) and the apply report. Every
//! value is one line of [`visible`] text; colour only when [`Style`] asks.

use std::fmt::Write;

use super::Style;
use super::escape::{visible, visible_except};
use super::view::{Change, EntryChange, FieldChange, PlanView, Tone, past_tense, symbol, word};
use crate::diff::{Action, ActionKind};
use crate::executor::{ExecutionReport, Outcome};

/// ANSI colour codes.
const GREEN: &str = "32";
const YELLOW: &str = "33";
const RED: &str = "31";
const MAGENTA: &str = "35";
const CYAN: &str = "36";

fn color(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Create => GREEN,
        ActionKind::Update => YELLOW,
        ActionKind::Delete => RED,
        ActionKind::Blocked => MAGENTA,
    }
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// `MyDemoAPI (abc123) /path GET 200`, on one line.
pub fn describe(action: &Action) -> String {
    visible(&Change::new(action).label()).into_owned()
}

/// The text plan and the stages it would redeploy, ending with the `Plan: ...`
/// summary line.
pub fn plan(view: &PlanView, style: Style) -> String {
    let mut out = String::new();
    for change in &view.changes {
        let (kind, word) = (change.kind, word(change.kind));
        let _ = write!(
            out,
            "{} {}",
            style.paint(color(kind), &format!("{} {word:<7}", symbol(kind))),
            visible(&change.label())
        );
        if let Some(source) = &change.source {
            let _ = write!(out, "  [{}]", visible(source));
        }
        out.push('\n');
        if let Some(reason) = change.reason {
            let _ = writeln!(out, "      {}", visible(reason));
        }
        for line in field_lines(&change.fields, style) {
            let indent = if line.nested { "        " } else { "      " };
            let _ = writeln!(out, "{indent}{}", line.text);
        }
    }
    if let Some(note) = view.unmanaged_note() {
        let _ = writeln!(out, "note: {note}");
    }
    for stage in &view.redeploy {
        let _ = writeln!(
            out,
            "{} {}: {}",
            style.paint(CYAN, "> redeploy"),
            visible(&stage.stage),
            visible(stage.reason)
        );
    }
    if view.changes.is_empty() {
        out.push_str("No changes. Live integration responses match the specs.\n");
    }
    let _ = writeln!(out, "{}", view.counts.summary_line());
    out
}

/// One line of an action's field changes: a field, or (nested under it) a line of its
/// template diff.
pub(super) struct FieldLine {
    pub nested: bool,
    pub text: String,
}

impl FieldLine {
    fn field(text: String) -> Self {
        FieldLine {
            nested: false,
            text,
        }
    }

    fn nested(text: String) -> Self {
        FieldLine { nested: true, text }
    }
}

/// The field changes of one action as lines of visible text, unindented (the text
/// plan indents them under the action; the Markdown plan shows them in a block).
pub(super) fn field_lines(fields: &[FieldChange], style: Style) -> Vec<FieldLine> {
    let show_pattern = |p: &Option<String>| match p {
        None => "(default response)".to_owned(),
        Some(p) => format!("{p:?}"),
    };
    let show_handling = |c: &Option<String>| {
        c.as_deref()
            .map_or_else(|| "(none)".into(), |c| visible(c).into_owned())
    };
    let mut out = Vec::new();
    for change in fields {
        match change {
            FieldChange::SelectionPattern { old, new } if old == new => out.push(FieldLine::field(
                format!("selectionPattern: {}", show_pattern(new)),
            )),
            FieldChange::SelectionPattern { old, new } => out.push(FieldLine::field(format!(
                "selectionPattern: {} -> {}",
                show_pattern(old),
                show_pattern(new)
            ))),
            FieldChange::ContentHandling { old, new } => out.push(FieldLine::field(format!(
                "contentHandling: {} -> {}",
                show_handling(old),
                show_handling(new)
            ))),
            FieldChange::Parameter { name, old, new } => {
                let (key, a, b) = (
                    visible(name),
                    old.as_deref().map(visible),
                    new.as_deref().map(visible),
                );
                let line = match (a, b) {
                    (None, Some(b)) => style.paint(GREEN, &format!("+ {key}: {b}")),
                    (Some(a), None) => style.paint(RED, &format!("- {key}: {a}")),
                    (Some(a), Some(b)) => style.paint(YELLOW, &format!("~ {key}: {a} -> {b}")),
                    (None, None) => continue,
                };
                out.push(FieldLine::field(format!("responseParameters: {line}")));
            }
            FieldChange::Template {
                content_type,
                entry,
                diff,
                no_final_newline,
            } => {
                out.push(FieldLine::field(format!(
                    "responseTemplates[{content_type:?}]:{}",
                    entry_note(*entry)
                )));
                for line in diff {
                    // A template keeps its tabs; nothing else in it may break the line.
                    let text = &*visible_except(&line.text, |c| c == '\t');
                    out.push(FieldLine::nested(match line.tone {
                        Tone::Added => style.paint(GREEN, text),
                        Tone::Removed => style.paint(RED, text),
                        Tone::Hunk => style.paint(CYAN, text),
                        Tone::Context => text.to_owned(),
                    }));
                }
                // Say which side lacks the final newline: only that side's template does.
                for side in no_final_newline {
                    out.push(FieldLine::nested(format!(
                        "(no newline at end of the {} template)",
                        side.name()
                    )));
                }
            }
        }
    }
    out
}

fn entry_note(entry: EntryChange) -> &'static str {
    match entry {
        EntryChange::AddedPassthrough => {
            " + passthrough entry (no template: the body passes through)"
        }
        EntryChange::AddedTemplate => " + template",
        EntryChange::RemovedPassthrough => " - passthrough entry",
        EntryChange::RemovedTemplate => " - template",
        EntryChange::TemplateToPassthrough => " template -> passthrough entry",
        EntryChange::PassthroughToTemplate => " passthrough entry -> template",
        EntryChange::Edited => "",
    }
}

/// One line per executed action and the `Apply: ...` summary.
pub fn report(report: &ExecutionReport, style: Style) -> String {
    let mut out = String::new();
    for r in &report.results {
        let (kind, what) = (r.action.kind, describe(&r.action));
        let line = match &r.outcome {
            Outcome::Applied => style.paint(GREEN, &format!("{} {what}", past_tense(kind))),
            Outcome::Failed(e) => style.paint(
                RED,
                &format!(
                    "failed to {} {what}: {}",
                    word(kind),
                    visible(&e.to_string())
                ),
            ),
            Outcome::Cancelled => format!("not started (shutting down): {what}"),
            Outcome::Held(why) => style.paint(
                MAGENTA,
                &format!("held {} {what}: {}", word(kind), visible(why)),
            ),
            Outcome::Blocked => style.paint(
                MAGENTA,
                &format!(
                    "blocked {what}: {}",
                    visible(r.action.reason.as_deref().unwrap_or("dependency missing"))
                ),
            ),
        };
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "Apply: {} created, {} updated, {} deleted, {} failed, {} blocked, {} held.",
        report.applied(ActionKind::Create),
        report.applied(ActionKind::Update),
        report.applied(ActionKind::Delete),
        report.failed(),
        report.blocked(),
        report.held()
    );
    out
}
