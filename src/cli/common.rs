//! What the commands share: loading the config (with the command line's overrides)
//! and the desired set, evaluating within the deadline, colour, connecting, planning,
//! and the call and timing reports.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::CliError;
use super::args::{ColorChoice, GlobalArgs};
use crate::config::Config;
use crate::desired::{EvalLimits, Loaded};
use crate::live::ApiGateway;
use crate::live::limited::RateLimited;
use crate::live::sdk::SdkApiGateway;
use crate::reconcile;
use crate::render::Style;
use crate::render::targets::TargetInfo;

const DEFAULT_CONFIG: &str = "config/reconciler.yaml";

/// The config file with the command line's overrides applied.
pub fn load_config(args: &GlobalArgs) -> Result<Config, String> {
    let mut config = match &args.config {
        Some(path) => Config::load(path).map_err(|e| e.to_string())?,
        None if Path::new(DEFAULT_CONFIG).exists() => {
            Config::load(Path::new(DEFAULT_CONFIG)).map_err(|e| e.to_string())?
        }
        None => Config::default(),
    };
    select_targets(&mut config, &args.targets)?;
    if config.targets.len() > 1 {
        for (flag, given) in [
            ("--desired", args.desired.is_some()),
            ("--region", args.region.is_some()),
        ] {
            if given {
                return Err(format!(
                    "{flag} sets one target's value, and the config has {} targets ({}); \
                     name one with --target NAME",
                    config.targets.len(),
                    target_names(&config)
                ));
            }
        }
    }
    override_from(&mut config, args);
    for c in &mut config.targets {
        override_from(c, args);
    }
    Ok(config)
}

/// The command line's `--desired`, `--endpoint-url` and `--region` over `config`.
fn override_from(config: &mut Config, args: &GlobalArgs) {
    if let Some(dir) = &args.desired {
        config.desired_dir = dir.clone();
    }
    if let Some(url) = &args.endpoint_url {
        config.endpoint_url = Some(url.clone());
    }
    if let Some(region) = &args.region {
        config.region = Some(region.clone());
    }
}

