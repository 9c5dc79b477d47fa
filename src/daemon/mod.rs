//! `run`: the long-running reconcile loop.
//!
//! Four triggers (file changes, the interval tick, SIGHUP, `POST /reconcile`) feed one
//! queue; triggers that arrive during a cycle coalesce into the next one. Each cycle
//! is load -> fetch -> diff -> execute and its result updates the per-key state
//! (backoff for failing keys, blocked keys logged on change only), the metrics and
//! `/status`. An invalid desired set is never applied: the last valid one stays in use.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, watch as tokio_watch};
use tracing::Instrument;

use crate::backoff;
use crate::config::Config;
use crate::diff::{ActionKind, Plan};
use crate::executor::{self, ExecutionReport, Outcome, RetryPolicy};
use crate::live::{ApiGateway, CallCounts, FailureKind};
use crate::model::{Key, Settings};
use crate::plan::{Style, describe, render_text};
use crate::reconcile;
use crate::redeploy;
use crate::spec::{self, DesiredSet, SpecCache};
use crate::status::{CycleSummary, DriftEvent, KeyState, KeyStatus, Shared, Status, Trigger};
use crate::watch::{self, DirWatcher};

/// How the daemon gets its config (again, on SIGHUP).
pub type ConfigSource = Box<dyn Fn() -> Result<Config, String> + Send>;

/// What the daemon remembers about one key between cycles.
#[derive(Clone, Debug)]
struct KeyMemory {
    status: KeyStatus,
    retry_at: Option<Instant>,
    /// The write API Gateway refused for good (`FailureKind::Rejected`): the same
    /// write is not retried until the spec changes or an operator asks (SIGHUP, HTTP).
    rejected_for: Option<Option<Settings>>,
}

