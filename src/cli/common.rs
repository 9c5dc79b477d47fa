//! What the commands share: loading the config (with the command line's overrides)
//! and the desired set, evaluating within the deadline, colour, connecting, planning,
//! and the call and timing reports.

use std::io::IsTerminal;
use std::path::Path;
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
pub(super) struct Prepared {
    pub config: Config,
    pub loaded: Loaded,
    pub timings: Timings,
}

pub(super) fn prepare(global: &GlobalArgs) -> Result<Prepared, CliError> {
    let config = load_config(global)?;
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

fn load_specs(dir: &Path, limits: EvalLimits) -> Result<Loaded, CliError> {
    let dir_owned = dir.to_path_buf();
    let loaded = within_deadline(limits, move || {
        crate::evaluate::load_desired(&dir_owned, limits)
    })
    .map_err(|e| CliError::InvalidSpecs(e.to_string()))?;
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(loaded)
}

/// Runs an evaluation of the desired set on a thread of its own and waits for it until
/// its deadline (plus a grace second): the engines keep to the deadline themselves, and
/// this makes sure a one-shot command finishes even if something did not.
pub(super) fn within_deadline<T: Send + 'static>(
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
