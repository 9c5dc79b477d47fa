//! One reconcile cycle as named steps around the pure per-key memory
//! ([`super::memory`]):
//!
//! 1. [`evaluate`](Reconciler::evaluate) the desired files (a thread of their own);
//! 2. [`plan`](Reconciler::plan): fetch what the specs name and diff;
//! 3. [`triage`](Reconciler::triage): the memory decides each action (drift, backoff,
//!    refusals, dry-run, held or unconfirmed prune); logged and counted here;
//! 4. [`execute`](Reconciler::execute) what runs, recording each outcome, then
//!    [`redeploy`](Reconciler::redeploy) the stages it changed;
//! 5. [`conclude`] the result, [`observe`](Reconciler::observe) it (metrics, the log
//!    line) and [`publish`](Reconciler::publish) it (`/status`, the status page).

use std::collections::BTreeSet;
use std::time::Instant;

use super::evaluate::Evaluation;
use super::memory::{Decision, KeyCounts, Recorded, Situation};
use super::{Reconciler, unix_now};
use crate::desired::DesiredSet;
use crate::diff::{Action, ActionKind, Plan};
use crate::executor::{self, ExecutionReport, Outcome, RetryPolicy};
use crate::live::ApiGateway;
use crate::reconcile::{self, Planned};
use crate::redeploy;
use crate::render::{Style, describe, render_text};
use crate::status::{Correction, CycleResult, CycleSummary, DriftEvent, Status, Trigger};

/// What the plan step came to.
enum Planning {
    /// No valid desired set was ever read: nothing to plan from.
    NoDesiredSet,
    /// Reading the live API failed (the summary says why).
    Failed,
    /// The plan, and the desired set it was made from.
    Made(Box<Planned>, DesiredSet),
}

impl<C: ApiGateway> Reconciler<C> {
    pub(super) async fn cycle(&mut self, reasons: &BTreeSet<Trigger>) -> CycleSummary {
        let started = Instant::now();
        let started_at_unix = unix_now();
        let files_may_have_changed = reasons
            .iter()
            .any(|r| matches!(r, Trigger::Startup | Trigger::Files | Trigger::Reload));
        match self.evaluate(files_may_have_changed).await {
            Evaluation::Done => {}
            Evaluation::Aborted => return self.not_run(reasons, CycleResult::Cancelled),
            Evaluation::Unsettled => {
                // Not a cycle: nothing is published; it runs once the files are still.
                self.deferred = reasons.clone();
                return self.not_run(reasons, CycleResult::Waiting);
            }
        }
        self.cycle_id += 1;
        let mut summary = CycleSummary {
            id: self.cycle_id,
            reasons: reasons.iter().map(|r| r.as_str()).collect(),
            started_at_unix,
            ..CycleSummary::default()
        };
        self.shared
            .metrics
            .desired_valid(self.desired_error.is_none());

        let planning = self.plan(&mut summary).await;
        // Status page, dry-run: the text plan of what would be written.
        let mut pending_plan = None;
        if let Planning::Made(planned, desired) = &planning {
            if self.dry_run {
                let style = Style { color: false };
                pending_plan = Some(render_text(&planned.plan, &planned.redeploy, style));
            }
            let to_run = self.triage(&planned.plan, desired, reasons, &mut summary);
            let report = self.execute(&to_run, &mut summary).await;
            self.redeploy(planned, &report, &mut summary).await;
            self.planned_from = Some(desired.clone());
        }

        let keys = self.memory.counts();
        summary.result = conclude(&planning, &summary, self.dry_run, keys);
        summary.duration_ms = started.elapsed().as_millis() as u64;
        self.observe(&summary, started, keys);
        let plan_made = matches!(planning, Planning::Made(..));
        self.publish(summary.clone(), plan_made, pending_plan);
        summary
    }

    /// The summary of a cycle that did not run (no id of its own).
    fn not_run(&self, reasons: &BTreeSet<Trigger>, result: CycleResult) -> CycleSummary {
        CycleSummary {
            id: self.cycle_id,
            reasons: reasons.iter().map(|r| r.as_str()).collect(),
            result,
            ..CycleSummary::default()
        }
    }