/// The loop's state: config, last valid desired set, per-key memory.
struct Reconciler<C> {
    config: Config,
    dry_run: bool,
    client: C,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    desired: Option<DesiredSet>,
    desired_error: Option<String>,
    /// Parsed spec files, re-read only when they change.
    spec_cache: SpecCache,
    keys: BTreeMap<Key, KeyMemory>,
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
        stop: Arc<AtomicBool>,
    ) -> Self {
        Reconciler {
            config,
            dry_run,
            client,
            shared,
            stop,
            desired: None,
            desired_error: None,
            spec_cache: SpecCache::default(),
            keys: BTreeMap::new(),
            planned_from: None,
            cycle_id: 0,
            calls_seen: CallCounts::default(),
        }
    }

    /// Load the desired directory; keep the last valid set when it is invalid.
    fn load(&mut self, files_may_have_changed: bool) {
        match spec::load_desired_cached(&self.config.desired_dir, &mut self.spec_cache) {
            Ok(loaded) => {
                if files_may_have_changed {
                    for warning in &loaded.warnings {
                        tracing::warn!("{warning}");
                    }
                }
                if self.desired_error.take().is_some() {
                    tracing::info!(specs = loaded.set.specs.len(), "desired set is valid again");
                }
                self.desired = Some(loaded.set);
            }
            Err(e) => {
                let text = e.to_string();
                if self.desired_error.as_deref() != Some(text.as_str()) {
                    tracing::error!(
                        "desired set invalid, keeping the last valid one and applying nothing from the broken files: {text}"
                    );
                }
                self.desired_error = Some(text);
            }
        }
    }

    async fn cycle(&mut self, reasons: &BTreeSet<Trigger>) -> CycleSummary {
        self.cycle_id += 1;
        let started = Instant::now();
        let mut summary = CycleSummary {
            id: self.cycle_id,
            reasons: reasons.iter().map(|r| r.as_str()).collect(),
            started_at_unix: unix_now(),
            ..CycleSummary::default()
        };
        let files_may_have_changed = reasons
            .iter()
            .any(|r| matches!(r, Trigger::Startup | Trigger::Files | Trigger::Reload));
        self.load(files_may_have_changed);
        let shared = self.shared.clone();
        let metrics = &shared.metrics;
        metrics
            .desired_valid
            .set(i64::from(self.desired_error.is_none()));

        let mut plan_ok = false;
        // Status page, dry-run: the text plan of what would be written.
        let mut pending_plan = None;
        if let Some(desired) = self.desired.clone() {
            metrics.desired_specs.set(desired.specs.len() as i64);
            match reconcile::plan(&self.client, &desired, &self.config).await {
                Ok(planned) => {
                    plan_ok = true;
                    if self.dry_run {
                        let style = Style { color: false };
                        pending_plan = Some(render_text(&planned.plan, &planned.redeploy, style));
                    }
                    // Moving a spec within its file is no change.
                    let desired_unchanged = self
                        .planned_from
                        .as_ref()
                        .is_some_and(|before| before.same_ignoring_locations(&desired));
                    let nudged = reasons
                        .iter()
                        .any(|r| matches!(r, Trigger::Reload | Trigger::Http));
                    let report = self
                        .execute(&planned.plan, desired_unchanged, nudged, &mut summary)
                        .await;
                    self.redeploy(&planned, &report, &mut summary).await;
                    self.planned_from = Some(desired.clone());
                }
                Err(e) => {
                    tracing::error!("cycle failed: {e}");
                    summary.error = Some(e.to_string());
                }
            }
        }

        summary.result = if self.desired.is_none() {
            "invalid"
        } else if !plan_ok {
            "error"
        } else if summary.failed + summary.blocked > 0 {
            "failed"
        } else if summary.waiting > 0
            || (self.dry_run
                && self
                    .keys
                    .values()
                    .any(|k| k.status.state == KeyState::Pending))
        {
            "pending"
        } else {
            "converged"
        };
        summary.duration_ms = started.elapsed().as_millis() as u64;
        let calls = self.client.call_counts();
        metrics.record_calls(&self.calls_seen, &calls);
        self.calls_seen = calls;
        metrics
            .cycles
            .get_or_create(&vec![("result", summary.result.to_owned())])
            .inc();
        metrics
            .cycle_seconds
            .observe(started.elapsed().as_secs_f64());
        let count = |state| {
            self.keys
                .values()
                .filter(|k| k.status.state == state)
                .count() as i64
        };
        metrics.blocked.set(count(KeyState::Blocked));
        metrics.failing.set(count(KeyState::Failed));
        if summary.result == "converged" {
            metrics.last_success.set(unix_now());
        }
        tracing::info!(
            result = summary.result,
            created = summary.created,
            updated = summary.updated,
            deleted = summary.deleted,
            failed = summary.failed,
            blocked = summary.blocked,
            waiting = summary.waiting,
            drift = summary.drift,
            duration_ms = summary.duration_ms,
            "cycle done"
        );
        self.publish(summary.clone(), plan_ok, pending_plan);
        summary
    }

    /// Drift, backoff, dry-run, then execution of one plan; updates per-key memory.
    async fn execute(
        &mut self,
        plan: &Plan,
        desired_unchanged: bool,
        nudged: bool,
        summary: &mut CycleSummary,
    ) -> ExecutionReport {
        let now = Instant::now();
        let previous = std::mem::take(&mut self.keys);
        for key in &plan.in_sync {
            let status = previous.get(key).map(|m| m.status.clone());
            self.keys.insert(
                key.clone(),
                KeyMemory {
                    status: KeyStatus {
                        state: KeyState::InSync,
                        last_error: None,
                        failures: 0,
                        retry_in_seconds: None,
                        ..status.unwrap_or_else(|| key_status(key, None, None))
                    },
                    retry_at: None,
                    rejected_for: None,
                },
            );
        }

        let mut to_run = Plan::default();
        for action in &plan.actions {
            let before = previous.get(&action.key);
            let was_in_sync = before.is_some_and(|m| m.status.state == KeyState::InSync);
            let appeared = before.is_none() && action.kind == ActionKind::Delete;
            if action.kind != ActionKind::Blocked && desired_unchanged && (was_in_sync || appeared)
            {
                summary.drift += 1;
                self.shared.metrics.drift.inc();
                let one = Plan {
                    actions: vec![action.clone()],
                    ..Plan::default()
                };
                let diff = render_text(&one, &[], Style { color: false });
                tracing::warn!(
                    key = %action.key,
                    correcting = !self.dry_run,
                    "drift detected: {} was changed outside apigw-reconciler\n{}",
                    describe(action),
                    diff
                );
                // Status page: keep the event with its diff.
                self.shared.record_drift(DriftEvent {
                    cycle: self.cycle_id,
                    at_unix: unix_now(),
                    key: describe(action),
                    correcting: !self.dry_run,
                    plan: diff,
                });
            }
            let mut memory = before.cloned().unwrap_or_else(|| KeyMemory {
                status: key_status(
                    &action.key,
                    action.api_name.clone(),
                    action.resource_path.clone(),
                ),
                retry_at: None,
                rejected_for: None,
            });
            memory.status.rest_api_name = action.api_name.clone().or(memory.status.rest_api_name);
            memory.status.resource_path =
                action.resource_path.clone().or(memory.status.resource_path);
            match action.kind {
                ActionKind::Blocked => {
                    let reason = action.reason.clone();
                    if memory.status.state != KeyState::Blocked
                        || memory.status.last_error != reason
                    {
                        tracing::warn!(key = %action.key, "blocked: {}: {}", describe(action), reason.as_deref().unwrap_or(""));
                    }
                    memory.status.state = KeyState::Blocked;
                    memory.status.last_error = reason;
                    memory.retry_at = None;
                    summary.blocked += 1;
                }
                _ if !nudged && memory.rejected_for.as_ref() == Some(&action.desired) => {
                    summary.failed += 1;
                }
                _ if memory.retry_at.is_some_and(|at| at > now) => {
                    summary.waiting += 1;
                }
                _ if self.dry_run => {
                    if memory.status.state != KeyState::Pending {
                        tracing::info!(key = %action.key, "dry-run: would {:?} {}", action.kind, describe(action));
                    }
                    memory.status.state = KeyState::Pending;
                }
                _ => to_run.actions.push(action.clone()),
            }
            memory.status.retry_in_seconds = memory
                .retry_at
                .map(|at| at.saturating_duration_since(now).as_secs_f64());
            self.keys.insert(action.key.clone(), memory);
        }
        // A write that waits (backoff, or refused until its spec changes) is a
        // replacement not made yet: prune deletes on its method wait with it.
        let waiting_writes: BTreeSet<(&str, &str, &str)> = plan
            .actions
            .iter()
            .filter(|a| matches!(a.kind, ActionKind::Create | ActionKind::Update))
            .filter(|a| !to_run.actions.iter().any(|r| r.key == a.key))
            .map(|a| {
                let k = &a.key;
                (&*k.rest_api_id, &*k.resource_id, &*k.http_method)
            })
            .collect();
        to_run.actions.retain(|a| {
            let k = &a.key;
            let held = a.kind == ActionKind::Delete
                && a.source.is_none()
                && waiting_writes.contains(&(&*k.rest_api_id, &*k.resource_id, &*k.http_method));
            if held && let Some(memory) = self.keys.get_mut(&a.key) {
                memory.status.state = KeyState::Pending;
                memory.status.last_error =
                    Some("held: prune waits until the method's waiting write has succeeded".into());
                summary.waiting += 1;
            }
            !held
        });
        if to_run.actions.is_empty() {
            return ExecutionReport::default();
        }

        let retry = RetryPolicy::default();
        let metrics = &self.shared.metrics;
        let report = executor::execute_until(&self.client, &to_run, &retry, &self.stop, |result| {
            let kind = format!("{:?}", result.action.kind).to_lowercase();
            let outcome = match &result.outcome {
                Outcome::Applied => "applied",
                Outcome::Failed(_) => "failed",
                Outcome::Blocked => "blocked",
                Outcome::Held(_) => "held",
                Outcome::Cancelled => "cancelled",
            };
            metrics
                .actions
                .get_or_create(&vec![("kind", kind), ("outcome", outcome.to_owned())])
                .inc();
        })
        .await;
        for result in &report.results {
            let memory = self
                .keys
                .get_mut(&result.action.key)
                .expect("every executed key is remembered");
            match &result.outcome {
                Outcome::Applied => {
                    match result.action.kind {
                        ActionKind::Create => summary.created += 1,
                        ActionKind::Update => summary.updated += 1,
                        _ => summary.deleted += 1,
                    }
                    if result.action.kind == ActionKind::Delete {
                        self.keys.remove(&result.action.key);
                        continue;
                    }
                    memory.status.state = KeyState::InSync;
                    memory.status.last_error = None;
                    memory.status.failures = 0;
                    memory.retry_at = None;
                    memory.rejected_for = None;
                }
                Outcome::Failed(e) if e.kind == FailureKind::Rejected => {
                    summary.failed += 1;
                    memory.status.failures += 1;
                    memory.retry_at = None;
                    memory.rejected_for = Some(result.action.desired.clone());
                    memory.status.state = KeyState::Failed;
                    memory.status.last_error = Some(e.to_string());
                    tracing::error!(key = %result.action.key, "rejected, not retried until its spec changes: {e}");
                }
                Outcome::Failed(e) => {
                    summary.failed += 1;
                    memory.status.failures += 1;
                    let wait = backoff::exponential(
                        self.config.backoff.initial,
                        self.config.backoff.max,
                        memory.status.failures - 1,
                    );
                    memory.retry_at = Some(Instant::now() + wait);
                    memory.rejected_for = None;
                    memory.status.state = KeyState::Failed;
                    memory.status.last_error = Some(e.to_string());
                    tracing::warn!(key = %result.action.key, retry_in = ?wait, "will retry: {e}");
                }
                Outcome::Held(why) => {
                    summary.waiting += 1;
                    memory.status.state = KeyState::Pending;
                    memory.status.last_error = Some(format!("held: {why}"));
                }
                Outcome::Cancelled | Outcome::Blocked => memory.status.state = KeyState::Pending,
            }
            memory.status.retry_in_seconds = memory
                .retry_at
                .map(|at| at.saturating_duration_since(Instant::now()).as_secs_f64());
        }
        report
    }

    /// Deploy the configured stages whose deployment does not match what is live after
    /// this cycle's writes. Nothing is remembered between cycles: a stage whose
    /// deployment failed (or never happened, because the process died) still carries
    /// the old stamp, so the next cycle deploys it.
    async fn redeploy(
        &mut self,
        planned: &reconcile::Planned,
        report: &ExecutionReport,
        summary: &mut CycleSummary,
    ) {
        if self.dry_run || self.stop.load(Ordering::SeqCst) {
            return;
        }
        let stages = reconcile::stages_after(&self.config, planned, report);
        for (_, result) in redeploy::redeploy(&self.client, &stages).await {
            let outcome = if result.is_ok() { "deployed" } else { "failed" };
            self.shared
                .metrics
                .deployments
                .get_or_create(&vec![("outcome", outcome.to_owned())])
                .inc();
            match result {
                Ok(()) => summary.deployed += 1,
                Err(_) => summary.failed += 1,
            }
        }
    }

    fn publish(&self, summary: CycleSummary, plan_ok: bool, pending_plan: Option<String>) {
        let valid = self.desired_error.is_none();
        self.shared.set_status(Status {
            ready: valid && plan_ok,
            dry_run: self.dry_run,
            desired_set_valid: valid,
            desired_set_error: self.desired_error.clone(),
            desired_specs: self.desired.as_ref().map_or(0, |d| d.specs.len()),
            last_cycle: Some(summary),
            keys: self.keys.values().map(|m| m.status.clone()).collect(),
            pending_plan,
            // recent_cycles and drift_events: filled by `Shared::set_status`.
            ..Status::default()
        });
    }
}

