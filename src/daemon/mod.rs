//! `run`: the long-running reconcile loop.
//!
//! Four triggers (file changes, the interval tick, SIGHUP, `POST /reconcile`) feed one
//! queue; triggers that arrive during a cycle coalesce into the next one. Each cycle
//! is load -> fetch -> diff -> execute and its result updates the per-key state
//! (backoff for failing keys, blocked keys logged on change only), the metrics and
//! `/status`. An invalid desired set is never applied: the last valid one stays in use.
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
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use crate::backoff;
use crate::config::Config;
use crate::desired::{self, DesiredSet, LoadError, LoadOptions, Loaded, SpecCache};
use crate::diff::{Action, ActionKind, Plan};
use crate::executor::{self, ExecutionReport, Outcome, RetryPolicy};
use crate::live::{ApiGateway, CallCounts};
use crate::reconcile;
use crate::redeploy;
use crate::render::{Style, describe, render_text};
use crate::status::{CycleSummary, DriftEvent, HEARTBEAT_EVERY, KeyState, Shared, Status, Trigger};
use crate::watch::{self, DirWatcher};
use memory::{Decision, Memory, Recorded, Situation};
pub use shutdown::Shutdown;

mod memory;
mod shutdown;

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

/// What an evaluation thread hands back: the cache it was lent and what it found.
type Evaluated = (SpecCache, Result<Loaded, LoadError>);