fn target_names(config: &Config) -> String {
    config
        .targets
        .iter()
        .filter_map(|t| t.target_name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Keeps the targets `--target` names (all without it), in the config's order.
fn select_targets(config: &mut Config, names: &[String]) -> Result<(), String> {
    if names.is_empty() {
        return Ok(());
    }
    if config.targets.is_empty() {
        return Err(
            "--target picks among the config's `targets`, and this config has none \
             (it is one target: drop --target)"
                .into(),
        );
    }
    for name in names {
        if !config.targets.iter().any(|t| t.target_name() == Some(name)) {
            return Err(format!(
                "no target named `{}`; the config's targets are {}",
                crate::escape::visible(name),
                target_names(config)
            ));
        }
    }
    config.targets.retain(|t| {
        t.target_name()
            .is_some_and(|n| names.iter().any(|x| x == n))
    });
    Ok(())
}

/// What `validate`, `plan` and `apply` start from: the config, the valid desired set
/// (its warnings printed), and how long loading took.
pub(super) struct Prepared {
    pub config: Config,
    pub loaded: Loaded,
    pub timings: Timings,
}

/// The config with its valid desired set, ready to plan.
pub(super) fn prepare_target(config: Config) -> Result<Prepared, CliError> {
    let started = Instant::now();
    let loaded = load_specs(&config)?;
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

fn load_specs(config: &Config) -> Result<Loaded, CliError> {
    let (dir, limits) = (config.desired_dir.clone(), config.limits);
    let loaded = evaluate_within(config, move || crate::evaluate::load_desired(&dir, limits))?
        .map_err(|e| CliError::InvalidSpecs(e.to_string()))?;
    print_warnings(config, &loaded.warnings);
    Ok(loaded)
}

/// A desired set's warnings on stderr, each `warning: [target <name>: ]...`.
pub(super) fn print_warnings(config: &Config, warnings: &[String]) {
    for warning in warnings {
        match config.target_name() {
            Some(name) => eprintln!("warning: target {name}: {warning}"),
            None => eprintln!("warning: {warning}"),
        }
    }
}

/// Runs an evaluation of `config`'s desired set within its deadline
/// ([`try_within_deadline`]). An overrun ends the command for a config without
/// `targets` (exit code 1), and only the target's part of it for one of several.
pub(super) fn evaluate_within<T: Send + 'static>(
    config: &Config,
    evaluate: impl FnOnce() -> T + Send + 'static,
) -> Result<T, CliError> {
    match (
        try_within_deadline(config.limits, evaluate),
        config.target_name(),
    ) {
        (Ok(result), _) => Ok(result),
        (Err(e), Some(_)) => Err(CliError::InvalidSpecs(e)),
        (Err(e), None) => {
            eprintln!("error: {e}");
            std::process::exit(1)
        }
    }
}

/// Runs an evaluation of the desired set on a thread of its own and waits for it until
/// its deadline (plus a grace second): the engines keep to the deadline themselves, and
/// this makes sure a one-shot command finishes even if something did not. An overrun
/// is an error (the thread is left to the process's end).
pub(super) fn try_within_deadline<T: Send + 'static>(
    limits: EvalLimits,
    evaluate: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("evaluate".into())
        .spawn(move || {
            let _ = tx.send(evaluate());
        })
        .expect("a thread can be started");
    rx.recv_timeout(limits.give_up_after()).map_err(|_| {
        format!(
            "evaluating the desired set did not finish within its deadline of {} \
             (limits.deadline); nothing was read from or written to API Gateway",
            humantime::format_duration(limits.deadline)
        )
    })
}

/// Colour for text output, as `--color` and the terminal say.
pub(super) fn style(global: &GlobalArgs) -> Style {
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

pub(super) type Client = RateLimited<SdkApiGateway>;

/// How long each step of a one-shot command took (printed with -v).
#[derive(Default)]
pub(super) struct Timings {
    pub load: Duration,
    pub fetch: Duration,
    pub diff: Duration,
    pub render: Duration,
}

impl Timings {
    pub fn report(&self, verbose: u8) {
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

pub(super) async fn connect(config: &Config) -> Result<Client, CliError> {
    Ok(reconcile::connect(config).await?)
}

/// The plan of `loaded` against live, its fetch and diff times in `timings`; on
/// failure the calls made are reported first.
pub(super) async fn make_plan(
    config: &Config,
    loaded: &Loaded,
    client: &Client,
    timings: &mut Timings,
) -> Result<reconcile::Planned, CliError> {
    match reconcile::plan(client, &loaded.set, config).await {
        Ok(planned) => {
            timings.fetch = planned.fetch_time;
            timings.diff = planned.diff_time;
            Ok(planned)
        }
        Err(e) => {
            report_calls(client);
            Err(e.to_string().into())
        }
    }
}

/// Prints the API calls made, per operation (retries included).
pub(super) fn report_calls(client: &Client) {
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

/// One target of a command over a config's `targets`: where it is, its client (when
/// it could connect) and its plan, or why it has none.
pub(super) struct TargetRun {
    pub config: Config,
    pub info: TargetInfo,
    pub client: Option<Client>,
    pub planned: Result<reconcile::Planned, String>,
}

impl TargetRun {
    /// This target's API calls, as [`report_calls`] prints them, prefixed with its name.
    pub fn report_calls(&self) {
        if let Some(client) = &self.client {
            eprint!("target {}: ", self.info.name);
            report_calls(client);
        }
    }
}

/// The message of an error that stopped one target's part of a command.
pub(super) fn target_error(e: CliError) -> String {
    match e {
        CliError::Message(m) => m,
        CliError::InvalidSpecs(m) => format!(
            "{m}\nNothing was read from or written to API Gateway for this target. Fix the files above and run again."
        ),
    }
}

/// Evaluates every target's desired set (in turn: it is the CPU's work), connects
/// them all (one request budget per account and region), then plans them all at
/// once: a target that fails or waits on its API holds no other back.
pub(super) async fn plan_targets(config: &Config) -> Vec<TargetRun> {
    let targets = config.targets.clone();
    let loaded: Vec<Result<Loaded, CliError>> = targets.iter().map(load_specs).collect();
    let (connected, warnings) = reconcile::connect_all(&targets).await;
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    let runs = targets.into_iter().zip(loaded).zip(connected).map(
        |((config, loaded), connected)| async move {
            let name = config.target_name().unwrap_or_default().to_owned();
            let role_account = config.assume_role.as_ref().map(|r| r.account.clone());
            let (client, info, connect_error) = match connected {
                Ok(c) => (
                    Some(c.client),
                    TargetInfo {
                        name,
                        region: c.region,
                        account: c.account,
                    },
                    None,
                ),
                Err(e) => (
                    None,
                    TargetInfo {
                        name,
                        region: config.region.clone().unwrap_or_else(|| "unknown".into()),
                        account: role_account,
                    },
                    Some(e),
                ),
            };
            let planned = match (loaded, &client, connect_error) {
                (Err(e), _, _) => Err(target_error(e)),
                (_, _, Some(e)) => Err(e),
                (Ok(loaded), Some(client), None) => reconcile::plan(client, &loaded.set, &config)
                    .await
                    .map_err(|e| e.to_string()),
                (Ok(_), None, None) => Err("no client".into()),
            };
            TargetRun {
                config,
                info,
                client,
                planned,
            }
        },
    );
    futures_util::future::join_all(runs).await
}

/// The worst of the targets' exit codes: a failure (1) over pending changes (2) over
/// success (0).
pub(super) fn worst(codes: impl IntoIterator<Item = u8>) -> ExitCode {
    let codes: Vec<u8> = codes.into_iter().collect();
    ExitCode::from(if codes.contains(&1) {
        1
    } else {
        codes.into_iter().max().unwrap_or(0)
    })
}
