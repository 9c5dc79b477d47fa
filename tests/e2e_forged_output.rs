//! Forged review output (issue 17, finding 7): values from specs and from the live API
//! reach a pull-request comment (`plan --output markdown`), text logs and error
//! messages. None of them may end a table row, print its own `Plan:` summary or
//! `No changes.`, open an HTML tag, or start a log line of its own.
//!
//! - `validate` refuses the names and paths API Gateway refuses (with their place);
//! - the Markdown plan of values API Gateway accepts, rendered by a real CommonMark
//!   parser (pulldown-cmark, with GitHub's tables), keeps every hostile value inside
//!   code: no `<img>` element, one summary, the table's rows as planned;
//! - the daemon's text log holds one line per event, each starting with the
//!   formatter's timestamp and level; its JSON log one JSON object per line.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::*;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

const OFFLINE: &str = "http://127.0.0.1:9";
const CONFIG: &str = "region: us-east-1\n";
const WAIT: Duration = Duration::from_secs(60);

/// The forged summary a value tries to print.
const FORGED_SUMMARY: &str = "**Plan: 0 to create, 0 to update, 0 to delete, 0 blocked.**";

fn validate(dir: &Path) -> Output {
    run_cli(OFFLINE, dir, CONFIG, &["validate"], &[])
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn spec_with(api_line: &str, path_line: &str) -> String {
    format!(
        "kind: IntegrationResponse\n{api_line}\n{path_line}\nhttpMethod: GET\nstatusCode: \"200\"\n"
    )
}

/// (a) What API Gateway refuses is refused offline, at the value's place, exit 1;
/// what it accepts (spaces, dots, HTML and backticks in an API name, path variables,
/// a greedy variable last) validates.
#[test]
fn validate_refuses_the_names_and_paths_api_gateway_refuses() {
    let refused = [
        (
            "restApiName: \"Bad\\rInputs\"",
            "resourcePath: /things",
            "spec.yaml:2:14:",
            "`restApiName`",
        ),
        (
            "restApiName: \"Shop\\n2026-01-01T00:00:00.000000Z  INFO forged\"",
            "resourcePath: /things",
            "spec.yaml:2:14:",
            "`restApiName`",
        ),
        (
            "restApiName: Shop",
            "resourcePath: \"/a`b`\"",
            "spec.yaml:3:15:",
            "`resourcePath`",
        ),
        (
            "restApiName: Shop",
            "resourcePath: \"/<img src=x onerror=alert(1)>\"",
            "spec.yaml:3:15:",
            "`resourcePath`",
        ),
        (
            "restApiName: Shop",
            "resourcePath: /a//b",
            "spec.yaml:3:15:",
            "`resourcePath`",
        ),
        (
            "restApiName: Shop",
            "resourcePath: \"/{proxy+}/child\"",
            "spec.yaml:3:15:",
            "`resourcePath`",
        ),
    ];
    for (api, path, place, field) in refused {
        let dir = desired_dir(&[("spec.yaml", &spec_with(api, path))]);
        let out = validate(dir.path());
        assert_eq!(out.status.code(), Some(1), "{api} {path}:\n{}", show(&out));
        let err = stderr(&out);
        let want = format!("{}/{place}", dir.path().display());
        let line = err
            .lines()
            .find(|l| l.trim_start().starts_with(&want))
            .unwrap_or_else(|| panic!("{api} {path}: no error at {want}:\n{}", show(&out)));
        assert!(line.contains(field), "{line}");
        // The message quotes the value without its line breaks.
        assert!(
            !err.lines().any(|l| l.starts_with("2026-01-01")),
            "a quoted value started a line:\n{err}"
        );
    }

    let accepted = [
        ("restApiName: My Demo API v1.2", "resourcePath: /"),
        (
            "restApiName: \"Shop`<img src=x>` & co | **bold**\"",
            "resourcePath: /pets/{petId}",
        ),
        ("restApiName: Bücher-API", "resourcePath: \"/{proxy+}\""),
        ("restApiName: Shop", "resourcePath: /v1/users/{id}/orders"),
        ("restApiName: Shop", "resourcePath: /v1/events:batchGet"),
        ("restApiName: Shop", "resourcePath: /parent/{child+}"),
    ];
    for (api, path) in accepted {
        let dir = desired_dir(&[("spec.yaml", &spec_with(api, path))]);
        let out = validate(dir.path());
        assert_eq!(out.status.code(), Some(0), "{api} {path}:\n{}", show(&out));
    }
}

/// What a CommonMark renderer with GitHub's tables makes of a Markdown plan.
struct Rendered {
    html: String,
    /// Text outside code spans and code blocks.
    prose: Vec<String>,
    /// Raw HTML passed through to the page.
    raw_html: Vec<String>,
    /// Rows of the table body, each its cells' text.
    rows: Vec<Vec<String>>,
    tables: usize,
}

fn render(markdown: &str) -> Rendered {
    let options = Options::ENABLE_TABLES;
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, Parser::new_ext(markdown, options));
    let mut r = Rendered {
        html,
        prose: Vec::new(),
        raw_html: Vec::new(),
        rows: Vec::new(),
        tables: 0,
    };
    let (mut in_block, mut in_head) = (false, false);
    let mut row: Option<Vec<String>> = None;
    for event in Parser::new_ext(markdown, options) {
        let text = match event {
            Event::Start(Tag::Table(_)) => {
                r.tables += 1;
                continue;
            }
            Event::Start(Tag::TableHead) => {
                in_head = true;
                continue;
            }
            Event::End(TagEnd::TableHead) => {
                in_head = false;
                continue;
            }
            Event::Start(Tag::TableRow) if !in_head => {
                row = Some(Vec::new());
                continue;
            }
            Event::End(TagEnd::TableRow) => {
                r.rows.extend(row.take());
                continue;
            }
            Event::Start(Tag::TableCell) => {
                if let Some(cells) = row.as_mut() {
                    cells.push(String::new());
                }
                continue;
            }
            Event::Start(Tag::CodeBlock(_)) => {
                in_block = true;
                continue;
            }
            Event::End(TagEnd::CodeBlock) => {
                in_block = false;
                continue;
            }
            Event::Text(t) if !in_block => {
                r.prose.push(t.to_string());
                t
            }
            Event::Html(t) | Event::InlineHtml(t) => {
                r.raw_html.push(t.to_string());
                t
            }
            Event::Code(t) => t,
            _ => continue,
        };
        if let Some(cell) = row.as_mut().and_then(|cells| cells.last_mut()) {
            cell.push_str(&text);
        }
    }
    r
}

