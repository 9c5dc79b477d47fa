//! Rendering a [`Plan`] and an [`ExecutionReport`] for people (Terraform-like text,
//! template changes as unified diffs, colour only when asked) and for machines
//! (the JSON object DESIGN.md fixes). Every value from a spec or the live API is
//! escaped for the medium it reaches ([`escape`]).

pub mod escape;

use crate::vecmap::VecMap;
use std::fmt::Write;

use serde_json::json;
use similar::TextDiff;

use crate::diff::{Action, ActionKind, Plan};
use crate::executor::{ExecutionReport, Outcome};
use crate::model::Settings;
use crate::redeploy::StageDeployment;
use escape::{Context, code_block, code_span, html_text, visible};

/// ANSI colours, or none.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
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

fn symbol(kind: ActionKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        ActionKind::Create => ("+", "32", "create"),
        ActionKind::Update => ("~", "33", "update"),
        ActionKind::Delete => ("-", "31", "delete"),
        ActionKind::Blocked => ("!", "35", "blocked"),
    }
}

/// `MyDemoAPI (abc123) /path GET 200`, on one line (see [`escape::visible`]).
pub fn describe(action: &Action) -> String {
    visible(&describe_raw(action)).into_owned()
}

fn describe_raw(action: &Action) -> String {
    let k = &action.key;
    let api = match &action.api_name {
        Some(name) => format!("{name} ({})", k.rest_api_id),
        None => k.rest_api_id.clone(),
    };
    let resource = match &action.resource_path {
        Some(path) => path.clone(),
        None => k.resource_id.clone(),
    };
    format!("{api} {resource} {} {}", k.http_method, k.status_code)
}

/// The text plan and the stages it would redeploy, ending with the `Plan: ...`
/// summary line.
pub fn render_text(plan: &Plan, redeploy: &[StageDeployment], style: Style) -> String {
    let mut out = String::new();
    for action in &plan.actions {
        let (sym, color, word) = symbol(action.kind);
        let _ = write!(
            out,
            "{} {}",
            style.paint(color, &format!("{sym} {word:<7}")),
            describe(action)
        );
        if let Some(source) = &action.source {
            let _ = write!(out, "  [{}]", visible(&source.to_string()));
        }
        out.push('\n');
        if let Some(reason) = &action.reason {
            let _ = writeln!(out, "      {}", visible(reason));
        }
        out.push_str(&action_fields(action, style));
    }
    if let Some(note) = unmanaged_note(plan) {
        let _ = writeln!(out, "note: {note}");
    }
    for stage in redeploy {
        let _ = writeln!(
            out,
            "{} {}: {}",
            style.paint("36", "> redeploy"),
            visible(&stage.to_string()),
            visible(&stage.reason)
        );
    }
    if plan.actions.is_empty() {
        out.push_str("No changes. Live integration responses match the specs.\n");
    }
    let _ = writeln!(out, "{}", summary_line(plan));
    out
}

/// The field changes an action makes (create, update), indented.
fn action_fields(action: &Action, style: Style) -> String {
    let empty = Settings::default();
    match action.kind {
        ActionKind::Create => {
            field_changes(&empty, action.desired.as_ref().unwrap_or(&empty), style)
        }
        ActionKind::Update => field_changes(
            action.live.as_ref().unwrap_or(&empty),
            action.desired.as_ref().unwrap_or(&empty),
            style,
        ),
        ActionKind::Delete | ActionKind::Blocked => String::new(),
    }
}

fn unmanaged_note(plan: &Plan) -> Option<String> {
    (plan.unmanaged_kept > 0).then(|| {
        format!(
            "{} live integration response(s) on managed methods are not in any spec and are kept (prune is off)",
            plan.unmanaged_kept
        )
    })
}

