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
use crate::reconcile;
pub use crate::shutdown::Shutdown;
use crate::status::{HEARTBEAT_EVERY, Shared, Trigger};
use crate::watch::{self, DirWatcher};
use evaluate::Evaluated;
use memory::Memory;

mod cycle;
mod evaluate;
mod memory;

/// How the daemon gets its config (again, on SIGHUP).
pub type ConfigSource = Box<dyn Fn() -> Result<Config, String> + Send>;

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

/// Starts the client, the HTTP server, the signal handlers and the watcher, then runs
/// the loop until shutdown; `Err` when something cannot start.
async fn serve_and_reconcile(
    config_source: ConfigSource,
    dry_run_flag: bool,
) -> Result<(), String> {
    let config = config_source()?;
    let client = reconcile::connect(&config).await?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| {
            format!(
                "cannot listen on {}: {e}; change `listen` in the config",
                config.listen
            )
        })?;
    let (tx, mut rx) = mpsc::channel::<Trigger>(64);
    let shared = Shared::new(tx.clone());
    let shutdown = Shutdown::new();

    let server = tokio::spawn(crate::server::serve(
        listener,
        shared.clone(),
        shutdown.clone(),
    ));
    tracing::info!(listen = %config.listen, dry_run = dry_run_flag || config.dry_run, desired = %config.desired_dir.display(), "apigw-reconciler running");

    spawn_signal_handlers(tx.clone(), shutdown.clone())
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;

    let mut watcher = start_watcher(&config, &shared);
    let dry_run = dry_run_flag || config.dry_run;
    let mut reconciler = Reconciler::new(config, dry_run, client, shared.clone(), shutdown.clone());
    let mut heartbeat = tokio::time::interval(HEARTBEAT_EVERY);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let _ = tx.try_send(Trigger::Startup);
    let mut next_tick =
        tokio::time::Instant::now() + backoff::jitter(reconciler.config.interval, 0.1);

    loop {
        let first = tokio::select! {
            () = shutdown.recv() => break,
            Some(t) = rx.recv() => t,
            _ = tokio::time::sleep_until(next_tick) => Trigger::Interval,
            _ = heartbeat.tick() => {
                shared.beat();
                continue;
            }
        };
        let reasons = reconciler.coalesce(first, &mut rx);
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
    tracing::info!("shutting down");
    let _ = tokio::time::timeout(Duration::from_secs(3), server).await;
    Ok(())
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

impl Reconciler<RateLimited<SdkApiGateway>> {
    /// SIGHUP: use the new config (a new client, a new watcher if the directory or the
    /// settle time changed), or keep the running one if the new one is invalid.
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
        match reconcile::connect(&new).await {
            Ok(client) => self.client = client,
            Err(e) => {
                tracing::error!("config reloaded but cannot connect, keeping the old client: {e}")
            }
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

fn spawn_signal_handlers(
    triggers: mpsc::Sender<Trigger>,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading config and specs");
            let _ = triggers.try_send(Trigger::Reload);
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
