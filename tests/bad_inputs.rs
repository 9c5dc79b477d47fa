//! The hostile-input corpus in `tests/bad-inputs/`: one directory per case, holding
//! the spec files, an `expected` file and, where the input cannot sensibly be committed
//! (symlinks, a 2 MiB file, bytes that are not UTF-8), a `generate` file describing it.
//!
//! Every case goes through `validate` (offline) and must give its exit code and every
//! expected `file:line:col: message`, no more and no fewer. Every invalid case then goes
//! through `apply` with `prune: true` against a real moto server, next to a valid spec
//! that would change and prune things, and must change and delete nothing; a few also
//! go through the daemon (`run`), which must stay not-ready and write nothing.
//!
//! `expected` holds one directive a line (`#` starts a comment):
//!
//! ```text
//! exit 1
//! error spec.yaml:5:13: `statusCode` must be a three-digit HTTP status
//! warning escape.yaml: skipped, symlink points outside the desired directory
//! ```
//!
//! `error LOCATION: MESSAGE` is matched against the error lines the binary prints,
//! with the case directory in front of the file name; the message may be cut short (a
//! prefix). `warning TEXT` is matched the same way against `warning: ` lines. The
//! number of `error`/`warning` lines must equal the number printed. In both, `{dir}`
//! stands for the case directory as printed and `{outside}` for the directory the
//! outward symlinks point to. `specs N` (valid cases) is the number of specs read.
//!
//! `bug TEXT` marks a case whose expectation is the right behaviour but which the
//! binary does not meet yet: the test then requires it to still fail (so that a fix
//! is noticed and the line removed), prints TEXT, and the moto tests skip it.
//!
//! `generate` holds one directive a line, paths relative to the case directory:
//!
//! ```text
//! big FILE BYTES          a valid spec padded with comment lines to BYTES bytes
//! bytes FILE TEXT         TEXT with \n, \r, \t, \\ and \xNN escapes decoded (any bytes)
//! flowseq FILE COUNT      `x: [0, 0, ...]` with COUNT items
//! symlink LINK TARGET     a symlink; `{outside}` in TARGET is a directory outside the
//!                         desired one holding an invalid `invalid.yaml`
//! ```

mod common;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use aws_sdk_apigateway::Client;
use common::*;

/// What the corpus must contain at least.
const MIN_CASES: usize = 40;

const VALID_SPEC: &str = "kind: IntegrationResponse\nrestApiName: BadInputs\nresourcePath: /things\nhttpMethod: GET\nstatusCode: \"200\"\n";

/// An invalid spec, the target of the symlinks that point outside: were it read,
/// the case would fail with its error.
const OUTSIDE_SPEC: &str = "kind: IntegrationResponse\nrestApiName: BadInputs\nresourcePath: /things\nhttpMethod: GET\nstatusCode: \"2OO\"\n";

#[derive(Debug)]
struct Case {
    name: String,
    src: PathBuf,
    exit: i32,
    errors: Vec<String>,
    warnings: Vec<String>,
    specs: Option<usize>,
    bug: Option<String>,
}

fn corpus_dir() -> PathBuf {
    repo_root().join("tests/bad-inputs")
}

/// Every case of the corpus, in name order.
fn cases() -> Vec<Case> {
    let mut names: Vec<String> = fs::read_dir(corpus_dir())
        .expect("tests/bad-inputs exists")
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let src = corpus_dir().join(&name);
            let expected = fs::read_to_string(src.join("expected"))
                .unwrap_or_else(|e| panic!("{name}/expected: {e}"));
            let mut case = Case {
                name: name.clone(),
                src,
                exit: -1,
                errors: Vec::new(),
                warnings: Vec::new(),
                specs: None,
                bug: None,
            };
            for line in expected.lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
                match word {
                    "exit" => case.exit = rest.parse().expect("exit code"),
                    "error" => case.errors.push(rest.to_owned()),
                    "warning" => case.warnings.push(rest.to_owned()),
                    "specs" => case.specs = Some(rest.parse().expect("a number of specs")),
                    "bug" => case.bug = Some(rest.to_owned()),
                    _ => panic!("{name}/expected: unknown directive {line:?}"),
                }
            }
            assert!(
                case.exit == 0 || case.exit == 1,
                "{name}/expected: needs `exit 0` or `exit 1`"
            );
            assert_eq!(
                case.exit == 1,
                !case.errors.is_empty(),
                "{name}/expected: exit 1 exactly when errors are expected"
            );
            case
        })
        .collect()
}

