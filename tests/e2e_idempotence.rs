//! Property: for every valid desired set, `apply` converges (exit 0) and the next
//! `plan` shows no changes, and what reads back through the SDK is what the specs say
//! (after the documented normalisation).
//!
//! One moto server serves the whole property; every case gets a fresh REST API.
//! Specs are generated as data and written as YAML text with safe quoting (YAML
//! double-quoted scalars with escapes, or literal block scalars where they are exact).
//! `PROPTEST_CASES` raises the number of cases for a longer hunt.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_apigateway::Client;
use common::*;
use proptest::prelude::*;
use proptest::sample::{Index, select, subsequence};
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};

/// Status codes that get a method response on every method of a case.
const METHOD_RESPONSES: [&str; 7] = ["200", "201", "400", "403", "404", "500", "502"];

/// The methods a case can manage: (resource path, method).
const SLOTS: [(&str, &str); 4] = [
    ("/items", "GET"),
    ("/items/{id}", "POST"),
    ("/", "ANY"),
    ("/items", "DELETE"),
];

const CONTENT_TYPES: [&str; 7] = [
    "application/json",
    "application/xml",
    "text/html; charset=utf-8",
    "text/plain",
    "application/vnd.api+json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=\"x y\"",
];

#[derive(Clone, Debug)]
enum Pattern {
    /// The default response, written as: no field, `""` or `"-"`.
    Omitted,
    Empty,
    Dash,
    Regex(String),
}

impl Pattern {
    fn expected(&self) -> Option<String> {
        match self {
            Pattern::Regex(p) => Some(p.clone()),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
enum Template {
    /// A null value, written as `null`, `~` or nothing (passthrough).
    Null(u8),
    /// A string, possibly empty (passthrough); `block` asks for a literal block
    /// scalar where that represents the text exactly.
    Text { body: String, block: bool },
}

#[derive(Clone, Debug)]
struct Ir {
    status: String,
    unquoted_status: bool,
    pattern: Pattern,
    params: BTreeMap<String, String>,
    templates: BTreeMap<String, Template>,
    content_handling: Option<&'static str>,
    /// Write empty maps as `{}` instead of leaving the field out.
    explicit_empty_maps: bool,
    explicit_state: bool,
}

#[derive(Clone, Debug)]
struct MethodCase {
    slot: usize,
    lowercase_method: bool,
    by_resource_id: bool,
    irs: Vec<Ir>,
}

#[derive(Clone, Debug)]
struct Case {
    by_api_id: bool,
    one_file: bool,
    methods: Vec<MethodCase>,
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z][A-Za-z0-9-]{0,12}",
        "[A-Za-z][A-Za-z0-9!#$&*+.^_`|~-]{0,10}",
        select(vec![
            "Content-Type",
            "X-Request-Id",
            "Access-Control-Allow-Origin",
            "X-Custom_1.v2"
        ])
        .prop_map(str::to_owned),
    ]
}

fn parameter_value() -> impl Strategy<Value = String> {
    prop_oneof![
        header_name().prop_map(|h| format!("integration.response.header.{h}")),
        Just("integration.response.body".to_owned()),
        "[a-z][a-zA-Z0-9_]{0,8}(\\.[a-z][a-zA-Z0-9_]{0,8}){0,2}"
            .prop_map(|p| format!("integration.response.body.{p}")),
        "[ a-zA-Z0-9éü日本😀,;:/*=.\"'#-]{0,15}".prop_map(|s| format!("'{s}'")),
        select(vec![
            "'*'",
            "''",
            "'GET,POST,OPTIONS'",
            "'application/json'"
        ])
        .prop_map(str::to_owned),
    ]
}

fn regex_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            r"4\d{2}",
            r"5\d{2}",
            ".*NotFound.*",
            "^(400|404)$",
            r"[Ee]rror: .+",
            r#".*"code":\s*"E\d+".*"#,
            "日本語.*",
            "(?i)timeout",
            r"\{.*\}",
            "a|b",
            "Error(?!Ignored)",
            " ",
            "-.*",
            r"\\",
            "'quoted' \"double\"",
            ".*[\\n\\r].*",
        ])
        .prop_map(str::to_owned),
        "[A-Za-z0-9 _:,]{1,12}".prop_map(|s| format!(".*{s}.*")),
    ]
}