    /// Fetches what the last valid desired set names and diffs it against live.
    async fn plan(&mut self, summary: &mut CycleSummary) -> Planning {
        let Some(desired) = self.desired.clone() else {
            return Planning::NoDesiredSet;
        };
        self.shared.metrics.desired_specs(desired.specs.len());
        match reconcile::plan(&self.client, &desired, &self.config).await {
            Ok(planned) => Planning::Made(Box::new(planned), desired),
            Err(e) => {
                tracing::error!("cycle failed: {e}");
                summary.error = Some(e.to_string());
                Planning::Failed
            }
        }
    }

    /// The per-key memory decides every action of `plan` (drift, backoff, refusals,
    /// dry-run, held prune); this logs and counts what it decided and returns the
    /// actions to execute.
    fn triage(
        &mut self,
        plan: &Plan,
        desired: &DesiredSet,
        reasons: &BTreeSet<Trigger>,
        summary: &mut CycleSummary,
    ) -> Plan {
        // Moving a spec within its file is no change.
        let desired_unchanged = self
            .planned_from
            .as_ref()
            .is_some_and(|before| before.same_ignoring_locations(desired));
        let situation = Situation {
            now: Instant::now(),
            desired_unchanged,
            nudged: reasons
                .iter()
                .any(|r| matches!(r, Trigger::Reload | Trigger::Http)),
            dry_run: self.dry_run,
            input_confirmed: self.input_confirmed && desired_unchanged,
            confirm_after: self.confirm_after(),
        };
        // Open drift events of keys in sync now were undone without a write of ours.
        for key in &plan.in_sync {
            self.shared
                .settle_drift(key, self.cycle_id, Correction::InSyncAgain);
        }
        let mut to_run = Plan::default();
        for t in self.memory.triage(plan, &situation) {
            let action = t.action;
            if t.drift {
                self.report_drift(action, summary);
            }
            count_decision(summary, t.decision);
            match t.decision {
                Decision::Run => to_run.actions.push(action.clone()),
                Decision::Blocked { changed: true } => {
                    let reason = action.reason.as_deref().unwrap_or("");
                    tracing::warn!(key = %action.key, "blocked: {}: {reason}", describe(action));
                }
                Decision::Confirming => {
                    // Confirm soon, with another look at the files, not after the interval.
                    let soon = self.confirm_after();
                    self.wake_in = Some(self.wake_in.map_or(soon, |w| w.min(soon)));
                    tracing::info!(key = %action.key, "prune of {} waits for a second evaluation of the unchanged files", describe(action));
                }
                Decision::WouldRun { changed: true } => {
                    tracing::info!(key = %action.key, "dry-run: would {:?} {}", action.kind, describe(action));
                }
                Decision::Blocked { changed: false }
                | Decision::WouldRun { changed: false }
                | Decision::StillRefused
                | Decision::BackingOff
                | Decision::Held => {}
            }
        }
        to_run
    }

    /// Executes what the triage let run (no new call once shutdown is asked for),
    /// records each outcome in the memory, and logs and counts it.
    async fn execute(&mut self, to_run: &Plan, summary: &mut CycleSummary) -> ExecutionReport {
        if to_run.actions.is_empty() {
            return ExecutionReport::default();
        }
        let retry = RetryPolicy::default();
        let metrics = &self.shared.metrics;
        let stop = self.shutdown.flag();
        let report = executor::execute_until(&self.client, to_run, &retry, stop, |result| {
            let kind = format!("{:?}", result.action.kind).to_lowercase();
            let outcome = match &result.outcome {
                Outcome::Applied => "applied",
                Outcome::Failed(_) => "failed",
                Outcome::Blocked => "blocked",
                Outcome::Held(_) => "held",
                Outcome::Cancelled => "cancelled",
            };
            metrics.action(kind, outcome);
        })
        .await;
        for result in &report.results {
            // A drift event says corrected only now, once its write succeeded.
            let correction = match result.outcome {
                Outcome::Applied => Correction::Corrected,
                Outcome::Failed(_) => Correction::Failed,
                Outcome::Blocked | Outcome::Held(_) | Outcome::Cancelled => Correction::Pending,
            };
            self.shared
                .settle_drift(&result.action.key, self.cycle_id, correction);
            let recorded = self
                .memory
                .record(result, Instant::now(), &self.config.backoff);
            count_recorded(summary, &recorded);
            let (key, Outcome::Failed(e)) = (&result.action.key, &result.outcome) else {
                continue;
            };
            match recorded {
                Recorded::Refused => {
                    tracing::error!(key = %key, "rejected, not retried until its spec changes: {e}");
                }
                Recorded::Retry(wait) => {
                    tracing::warn!(key = %key, retry_in = ?wait, "will retry: {e}");
                }
                _ => {}
            }
        }
        report
    }