/// `Plan: N to create, N to update, N to delete, N blocked.`
pub fn summary_line(plan: &Plan) -> String {
    format!(
        "Plan: {} to create, {} to update, {} to delete, {} blocked.",
        plan.count(ActionKind::Create),
        plan.count(ActionKind::Update),
        plan.count(ActionKind::Delete),
        plan.count(ActionKind::Blocked)
    )
}

/// The plan as Markdown for a pull-request comment: the summary, a table of actions,
/// and each change's field and template diffs in a collapsible block. Reviewers trust
/// this comment, and the values in it come from the pull request and the live API: each
/// is a code span ([`escape::code_span`]), the diffs a fenced block longer than any
/// backtick run in them, the `<summary>` HTML-escaped text; only the summary line,
/// `No changes.` and the table's frame are ours.
pub fn render_markdown(plan: &Plan, redeploy: &[StageDeployment]) -> String {
    let cell = |s: &str| code_span(s, Context::TableCell);
    let mut out = String::from("### apigw-reconciler plan\n\n");
    let _ = writeln!(out, "**{}**\n", summary_line(plan));
    if plan.actions.is_empty() {
        out.push_str("No changes. Live integration responses match the specs.\n");
    }
    if !plan.actions.is_empty() {
        out.push_str("| action | API | resource | method | status | spec / reason |\n|---|---|---|---|---|---|\n");
        for a in &plan.actions {
            let (sym, _, word) = symbol(a.kind);
            let api = match &a.api_name {
                Some(name) => format!("{} ({})", cell(name), cell(&a.key.rest_api_id)),
                None => cell(&a.key.rest_api_id),
            };
            let resource = a.resource_path.as_ref().unwrap_or(&a.key.resource_id);
            let detail = [
                a.source.as_ref().map(|s| cell(&s.to_string())),
                a.reason.as_deref().map(cell),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            let _ = writeln!(
                out,
                "| `{sym}` {word} | {api} | {} | {} | {} | {detail} |",
                cell(resource),
                cell(&a.key.http_method),
                cell(&a.key.status_code)
            );
        }
    }
    for a in plan
        .actions
        .iter()
        .filter(|a| matches!(a.kind, ActionKind::Create | ActionKind::Update))
    {
        let fields = action_fields(a, Style { color: false });
        // Unified-diff lines start at column 0 so the `diff` highlighting colours them.
        let body: String = fields
            .lines()
            .map(|l| {
                l.strip_prefix("        ")
                    .or_else(|| l.strip_prefix("      "))
                    .unwrap_or(l)
            })
            .collect::<Vec<_>>()
            .join("\n");
        // The `<summary>` line is raw HTML (Markdown is not parsed there): escaped text
        // in a `<code>` element.
        let _ = write!(
            out,
            "\n<details><summary>{} <code>{}</code></summary>\n\n{}</details>\n",
            symbol(a.kind).2,
            html_text(&describe_raw(a)),
            code_block(&body, "diff")
        );
    }
    if !redeploy.is_empty() {
        let stages: Vec<String> = redeploy
            .iter()
            .map(|s| {
                format!(
                    "{} ({})",
                    code_span(&s.to_string(), Context::Inline),
                    code_span(&s.reason, Context::Inline)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "\nStages redeployed after apply: {}",
            stages.join(", ")
        );
    }
    if let Some(note) = unmanaged_note(plan) {
        let _ = writeln!(out, "\n_Note: {note}._");
    }
    out
}

fn show_pattern(p: &Option<String>) -> String {
    match p {
        None => "(default response)".into(),
        Some(p) => format!("{p:?}"),
    }
}

/// The changed fields between `old` and `new`, indented under an action line.
fn field_changes(old: &Settings, new: &Settings, style: Style) -> String {
    let (old, new) = (old.normalized(), new.normalized());
    let mut out = String::new();
    if old.selection_pattern != new.selection_pattern || old == Settings::default() {
        let _ = writeln!(
            out,
            "      selectionPattern: {}",
            if old.selection_pattern == new.selection_pattern {
                show_pattern(&new.selection_pattern)
            } else {
                format!(
                    "{} -> {}",
                    show_pattern(&old.selection_pattern),
                    show_pattern(&new.selection_pattern)
                )
            }
        );
    }
    if old.content_handling != new.content_handling {
        let show = |c: &Option<String>| {
            c.as_deref()
                .map_or_else(|| "(none)".into(), |c| visible(c).into_owned())
        };
        let _ = writeln!(
            out,
            "      contentHandling: {} -> {}",
            show(&old.content_handling),
            show(&new.content_handling)
        );
    }
    map_changes(
        &mut out,
        "responseParameters",
        &old.response_parameters,
        &new.response_parameters,
        style,
        false,
    );
    map_changes(
        &mut out,
        "responseTemplates",
        &old.response_templates,
        &new.response_templates,
        style,
        true,
    );
    out
}

fn map_changes(
    out: &mut String,
    name: &str,
    old: &VecMap<String, String>,
    new: &VecMap<String, String>,
    style: Style,
    as_text: bool,
) {
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let (a, b) = (old.get(key), new.get(key));
        if a == b {
            continue;
        }
        if !as_text {
            let (key, a, b) = (visible(key), a.map(|a| visible(a)), b.map(|b| visible(b)));
            let line = match (a, b) {
                (None, Some(b)) => style.paint("32", &format!("+ {key}: {b}")),
                (Some(a), None) => style.paint("31", &format!("- {key}: {a}")),
                (Some(a), Some(b)) => style.paint("33", &format!("~ {key}: {a} -> {b}")),
                (None, None) => continue,
            };
            let _ = writeln!(out, "      {name}: {line}");
            continue;
        }
        let _ = writeln!(out, "      {name}[{key:?}]:{}", template_change(a, b));
        let (a, b) = (
            a.map(String::as_str).unwrap_or(""),
            b.map(String::as_str).unwrap_or(""),
        );
        if a.is_empty() && b.is_empty() {
            continue;
        }
        let diff = TextDiff::from_lines(a, b);
        for line in diff
            .unified_diff()
            .context_radius(3)
            .missing_newline_hint(false)
            .header("live", "desired")
            .to_string()
            .lines()
        {
            // A template keeps its tabs; nothing else in it may break the line.
            let line = &*escape::visible_except(line, |c| c == '\t');
            let painted = match line.chars().next() {
                Some('+') if !line.starts_with("+++") => style.paint("32", line),
                Some('-') if !line.starts_with("---") => style.paint("31", line),
                Some('@') => style.paint("36", line),
                _ => line.to_owned(),
            };
            let _ = writeln!(out, "        {painted}");
        }
        // Say which side lacks the final newline: only that side's template does.
        for (side, text) in [("live", a), ("desired", b)] {
            if !text.is_empty() && !text.ends_with('\n') {
                let _ = writeln!(out, "        (no newline at end of the {side} template)");
            }
        }
    }
}

/// What happens to one template key, beyond its text diff: passthrough entries (`""`)
/// have no text, so they are named.
fn template_change(live: Option<&String>, desired: Option<&String>) -> &'static str {
    match (live.map(|t| t.is_empty()), desired.map(|t| t.is_empty())) {
        (None, Some(true)) => " + passthrough entry (no template: the body passes through)",
        (None, Some(false)) => " + template",
        (Some(true), None) => " - passthrough entry",
        (Some(false), None) => " - template",
        (Some(false), Some(true)) => " template -> passthrough entry",
        (Some(true), Some(false)) => " passthrough entry -> template",
        _ => "",
    }
}

/// An integration response's fields under their spec names (normalised: the default
/// response's pattern is null, a passthrough entry is `""`), or null when there is none,
/// as `before`/`after` in Terraform's JSON plan.
fn fields_json(settings: Option<&Settings>) -> serde_json::Value {
    let Some(s) = settings.map(Settings::normalized) else {
        return serde_json::Value::Null;
    };
    let map = |m: &VecMap<String, String>| -> serde_json::Map<String, serde_json::Value> {
        m.iter().map(|(k, v)| (k.clone(), json!(v))).collect()
    };
    json!({
        "selectionPattern": s.selection_pattern,
        "responseParameters": map(&s.response_parameters),
        "responseTemplates": map(&s.response_templates),
        "contentHandling": s.content_handling,
    })
}

/// The JSON plan: `{"summary": {...}, "actions": [...]}`.
pub fn render_json(plan: &Plan) -> String {
    let actions: Vec<serde_json::Value> = plan
        .actions
        .iter()
        .map(|a| {
            let mut v = json!({
                "action": a.kind,
                "restApiId": a.key.rest_api_id,
                "resourceId": a.key.resource_id,
                "httpMethod": a.key.http_method,
                "statusCode": a.key.status_code,
            });
            if let Some(reason) = &a.reason {
                v["reason"] = json!(reason);
            }
            v["before"] = fields_json(a.live.as_ref());
            v["after"] = fields_json(a.desired.as_ref());
            v
        })
        .collect();
    let doc = json!({
        "summary": {
            "create": plan.count(ActionKind::Create),
            "update": plan.count(ActionKind::Update),
            "delete": plan.count(ActionKind::Delete),
            "blocked": plan.count(ActionKind::Blocked),
        },
        "actions": actions,
    });
    doc.to_string()
}

fn past_tense(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Create => "created",
        ActionKind::Update => "updated",
        ActionKind::Delete => "deleted",
        ActionKind::Blocked => "blocked",
    }
}