fn template_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "😀🎉👩‍👩‍👧",
            "日本語のテンプレート",
            "中文模板",
            "한국어",
            "e\u{301}a\u{308}n\u{303}",
            "\u{301}leading combining mark",
            "مرحبا",
            "#set($inputRoot = $input.path('$'))",
            "{\"message\": \"$util.escapeJavaScript($input.path('$.errorMessage'))\"}",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "C:\\path\\to\\file",
            "  indented",
            "\ttabbed",
            "---",
            "...",
            "# not a comment",
            "key: value",
            "- item",
            "*alias &anchor !tag %directive @ ` |>",
            "{ [ flow ] }",
            "trailing spaces   ",
            "\u{a0}nbsp\u{a0}",
            "line\u{2028}separator",
            "next\u{85}line",
            "\r\n",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z0-9 {}\"'\\\\$#().,:éü日本語😀]{0,20}",
    ]
}

fn template() -> impl Strategy<Value = Template> {
    let text = (
        prop::collection::vec(
            (template_piece(), select(vec!["", " ", "\n", "\n\n", "\t"])),
            1..6,
        ),
        select(vec!["", "\n", "\n\n"]),
        any::<bool>(),
    )
        .prop_map(|(pieces, end, block)| {
            let mut body: String = pieces.into_iter().map(|(p, sep)| p + sep).collect();
            body.push_str(end);
            Template::Text { body, block }
        })
        // `validate` refuses templates that are not VTL (API Gateway would answer 500
        // with them); this test is about round trips of valid specs.
        .prop_filter("a template that parses as VTL", |t| match t {
            Template::Text { body, .. } => apigw_reconciler::vtl::parse(body).is_ok(),
            Template::Null(_) => true,
        });
    prop_oneof![
        1 => (0u8..3).prop_map(Template::Null),
        1 => Just(Template::Text { body: String::new(), block: false }),
        6 => text,
    ]
}

/// An integration response without its status code and default-ness.
fn ir_body() -> impl Strategy<Value = Ir> {
    (
        regex_pattern(),
        prop::collection::btree_map(
            header_name().prop_map(|h| format!("method.response.header.{h}")),
            parameter_value(),
            0..4,
        ),
        prop::collection::btree_map(
            select(CONTENT_TYPES.to_vec()).prop_map(str::to_owned),
            template(),
            0..4,
        ),
        prop::option::of(select(vec!["CONVERT_TO_TEXT", "CONVERT_TO_BINARY"])),
        any::<(bool, bool, bool)>(),
    )
        .prop_map(
            |(pattern, params, templates, content_handling, (unquoted, empty_maps, state))| Ir {
                status: String::new(),
                unquoted_status: unquoted,
                pattern: Pattern::Regex(pattern),
                params,
                templates,
                content_handling,
                explicit_empty_maps: empty_maps,
                explicit_state: state,
            },
        )
}

fn method_case(slot: usize) -> impl Strategy<Value = MethodCase> {
    (
        subsequence(METHOD_RESPONSES.to_vec(), 1..=4),
        prop::collection::vec(ir_body(), 4),
        prop::option::of((any::<Index>(), 0u8..3)),
        any::<(bool, bool)>(),
    )
        .prop_map(
            move |(statuses, bodies, default, (lowercase_method, by_resource_id))| {
                let mut irs: Vec<Ir> = statuses
                    .iter()
                    .zip(bodies)
                    .map(|(status, body)| Ir {
                        status: status.to_string(),
                        ..body
                    })
                    .collect();
                // At most one default response per method.
                if let Some((index, style)) = default {
                    let n = irs.len();
                    irs[index.index(n)].pattern = match style {
                        0 => Pattern::Omitted,
                        1 => Pattern::Empty,
                        _ => Pattern::Dash,
                    };
                }
                MethodCase {
                    slot,
                    lowercase_method,
                    by_resource_id,
                    irs,
                }
            },
        )
}

fn case() -> impl Strategy<Value = Case> {
    (
        (
            method_case(0),
            method_case(1),
            method_case(2),
            method_case(3),
        ),
        subsequence(vec![0usize, 1, 2, 3], 1..=3),
        any::<(bool, bool)>(),
    )
        .prop_map(|((a, b, c, d), slots, (by_api_id, one_file))| {
            let all = [a, b, c, d];
            Case {
                by_api_id,
                one_file,
                methods: slots.into_iter().map(|i| all[i].clone()).collect(),
            }
        })
}