/// Copy the case's files into `dest` (which need not exist) and generate the rest.
fn materialise(case: &Case, dest: &Path, outside: &Path) {
    copy_tree(&case.src, dest, true);
    let Ok(generate) = fs::read_to_string(case.src.join("generate")) else {
        return;
    };
    for line in generate.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.splitn(3, ' ');
        let (word, file, arg) = (
            parts.next().unwrap(),
            parts.next().expect("a file name"),
            parts.next().unwrap_or(""),
        );
        let path = dest.join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        match word {
            "big" => {
                let size: usize = arg.parse().expect("a size in bytes");
                let mut text = String::from(VALID_SPEC);
                let filler = format!("# {}\n", "padding ".repeat(12));
                while text.len() + filler.len() <= size {
                    text.push_str(&filler);
                }
                text.push_str(&"#".repeat(size - text.len() - 1));
                text.push('\n');
                assert_eq!(text.len(), size);
                fs::write(&path, text).unwrap();
            }
            "bytes" => fs::write(&path, unescape(arg)).unwrap(),
            "flowseq" => {
                let count: usize = arg.parse().expect("a count");
                fs::write(&path, format!("x: [{}0]\n", "0, ".repeat(count - 1))).unwrap();
            }
            "symlink" => {
                let target = arg.replace("{outside}", &outside.display().to_string());
                std::os::unix::fs::symlink(target, &path).unwrap();
            }
            _ => panic!("{}/generate: unknown directive {line:?}", case.name),
        }
    }
}

/// Copy regular files and directories (no symlinks: the corpus holds none; the
/// `generate` directives make them) from `src` into `dest`.
fn copy_tree(src: &Path, dest: &Path, top: bool) {
    fs::create_dir_all(dest).unwrap();
    for entry in fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if top && (name == "expected" || name == "generate") {
            continue;
        }
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&entry.path(), &dest.join(&name), false);
        } else if kind.is_file() {
            fs::copy(entry.path(), dest.join(&name)).unwrap();
        } else {
            panic!(
                "{}: only regular files belong in the corpus",
                entry.path().display()
            );
        }
    }
}

/// Decode `\n`, `\r`, `\t`, `\\` and `\xNN` in a `bytes` directive.
fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'n') => out.push(b'\n'),
            Some(b'r') => out.push(b'\r'),
            Some(b't') => out.push(b'\t'),
            Some(b'\\') => out.push(b'\\'),
            Some(b'x') => {
                let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                let hex = std::str::from_utf8(&hex).unwrap();
                out.push(u8::from_str_radix(hex, 16).expect("two hex digits after \\x"));
            }
            other => panic!("unknown escape \\{:?} in {text:?}", other.map(char::from)),
        }
    }
    out
}

/// A directory outside every desired directory, holding an invalid spec.
fn outside_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("invalid.yaml"), OUTSIDE_SPEC).unwrap();
    dir
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Where a run printed a case's files: `prefix` goes before every file name, and
/// `outside` is what `{outside}` stands for.
struct Printed<'a> {
    prefix: &'a str,
    outside: &'a str,
}

impl Printed<'_> {
    fn expand(&self, expected: &str) -> String {
        let text = expected
            .replace("{dir}", self.prefix)
            .replace("{outside}", self.outside);
        format!("{}{text}", self.prefix)
    }
}

