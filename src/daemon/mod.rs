//! `run`: the long-running reconcile loop.
//!
//! Four triggers (file changes, the interval tick, SIGHUP, `POST /reconcile`) feed one
//! queue; triggers that arrive during a cycle coalesce into the next one. Each cycle
//! ([`cycle`]) is evaluate -> plan -> triage -> execute -> publish, and its result
//! updates the per-key state (backoff for failing keys, blocked keys logged on change
//! only), the metrics and `/status`. An invalid desired set is never applied: the last
//! valid one stays in use. SIGHUP reloads the config ([`Reconciler::reload`]);
//! SIGTERM and SIGINT ask for shutdown ([`Shutdown`]).
//!
//! The desired set is untrusted input and is evaluated (read, validated, its response
//! tests run) on a thread of its own, within `limits.deadline`, never on the loop's
//! task: signals, the heartbeat behind `/healthz` and the HTTP server keep answering
//! while it runs, and an evaluation past its deadline turns `/readyz` 503. A changed
//! file is used only once it has been still for `debounce`; a prune delete runs only
//! when a second evaluation of the unchanged files still wants it.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use crate::backoff;
use crate::config::Config;
use crate::desired::DesiredSet;
use crate::evaluate::SpecCache;
use crate::live::limited::RateLimited;
use crate::live::sdk::SdkApiGateway;
use crate::live::{ApiGateway, CallCounts};
use crate::metrics::{Metrics, TargetMetrics};
use crate::reconcile;
use crate::render::targets::TargetInfo;
pub use crate::shutdown::Shutdown;
use crate::status::{Fleet, HEARTBEAT_EVERY, Shared, TargetHandle, Trigger};
use crate::watch::{self, DirWatcher};
use evaluate::Evaluated;
use memory::Memory;

mod cycle;
mod evaluate;
mod memory;

/// How the daemon gets its config (again, on SIGHUP, by every target's loop).
pub type ConfigSource = Arc<dyn Fn() -> Result<Config, String> + Send + Sync>;

/// The loop's state: config, last valid desired set, per-key memory.
struct Reconciler<C> {
    config: Config,
    dry_run: bool,
    client: C,
    shared: Arc<Shared>,
    shutdown: Shutdown,
    desired: Option<DesiredSet>,
    desired_error: Option<String>,
    /// Parsed spec files, re-read only when they change (lent to the evaluation
    /// thread while it runs; lost, and rebuilt, if that thread never comes back).
    spec_cache: Option<SpecCache>,
    /// An evaluation that overran its deadline and has not come back yet: no second
    /// one starts while it runs.
    overrun: Option<oneshot::Receiver<Evaluated>>,
    /// The last evaluation read the files afresh and found the set the one before it
    /// found: prune deletes wanted by both may run.
    input_confirmed: bool,
    /// The loop should run the next cycle after this, sooner than the interval.
    wake_in: Option<Duration>,
    /// The triggers of a cycle deferred because files were still changing.
    deferred: BTreeSet<Trigger>,
    memory: Memory,
    /// The desired set the last successful plan was made from.
    planned_from: Option<DesiredSet>,
    cycle_id: u64,
    calls_seen: CallCounts,
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl<C: ApiGateway> Reconciler<C> {
    fn new(
        config: Config,
        dry_run: bool,
        client: C,
        shared: Arc<Shared>,
        shutdown: Shutdown,
    ) -> Self {
        Reconciler {
            config,
            dry_run,
            client,
            shared,
            shutdown,
            desired: None,
            desired_error: None,
            spec_cache: Some(SpecCache::default()),
            overrun: None,
            input_confirmed: false,
            wake_in: None,
            deferred: BTreeSet::new(),
            memory: Memory::default(),
            planned_from: None,
            cycle_id: 0,
            calls_seen: CallCounts::default(),
        }
    }
}

fn start_watcher(config: &Config, shared: &Arc<Shared>) -> Option<DirWatcher> {
    let shared = shared.clone();
    match watch::watch(&config.desired_dir, config.debounce, move || {
        shared.request_cycle(Trigger::Files)
    }) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch {}; changes are picked up on the interval", config.desired_dir.display());
            None
        }
    }
}