/// (b) Values API Gateway accepts, each trying to forge the comment: an API name with
/// a backtick, `|`, an `<img>` and a bold summary; a static header value holding the
/// summary; a header name with a backtick and a `|`; a context variable made of HTML;
/// a template with backtick fences, `</details>`, an `<img>` and the lines
/// `No changes.` and the summary. Rendered, the comment has one summary, no `<img>`
/// element, no `No changes.` outside code, and the two rows planned.
#[tokio::test(flavor = "multi_thread")]
async fn the_markdown_plan_keeps_hostile_values_inside_code() {
    let moto = Moto::start();
    let client = moto.client().await;
    let name = format!("Shop <img src=x onerror=alert(1)> | {FORGED_SUMMARY} `");
    let api = create_api(&client, &name).await;
    let res = create_resource(&client, &api.api_id, &api.root_id, "orders").await;
    create_method(&client, &api.api_id, &res, "GET", &["200"]).await;
    declare_headers(
        &client,
        &api.api_id,
        &res,
        "GET",
        "200",
        &["X-Forged", "X-Ctx", "X-a`|b"],
    )
    .await;

    let template = format!(
        "```\n</details>\n<img src=x onerror=alert(1)>\nNo changes.\n{FORGED_SUMMARY}\n| a | b |\n````\n"
    );
    let specs = format!(
        "kind: IntegrationResponse\nrestApiName: {name:?}\nresourcePath: /orders\nhttpMethod: GET\nstatusCode: \"200\"\n\
         selectionPattern: \"\"\n\
         responseParameters:\n  method.response.header.X-Forged: \"'{FORGED_SUMMARY}'\"\n  \
         method.response.header.X-Ctx: \"context.<img/src=x/onerror=alert(1)>\"\n  \
         method.response.header.X-a`|b: \"'No changes.'\"\n\
         responseTemplates:\n  application/json: {template:?}\n\
         ---\n\
         kind: IntegrationResponse\nrestApiName: {name:?}\nresourcePath: /orders\nhttpMethod: GET\nstatusCode: \"404\"\n\
         selectionPattern: \"4\\\\d{{2}}|`<img src=x>`\"\n",
    );
    let desired = desired_dir(&[("specs.yaml", &specs)]);
    let out = moto.cli(desired.path(), CONFIG, &["plan", "--output", "markdown"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let markdown = stdout(&out);
    let r = render(&markdown);

    assert!(
        !r.html.contains("<img"),
        "an <img> element reached the comment:\n{}\n--- markdown\n{markdown}",
        r.html
    );
    let summaries: Vec<&String> = r.prose.iter().filter(|t| t.contains("Plan:")).collect();
    assert_eq!(
        summaries,
        ["Plan: 1 to create, 0 to update, 0 to delete, 1 blocked."],
        "exactly one summary outside code:\n{markdown}"
    );
    assert!(
        !r.prose.iter().any(|t| t.contains("No changes.")),
        "`No changes.` outside code:\n{markdown}"
    );
    assert_eq!(r.tables, 1, "{markdown}");
    assert_eq!(
        r.rows.len(),
        2,
        "two actions, two rows: {:#?}\n{markdown}",
        r.rows
    );
    for row in &r.rows {
        assert_eq!(row.len(), 6, "six cells: {row:?}\n{markdown}");
    }
    // The hostile name is shown, whole, as text.
    assert!(
        r.rows[0][1].contains(&name) || r.rows[1][1].contains(&name),
        "the API name shown as it is: {:#?}",
        r.rows
    );
    assert!(
        r.html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "the <img> shown as text:\n{}",
        r.html
    );
    // No raw HTML but ours (the collapsible block).
    for html in &r.raw_html {
        assert!(
            html.starts_with("<details>") || html.starts_with("</details>"),
            "raw HTML from a value: {html:?}\n{markdown}"
        );
    }
}

/// The daemon's text log: does every line start like a record the formatter writes
/// (`2026-05-01T10:00:00.123456Z  INFO ...`)? Returns the lines that do not.
fn not_records(log: &str) -> Vec<&str> {
    const LEVELS: [&str; 5] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];
    log.lines()
        .filter(|line| {
            let Some((stamp, rest)) = line.split_once(' ') else {
                return true;
            };
            let b = stamp.as_bytes();
            let stamp_ok = b.len() >= 20
                && b[..4].iter().all(u8::is_ascii_digit)
                && b[4] == b'-'
                && b[10] == b'T'
                && stamp.ends_with('Z')
                && !stamp.starts_with("1999");
            let level_ok = LEVELS
                .iter()
                .any(|l| rest.trim_start().starts_with(&format!("{l} ")));
            !(stamp_ok && level_ok)
        })
        .collect()
}

/// A forged record, as a value would carry it after a line break.
const FORGED_RECORD: &str =
    "1999-01-01T00:00:00.000000Z ERROR apigw_reconciler::daemon: forged record";

/// Drive a daemon through a drift whose diff carries the forged record in a template,
/// then an invalid spec whose error message quotes it; return its log once both are in.
async fn daemon_log_with_forged_values(config: &str) -> String {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = seed_scaffold(&client).await;
    let template = format!("line one\n{FORGED_RECORD}\n");
    let desired = desired_dir(&[("seed.yaml", &seed_spec(&template))]);
    let daemon = moto.daemon(desired.path(), config, &[]);
    wait_live(WAIT, "the first apply", || async {
        seed_template(&client, &api, &res).await.as_deref() == Some(template.as_str())
    })
    .await;
    // Someone changes it outside the reconciler: the next cycle logs the drift.
    put_live(&client, &api.api_id, &res, "GET", "200", None).await;
    wait_until(WAIT, "the drift in the log", || {
        daemon.log().contains("drift detected")
    });
    // An invalid spec whose error quotes a value with the forged record.
    std::fs::write(
        desired.path().join("bad.yaml"),
        format!(
            "kind: IntegrationResponse\nrestApiName: MyDemoAPI\nresourcePath: /mydemoresource\nhttpMethod: GET\nstatusCode: {:?}\n",
            format!("201\n{FORGED_RECORD}")
        ),
    )
    .unwrap();
    wait_until(WAIT, "the invalid set in the log", || {
        daemon.log().contains("desired set invalid")
    });
    daemon.log()
}

/// (c) Text logs: a value's line break never starts a line, so no value can forge a
/// record; the value is still there, escaped, inside its own record.
#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_text_log_has_one_line_per_record() {
    let log = daemon_log_with_forged_values("region: us-east-1\ninterval: 1s\n").await;
    let bad = not_records(&log);
    assert!(
        bad.is_empty(),
        "lines that are not records the formatter wrote:\n{}\n--- log\n{log}",
        bad.join("\n")
    );
    assert!(
        log.lines()
            .any(|l| l.contains("drift detected") && l.contains(FORGED_RECORD)),
        "the drift's diff, escaped, on its record's line:\n{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("desired set invalid")
                && l.contains(&format!("201\\n{FORGED_RECORD}"))),
        "the quoted value, escaped, on its record's line:\n{log}"
    );
}

/// JSON logs are escaped by serde: a line break inside a value stays inside one JSON
/// object, one per line.
#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_json_log_keeps_a_line_break_inside_one_object() {
    let log =
        daemon_log_with_forged_values("region: us-east-1\ninterval: 1s\nlog:\n  format: json\n")
            .await;
    let records: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{log}")))
        .collect();
    let messages: Vec<&str> = records
        .iter()
        .filter_map(|r| r["message"].as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.starts_with("drift detected")
            && m.contains(&format!("\n        +{FORGED_RECORD}\n"))),
        "the drift's diff lines inside one record: {messages:#?}"
    );
    assert!(
        messages.iter().any(|m| m.starts_with("desired set invalid")
            && m.contains(&format!("201\n{FORGED_RECORD}"))),
        "the quoted value's line break inside one record: {messages:#?}"
    );
}