/// What is wrong with a run's output for `case`; empty when it is all as expected.
fn check_output(case: &Case, at: &Printed<'_>, out: &Output) -> Vec<String> {
    let mut problems = Vec::new();
    let err = stderr(out);
    if out.status.code() != Some(case.exit) {
        problems.push(format!(
            "exit {:?}, expected {}",
            out.status.code(),
            case.exit
        ));
    }
    if case.exit == 1 {
        let header = format!("error: {} invalid spec(s):", case.errors.len());
        if !err.contains(&header) {
            problems.push(format!("no {header:?}"));
        }
        if !err.contains("Nothing was read from or written to API Gateway") {
            problems.push("no \"Nothing was read from or written to API Gateway\"".into());
        }
    } else {
        if err.lines().any(|l| l.starts_with("error")) {
            problems.push("an error where none was expected".into());
        }
        if let Some(n) = case.specs {
            let want = format!(": {n} integration response(s) in ");
            if !stdout(out).contains(&want) {
                problems.push(format!("stdout lacks {want:?}"));
            }
        }
    }
    let printed_errors: Vec<&str> = err
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| l.starts_with(at.prefix))
        .collect();
    if printed_errors.len() != case.errors.len() {
        problems.push(format!(
            "{} error line(s) printed, {} expected",
            printed_errors.len(),
            case.errors.len()
        ));
    }
    for expected in &case.errors {
        let want = at.expand(expected);
        if !printed_errors.iter().any(|l| l.starts_with(&want)) {
            problems.push(format!("missing error {want:?}"));
        }
    }
    let printed_warnings: Vec<&str> = err
        .lines()
        .filter_map(|l| l.strip_prefix("warning: "))
        .collect();
    if printed_warnings.len() != case.warnings.len() {
        problems.push(format!(
            "{} warning(s) printed, {} expected",
            printed_warnings.len(),
            case.warnings.len()
        ));
    }
    for expected in &case.warnings {
        let want = at.expand(expected);
        if !printed_warnings.iter().any(|l| l.starts_with(&want)) {
            problems.push(format!("missing warning {want:?}"));
        }
    }
    problems
}

#[test]
fn the_corpus_has_enough_cases_and_each_says_what_it_tests() {
    let cases = cases();
    assert!(
        cases.len() >= MIN_CASES,
        "{} cases, at least {MIN_CASES} wanted",
        cases.len()
    );
    for case in &cases {
        let about = fs::read_to_string(case.src.join("expected")).unwrap();
        assert!(
            about.starts_with("# "),
            "{}/expected: start with a `# what this case is` line",
            case.name
        );
    }
}

/// `validate`, offline, on every case: exit code, every message at its exact place,
/// nothing else. How long each took is printed, not asserted: timing targets belong in
/// benchmarks.
#[test]
fn validate_reports_every_bad_input_at_its_place() {
    let root = tempfile::tempdir().unwrap();
    let outside = outside_dir();
    let outside_path = canonical(outside.path());
    let config = root.path().join("reconciler.yaml");
    fs::write(&config, "region: us-east-1\n").unwrap();
    let mut failures = String::new();
    let mut known_bugs = String::new();
    let mut times = Vec::new();
    for case in cases() {
        materialise(&case, &root.path().join(&case.name), outside.path());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_apigw-reconciler"));
        cmd.current_dir(root.path())
            .arg("--config")
            .arg(&config)
            .args(["--desired", &case.name])
            // Nothing listens there: validate must not need the network.
            .args(["--endpoint-url", "http://127.0.0.1:9", "--color", "never"])
            .arg("validate");
        with_test_credentials(&mut cmd);
        let started = Instant::now();
        let out = cmd.output().expect("run apigw-reconciler validate");
        let took = started.elapsed();
        times.push((took, case.name.clone()));
        println!(
            "  {}: exit {:?} in {:.1} ms",
            case.name,
            out.status.code(),
            took.as_secs_f64() * 1000.0
        );
        let prefix = format!("{}/", case.name);
        let at = Printed {
            prefix: &prefix,
            outside: &outside_path,
        };
        let mut problems = check_output(&case, &at, &out);
        if case.exit == 0 && !stdout(&out).contains("are valid") {
            problems.push("no \"are valid\" on stdout".into());
        }
        if let Some(bug) = &case.bug {
            if problems.is_empty() {
                let _ = writeln!(
                    failures,
                    "{}: marked `bug` but now behaves as expected: remove the `bug` line ({bug})",
                    case.name
                );
            } else {
                let _ = writeln!(known_bugs, "  {}: {bug}", case.name);
            }
            problems.clear();
        }
        if !problems.is_empty() {
            let _ = writeln!(
                failures,
                "{}:\n  - {}\n{}\n",
                case.name,
                problems.join("\n  - "),
                show(&out)
            );
        }
    }
    times.sort();
    let total: Duration = times.iter().map(|(t, _)| *t).sum();
    let (slowest, slowest_case) = times.last().unwrap();
    println!(
        "validate: {} cases in {total:?}; slowest {slowest_case} in {slowest:?}",
        times.len()
    );
    if !known_bugs.is_empty() {
        println!("known bugs (cases marked `bug`, still failing as recorded):\n{known_bugs}");
    }
    assert!(failures.is_empty(), "{failures}");
}

