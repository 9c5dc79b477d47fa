//! The command line: arguments (clap), config overrides, and the `validate`, `plan`
//! and `apply` commands with their exit codes.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{Config, LogFormat};
use crate::executor::RetryPolicy;
use crate::live::ApiGateway;
use crate::live::limited::RateLimited;
use crate::live::sdk::SdkApiGateway;
use crate::plan::{self as render, Style};
use crate::reconcile;
use crate::spec::{self, Loaded};

const DEFAULT_CONFIG: &str = "config/reconciler.yaml";

/// Keep AWS API Gateway integration responses equal to a directory of YAML specs.
///
/// Specs live in the desired directory (one integration response per YAML document,
/// and response tests beside them). `validate` checks them offline, `test` runs the
/// response tests offline, `plan` shows what would change, `apply` makes one reconcile
/// cycle, `run` keeps reconciling as a daemon, `export` writes what is live today as
/// specs, and `schema` prints the JSON Schemas editors and CI check them with. AWS credentials come from the usual chain (environment,
/// profile, SSO, instance role); they are never printed.
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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and validate the specs offline (no AWS calls), response tests included.
    ///
    /// Exit code 0 when valid, 1 when any file is invalid or a response test fails;
    /// every error is printed as file:line:col: message.
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
    /// Run every response test (`kind: ResponseTest`) offline against the desired
    /// integration responses.
    ///
    /// Each test computes what a client would get, the way API Gateway would: the
    /// selection pattern that matches the backend's answer (Java regex), the template
    /// the Accept header picks (VTL), the mapped headers. Prints each test, on failure
    /// the selected integration response and a diff, then `N passed, N failed`.
    /// Exit code 0 when all pass, 1 when any fails or the desired set is invalid.
    Test,
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
    /// (127.0.0.1:9479 by default). SIGTERM or SIGINT: finish the call in flight, exit 0.
    Run {
        /// Observe and report only: log drift and planned changes, write nothing
        #[arg(long)]
        dry_run: bool,
    },
}

/// Run the parsed command line and return the process exit code.
pub fn main(cli: Cli) -> ExitCode {
    if let Command::Schema { kind } = cli.command {
        print!("{}", crate::schema::schema(kind));
        return ExitCode::SUCCESS;
    }
    if let Command::Test = cli.command {
        return test_command(&cli.global);
    }
    if let Command::Run { dry_run } = cli.command {
        return run_daemon(cli.global, dry_run);
    }
    if let Command::Export { rest_api, out } = &cli.command {
        init_logging(cli.global.verbose);
        let runtime = match runtime() {
            Ok(rt) => rt,
            Err(code) => return code,
        };
        return runtime.block_on(export_command(&cli.global, rest_api, out.as_deref()));
    }
    init_logging(cli.global.verbose);
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    runtime.block_on(run(cli))
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start the async runtime: {e}")))
}

/// One-shot commands: our warnings only by default (a missing credential makes the
/// SDK's provider chain log a multi-line debug dump as a WARN before our own clear
/// error); the libraries' warnings from -v on.
fn init_logging(verbose: u8) {
    let (others, ours) = match verbose {
        0 => ("error", "warn"),
        1 => ("warn", "info"),
        _ => ("warn", "debug"),
    };
    init_tracing_with(others, ours, LogFormat::Text);
}

/// Logs to stderr at `level` (RUST_LOG overrides), as text or JSON lines.
fn init_tracing(level: &str, format: LogFormat) {
    init_tracing_with("warn", level, format)
}

fn init_tracing_with(others: &str, ours: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{others},apigw_reconciler={ours}"))
    });
    // Colour codes only for a person at a terminal, never into files or collectors.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}

fn run_daemon(global: GlobalArgs, dry_run: bool) -> ExitCode {
    let config = match load_config(&global) {
        Ok(config) => config,
        Err(message) => return fail(message),
    };
    let level = match global.verbose {
        0 => config.log.level.as_str(),
        1 => "info",
        _ => "debug",
    };
    init_tracing(level, config.log.format);
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    runtime.block_on(crate::daemon::run(
        Box::new(move || load_config(&global)),
        dry_run,
    ))
}

fn fail(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(1)
}

