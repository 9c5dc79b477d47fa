//! The command line's arguments and subcommands (clap derive); `--help` is made from
//! these doc comments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Keep AWS API Gateway integration responses equal to a directory of YAML specs.
///
/// Specs live in the desired directory (one integration response per YAML document,
/// and response tests beside them). `validate` checks them offline, `test` runs the
/// response tests offline, `plan` shows what would change, `apply` makes one reconcile
/// cycle, `run` keeps reconciling as a daemon, `export` writes what is live today as
/// specs, and `schema` prints the JSON Schemas editors and CI check them with. AWS
/// credentials come from the usual chain (environment, profile, SSO, instance role);
/// they are never printed.
///
/// Specs are untrusted input (templates and patterns are programs): evaluating them
/// runs within the config's `limits` (a deadline for the whole set, budgets per
/// response test), so no command hangs or exhausts memory on a hostile pull request.
#[derive(Debug, Parser)]
#[command(name = "apigw-reconciler", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Debug, Args)]
pub struct GlobalArgs {
    /// Config file [default: config/reconciler.yaml, if it exists]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Directory of spec files (overrides `desiredDir`)
    #[arg(long, global = true, value_name = "DIR")]
    pub desired: Option<PathBuf>,
    /// API Gateway endpoint, e.g. a local emulator (overrides `endpointUrl`)
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// AWS region (overrides `region` and AWS_REGION)
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Act on this target of the config's `targets` only; repeat for several
    /// [default: every target]. --desired and --region need one target
    #[arg(long = "target", global = true, value_name = "NAME")]
    pub targets: Vec<String>,
    /// Colour in text output
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Log more to stderr (-v info, -vv debug); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is unset
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    /// Terraform-like text with unified template diffs
    Text,
    /// One JSON object: {"summary": {...}, "actions": [...]}
    Json,
    /// A pull-request comment: summary, table, collapsible diffs
    Markdown,
}

/// The formats of `test`'s report.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TestOutput {
    /// `test <name> ... ok|FAILED [file:line:col]`, the failures with their diffs,
    /// then `N passed, N failed`
    Text,
    /// JUnit XML: <testsuites><testsuite><testcase name classname file line time>,
    /// with <failure> (the diff) or <error> (the test could not run)
    Junit,
    /// One JSON object: {"tests": [...], "coverage": {...}, "summary": {...}}
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and validate the specs offline (no AWS calls), response tests included.
    ///
    /// Exit code 0 when valid, 1 when any file is invalid, a response test fails or
    /// the evaluation exceeds `limits` (its deadline, or a test's budget); every error
    /// is printed as file:line:col: message.
    Validate,
    /// Show what apply would change, changing nothing.
    ///
    /// Exit code 0 when live matches the specs, 2 when changes are pending (or
    /// blocked), 1 on error.
    Plan {
        /// Output format: text for people, json for machines, markdown for reviews
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },
    /// Run one reconcile cycle: plan, then put and delete integration responses.
    ///
    /// Exit code 0 when converged, 1 when any action failed or is blocked, or on error.
    Apply,
    /// Write the live integration responses of one REST API as specs (adoption).
    ///
    /// One file per resource path, in the restApiName + resourcePath form, stable
    /// order, block scalars for multi-line templates. Without --out, prints them.
    /// `plan` against the exported directory then reports no changes.
    Export {
        /// Name or id of the REST API to export
        #[arg(long, value_name = "NAME_OR_ID")]
        rest_api: String,
        /// Directory to write the files to (created if missing; files are replaced)
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Run the response tests (`kind: ResponseTest`), all or those FILTER selects,
    /// offline against the desired integration responses.
    ///
    /// Each test computes what a client would get, the way API Gateway would: the
    /// selection pattern that matches the backend's answer (Java regex), the template
    /// the Accept header picks (VTL), the mapped headers. Prints each test, on failure
    /// the selected integration response and a diff, then `N passed, N failed`.
    /// Each test runs within the budgets of `limits` (template and regex steps, bytes
    /// of work and memory), all within `limits.deadline`.
    ///
    /// FILTER selects, as test runners do: only the tests whose name contains one of
    /// the filters run (`--exact`: whose name is one); the whole set is still loaded
    /// and validated. `validate`, `plan`, `apply` and the daemon always run every test.
    /// `--output junit` and `--output json` print the report for CI instead (e.g.
    /// `test --output junit > response-tests.xml`).
    ///
    /// After the tests, the report gives their coverage: which integration responses
    /// (file:line:col, API, path, method, status) no test selected for its backend
    /// answer, and which response templates no test rendered, with the counts
    /// (`coverage: 12/14 integration responses selected, 20/23 templates rendered`).
    /// With a filter only the selected tests count, and the line says so.
    /// `--require-coverage` makes each integration response no test selected a failure
    /// (in JUnit a failed testcase `no response test selects ...` at the spec's place).
    ///
    /// Exit code 0 when every selected test passes (also when a filter selects none:
    /// the report says `0 passed, 0 failed, N filtered out`, as `cargo test` does), 1
    /// when any fails, when `--require-coverage` finds an integration response no test
    /// selects, or when the desired set is invalid.
    Test {
        /// Run only the tests whose name contains this text (case-sensitive); several
        /// select those matching any
        #[arg(value_name = "FILTER")]
        filters: Vec<String>,
        /// A filter matches a test's whole name only
        #[arg(long)]
        exact: bool,
        /// List the selected tests without running them: one per line, the name, a
        /// tab and its place (file:line:col), each escaped onto one line; exit code 0
        #[arg(long, conflicts_with = "output")]
        list: bool,
        /// Report format: text for people; junit (JUnit XML, one testcase per test with
        /// file and line, a failure with its diff) and json (one object) for CI
        #[arg(long, value_enum, default_value_t = TestOutput::Text)]
        output: TestOutput,
        /// Fail (exit code 1) when an integration response is selected by no test
        /// (templates no test renders are reported, not failed)
        #[arg(long, conflicts_with = "list")]
        require_coverage: bool,
    },
    /// Print the JSON Schema of a document kind, for editors and CI.
    ///
    /// `# yaml-language-server: $schema=<file>` in a spec file lets an editor check it
    /// as you type; the same schemas are committed under config/schema/.
    Schema {
        /// Which document kind
        #[arg(value_enum, default_value_t = crate::schema::Kind::Spec)]
        kind: crate::schema::Kind,
    },
    /// Run the daemon: reconcile on file changes, every `interval`, on SIGHUP (which
    /// also reloads the config) and on `POST /reconcile`.
    ///
    /// Serves the status page at /, /healthz, /readyz, /metrics, /status and POST /reconcile on `listen`
    /// (127.0.0.1:9479 by default). The specs are evaluated off the loop, within
    /// `limits.deadline`: probes and signals answer meanwhile. SIGTERM or SIGINT:
    /// finish the call in flight, exit 0.
    Run {
        /// Observe and report only: log drift and planned changes, write nothing
        #[arg(long)]
        dry_run: bool,
    },
}