fn canonical(path: &Path) -> String {
    fs::canonicalize(path).unwrap().display().to_string()
}

/// A map in key order, for a stable text.
fn sorted(m: Option<&HashMap<String, String>>) -> Option<BTreeMap<&String, &String>> {
    m.map(|m| m.iter().collect())
}

/// One integration response in a form where any difference shows.
macro_rules! describe_ir {
    ($ir:expr) => {{
        let ir = $ir;
        format!(
            "status={:?} pattern={:?} parameters={:?} templates={:?} contentHandling={:?}",
            ir.status_code(),
            ir.selection_pattern(),
            sorted(ir.response_parameters()),
            sorted(ir.response_templates()),
            ir.content_handling()
        )
    }};
}

/// Everything live about the API's integration responses: every one through
/// `GetResources` (embedded), and the two the test seeds through `GetIntegrationResponse`.
async fn live_snapshot(client: &Client, api: &Fixture, res: &str) -> String {
    let out = client
        .get_resources()
        .rest_api_id(&api.api_id)
        .embed("methods")
        .limit(500)
        .send()
        .await
        .unwrap();
    let mut lines = Vec::new();
    for r in out.items() {
        for (method, m) in r.resource_methods().into_iter().flatten() {
            let irs = m
                .method_integration()
                .and_then(|i| i.integration_responses());
            for (code, ir) in irs.into_iter().flatten() {
                lines.push(format!(
                    "{} {method} {code}: {}",
                    r.path().unwrap_or_default(),
                    describe_ir!(ir)
                ));
            }
        }
    }
    lines.sort();
    for code in ["200", "500"] {
        let ir = get_ir(client, &api.api_id, res, "GET", code).await;
        lines.push(format!(
            "get GET {code}: {}",
            ir.map_or("absent".into(), |ir| describe_ir!(ir))
        ));
    }
    lines.join("\n")
}

const CONFIG: &str = "region: us-east-1\nprune: true\n";

/// The seed scaffold with methods responses 200 and 500 and two live integration
/// responses; the valid spec would update the 200 and prune would delete the 500.
async fn scaffold(client: &Client) -> (Fixture, String) {
    let api = create_api(client, "MyDemoAPI").await;
    let res = create_resource(client, &api.api_id, &api.root_id, "mydemoresource").await;
    create_method(client, &api.api_id, &res, "GET", &["200", "500"]).await;
    for (code, pattern, template) in [
        ("200", None, "{\"live\": 200}"),
        ("500", Some(r"5\d{2}"), "{\"live\": 500}"),
    ] {
        client
            .put_integration_response()
            .rest_api_id(&api.api_id)
            .resource_id(&res)
            .http_method("GET")
            .status_code(code)
            .set_selection_pattern(pattern.map(str::to_owned))
            .response_parameters("method.response.header.X-Live", "'yes'")
            .response_templates("application/json", template)
            .send()
            .await
            .unwrap();
    }
    (api, res)
}

/// A desired directory: the valid spec next to the case's files.
fn desired_with(case: &Case, root: &Path, outside: &Path) -> PathBuf {
    let desired = root.join(&case.name);
    materialise(case, &desired, outside);
    fs::write(
        desired.join("valid-seed-spec.yaml"),
        seed_spec("{\"desired\": true}"),
    )
    .unwrap();
    desired
}