fn key_status(key: &Key, api_name: Option<String>, resource_path: Option<String>) -> KeyStatus {
    KeyStatus {
        rest_api_id: key.rest_api_id.clone(),
        resource_id: key.resource_id.clone(),
        http_method: key.http_method.clone(),
        status_code: key.status_code.clone(),
        rest_api_name: api_name,
        resource_path,
        state: KeyState::InSync,
        last_error: None,
        failures: 0,
        retry_in_seconds: None,
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
    let config = match config_source() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let client = match reconcile::connect(&config).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let listener = match tokio::net::TcpListener::bind(&config.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "error: cannot listen on {}: {e}; change `listen` in the config",
                config.listen
            );
            return ExitCode::from(1);
        }
    };
    let (tx, mut rx) = mpsc::channel::<Trigger>(64);
    let shared = Shared::new(tx.clone());
    let (shutdown_tx, mut shutdown_rx) = tokio_watch::channel(false);
    let stop = Arc::new(AtomicBool::new(false));

    let mut server_shutdown = shutdown_rx.clone();
    let server = tokio::spawn(crate::server::serve(listener, shared.clone(), async move {
        let _ = server_shutdown.wait_for(|s| *s).await;
    }));
    tracing::info!(listen = %config.listen, dry_run = dry_run_flag || config.dry_run, desired = %config.desired_dir.display(), "apigw-reconciler running");

    if let Err(e) = spawn_signal_handlers(tx.clone(), shutdown_tx, stop.clone()) {
        eprintln!("error: cannot install signal handlers: {e}");
        return ExitCode::from(1);
    }

    let mut watcher = start_watcher(&config, &shared);
    let dry_run = dry_run_flag || config.dry_run;
    let mut reconciler = Reconciler::new(config, dry_run, client, shared.clone(), stop.clone());
    let _ = tx.try_send(Trigger::Startup);
    let mut next_tick =
        tokio::time::Instant::now() + backoff::jitter(reconciler.config.interval, 0.1);

    loop {
        let first = tokio::select! {
            _ = shutdown_rx.wait_for(|s| *s) => break,
            Some(t) = rx.recv() => t,
            _ = tokio::time::sleep_until(next_tick) => Trigger::Interval,
        };
        let mut reasons = BTreeSet::from([first]);
        while let Ok(t) = rx.try_recv() {
            reasons.insert(t);
        }
        if reasons.contains(&Trigger::Reload) {
            match config_source() {
                Ok(new) => {
                    if new.listen != reconciler.config.listen {
                        tracing::warn!(
                            "`listen` changed: restart the daemon to move the HTTP server"
                        );
                    }
                    match reconcile::connect(&new).await {
                        Ok(client) => reconciler.client = client,
                        Err(e) => tracing::error!(
                            "config reloaded but cannot connect, keeping the old client: {e}"
                        ),
                    }
                    if new.desired_dir != reconciler.config.desired_dir
                        || new.debounce != reconciler.config.debounce
                    {
                        watcher = start_watcher(&new, &shared);
                    }
                    reconciler.dry_run = dry_run_flag || new.dry_run;
                    reconciler.config = new;
                    reconciler.calls_seen = CallCounts::default();
                    tracing::info!("config reloaded");
                }
                Err(e) => tracing::error!("SIGHUP: config invalid, keeping the running one: {e}"),
            }
        }
        let span = tracing::info_span!(
            "cycle",
            id = reconciler.cycle_id + 1,
            reasons = %reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
        );
        reconciler.cycle(&reasons).instrument(span).await;
        next_tick = tokio::time::Instant::now() + backoff::jitter(reconciler.config.interval, 0.1);
        if stop.load(Ordering::SeqCst) {
            break;
        }
    }
    drop(watcher);
    tracing::info!("shutting down");
    let _ = tokio::time::timeout(Duration::from_secs(3), server).await;
    ExitCode::SUCCESS
}

fn spawn_signal_handlers(
    triggers: mpsc::Sender<Trigger>,
    shutdown: tokio_watch::Sender<bool>,
    stop: Arc<AtomicBool>,
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
        stop.store(true, Ordering::SeqCst);
        let _ = shutdown.send(true);
    });
    Ok(())
}

#[cfg(test)]
mod tests;