/// How this cycle's evaluation of the desired files went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Evaluation {
    /// A set was read: valid (in use now) or invalid (the last valid one stays).
    Done,
    /// Files are still changing: nothing is done this cycle; the next comes soon.
    Unsettled,
    /// Shutdown was asked for while evaluating.
    Aborted,
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

    /// Evaluates the desired directory on a thread of its own, within the deadline,
    /// while this task stays free to notice shutdown; keeps the last valid set when the
    /// new one is invalid, late or still being written.
    async fn evaluate(&mut self, files_may_have_changed: bool) -> Evaluation {
        if let Some(mut late) = self.overrun.take() {
            match late.try_recv() {
                Ok((cache, _)) => self.spec_cache = Some(cache),
                Err(oneshot::error::TryRecvError::Empty) => {
                    // Still running: do not pile up a second one.
                    self.overrun = Some(late);
                    self.input_confirmed = false;
                    return Evaluation::Done;
                }
                Err(oneshot::error::TryRecvError::Closed) => {}
            }
        }
        let mut cache = self.spec_cache.take().unwrap_or_default();
        let tests_before = cache.tests_run;
        let options = LoadOptions {
            limits: self.config.limits,
            run_tests: true,
            settle: Some(self.config.debounce),
        };
        let dir = self.config.desired_dir.clone();
        let (tx, mut rx) = oneshot::channel::<Evaluated>();
        let spawned = std::thread::Builder::new()
            .name("evaluate".into())
            .spawn(move || {
                let result = desired::load_desired_cached(&dir, &mut cache, &options);
                let _ = tx.send((cache, result));
            });
        if let Err(e) = spawned {
            self.reject(format!("cannot start evaluating the desired set: {e}"));
            return Evaluation::Done;
        }
        let deadline = options.limits.deadline;
        self.shared.set_evaluating(Some(deadline));
        let waited = tokio::select! {
            r = tokio::time::timeout(options.limits.give_up_after(), &mut rx) => Some(r),
            () = self.shutdown.recv() => None,
        };
        self.shared.set_evaluating(None);
        let Some(waited) = waited else {
            return Evaluation::Aborted;
        };
        let result = match waited {
            Ok(Ok((cache, result))) => {
                self.shared
                    .metrics
                    .tests_run
                    .inc_by(cache.tests_run - tests_before);
                self.spec_cache = Some(cache);
                result
            }
            Ok(Err(_)) => {
                self.reject(
                    "evaluating the desired set failed unexpectedly (the evaluation thread ended \
                     without an answer; this is a bug, please report it)"
                        .into(),
                );
                return Evaluation::Done;
            }
            Err(_) => {
                self.overrun = Some(rx);
                self.reject(format!(
                    "evaluating the desired set did not finish within its deadline of {} \
                     (limits.deadline)",
                    humantime::format_duration(deadline)
                ));
                return Evaluation::Done;
            }
        };
        match result {
            Ok(loaded) => {
                if files_may_have_changed {
                    for warning in &loaded.warnings {
                        tracing::warn!("{warning}");
                    }
                }
                if self.desired_error.take().is_some() {
                    tracing::info!(specs = loaded.set.specs.len(), "desired set is valid again");
                }
                self.input_confirmed = self.desired.as_ref() == Some(&loaded.set);
                self.desired = Some(loaded.set);
                Evaluation::Done
            }
            Err(LoadError::Unsettled(files)) => {
                tracing::info!(
                    "{} file(s) changed within the last {} or while being read, waiting for them to be still: {}",
                    files.len(),
                    humantime::format_duration(self.config.debounce),
                    files.join(", ")
                );
                self.input_confirmed = false;
                self.wake_in = Some(self.config.debounce);
                Evaluation::Unsettled
            }
            Err(e) => {
                self.reject(e.to_string());
                Evaluation::Done
            }
        }
    }

    /// How long a prune delete must have been wanted, by evaluations of unchanged
    /// files, before it runs: twice the settle time, at least a second.
    fn confirm_after(&self) -> Duration {
        (self.config.debounce * 2).max(Duration::from_secs(1))
    }

    /// The new desired set cannot be used: keep the last valid one, say why (once).
    fn reject(&mut self, text: String) {
        self.input_confirmed = false;
        if self.desired_error.as_deref() != Some(text.as_str()) {
            tracing::error!(
                "desired set invalid, keeping the last valid one and applying nothing from the broken files: {text}"
            );
        }
        self.desired_error = Some(text);
    }

    async fn cycle(&mut self, reasons: &BTreeSet<Trigger>) -> CycleSummary {
        let started = Instant::now();
        let started_at_unix = unix_now();
        let files_may_have_changed = reasons
            .iter()
            .any(|r| matches!(r, Trigger::Startup | Trigger::Files | Trigger::Reload));
        let last_id = self.cycle_id;
        let not_run = |result| CycleSummary {
            id: last_id,
            reasons: reasons.iter().map(|r| r.as_str()).collect(),
            result,
            ..CycleSummary::default()
        };
        match self.evaluate(files_may_have_changed).await {
            Evaluation::Done => {}
            Evaluation::Aborted => return not_run("cancelled"),
            Evaluation::Unsettled => {
                // Not a cycle: nothing is published; it runs once the files are still.
                let summary = not_run("waiting");
                self.deferred = reasons.clone();
                return summary;
            }
        }
        self.cycle_id += 1;
        let mut summary = CycleSummary {
            id: self.cycle_id,
            reasons: reasons.iter().map(|r| r.as_str()).collect(),
            started_at_unix,
            ..CycleSummary::default()
        };
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
        } else if summary.waiting > 0 || (self.dry_run && self.memory.count(KeyState::Pending) > 0)
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
        metrics
            .blocked
            .set(self.memory.count(KeyState::Blocked) as i64);
        metrics
            .failing
            .set(self.memory.count(KeyState::Failed) as i64);
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

    /// Triage (drift, backoff, refusals, dry-run, held prune) by the pure per-key
    /// memory, then execution of what runs; logs and counts what the memory decided.
    async fn execute(
        &mut self,
        plan: &Plan,
        desired_unchanged: bool,
        nudged: bool,
        summary: &mut CycleSummary,
    ) -> ExecutionReport {
        let situation = Situation {
            now: Instant::now(),
            desired_unchanged,
            nudged,
            dry_run: self.dry_run,
            input_confirmed: self.input_confirmed && desired_unchanged,
            confirm_after: self.confirm_after(),
        };
        let mut to_run = Plan::default();
        for t in self.memory.triage(plan, &situation) {
            let action = t.action;
            if t.drift {
                self.report_drift(action, summary);
            }
            match t.decision {
                Decision::Run => to_run.actions.push(action.clone()),
                Decision::Blocked { changed } => {
                    summary.blocked += 1;
                    if changed {
                        let reason = action.reason.as_deref().unwrap_or("");
                        tracing::warn!(key = %action.key, "blocked: {}: {reason}", describe(action));
                    }
                }
                Decision::StillRefused => summary.failed += 1,
                Decision::BackingOff | Decision::Held => summary.waiting += 1,
                Decision::Confirming => {
                    summary.waiting += 1;
                    // Confirm soon, with another look at the files, not after the interval.
                    let soon = self.confirm_after();
                    self.wake_in = Some(self.wake_in.map_or(soon, |w| w.min(soon)));
                    tracing::info!(key = %action.key, "prune of {} waits for a second evaluation of the unchanged files", describe(action));
                }
                Decision::WouldRun { changed } => {
                    if changed {
                        tracing::info!(key = %action.key, "dry-run: would {:?} {}", action.kind, describe(action));
                    }
                }
            }
        }
        if to_run.actions.is_empty() {
            return ExecutionReport::default();
        }

        let retry = RetryPolicy::default();
        let metrics = &self.shared.metrics;
        let report = executor::execute_until(
            &self.client,
            &to_run,
            &retry,
            self.shutdown.flag(),
            |result| {
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
            },
        )
        .await;
        for result in &report.results {
            let key = &result.action.key;
            match self
                .memory
                .record(result, Instant::now(), &self.config.backoff)
            {
                Recorded::Applied(ActionKind::Create) => summary.created += 1,
                Recorded::Applied(ActionKind::Update) => summary.updated += 1,
                Recorded::Applied(_) => summary.deleted += 1,
                Recorded::Refused => {
                    summary.failed += 1;
                    if let Outcome::Failed(e) = &result.outcome {
                        tracing::error!(key = %key, "rejected, not retried until its spec changes: {e}");
                    }
                }
                Recorded::Retry(wait) => {
                    summary.failed += 1;
                    if let Outcome::Failed(e) = &result.outcome {
                        tracing::warn!(key = %key, retry_in = ?wait, "will retry: {e}");
                    }
                }
                Recorded::Held => summary.waiting += 1,
                Recorded::Pending => {}
            }
        }
        report
    }

    /// Logs, counts and keeps (for the status page) one drift event.
    fn report_drift(&self, action: &Action, summary: &mut CycleSummary) {
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
        self.shared.record_drift(DriftEvent {
            cycle: self.cycle_id,
            at_unix: unix_now(),
            key: describe(action),
            correcting: !self.dry_run,
            plan: diff,
        });
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
        if self.dry_run || self.shutdown.is_shutdown() {
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
            keys: self.memory.statuses().cloned().collect(),
            pending_plan,
            // recent_cycles and drift_events: filled by `Shared::set_status`.
            ..Status::default()
        });
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
    let shutdown = Shutdown::new();

    let server = tokio::spawn(crate::server::serve(
        listener,
        shared.clone(),
        shutdown.clone(),
    ));
    tracing::info!(listen = %config.listen, dry_run = dry_run_flag || config.dry_run, desired = %config.desired_dir.display(), "apigw-reconciler running");

    if let Err(e) = spawn_signal_handlers(tx.clone(), shutdown.clone()) {
        eprintln!("error: cannot install signal handlers: {e}");
        return ExitCode::from(1);
    }

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
        let mut reasons = BTreeSet::from([first]);
        while let Ok(t) = rx.try_recv() {
            reasons.insert(t);
        }
        if !reconciler.deferred.is_empty() {
            // The retry of a cycle deferred while files were still changing, not an
            // interval tick: it carries that cycle's triggers.
            if first == Trigger::Interval {
                reasons.remove(&Trigger::Interval);
            }
            reasons.append(&mut reconciler.deferred);
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
        {
            // The loop keeps beating while the cycle runs (the cycle awaits the API and
            // the evaluation thread; it never blocks this task for long).
            let cycle = reconciler.cycle(&reasons).instrument(span);
            tokio::pin!(cycle);
            loop {
                tokio::select! {
                    _ = &mut cycle => break,
                    _ = heartbeat.tick() => shared.beat(),
                }
            }
        }
        shared.beat();
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
    ExitCode::SUCCESS
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
