//! Plans of several targets (a config with `targets`) in one output: text and
//! Markdown group them under a heading naming the target, its region and account;
//! JSON gives each action its `"target"` and a summary per target beside the total.
//! A config without `targets` never comes here: its plan is printed as before.

use std::fmt::Write;

use serde_json::{Value, json};

use super::Style;
use super::escape::{Context, code_block, code_span, visible};
use super::view::{Counts, PlanView};
use super::{json, markdown, text};
use crate::diff::Plan;
use crate::redeploy::StageDeployment;

/// Which target a plan is of: the name, region and account plans head it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetInfo {
    pub name: String,
    pub region: String,
    /// `None` when it could not be told (STS did not answer).
    pub account: Option<String>,
}

impl TargetInfo {
    /// `prod-us (us-east-1, account 123456789012)`, on one line.
    pub fn heading(&self) -> String {
        format!(
            "{} ({}, account {})",
            visible(&self.name),
            visible(&self.region),
            visible(self.account.as_deref().unwrap_or("unknown"))
        )
    }
}

/// One target's plan, or why it has none.
pub struct TargetPlan<'a> {
    pub target: TargetInfo,
    pub plan: Result<(&'a Plan, &'a [StageDeployment]), String>,
}

/// The text plans, each under `Target <heading>:`, then one line for all targets.
pub fn text(plans: &[TargetPlan<'_>], style: Style) -> String {
    let mut out = String::new();
    for (i, p) in plans.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "Target {}:", p.target.heading());
        match &p.plan {
            Ok((plan, redeploy)) => {
                out.push_str(&text::plan(&PlanView::new(plan, redeploy), style))
            }
            Err(e) => out.push_str(&error_lines(e)),
        }
    }
    let _ = writeln!(out, "\n{}", totals_line(plans));
    out
}

/// A target's error as `error: ...` lines, each one visible line.
pub fn error_lines(e: &str) -> String {
    e.lines()
        .map(|line| format!("error: {}\n", visible(line)))
        .collect()
}

/// `All targets: N to create, ... (N targets, N with changes, N failed).`
fn totals_line(plans: &[TargetPlan<'_>]) -> String {
    let total = totals(plans);
    let changed = plans
        .iter()
        .filter(|p| matches!(&p.plan, Ok((plan, redeploy)) if !plan.is_converged() || !redeploy.is_empty()))
        .count();
    let failed = plans.iter().filter(|p| p.plan.is_err()).count();
    format!(
        "All targets: {} to create, {} to update, {} to delete, {} blocked ({} targets, {changed} with changes, {failed} failed).",
        total.create,
        total.update,
        total.delete,
        total.blocked,
        plans.len()
    )
}

fn counts(p: &TargetPlan<'_>) -> Counts {
    match &p.plan {
        Ok((plan, redeploy)) => PlanView::new(plan, redeploy).counts,
        Err(_) => Counts::default(),
    }
}

fn totals(plans: &[TargetPlan<'_>]) -> Counts {
    plans
        .iter()
        .map(counts)
        .fold(Counts::default(), |a, c| Counts {
            create: a.create + c.create,
            update: a.update + c.update,
            delete: a.delete + c.delete,
            blocked: a.blocked + c.blocked,
        })
}

/// One pull-request comment: the totals, then each target's plan under a heading.
pub fn markdown(plans: &[TargetPlan<'_>]) -> String {
    let mut out = String::from("### apigw-reconciler plan\n\n");
    let _ = writeln!(out, "**{}**", totals_line(plans));
    for p in plans {
        let t = &p.target;
        let _ = writeln!(
            out,
            "\n#### Target {} · region {} · account {}\n",
            code_span(&t.name, Context::Inline),
            code_span(&t.region, Context::Inline),
            code_span(t.account.as_deref().unwrap_or("unknown"), Context::Inline)
        );
        match &p.plan {
            Ok((plan, redeploy)) => {
                let body = markdown::plan(&PlanView::new(plan, redeploy));
                // The single plan's own title is the comment's, above.
                let body = body
                    .strip_prefix("### apigw-reconciler plan\n\n")
                    .unwrap_or(&body);
                out.push_str(body);
            }
            Err(e) => {
                out.push_str("**No plan:** the target could not be planned.\n\n");
                out.push_str(&code_block(e, "text"));
            }
        }
    }
    out
}

/// `{"summary": {...all targets}, "targets": [{"name", "region", "account",
/// "summary", "error"}], "actions": [{"target", ...}]}`.
pub fn json(plans: &[TargetPlan<'_>]) -> String {
    let mut actions = Vec::new();
    let mut targets = Vec::new();
    for p in plans {
        let t = &p.target;
        let mut entry = json!({
            "name": t.name,
            "region": t.region,
            "account": t.account,
            "summary": json::summary(&counts(p)),
        });
        match &p.plan {
            Ok((plan, _)) => {
                let value = json::plan_value(&PlanView::new(plan, &[]));
                if let Some(Value::Array(list)) = value.get("actions") {
                    for a in list {
                        // `target` first, then the action as a one-target plan has it.
                        let mut map = serde_json::Map::new();
                        map.insert("target".into(), json!(t.name));
                        if let Value::Object(fields) = a {
                            map.extend(fields.clone());
                        }
                        actions.push(Value::Object(map));
                    }
                }
                entry["error"] = Value::Null;
            }
            Err(e) => entry["error"] = json!(e),
        }
        targets.push(entry);
    }
    json!({
        "summary": json::summary(&totals(plans)),
        "targets": targets,
        "actions": actions,
    })
    .to_string()
}