    /// Logs, counts and keeps (for the status page) one drift event.
    fn report_drift(&self, action: &Action, summary: &mut CycleSummary) {
        summary.drift += 1;
        self.shared.metrics.drift();
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
            identity: action.key.clone(),
            correcting: !self.dry_run,
            // Settled by the outcome of its write (`execute`), never before it.
            correction: if self.dry_run {
                Correction::ReportedOnly
            } else {
                Correction::Pending
            },
            corrected_in_cycle: None,
            plan: diff,
        });
    }

    /// Deploy the configured stages whose deployment does not match what is live after
    /// this cycle's writes. Nothing is remembered between cycles: a stage whose
    /// deployment failed (or never happened, because the process died) still carries
    /// the old stamp, so the next cycle deploys it.
    async fn redeploy(
        &mut self,
        planned: &Planned,
        report: &ExecutionReport,
        summary: &mut CycleSummary,
    ) {
        if self.dry_run || self.shutdown.is_shutdown() {
            return;
        }
        let stages = reconcile::stages_after(&self.config, planned, report);
        for (_, result) in redeploy::redeploy(&self.client, &stages).await {
            let outcome = if result.is_ok() { "deployed" } else { "failed" };
            self.shared.metrics.deployment(outcome);
            match result {
                Ok(()) => summary.deployed += 1,
                Err(_) => summary.failed += 1,
            }
        }
    }

    /// The cycle's metrics (API calls since the last cycle, result, duration, keys by
    /// state) and its log line.
    fn observe(&mut self, summary: &CycleSummary, started: Instant, keys: KeyCounts) {
        let metrics = &self.shared.metrics;
        let calls = self.client.call_counts();
        metrics.record_calls(&self.calls_seen, &calls);
        self.calls_seen = calls;
        metrics.cycle(summary.result.as_str(), started.elapsed().as_secs_f64());
        metrics.keys(keys.blocked, keys.failed);
        if summary.result == CycleResult::Converged {
            metrics.last_success(unix_now());
        }
        tracing::info!(
            result = summary.result.as_str(),
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
    }

    /// What `/status` and the status page show from now on.
    fn publish(&self, summary: CycleSummary, plan_made: bool, pending_plan: Option<String>) {
        let valid = self.desired_error.is_none();
        self.shared.set_status(Status {
            ready: valid && plan_made,
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

/// How the cycle ended, from what the plan step came to and what was counted.
fn conclude(
    planning: &Planning,
    summary: &CycleSummary,
    dry_run: bool,
    keys: KeyCounts,
) -> CycleResult {
    match planning {
        Planning::NoDesiredSet => CycleResult::Invalid,
        Planning::Failed => CycleResult::Error,
        Planning::Made(..) if summary.failed + summary.blocked > 0 => CycleResult::Failed,
        Planning::Made(..) if summary.waiting > 0 || (dry_run && keys.pending > 0) => {
            CycleResult::Pending
        }
        Planning::Made(..) => CycleResult::Converged,
    }
}

/// Counts an action the triage did not let run (or will run: nothing yet).
fn count_decision(summary: &mut CycleSummary, decision: Decision) {
    match decision {
        Decision::Blocked { .. } => summary.blocked += 1,
        Decision::StillRefused => summary.failed += 1,
        Decision::BackingOff | Decision::Held | Decision::Confirming => summary.waiting += 1,
        Decision::Run | Decision::WouldRun { .. } => {}
    }
}

/// Counts what an executed action did to its key.
fn count_recorded(summary: &mut CycleSummary, recorded: &Recorded) {
    match recorded {
        Recorded::Applied(ActionKind::Create) => summary.created += 1,
        Recorded::Applied(ActionKind::Update) => summary.updated += 1,
        Recorded::Applied(_) => summary.deleted += 1,
        Recorded::Refused | Recorded::Retry(_) => summary.failed += 1,
        Recorded::Held => summary.waiting += 1,
        Recorded::Pending => {}
    }
}
