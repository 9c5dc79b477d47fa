//! The hooks of `.pre-commit-hooks.yaml`, run by the real pre-commit (from PyPI,
//! `scripts/ensure-pre-commit.sh`) with `pre-commit try-repo` against this checkout,
//! in throwaway git repositories: one holding a valid `desired/` (the hook passes),
//! one an invalid one (it fails and prints the error at its place).
//!
//! The `-system` hooks run here, with the binary this test was built with first on
//! PATH: the same entry, files and pass_filenames as the `language: rust` hooks,
//! without building anything. The `language: rust` hooks make pre-commit run
//! `cargo install --path .` in a clone of this repository, a release build of the AWS
//! SDK that takes many minutes: that test is `#[ignore]`d, run it with
//! `cargo test --test pre_commit_hooks -- --ignored`. Both manifests are also checked
//! with pre-commit's own validators: `.pre-commit-hooks.yaml` and README's
//! `.pre-commit-config.yaml` snippet.
//!
//! try-repo reads the hooks from this checkout's git repository (its tracked files,
//! uncommitted changes included): a copy without `.git` cannot run these tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Once;

static ENSURE: Once = Once::new();

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Install pre-commit if it is missing, once per test binary.
fn ensure_pre_commit() {
    ENSURE.call_once(|| {
        let status = Command::new("bash")
            .arg(repo_root().join("scripts/ensure-pre-commit.sh"))
            .status()
            .expect("run scripts/ensure-pre-commit.sh");
        assert!(
            status.success(),
            "scripts/ensure-pre-commit.sh failed: cannot install pre-commit"
        );
    });
}

/// A spec and a passing response test of it.
const SPEC: &str = "kind: IntegrationResponse\nrestApiName: Orders\nresourcePath: /orders\nhttpMethod: GET\nstatusCode: \"200\"\nresponseTemplates:\n  application/json: '{\"ok\": true}'\n";
const TEST: &str = "kind: ResponseTest\nname: an order is ok\nrestApiName: Orders\nresourcePath: /orders\nhttpMethod: GET\nintegration: mock\nexpect:\n  statusCode: \"200\"\n  json: {ok: true}\n";

/// A git repository holding `files` (added, not committed: pre-commit runs on
/// tracked files).
fn git_repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    for args in [&["init", "-q", "."][..], &["add", "-A"]] {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("run git");
        assert!(out.status.success(), "git {args:?}: {}", show(&out));
    }
    dir
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `pre-commit <args>` in `repo`, with `home` as pre-commit's cache of hook
/// repositories and, when `binary_on_path`, the binary under test first on PATH.
fn pre_commit(repo: &Path, home: &Path, args: &[&str], binary_on_path: bool) -> Output {
    ensure_pre_commit();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_apigw-reconciler"));
    let first = binary_on_path.then(|| bin.parent().unwrap().to_path_buf());
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(first.into_iter().chain(std::env::split_paths(&rest))).unwrap();
    let mut command = Command::new(python());
    // Where a `language: rust` hook's `cargo install` builds (a warm one saves its
    // minutes); CARGO_TARGET_DIR itself would move `cargo test`'s own build too.
    if let Some(dir) = std::env::var_os("HOOK_CARGO_TARGET_DIR") {
        command.env("CARGO_TARGET_DIR", dir);
    }
    command
        .args(["-m", "pre_commit"])
        .args(args)
        .current_dir(repo)
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", home)
        // No colour codes in what the assertions read.
        .env("PRE_COMMIT_COLOR", "never")
        .env("NO_COLOR", "1")
        .output()
        .expect("run python3 -m pre_commit")
}

/// `pre-commit try-repo <this checkout> <hook> --all-files --verbose` in `repo`.
fn try_repo(repo: &tempfile::TempDir, hook: &str) -> (Output, String) {
    let root = repo_root().to_str().unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = pre_commit(
        repo.path(),
        home.path(),
        &["try-repo", root, hook, "--all-files", "--verbose"],
        true,
    );
    let text = show(&out);
    (out, text)
}

/// [`pre_commit`] in a new empty repository, with a home of its own.
fn pre_commit_alone(args: &[&str]) -> Output {
    let (repo, home) = (git_repo(&[]), tempfile::tempdir().unwrap());
    pre_commit(repo.path(), home.path(), args, false)
}

fn valid() -> tempfile::TempDir {
    git_repo(&[
        ("desired/orders.yaml", SPEC),
        ("desired/orders.tests.yaml", TEST),
    ])
}

