//! The plan as Markdown for a pull-request comment: the summary, a table of actions,
//! and each change's field and template diffs in a collapsible block.
//!
//! Reviewers trust this comment, and the values in it come from the pull request and
//! the live API: each is a code span ([`code_span`]), the diffs a fenced block longer
//! than any backtick run in them, the `<summary>` HTML-escaped text; only the summary
//! line, `No changes.` and the table's frame are ours.

use std::fmt::Write;

use super::Style;
use super::escape::{Context, code_block, code_span, html_text};
use super::text::field_lines;
use super::view::{PlanView, symbol, word};
use crate::diff::ActionKind;

pub fn plan(view: &PlanView) -> String {
    let cell = |s: &str| code_span(s, Context::TableCell);
    let mut out = String::from("### apigw-reconciler plan\n\n");
    let _ = writeln!(out, "**{}**\n", view.counts.summary_line());
    if view.changes.is_empty() {
        out.push_str("No changes. Live integration responses match the specs.\n");
    } else {
        out.push_str("| action | API | resource | method | status | spec / reason |\n|---|---|---|---|---|---|\n");
        for c in &view.changes {
            let api = match c.api_name {
                Some(name) => format!("{} ({})", cell(name), cell(&c.key.rest_api_id)),
                None => cell(&c.key.rest_api_id),
            };
            let detail = [c.source.as_deref().map(cell), c.reason.map(cell)]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let _ = writeln!(
                out,
                "| `{}` {} | {api} | {} | {} | {} | {detail} |",
                symbol(c.kind),
                word(c.kind),
                cell(c.resource),
                cell(&c.key.http_method),
                cell(&c.key.status_code)
            );
        }
    }
    for c in view
        .changes
        .iter()
        .filter(|c| matches!(c.kind, ActionKind::Create | ActionKind::Update))
    {
        // The text plan's field lines, unindented and uncoloured: unified-diff lines
        // start at column 0 so the `diff` highlighting colours them.
        let body = field_lines(&c.fields, Style { color: false })
            .into_iter()
            .map(|line| line.text)
            .collect::<Vec<_>>()
            .join("\n");
        // The `<summary>` line is raw HTML (Markdown is not parsed there): escaped text
        // in a `<code>` element.
        let _ = write!(
            out,
            "\n<details><summary>{} <code>{}</code></summary>\n\n{}</details>\n",
            word(c.kind),
            html_text(&c.label()),
            code_block(&body, "diff")
        );
    }
    if !view.redeploy.is_empty() {
        let stages: Vec<String> = view
            .redeploy
            .iter()
            .map(|s| {
                format!(
                    "{} ({})",
                    code_span(&s.stage, Context::Inline),
                    code_span(s.reason, Context::Inline)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "\nStages redeployed after apply: {}",
            stages.join(", ")
        );
    }
    if let Some(note) = view.unmanaged_note() {
        let _ = writeln!(out, "\n_Note: {note}._");
    }
    out
}