/// One line per executed action and the `Apply: ...` summary.
pub fn render_report(report: &ExecutionReport, style: Style) -> String {
    let mut out = String::new();
    for r in &report.results {
        let line = match &r.outcome {
            Outcome::Applied => style.paint(
                "32",
                &format!("{} {}", past_tense(r.action.kind), describe(&r.action)),
            ),
            Outcome::Failed(e) => style.paint(
                "31",
                &format!(
                    "failed to {} {}: {}",
                    symbol(r.action.kind).2,
                    describe(&r.action),
                    visible(&e.to_string())
                ),
            ),
            Outcome::Cancelled => format!("not started (shutting down): {}", describe(&r.action)),
            Outcome::Held(why) => style.paint(
                "35",
                &format!(
                    "held {} {}: {}",
                    symbol(r.action.kind).2,
                    describe(&r.action),
                    visible(why)
                ),
            ),
            Outcome::Blocked => style.paint(
                "35",
                &format!(
                    "blocked {}: {}",
                    describe(&r.action),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Key;

    fn action(kind: ActionKind, live: Option<Settings>, desired: Option<Settings>) -> Action {
        Action {
            kind,
            key: Key {
                rest_api_id: "api1".into(),
                resource_id: "r1".into(),
                http_method: "GET".into(),
                status_code: "200".into(),
            },
            api_name: Some("Shop".into()),
            resource_path: Some("/orders".into()),
            desired,
            live,
            reason: None,
            source: None,
        }
    }

    fn template(body: &str) -> Settings {
        Settings {
            response_templates: [("application/xml".to_owned(), body.to_owned())].into(),
            ..Settings::default()
        }
    }

    #[test]
    fn template_changes_are_unified_diffs_and_the_summary_counts() {
        let plan = Plan {
            actions: vec![action(
                ActionKind::Update,
                Some(template("<a>\n  $x\n</a>\n")),
                Some(template("<a>\n  $y\n</a>\n")),
            )],
            ..Plan::default()
        };
        let text = render_text(&plan, &[], Style { color: false });
        assert!(
            text.starts_with("~ update  Shop (api1) /orders GET 200\n"),
            "{text}"
        );
        assert!(
            text.contains("@@ -1,3 +1,3 @@\n         <a>\n        -  $x\n        +  $y\n"),
            "{text}"
        );
        assert!(
            text.ends_with("Plan: 0 to create, 1 to update, 0 to delete, 0 blocked.\n"),
            "{text}"
        );
        assert!(!text.contains('\x1b'));
        assert!(render_text(&plan, &[], Style { color: true }).contains("\x1b[33m"));
    }

    #[test]
    fn passthrough_entries_are_named_in_text_and_json() {
        let passthrough = Settings {
            response_templates: [("application/json".to_owned(), String::new())].into(),
            ..Settings::default()
        };
        let plan = Plan {
            actions: vec![action(
                ActionKind::Update,
                Some(Settings::default()),
                Some(passthrough.clone()),
            )],
            ..Plan::default()
        };
        let text = render_text(&plan, &[], Style { color: false });
        assert!(
            text.contains(
                "      responseTemplates[\"application/json\"]: + passthrough entry (no template: the body passes through)\n"
            ),
            "{text}"
        );
        assert!(!text.contains("@@"), "no text to diff: {text}");
        let json: serde_json::Value = serde_json::from_str(&render_json(&plan)).unwrap();
        assert_eq!(json["actions"][0]["before"]["responseTemplates"], json!({}));
        assert_eq!(
            json["actions"][0]["after"]["responseTemplates"],
            json!({"application/json": ""})
        );
        let md = render_markdown(&plan, &[]);
        assert!(md.contains("+ passthrough entry"), "{md}");
        // And the other way round.
        let back = Plan {
            actions: vec![action(
                ActionKind::Update,
                Some(passthrough),
                Some(Settings {
                    response_templates: [("application/json".to_owned(), "<a/>\n".to_owned())]
                        .into(),
                    ..Settings::default()
                }),
            )],
            ..Plan::default()
        };
        let text = render_text(&back, &[], Style { color: false });
        assert!(
            text.contains("]: passthrough entry -> template\n"),
            "{text}"
        );
        assert!(text.contains("        +<a/>\n"), "{text}");
    }

    #[test]
    fn the_missing_newline_note_names_the_side_that_lacks_it() {
        let plan = |live: &str, desired: &str| {
            render_text(
                &Plan {
                    actions: vec![action(
                        ActionKind::Update,
                        Some(template(live)),
                        Some(template(desired)),
                    )],
                    ..Plan::default()
                },
                &[],
                Style { color: false },
            )
        };
        let text = plan("<a/>", "<b/>\n");
        assert!(
            text.contains("(no newline at end of the live template)"),
            "{text}"
        );
        assert!(!text.contains("desired template)"), "{text}");
        let text = plan("<a/>\n", "<b/>");
        assert!(
            text.contains("(no newline at end of the desired template)"),
            "{text}"
        );
        assert!(!text.contains("live template)"), "{text}");
        assert!(!plan("<a/>\n", "<b/>\n").contains("no newline"));
    }

    #[test]
    fn the_text_plan_and_report_show_control_characters_escaped() {
        let evil = "x\u{1b}[2J\r\nPlan: 0 to create, 0 to update, 0 to delete, 0 blocked.\u{2028}";
        let mut desired = template(&format!("a\tb\n{evil}\n"));
        desired.response_parameters.insert(
            format!("method.response.header.{evil}"),
            format!("'{evil}'"),
        );
        desired.content_handling = Some(evil.into());
        let mut a = action(ActionKind::Create, None, Some(desired));
        a.api_name = Some(evil.into());
        a.resource_path = Some(evil.into());
        a.reason = Some(evil.into());
        let plan = Plan {
            actions: vec![a.clone()],
            ..Plan::default()
        };
        let text = render_text(&plan, &[], Style { color: false });
        assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
        assert!(!text.contains('\u{2028}'), "{text:?}");
        let summaries = text.lines().filter(|l| l.starts_with("Plan:")).count();
        assert_eq!(summaries, 1, "{text}");
        assert!(text.contains("x\\x1b[2J\\r\\nPlan: 0 to create"), "{text}");
        // The template keeps its tab and its own lines in the diff.
        assert!(text.contains("        +a\tb\n"), "{text}");
        // Colour codes are ours only.
        let coloured = render_text(&plan, &[], Style { color: true });
        assert!(!coloured.contains("\u{1b}[2J"), "{coloured:?}");
        let report = ExecutionReport {
            results: vec![crate::executor::ActionResult {
                action: a,
                outcome: Outcome::Held(evil.into()),
                attempts: 0,
            }],
        };
        let text = render_report(&report, Style { color: false });
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(!text.contains('\u{1b}'), "{text:?}");
    }

    #[test]
    fn json_before_and_after_are_the_fields_live_and_desired() {
        let live = Settings {
            selection_pattern: Some("-".into()),
            response_parameters: [("method.response.header.A".to_owned(), "'a'".to_owned())].into(),
            ..template("<a/>")
        };
        let desired = Settings {
            selection_pattern: Some("5\\d{2}".into()),
            content_handling: Some("CONVERT_TO_TEXT".into()),
            ..template("<b/>")
        };
        let plan = Plan {
            actions: vec![
                action(ActionKind::Update, Some(live.clone()), Some(desired)),
                action(ActionKind::Delete, Some(live), None),
            ],
            ..Plan::default()
        };
        let json: serde_json::Value = serde_json::from_str(&render_json(&plan)).unwrap();
        assert_eq!(
            json["actions"][0]["before"],
            json!({"selectionPattern": null, "responseParameters": {"method.response.header.A": "'a'"},
                   "responseTemplates": {"application/xml": "<a/>"}, "contentHandling": null})
        );
        assert_eq!(
            json["actions"][0]["after"],
            json!({"selectionPattern": "5\\d{2}", "responseParameters": {},
                   "responseTemplates": {"application/xml": "<b/>"}, "contentHandling": "CONVERT_TO_TEXT"})
        );
        assert_eq!(json["actions"][1]["after"], serde_json::Value::Null);
        assert_eq!(
            json["actions"][1]["before"]["responseTemplates"],
            json!({"application/xml": "<a/>"})
        );
    }

    #[test]
    fn json_has_the_documented_shape() {
        let mut blocked = action(ActionKind::Blocked, None, None);
        blocked.reason = Some("no method response".into());
        let plan = Plan {
            actions: vec![
                action(ActionKind::Create, None, Some(Settings::default())),
                blocked,
            ],
            ..Plan::default()
        };
        assert_eq!(
            render_json(&plan),
            r#"{"summary":{"create":1,"update":0,"delete":0,"blocked":1},"actions":[{"action":"create","restApiId":"api1","resourceId":"r1","httpMethod":"GET","statusCode":"200","before":null,"after":{"selectionPattern":null,"responseParameters":{},"responseTemplates":{},"contentHandling":null}},{"action":"blocked","restApiId":"api1","resourceId":"r1","httpMethod":"GET","statusCode":"200","reason":"no method response","before":null,"after":null}]}"#
        );
    }
}

#[cfg(test)]
mod markdown_tests {
    use super::*;
    use crate::model::Key;

    #[test]
    fn markdown_has_a_summary_a_table_and_collapsible_diffs() {
        let mut desired = Settings::default();
        desired
            .response_templates
            .insert("application/json".into(), "{\"a\": 1}\n".into());
        let plan = Plan {
            actions: vec![Action {
                kind: ActionKind::Create,
                key: Key {
                    rest_api_id: "api1".into(),
                    resource_id: "r1".into(),
                    http_method: "GET".into(),
                    status_code: "200".into(),
                },
                api_name: Some("Shop|Front".into()),
                resource_path: Some("/orders".into()),
                desired: Some(desired),
                live: None,
                reason: None,
                source: None,
            }],
            ..Plan::default()
        };
        let md = render_markdown(&plan, &[]);
        assert!(
            md.contains("**Plan: 1 to create, 0 to update, 0 to delete, 0 blocked.**"),
            "{md}"
        );
        assert!(
            md.contains("| `+` create | `Shop\\|Front` (`api1`) | `/orders` | `GET` | `200` |"),
            "{md}"
        );
        assert!(
            md.contains(
                "<details><summary>create <code>Shop|Front (api1) /orders GET 200</code></summary>"
            ),
            "{md}"
        );
        assert!(md.contains("```diff\nselectionPattern: (default response)\nresponseTemplates[\"application/json\"]:"), "{md}");
        assert!(md.contains("\n+{\"a\": 1}\n"), "{md}");
        assert!(render_markdown(&Plan::default(), &[]).contains("No changes."));
    }

    /// Every value a pull request or the live API controls, trying to forge the
    /// comment; rendered by a CommonMark parser with GitHub's tables.
    #[test]
    fn hostile_values_stay_inside_code_in_markdown() {
        use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
        let forged = "**Plan: 0 to create, 0 to update, 0 to delete, 0 blocked.**";
        let evil = format!("x`|<img src=x onerror=alert(1)>\n{forged}\r\nNo changes.\u{2028}`");
        let mut desired = Settings {
            selection_pattern: Some(format!("5\\d{{2}}|{evil}")),
            content_handling: Some(evil.clone()),
            ..Settings::default()
        };
        desired.response_parameters.insert(
            format!("method.response.header.X-`|{evil}"),
            format!("'{evil}'"),
        );
        desired.response_templates.insert(
            format!("application/{evil}"),
            format!("```\n````\n</details>\n<img src=x>\nNo changes.\n{forged}\n"),
        );
        let key = Key {
            rest_api_id: evil.clone(),
            resource_id: evil.clone(),
            http_method: evil.clone(),
            status_code: evil.clone(),
        };
        let action = |kind| Action {
            kind,
            key: key.clone(),
            api_name: Some(evil.clone()),
            resource_path: Some(evil.clone()),
            desired: Some(desired.clone()),
            live: None,
            reason: Some(evil.clone()),
            source: None,
        };
        let plan = Plan {
            actions: vec![action(ActionKind::Create), action(ActionKind::Blocked)],
            ..Plan::default()
        };
        let stage = StageDeployment {
            rest_api_id: evil.clone(),
            api_name: Some(evil.clone()),
            stage: evil.clone(),
            description: String::new(),
            reason: evil.clone(),
        };
        let md = render_markdown(&plan, &[stage]);
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, Parser::new_ext(&md, Options::ENABLE_TABLES));
        assert!(!html.contains("<img"), "{html}");
        let (mut in_block, mut rows, mut prose, mut raw) = (false, 0, Vec::new(), Vec::new());
        for e in Parser::new_ext(&md, Options::ENABLE_TABLES) {
            match e {
                Event::Start(Tag::CodeBlock(_)) => in_block = true,
                Event::End(TagEnd::CodeBlock) => in_block = false,
                Event::Start(Tag::TableRow) => rows += 1,
                Event::Text(t) if !in_block => prose.push(t.into_string()),
                Event::Html(t) | Event::InlineHtml(t) => raw.push(t.into_string()),
                _ => {}
            }
        }
        assert_eq!(rows, 2, "two actions, two rows:\n{md}");
        let summaries: Vec<&String> = prose.iter().filter(|t| t.contains("Plan:")).collect();
        assert_eq!(
            summaries,
            ["Plan: 1 to create, 0 to update, 0 to delete, 1 blocked."],
            "{md}"
        );
        assert!(!prose.iter().any(|t| t.contains("No changes")), "{md}");
        for r in &raw {
            assert!(
                r.starts_with("<details>") || r.starts_with("</details>"),
                "{r:?}\n{md}"
            );
            assert_eq!(r.lines().count(), 1, "one line of our HTML: {r:?}");
        }
    }
}