/// `apply` with `prune: true` and every invalid case next to a valid spec: exit 1 with
/// the case's messages, and the live state exactly as before: the valid spec is not
/// applied and the live response no spec desires is not pruned.
#[tokio::test(flavor = "multi_thread")]
async fn apply_with_a_bad_input_present_changes_and_deletes_nothing() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = scaffold(&client).await;
    let before = live_snapshot(&client, &api, &res).await;
    let root = tempfile::tempdir().unwrap();
    let outside = outside_dir();
    let outside_path = canonical(outside.path());

    // Without the bad input the directory would change things: one update, one prune.
    let only_valid = desired_dir(&[("valid.yaml", &seed_spec("{\"desired\": true}"))]);
    let out = moto.cli(only_valid.path(), CONFIG, &["plan", "--output", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let plan: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(
        plan["summary"],
        serde_json::json!({"create": 0, "update": 1, "delete": 1, "blocked": 0}),
        "{plan}"
    );

    let mut failures = String::new();
    let mut tried = 0;
    for case in cases() {
        if case.exit != 1 || case.bug.is_some() {
            continue;
        }
        tried += 1;
        let desired = desired_with(&case, root.path(), outside.path());
        let out = moto.cli(&desired, CONFIG, &["apply"]);
        let prefix = format!("{}/", desired.display());
        let at = Printed {
            prefix: &prefix,
            outside: &outside_path,
        };
        let mut problems = check_output(&case, &at, &out);
        if stdout(&out).contains("Apply:") {
            problems.push("apply reported actions".into());
        }
        let after = live_snapshot(&client, &api, &res).await;
        if after != before {
            problems.push(format!("live state changed:\n{before}\n-- to --\n{after}"));
        }
        if !problems.is_empty() {
            let _ = writeln!(
                failures,
                "{}:\n  - {}\n{}\n",
                case.name,
                problems.join("\n  - "),
                show(&out)
            );
        }
    }
    println!("apply: {tried} invalid cases, live state unchanged");
    assert!(tried >= MIN_CASES - 5, "only {tried} invalid cases");
    assert!(failures.is_empty(), "{failures}");
}

/// The daemon started on a directory with a bad input: never ready, the error on
/// `/readyz` and `/status`, and nothing written, also after a `POST /reconcile`.
#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_with_a_bad_input_present_is_not_ready_and_writes_nothing() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (api, res) = scaffold(&client).await;
    let before = live_snapshot(&client, &api, &res).await;
    let root = tempfile::tempdir().unwrap();
    let outside = outside_dir();
    let subset = [
        "01-yaml-unclosed-flow",
        "05-tab-indentation",
        "21-duplicate-key",
        "23-duplicate-identity-files",
        "33-status-2OO",
        "47-two-defaults-one-file",
        "49-big-file",
        "50-non-utf8",
        "53-alias-bomb",
        "56-deep-block-nesting",
    ];
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| subset.contains(&c.name.as_str()))
        .collect();
    assert_eq!(cases.len(), subset.len());
    for case in cases {
        let desired = desired_with(&case, root.path(), outside.path());
        let daemon = moto.daemon(&desired, CONFIG, &[]);
        wait_until(Duration::from_secs(30), "the first cycle", || {
            daemon.cycle_id() >= 1
        });
        let location = format!("{}/{}", desired.display(), case.errors[0]);
        let location = location.split(": ").next().unwrap();
        let (code, body) = daemon.request("GET", "/readyz");
        assert_eq!(code, 503, "{}: /readyz {body}\n{}", case.name, daemon.log());
        assert!(
            body.contains("desired set invalid") && body.contains(location),
            "{}: /readyz {body}",
            case.name
        );
        let status = daemon.status();
        assert_eq!(status["desiredSetValid"], false, "{}: {status}", case.name);
        assert_eq!(status["lastCycle"]["result"], "invalid", "{status}");
        assert_eq!(
            live_snapshot(&client, &api, &res).await,
            before,
            "{}: the daemon changed the live state\n{}",
            case.name,
            daemon.log()
        );
        let seen = daemon.cycle_id();
        let (code, body) = daemon.request("POST", "/reconcile");
        assert_eq!(code / 100, 2, "POST /reconcile: {code} {body}");
        wait_until(Duration::from_secs(30), "the requested cycle", || {
            daemon.cycle_id() > seen
        });
        assert_eq!(daemon.request("GET", "/readyz").0, 503);
        assert_eq!(
            live_snapshot(&client, &api, &res).await,
            before,
            "{}: the daemon changed the live state after POST /reconcile\n{}",
            case.name,
            daemon.log()
        );
    }
}
