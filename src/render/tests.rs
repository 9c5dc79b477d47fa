//! The three renderers over the same plans: the text plan's lines and colours, the
//! JSON shape, the Markdown comment against hostile values (parsed by a CommonMark
//! parser), and the apply report.

use serde_json::json;

use super::*;
use crate::diff::{Action, ActionKind};
use crate::executor::Outcome;
use crate::model::{Key, Settings};
use crate::redeploy::StageDeployment;

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
                response_templates: [("application/json".to_owned(), "<a/>\n".to_owned())].into(),
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

mod markdown {
    use super::*;

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

/// Plans of several targets: each under its heading, a failed target's error shown as
/// code (an API's message cannot forge Markdown or HTML), totals over all targets.
#[test]
fn several_targets_are_grouped_under_headings_and_a_failure_is_code() {
    use super::targets::{TargetInfo, TargetPlan};
    let plan = Plan {
        actions: vec![action(ActionKind::Create, None, Some(template("<a/>")))],
        ..Plan::default()
    };
    let info = |name: &str, account: Option<&str>| TargetInfo {
        name: name.into(),
        region: "eu-west-1".into(),
        account: account.map(str::to_owned),
    };
    let hostile = "AccessDenied\n</details>\n```\n<script>x</script>";
    let plans = [
        TargetPlan {
            target: info("prod-eu", Some("123456789012")),
            plan: Ok((&plan, &[])),
        },
        TargetPlan {
            target: info("partner", None),
            plan: Err(hostile.into()),
        },
    ];
    let text = targets::text(&plans, Style { color: false });
    assert!(
        text.starts_with("Target prod-eu (eu-west-1, account 123456789012):\n+ create"),
        "{text}"
    );
    assert!(
        text.contains("\nTarget partner (eu-west-1, account unknown):\nerror: AccessDenied\nerror: </details>\n"),
        "{text}"
    );
    assert!(
        text.ends_with("All targets: 1 to create, 0 to update, 0 to delete, 0 blocked (2 targets, 1 with changes, 1 failed).\n"),
        "{text}"
    );

    let md = targets::markdown(&plans);
    assert!(
        md.starts_with("### apigw-reconciler plan\n\n**All targets: 1 to create"),
        "{md}"
    );
    assert_eq!(md.matches("### apigw-reconciler plan").count(), 1, "{md}");
    assert!(
        md.contains("#### Target `prod-eu` · region `eu-west-1` · account `123456789012`"),
        "{md}"
    );
    let html = {
        let mut out = String::new();
        pulldown_cmark::html::push_html(&mut out, pulldown_cmark::Parser::new(&md));
        out
    };
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;"),
        "the error is shown, as code: {html}"
    );

    let doc: serde_json::Value = serde_json::from_str(&targets::json(&plans)).unwrap();
    assert_eq!(doc["summary"]["create"], 1);
    assert_eq!(doc["actions"][0]["target"], "prod-eu");
    assert_eq!(doc["targets"][1]["error"], hostile);
    assert_eq!(doc["targets"][1]["account"], serde_json::Value::Null);
    assert_eq!(doc["targets"][1]["summary"]["create"], 0);
}