/// Run the daemon until SIGTERM or SIGINT. `config_source` is called at start and on
/// every SIGHUP.
pub async fn run(config_source: ConfigSource, dry_run_flag: bool) -> ExitCode {
    match serve_and_reconcile(config_source, dry_run_flag).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

/// A target's loop before it starts: its config, client, handle and trigger queue.
struct TargetLoop {
    config: Config,
    client: Client,
    shared: Arc<Shared>,
    queue: mpsc::Receiver<Trigger>,
}

type Client = RateLimited<SdkApiGateway>;

/// Starts the clients, the HTTP server, the signal handlers, then each target's loop
/// (a task of its own: a target that fails, throttles or hangs on its API holds no
/// other back), until shutdown; `Err` when something cannot start.
async fn serve_and_reconcile(
    config_source: ConfigSource,
    dry_run_flag: bool,
) -> Result<(), String> {
    let config = config_source()?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| {
            format!(
                "cannot listen on {}: {e}; change `listen` in the config",
                config.listen
            )
        })?;
    let shutdown = Shutdown::new();
    let (fleet, loops) = if config.targets.is_empty() {
        let client = reconcile::connect(&config).await?;
        let (tx, queue) = mpsc::channel::<Trigger>(64);
        let shared = Shared::new(tx);
        let target = TargetLoop {
            config: config.clone(),
            client,
            shared: shared.clone(),
            queue,
        };
        (Fleet::single(shared), vec![target])
    } else {
        start_targets(&config).await?
    };
    let server = tokio::spawn(crate::server::serve(
        listener,
        fleet.clone(),
        shutdown.clone(),
    ));
    tracing::info!(listen = %config.listen, dry_run = dry_run_flag || config.dry_run, targets = loops.len(), desired = %config.desired_dir.display(), "apigw-reconciler running");

    spawn_signal_handlers(fleet.clone(), shutdown.clone())
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;

    let tasks: Vec<_> = loops
        .into_iter()
        .map(|target| {
            let span = match target.config.target_name() {
                Some(name) => tracing::info_span!("target", name = %name),
                None => tracing::Span::none(),
            };
            tokio::spawn(
                run_target(
                    target,
                    config_source.clone(),
                    dry_run_flag,
                    shutdown.clone(),
                )
                .instrument(span),
            )
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    tracing::info!("shutting down");
    let _ = tokio::time::timeout(Duration::from_secs(3), server).await;
    Ok(())
}

/// Each target of `config`: its client (one request budget per account and region),
/// its handle with its metrics in the registry all share, and its queue.
async fn start_targets(config: &Config) -> Result<(Arc<Fleet>, Vec<TargetLoop>), String> {
    let (connected, warnings) = reconcile::connect_all(&config.targets).await;
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    let metrics = Arc::new(Metrics::default());
    let mut handles = Vec::new();
    let mut loops = Vec::new();
    for (target, connected) in config.targets.iter().zip(connected) {
        let name = target.target_name().unwrap_or_default().to_owned();
        let connected = connected.map_err(|e| format!("target {name}: {e}"))?;
        let (tx, queue) = mpsc::channel::<Trigger>(64);
        let shared = Shared::with_metrics(tx, TargetMetrics::new(metrics.clone(), Some(&name)));
        let info = TargetInfo {
            name,
            region: connected.region,
            account: connected.account,
        };
        tracing::info!(target_name = %info.name, region = %info.region, account = info.account.as_deref().unwrap_or("unknown"), desired = %target.desired_dir.display(), "target");
        handles.push(TargetHandle {
            info: Some(info),
            shared: shared.clone(),
        });
        loops.push(TargetLoop {
            config: target.clone(),
            client: connected.client,
            shared,
            queue,
        });
    }
    Ok((
        Arc::new(Fleet {
            targets: handles,
            metrics,
        }),
        loops,
    ))
}

/// One target's loop: its watcher, interval, triggers and cycles, until shutdown.
async fn run_target(
    target: TargetLoop,
    config_source: ConfigSource,
    dry_run_flag: bool,
    shutdown: Shutdown,
) {
    let TargetLoop {
        config,
        client,
        shared,
        mut queue,
    } = target;
    let mut watcher = start_watcher(&config, &shared);
    let dry_run = dry_run_flag || config.dry_run;
    let mut reconciler = Reconciler::new(config, dry_run, client, shared.clone(), shutdown.clone());
    let mut heartbeat = tokio::time::interval(HEARTBEAT_EVERY);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    shared.request_cycle(Trigger::Startup);
    let mut next_tick =
        tokio::time::Instant::now() + backoff::jitter(reconciler.config.interval, 0.1);

    loop {
        let first = tokio::select! {
            () = shutdown.recv() => break,
            Some(t) = queue.recv() => t,
            _ = tokio::time::sleep_until(next_tick) => Trigger::Interval,
            _ = heartbeat.tick() => {
                shared.beat();
                continue;
            }
        };
        let reasons = reconciler.coalesce(first, &mut queue);
        if reasons.contains(&Trigger::Reload) {
            reconciler
                .reload(config_source(), dry_run_flag, &mut watcher)
                .await;
        }
        reconciler.cycle_beating(&reasons, &mut heartbeat).await;
        let mut wait = backoff::jitter(reconciler.config.interval, 0.1);
        if let Some(soon) = reconciler.wake_in.take() {
            wait = wait.min(soon);
        }
        next_tick = tokio::time::Instant::now() + wait;
        if shutdown.is_shutdown() {
            break;
        }
    }
    drop(watcher);
}

impl<C: ApiGateway> Reconciler<C> {
    /// The triggers of the next cycle: `first`, whatever else is queued, and those of a
    /// cycle deferred while files were still changing.
    fn coalesce(
        &mut self,
        first: Trigger,
        queue: &mut mpsc::Receiver<Trigger>,
    ) -> BTreeSet<Trigger> {
        let mut reasons = BTreeSet::from([first]);
        while let Ok(t) = queue.try_recv() {
            reasons.insert(t);
        }
        if !self.deferred.is_empty() {
            // The retry of a cycle deferred while files were still changing, not an
            // interval tick: it carries that cycle's triggers.
            if first == Trigger::Interval {
                reasons.remove(&Trigger::Interval);
            }
            reasons.append(&mut self.deferred);
        }
        reasons
    }

    /// Runs one cycle in its tracing span while the loop keeps beating (the cycle
    /// awaits the API and the evaluation thread; it never blocks this task for long).
    async fn cycle_beating(
        &mut self,
        reasons: &BTreeSet<Trigger>,
        heartbeat: &mut tokio::time::Interval,
    ) {
        let span = tracing::info_span!(
            "cycle",
            id = self.cycle_id + 1,
            reasons = %reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
        );
        let shared = self.shared.clone();
        {
            let cycle = self.cycle(reasons).instrument(span);
            tokio::pin!(cycle);
            loop {
                tokio::select! {
                    _ = &mut cycle => break,
                    _ = heartbeat.tick() => shared.beat(),
                }
            }
        }
        shared.beat();
    }
}

impl Reconciler<Client> {
    /// SIGHUP: use the new config (a new client, a new watcher if the directory or the
    /// settle time changed), or keep the running one if the new one is invalid. A
    /// target of several takes its own entry of the new config's `targets`.
    async fn reload(
        &mut self,
        new: Result<Config, String>,
        dry_run_flag: bool,
        watcher: &mut Option<DirWatcher>,
    ) {
        let new = match new {
            Ok(new) => new,
            Err(e) => {
                tracing::error!("SIGHUP: config invalid, keeping the running one: {e}");
                return;
            }
        };
        if new.listen != self.config.listen {
            tracing::warn!("`listen` changed: restart the daemon to move the HTTP server");
        }
        let Some(mut new) = self.own_part(new) else {
            return;
        };
        if self.config.target.is_none() {
            match reconcile::connect(&new).await {
                Ok(client) => self.client = client,
                Err(e) => tracing::error!(
                    "config reloaded but cannot connect, keeping the old client: {e}"
                ),
            }
        } else if reaches_differently(&self.config, &new) {
            // Its request budget is shared with the other targets of its account and
            // region, made at start: moving a target needs a new plan of budgets.
            tracing::warn!(
                "SIGHUP: this target's region, endpoint, role, rate limit or timeouts changed: \
                 restart the daemon for that to take effect; the other changes apply now"
            );
            // What the running client reaches stays what the config says.
            new.region = self.config.region.clone();
            new.endpoint_url = self.config.endpoint_url.clone();
            new.assume_role = self.config.assume_role.clone();
            new.rate_limit = self.config.rate_limit.clone();
            new.timeouts = self.config.timeouts.clone();
        }
        if new.desired_dir != self.config.desired_dir || new.debounce != self.config.debounce {
            *watcher = start_watcher(&new, &self.shared);
        }
        self.dry_run = dry_run_flag || new.dry_run;
        self.config = new;
        self.calls_seen = CallCounts::default();
        tracing::info!("config reloaded");
    }
}

impl<C> Reconciler<C> {
    /// This target's part of a reloaded config: the config itself without `targets`,
    /// or the entry of the same name; `None` (logged) when the new config no longer
    /// has this target or changes to or from `targets`, which need a restart.
    fn own_part(&self, new: Config) -> Option<Config> {
        let restart = |why: &str| {
            tracing::warn!(
                "SIGHUP: {why}; restart the daemon for that; keeping the running config"
            );
            None
        };
        match (&self.config.target, new.targets.is_empty()) {
            (None, true) => Some(new),
            (None, false) => restart("the config now has `targets`"),
            (Some(_), true) => restart("the config no longer has `targets`"),
            (Some(name), false) => match new
                .targets
                .into_iter()
                .find(|t| t.target.as_ref() == Some(name))
            {
                Some(own) => Some(own),
                None => restart("this target is no longer in the config"),
            },
        }
    }
}

/// Whether a target's new config reaches API Gateway otherwise (another region,
/// endpoint, role or request budget).
fn reaches_differently(old: &Config, new: &Config) -> bool {
    old.region != new.region
        || old.endpoint_url != new.endpoint_url
        || old.assume_role != new.assume_role
        || old.rate_limit != new.rate_limit
        || old.timeouts != new.timeouts
}

fn spawn_signal_handlers(fleet: Arc<Fleet>, shutdown: Shutdown) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading config and specs");
            fleet.request_cycle(Trigger::Reload);
        }
    });
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: finishing the call in flight, then exiting"),
            _ = int.recv() => tracing::info!("SIGINT: finishing the call in flight, then exiting"),
        }
        shutdown.trigger();
    });
    Ok(())
}

#[cfg(test)]
mod tests;