/// A YAML double-quoted scalar that reads back as exactly `s`.
fn dq(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a literal block scalar (indented by `indent`) reads back as exactly `s`.
fn block_safe(s: &str) -> bool {
    let ok_chars = s.chars().all(|c| {
        c == '\n' || (!c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}'))
    });
    let body = s.trim_end_matches('\n');
    ok_chars
        && s.contains('\n')
        && !body.is_empty()
        && !body.starts_with([' ', '\t', '\n'])
        // Whitespace-only lines are ambiguous with indentation: keep them quoted.
        && body.split('\n').all(|line| line.is_empty() || !line.trim().is_empty())
        // Trailing whitespace on the last line before the chomped newlines is fine,
        // but keep blank lines out of the end of the body.
        && !body.ends_with([' ', '\t'])
}

/// A literal block scalar for `s` whose lines are indented by `indent` spaces.
fn block(s: &str, indent: usize) -> String {
    let trailing = s.len() - s.trim_end_matches('\n').len();
    let chomp = match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    };
    let mut lines: Vec<&str> = s.split('\n').collect();
    if s.ends_with('\n') {
        lines.pop();
    }
    let mut out = format!("{chomp}\n");
    for line in lines {
        if !line.is_empty() {
            out.push_str(&" ".repeat(indent));
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

struct Ids {
    api_id: String,
    resources: BTreeMap<&'static str, String>,
}

fn spec_yaml(api_name: &str, ids: &Ids, case: &Case, m: &MethodCase, ir: &Ir) -> String {
    let (path, method) = SLOTS[m.slot];
    let mut y = String::from("kind: IntegrationResponse\n");
    if case.by_api_id {
        let _ = writeln!(y, "restApi: {}", dq(&ids.api_id));
    } else {
        let _ = writeln!(y, "restApiName: {}", dq(api_name));
    }
    if m.by_resource_id {
        let _ = writeln!(y, "resourceId: {}", dq(&ids.resources[path]));
    } else {
        let _ = writeln!(y, "resourcePath: {}", dq(path));
    }
    let method = if m.lowercase_method {
        method.to_ascii_lowercase()
    } else {
        method.to_owned()
    };
    let _ = writeln!(y, "httpMethod: {method}");
    if ir.unquoted_status {
        let _ = writeln!(y, "statusCode: {}", ir.status);
    } else {
        let _ = writeln!(y, "statusCode: \"{}\"", ir.status);
    }
    match &ir.pattern {
        Pattern::Omitted => {}
        Pattern::Empty => y.push_str("selectionPattern: \"\"\n"),
        Pattern::Dash => y.push_str("selectionPattern: \"-\"\n"),
        Pattern::Regex(p) => {
            let _ = writeln!(y, "selectionPattern: {}", dq(p));
        }
    }
    if !ir.params.is_empty() {
        y.push_str("responseParameters:\n");
        for (k, v) in &ir.params {
            let _ = writeln!(y, "  {}: {}", dq(k), dq(v));
        }
    } else if ir.explicit_empty_maps {
        y.push_str("responseParameters: {}\n");
    }
    if !ir.templates.is_empty() {
        y.push_str("responseTemplates:\n");
        for (content_type, t) in &ir.templates {
            let value = match t {
                Template::Null(0) => "null\n".to_owned(),
                Template::Null(1) => "~\n".to_owned(),
                Template::Null(_) => "\n".to_owned(),
                Template::Text { body, block: true } if block_safe(body) => block(body, 4),
                Template::Text { body, .. } => format!("{}\n", dq(body)),
            };
            let sep = if value == "\n" { "" } else { " " };
            let _ = write!(y, "  {}:{sep}{value}", dq(content_type));
        }
    } else if ir.explicit_empty_maps {
        y.push_str("responseTemplates: {}\n");
    }
    if let Some(c) = ir.content_handling {
        let _ = writeln!(y, "contentHandling: {c}");
    }
    if ir.explicit_state {
        y.push_str("state: present\n");
    }
    y
}

/// What API Gateway should hold for one spec.
#[derive(Clone, Debug, PartialEq)]
struct Expected {
    pattern: Option<String>,
    params: BTreeMap<String, String>,
    templates: BTreeMap<String, String>,
    content_handling: Option<String>,
}

fn expected(ir: &Ir) -> Expected {
    Expected {
        pattern: ir.pattern.expected(),
        params: ir.params.clone(),
        templates: ir
            .templates
            .iter()
            // A null or empty value is a passthrough entry: a present key, stored as "".
            .map(|(k, t)| match t {
                Template::Text { body, .. } => (k.clone(), body.clone()),
                Template::Null(_) => (k.clone(), String::new()),
            })
            .collect(),
        content_handling: ir.content_handling.map(str::to_owned),
    }
}

/// Every live integration response of an API: (path, method, status) -> settings, read
/// as raw JSON (a passthrough entry comes back as null, which the SDK cannot parse).
fn live(endpoint: &str, api_id: &str) -> BTreeMap<(String, String, String), Expected> {
    let strings = |v: &serde_json::Value| -> BTreeMap<String, String> {
        v.as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect()
    };
    let out = raw_get(
        endpoint,
        &format!("/restapis/{api_id}/resources?embed=methods&limit=500"),
    );
    let mut all = BTreeMap::new();
    for r in out["item"].as_array().into_iter().flatten() {
        let path = r["path"].as_str().unwrap_or_default();
        for (method, m) in r["resourceMethods"].as_object().into_iter().flatten() {
            let irs = m["methodIntegration"]["integrationResponses"].as_object();
            for (status, ir) in irs.into_iter().flatten() {
                all.insert(
                    (path.to_owned(), method.clone(), status.clone()),
                    Expected {
                        pattern: ir["selectionPattern"]
                            .as_str()
                            .filter(|p| !p.is_empty())
                            .map(str::to_owned),
                        params: strings(&ir["responseParameters"]),
                        templates: strings(&ir["responseTemplates"]),
                        content_handling: ir["contentHandling"].as_str().map(str::to_owned),
                    },
                );
            }
        }
    }
    all
}

/// The fixture for one case: a fresh API with /items and /items/{id}, and the
/// methods of `cases` with a MOCK integration and all of METHOD_RESPONSES.
async fn scaffold(client: &Client, name: &str, cases: &[&Case]) -> Ids {
    let api = create_api(client, name).await;
    let items = create_resource(client, &api.api_id, &api.root_id, "items").await;
    let item = create_resource(client, &api.api_id, &items, "{id}").await;
    let resources = BTreeMap::from([
        ("/", api.root_id.clone()),
        ("/items", items),
        ("/items/{id}", item),
    ]);
    let slots: BTreeSet<usize> = cases
        .iter()
        .flat_map(|c| c.methods.iter().map(|m| m.slot))
        .collect();
    for slot in slots {
        let (path, method) = SLOTS[slot];
        create_method(
            client,
            &api.api_id,
            &resources[path],
            method,
            &METHOD_RESPONSES,
        )
        .await;
        // Real API Gateway refuses mappings to undeclared headers: declare every
        // header the case maps on this method, on each method response.
        let headers: BTreeSet<&str> = cases
            .iter()
            .flat_map(|c| c.methods.iter().filter(|m| m.slot == slot))
            .flat_map(|m| m.irs.iter().flat_map(|ir| ir.params.keys()))
            .map(|k| k.trim_start_matches("method.response.header."))
            .collect();
        let headers: Vec<&str> = headers.into_iter().collect();
        for code in METHOD_RESPONSES {
            declare_headers(
                client,
                &api.api_id,
                &resources[path],
                method,
                code,
                &headers,
            )
            .await;
        }
    }
    Ids {
        api_id: api.api_id,
        resources,
    }
}

type LiveKey = (String, String, String);

/// A case written out: its directory, its text (for failure messages), what API
/// Gateway should hold for it, and the number of spec documents.
struct Written {
    dir: tempfile::TempDir,
    text: String,
    want: BTreeMap<LiveKey, Expected>,
    docs: usize,
}

fn write_case(name: &str, ids: &Ids, case: &Case) -> Written {
    let mut docs = Vec::new();
    let mut want = BTreeMap::new();
    for m in &case.methods {
        let (path, method) = SLOTS[m.slot];
        for ir in &m.irs {
            docs.push(spec_yaml(name, ids, case, m, ir));
            want.insert(
                (path.to_owned(), method.to_owned(), ir.status.clone()),
                expected(ir),
            );
        }
    }
    let files: Vec<(String, String)> = if case.one_file {
        vec![("all.yaml".to_owned(), docs.join("---\n"))]
    } else {
        docs.iter()
            .enumerate()
            .map(|(i, d)| (format!("specs/{i:02}.yml"), d.clone()))
            .collect()
    };
    let text = files
        .iter()
        .map(|(n, t)| format!("# {n}\n{t}"))
        .collect::<Vec<_>>()
        .join("\n");
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    Written {
        dir: desired_dir(&refs),
        text,
        want,
        docs: docs.len(),
    }
}

const CLEAN: &str = "Plan: 0 to create, 0 to update, 0 to delete, 0 blocked.";

/// `plan` is clean and the live state is exactly `want`.
fn check_converged(
    moto: &Moto,
    ids: &Ids,
    written: &Written,
    config: &str,
    want: &BTreeMap<LiveKey, Expected>,
) -> Result<(), TestCaseError> {
    let plan = moto.cli(written.dir.path(), config, &["plan"]);
    prop_assert_eq!(
        plan.status.code(),
        Some(0),
        "plan after apply:\n{}\n--- specs\n{}",
        show(&plan),
        written.text
    );
    prop_assert!(
        stdout(&plan).contains(CLEAN),
        "plan after apply:\n{}\n--- specs\n{}",
        show(&plan),
        written.text
    );

    let got = live(&moto.endpoint, &ids.api_id);
    let want_keys: BTreeSet<_> = want.keys().collect();
    let got_keys: BTreeSet<_> = got.keys().collect();
    prop_assert_eq!(
        want_keys,
        got_keys,
        "live integration responses\n--- specs\n{}",
        written.text
    );
    for (key, expected) in want {
        prop_assert_eq!(
            &got[key],
            expected,
            "{:?} read back from the API\n--- specs\n{}",
            key,
            written.text
        );
    }
    Ok(())
}

fn cases_from_env(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runner(default_cases: u32) -> TestRunner {
    TestRunner::new(ProptestConfig {
        cases: cases_from_env(default_cases),
        max_shrink_iters: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })
}

#[test]
fn apply_then_plan_shows_no_changes_for_any_valid_spec() {
    let moto = Moto::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(moto.client());
    let counter = AtomicUsize::new(0);
    let config = "region: us-east-1\n";

    let result = runner(32).run(&case(), |case| {
        let name = format!("prop-api-{}", counter.fetch_add(1, Ordering::SeqCst));
        let ids = rt.block_on(scaffold(&client, &name, &[&case]));
        let written = write_case(&name, &ids, &case);

        let validate = moto.cli(written.dir.path(), config, &["validate"]);
        prop_assert_eq!(
            validate.status.code(),
            Some(0),
            "validate:\n{}\n--- specs\n{}",
            show(&validate),
            written.text
        );

        let apply = moto.cli(written.dir.path(), config, &["apply"]);
        prop_assert_eq!(
            apply.status.code(),
            Some(0),
            "apply:\n{}\n--- specs\n{}",
            show(&apply),
            written.text
        );
        let applied = format!(
            "Apply: {} created, 0 updated, 0 deleted, 0 failed, 0 blocked, 0 held.",
            written.docs
        );
        prop_assert!(
            stdout(&apply).contains(&applied),
            "apply:\n{}\n--- specs\n{}",
            show(&apply),
            written.text
        );

        check_converged(&moto, &ids, &written, config, &written.want)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Going from one valid desired set to another (updates, status-code changes, moved
/// default responses, prune) also converges in one apply.
#[test]
fn apply_of_a_changed_desired_set_converges_in_one_cycle() {
    let moto = Moto::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(moto.client());
    let counter = AtomicUsize::new(0);
    let config = "region: us-east-1\nprune: true\n";

    let result = runner(16).run(&(case(), case()), |(first, second)| {
        let name = format!("prop-change-{}", counter.fetch_add(1, Ordering::SeqCst));
        let ids = rt.block_on(scaffold(&client, &name, &[&first, &second]));

        let before = write_case(&name, &ids, &first);
        let apply = moto.cli(before.dir.path(), config, &["apply"]);
        prop_assert_eq!(
            apply.status.code(),
            Some(0),
            "first apply:\n{}\n--- specs\n{}",
            show(&apply),
            before.text
        );

        let after = write_case(&name, &ids, &second);
        let apply = moto.cli(after.dir.path(), config, &["apply"]);
        prop_assert_eq!(
            apply.status.code(),
            Some(0),
            "second apply:\n{}\n--- first specs\n{}\n--- second specs\n{}",
            show(&apply),
            before.text,
            after.text
        );
        // Methods the second set does not name are unmanaged now: they keep what the
        // first set wrote. Managed methods hold exactly the second set.
        let managed: BTreeSet<(String, String)> = after
            .want
            .keys()
            .map(|(p, m, _)| (p.clone(), m.clone()))
            .collect();
        let mut want: BTreeMap<LiveKey, Expected> = before
            .want
            .iter()
            .filter(|((p, m, _), _)| !managed.contains(&(p.clone(), m.clone())))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        want.extend(after.want.iter().map(|(k, v)| (k.clone(), v.clone())));
        check_converged(&moto, &ids, &after, config, &want)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