async fn run(cli: Cli) -> ExitCode {
    let config = match load_config(&cli.global) {
        Ok(config) => config,
        Err(message) => return fail(message),
    };
    let style = Style {
        color: match cli.global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        },
    };
    let started = Instant::now();
    let loaded = match load_specs(&config.desired_dir) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let timings = Timings {
        load: started.elapsed(),
        ..Timings::default()
    };
    let verbose = cli.global.verbose;
    match cli.command {
        Command::Validate => {
            let tests = match loaded.set.tests.len() {
                0 => String::new(),
                n => format!("; {n} response test(s) pass"),
            };
            println!(
                "{}: {} integration response(s) in {} file(s) are valid{tests}",
                config.desired_dir.display(),
                loaded.set.specs.len(),
                loaded.files
            );
            ExitCode::SUCCESS
        }
        Command::Plan { output } => {
            plan_command(&config, &loaded, output, style, timings, verbose).await
        }
        Command::Apply => apply_command(&config, &loaded, style, timings, verbose).await,
        Command::Run { .. } | Command::Export { .. } | Command::Test | Command::Schema { .. } => {
            unreachable!("dispatched before the spec-reading commands")
        }
    }
}

/// The config file with the command line's overrides applied.
pub fn load_config(args: &GlobalArgs) -> Result<Config, String> {
    let mut config = match &args.config {
        Some(path) => Config::load(path).map_err(|e| e.to_string())?,
        None if Path::new(DEFAULT_CONFIG).exists() => {
            Config::load(Path::new(DEFAULT_CONFIG)).map_err(|e| e.to_string())?
        }
        None => Config::default(),
    };
    if let Some(dir) = &args.desired {
        config.desired_dir = dir.clone();
    }
    if let Some(url) = &args.endpoint_url {
        config.endpoint_url = Some(url.clone());
    }
    if let Some(region) = &args.region {
        config.region = Some(region.clone());
    }
    Ok(config)
}

/// `test`: load the desired set (without running its tests as a validity check), run
/// every response test and print the runner's report.
fn test_command(global: &GlobalArgs) -> ExitCode {
    let config = match load_config(global) {
        Ok(config) => config,
        Err(message) => return fail(message),
    };
    let loaded = match spec::load_untested(&config.desired_dir) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    if loaded.set.tests.is_empty() {
        println!(
            "{}: no response tests (documents with `kind: ResponseTest`)",
            config.desired_dir.display()
        );
        return ExitCode::SUCCESS;
    }
    let run = crate::response_test::run_all(&loaded.set);
    print!("{}", run.render());
    if run.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn load_specs(dir: &Path) -> Result<Loaded, ExitCode> {
    match spec::load_desired(dir) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                eprintln!("warning: {warning}");
            }
            Ok(loaded)
        }
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!(
                "Nothing was read from or written to API Gateway. Fix the files above and run again."
            );
            Err(ExitCode::from(1))
        }
    }
}

type Client = RateLimited<SdkApiGateway>;

/// How long each step of a one-shot command took (printed with -v).
#[derive(Default)]
struct Timings {
    load: Duration,
    fetch: Duration,
    diff: Duration,
    render: Duration,
}

impl Timings {
    fn report(&self, verbose: u8) {
        if verbose > 0 {
            let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
            eprintln!(
                "Timings: load {}, fetch {}, diff {}, render {}",
                ms(self.load),
                ms(self.fetch),
                ms(self.diff),
                ms(self.render)
            );
        }
    }
}

async fn connect(config: &Config) -> Result<Client, ExitCode> {
    reconcile::connect(config).await.map_err(fail)
}

async fn make_plan(
    config: &Config,
    loaded: &Loaded,
    client: &Client,
    timings: &mut Timings,
) -> Result<reconcile::Planned, ExitCode> {
    match reconcile::plan(client, &loaded.set, config).await {
        Ok(planned) => {
            timings.fetch = planned.fetch_time;
            timings.diff = planned.diff_time;
            Ok(planned)
        }
        Err(e) => {
            report_calls(client);
            Err(fail(e.to_string()))
        }
    }
}

fn report_calls(client: &Client) {
    let calls = client.call_counts();
    let list: Vec<String> = calls
        .by_operation
        .iter()
        .map(|(op, n)| format!("{op} {n}"))
        .collect();
    eprintln!(
        "API calls: {}",
        if list.is_empty() {
            "none".into()
        } else {
            list.join(", ")
        }
    );
}

