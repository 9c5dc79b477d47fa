//! The command line: arguments (clap), config overrides, the dispatch to one file per
//! command (`validate.rs`, `plan.rs`, ...) and what those commands share (loading the
//! config and the desired set, connecting, the call and timing reports).

mod apply;
mod export;
mod logging;
mod plan;
mod run;
mod schema;
mod test;
mod validate;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Config;
use crate::desired::{self, EvalLimits, Loaded};
use crate::live::ApiGateway;
use crate::live::limited::RateLimited;
use crate::live::sdk::SdkApiGateway;
use crate::reconcile;
use crate::render::Style;

const DEFAULT_CONFIG: &str = "config/reconciler.yaml";

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
    /// Run every response test (`kind: ResponseTest`) offline against the desired
    /// integration responses.
    ///
    /// Each test computes what a client would get, the way API Gateway would: the
    /// selection pattern that matches the backend's answer (Java regex), the template
    /// the Accept header picks (VTL), the mapped headers. Prints each test, on failure
    /// the selected integration response and a diff, then `N passed, N failed`.
    /// Each test runs within the budgets of `limits` (template and regex steps, bytes
    /// of work and memory), all within `limits.deadline`.
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
    /// (127.0.0.1:9479 by default). The specs are evaluated off the loop, within
    /// `limits.deadline`: probes and signals answer meanwhile. SIGTERM or SIGINT:
    /// finish the call in flight, exit 0.
    Run {
        /// Observe and report only: log drift and planned changes, write nothing
        #[arg(long)]
        dry_run: bool,
    },
}

/// Run the parsed command line and return the process exit code.
pub fn main(cli: Cli) -> ExitCode {
    let global = cli.global;
    match cli.command {
        Command::Schema { kind } => schema::execute(kind),
        Command::Test => test::execute(&global),
        Command::Run { dry_run } => run::execute(global, dry_run),
        Command::Validate => {
            logging::one_shot(global.verbose);
            validate::execute(&global)
        }
        Command::Export { rest_api, out } => {
            logging::one_shot(global.verbose);
            block_on(export::execute(&global, &rest_api, out.as_deref()))
        }
        Command::Plan { output } => {
            logging::one_shot(global.verbose);
            block_on(plan::execute(&global, output))
        }
        Command::Apply => {
            logging::one_shot(global.verbose);
            block_on(apply::execute(&global))
        }
    }
}

/// Runs a command's future on a fresh multi-threaded runtime.
fn block_on(command: impl Future<Output = ExitCode>) -> ExitCode {
    match runtime() {
        Ok(runtime) => runtime.block_on(command),
        Err(code) => code,
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start the async runtime: {e}")))
}

fn fail(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(1)
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

/// What `validate`, `plan` and `apply` start from: the config, the valid desired set
/// (its warnings printed), and how long loading took.
struct Prepared {
    config: Config,
    loaded: Loaded,
    timings: Timings,
}

fn prepare(global: &GlobalArgs) -> Result<Prepared, ExitCode> {
    let config = load_config(global).map_err(fail)?;
    let started = Instant::now();
    let loaded = load_specs(&config.desired_dir, config.limits)?;
    let timings = Timings {
        load: started.elapsed(),
        ..Timings::default()
    };
    Ok(Prepared {
        config,
        loaded,
        timings,
    })
}

fn load_specs(dir: &Path, limits: EvalLimits) -> Result<Loaded, ExitCode> {
    let dir_owned = dir.to_path_buf();
    match within_deadline(limits, move || desired::load_desired(&dir_owned, limits)) {
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

/// Runs an evaluation of the desired set on a thread of its own and waits for it until
/// its deadline (plus a grace second): the engines keep to the deadline themselves, and
/// this makes sure a one-shot command finishes even if something did not.
fn within_deadline<T: Send + 'static>(
    limits: EvalLimits,
    evaluate: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("evaluate".into())
        .spawn(move || {
            let _ = tx.send(evaluate());
        })
        .expect("a thread can be started");
    match rx.recv_timeout(limits.give_up_after()) {
        Ok(result) => result,
        Err(_) => {
            eprintln!(
                "error: evaluating the desired set did not finish within its deadline of {} \
                 (limits.deadline); nothing was read from or written to API Gateway",
                humantime::format_duration(limits.deadline)
            );
            std::process::exit(1)
        }
    }
}

/// Colour for text output, as `--color` and the terminal say.
fn style(global: &GlobalArgs) -> Style {
    Style {
        color: match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        },
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

/// Prints the API calls made, per operation (retries included).
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