/// The spec with a status code that is none, at line 5, column 13.
fn invalid() -> tempfile::TempDir {
    let bad = SPEC.replace("statusCode: \"200\"", "statusCode: \"2000\"");
    git_repo(&[("desired/orders.yaml", &bad)])
}

#[test]
fn the_hooks_manifest_is_one_pre_commit_accepts() {
    let manifest = repo_root().join(".pre-commit-hooks.yaml");
    let out = pre_commit_alone(&["validate-manifest", manifest.to_str().unwrap()]);
    assert!(out.status.success(), "{}", show(&out));
    let text = std::fs::read_to_string(&manifest).unwrap();
    for id in [
        "apigw-reconciler-validate",
        "apigw-reconciler-test",
        "apigw-reconciler-validate-system",
        "apigw-reconciler-test-system",
    ] {
        assert!(text.contains(&format!("- id: {id}\n")), "no hook {id}");
    }
}

#[test]
fn the_readme_pre_commit_config_is_one_pre_commit_accepts() {
    // The ```yaml block after README's "pre-commit" heading.
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("pre-commit"))
        .expect("a README section `## pre-commit ...`");
    let config = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a ```yaml block in README's pre-commit section");
    assert!(config.contains("id: apigw-reconciler-validate"), "{config}");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), config).unwrap();
    let out = pre_commit_alone(&["validate-config", file.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}\n{config}", show(&out));
}

#[test]
fn the_validate_hook_passes_a_valid_set_and_fails_an_invalid_one_at_its_place() {
    let (out, text) = try_repo(&valid(), "apigw-reconciler-validate-system");
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("apigw-reconciler validate"), "{text}");
    assert!(text.contains("Passed"), "{text}");

    let (out, text) = try_repo(&invalid(), "apigw-reconciler-validate-system");
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("Failed"), "{text}");
    assert!(
        text.contains("desired/orders.yaml:5:13: `statusCode` must be a three-digit HTTP status"),
        "{text}"
    );
}

#[test]
fn the_test_hook_reports_the_tests_and_fails_a_failing_one() {
    let (out, text) = try_repo(&valid(), "apigw-reconciler-test-system");
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("test an order is ok ... ok  [desired/orders.tests.yaml:1:1]"),
        "{text}"
    );
    assert!(
        text.contains("coverage: 1/1 integration responses selected, 1/1 templates rendered"),
        "{text}"
    );

    let failing = TEST.replace("{ok: true}", "{ok: false}");
    let repo = git_repo(&[
        ("desired/orders.yaml", SPEC),
        ("desired/orders.tests.yaml", &failing),
    ]);
    let (out, text) = try_repo(&repo, "apigw-reconciler-test-system");
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("test an order is ok ... FAILED"), "{text}");
}

/// What a user of the `language: rust` hooks gets: pre-commit builds the binary from
/// this repository with `cargo install` (release, crates.io), then runs it with the
/// config's `args`. try-repo keeps no cache (every run would build again), so this
/// runs `pre-commit run` with a config pinning this checkout's HEAD (its committed
/// state) and one pre-commit home: one build for both repositories. Set
/// HOOK_CARGO_TARGET_DIR to a directory to keep that build between runs.
#[test]
#[ignore = "pre-commit builds this crate with cargo install (release, AWS SDK: many minutes); \
            run with `cargo test --test pre_commit_hooks -- --ignored`"]
fn the_rust_hooks_build_the_binary_then_validate_and_test() {
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo_root())
        .output()
        .expect("git rev-parse HEAD");
    let head = String::from_utf8(head.stdout).unwrap();
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {}\n    hooks:\n      - id: apigw-reconciler-validate\n        args: [--desired, desired]\n      - id: apigw-reconciler-test\n        args: [--require-coverage]\n",
        repo_root().display(),
        head.trim()
    );
    let home = tempfile::tempdir().unwrap();
    let run = |repo: &tempfile::TempDir| {
        std::fs::write(repo.path().join(".pre-commit-config.yaml"), &config).unwrap();
        let out = pre_commit(
            repo.path(),
            home.path(),
            &["run", "--all-files", "--verbose"],
            // The hooks' own build, not this one.
            false,
        );
        let text = show(&out);
        (out, text)
    };
    let (out, text) = run(&valid());
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("coverage: 1/1 integration responses selected"),
        "{text}"
    );
    let (out, text) = run(&invalid());
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("desired/orders.yaml:5:13: `statusCode` must be a three-digit HTTP status"),
        "{text}"
    );
}