async fn plan_command(
    config: &Config,
    loaded: &Loaded,
    output: OutputFormat,
    style: Style,
    mut timings: Timings,
    verbose: u8,
) -> ExitCode {
    let client = match connect(config).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let (plan, redeploy) = match make_plan(config, loaded, &client, &mut timings).await {
        Ok(planned) => (planned.plan, planned.redeploy),
        Err(code) => return code,
    };
    let started = Instant::now();
    let text = match output {
        OutputFormat::Text => render::render_text(&plan, &redeploy, style),
        OutputFormat::Json => render::render_json(&plan) + "\n",
        OutputFormat::Markdown => render::render_markdown(&plan, &redeploy),
    };
    timings.render = started.elapsed();
    print!("{text}");
    report_calls(&client);
    timings.report(verbose);
    // A stage that would be redeployed is a pending change too.
    if plan.is_converged() && redeploy.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

async fn apply_command(
    config: &Config,
    loaded: &Loaded,
    style: Style,
    mut timings: Timings,
    verbose: u8,
) -> ExitCode {
    let client = match connect(config).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let planned = match make_plan(config, loaded, &client, &mut timings).await {
        Ok(planned) => planned,
        Err(code) => return code,
    };
    print!(
        "{}",
        render::render_text(&planned.plan, &planned.redeploy, style)
    );
    let report = reconcile::apply(&client, &planned.plan, &RetryPolicy::default()).await;
    if !report.results.is_empty() {
        println!();
        print!("{}", render::render_report(&report, style));
    }
    let stages = reconcile::stages_after(config, &planned, &report);
    let mut deployed_all = true;
    for (stage, result) in crate::redeploy::redeploy(&client, &stages).await {
        match result {
            Ok(()) => println!("deployed {stage}"),
            Err(e) => {
                deployed_all = false;
                println!("failed to deploy {stage}: {e}");
            }
        }
    }
    report_calls(&client);
    timings.report(verbose);
    if report.converged() && deployed_all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

async fn export_command(global: &GlobalArgs, rest_api: &str, out: Option<&Path>) -> ExitCode {
    let config = match load_config(global) {
        Ok(config) => config,
        Err(message) => return fail(message),
    };
    let client = match connect(&config).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let apis = match client.rest_apis().await {
        Ok(apis) => apis,
        Err(e) => return fail(e.to_string()),
    };
    let matching: Vec<_> = apis
        .iter()
        .filter(|a| a.id == rest_api || a.name == rest_api)
        .collect();
    let api = match matching.as_slice() {
        [api] => *api,
        [] => {
            return fail(format!(
                "no REST API named or with id `{rest_api}` in this account and region"
            ));
        }
        many => {
            let ids: Vec<&str> = many.iter().map(|a| a.id.as_str()).collect();
            return fail(format!(
                "{} REST APIs are named `{rest_api}` (ids {}); export by id, and note that specs using \
                 restApiName cannot tell them apart",
                many.len(),
                ids.join(", ")
            ));
        }
    };
    let resources = match client.resources(&api.id).await {
        Ok(r) => r,
        Err(e) => return fail(e.to_string()),
    };
    let files = crate::export::export_specs(&api.name, &resources);
    for warning in crate::export::broken_templates(&resources) {
        eprintln!("warning: {warning}");
    }
    let count: usize = files
        .iter()
        .map(|(_, text)| text.matches("kind: IntegrationResponse").count())
        .sum();
    match out {
        None => {
            let docs: Vec<&str> = files.iter().map(|(_, text)| text.as_str()).collect();
            print!("{}", docs.join("---\n"));
        }
        Some(dir) => {
            if let Err(e) = std::fs::create_dir_all(dir) {
                return fail(format!("cannot create {}: {e}", dir.display()));
            }
            let mut written = std::collections::BTreeSet::new();
            for (name, text) in &files {
                let path = dir.join(name);
                // Never write over a file this export already wrote (names are unique
                // ignoring case; this keeps it so if that ever breaks).
                if !written.insert(name.to_lowercase()) {
                    return fail(format!(
                        "export would write {} twice; nothing after it was written (a bug: please report it)",
                        path.display()
                    ));
                }
                if let Err(e) = std::fs::write(&path, text) {
                    return fail(format!("cannot write {}: {e}", path.display()));
                }
            }
            eprintln!(
                "exported {count} integration response(s) of {} ({}) into {} file(s) in {}",
                api.name,
                api.id,
                files.len(),
                dir.display()
            );
        }
    }
    report_calls(&client);
    ExitCode::SUCCESS
}
