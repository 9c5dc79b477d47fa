//! What the daemon knows about itself, shared between the loop (writer) and the HTTP
//! server (reader): readiness, the last cycle and the few before it, per-key state,
//! recent drift events, the dry-run plan, metrics, and the way to ask for a cycle.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc;

use crate::metrics::{Metrics, TargetMetrics};
use crate::model::Key;
use crate::render::targets::TargetInfo;

/// Why a cycle runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trigger {
    Startup,
    Files,
    Interval,
    /// SIGHUP: reload the config, then the specs.
    Reload,
    Http,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Startup => "startup",
            Trigger::Files => "file-change",
            Trigger::Interval => "interval",
            Trigger::Reload => "sighup",
            Trigger::Http => "http",
        }
    }
}

/// The state of one integration response as the daemon last saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    InSync,
    /// A change is planned but not applied (dry-run, or shutdown came first).
    Pending,
    Blocked,
    /// The last write failed; retried after its backoff.
    Failed,
}

impl KeyState {
    /// Every state, worst first (the status page lists keys in this order).
    pub const ALL: [KeyState; 4] = [
        KeyState::Failed,
        KeyState::Blocked,
        KeyState::Pending,
        KeyState::InSync,
    ];

    /// The name `/status` uses (`in_sync`, `pending`, `blocked`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::InSync => "in_sync",
            KeyState::Pending => "pending",
            KeyState::Blocked => "blocked",
            KeyState::Failed => "failed",
        }
    }

    pub fn parse(name: &str) -> Option<KeyState> {
        KeyState::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyStatus {
    pub rest_api_id: String,
    pub resource_id: String,
    pub http_method: String,
    pub status_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rest_api_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_path: Option<String>,
    pub state: KeyState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub failures: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_in_seconds: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CycleSummary {
    pub id: u64,
    pub reasons: Vec<&'static str>,
    pub started_at_unix: f64,
    pub duration_ms: u64,
    pub result: CycleResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub failed: usize,
    pub blocked: usize,
    pub waiting: usize,
    pub drift: usize,
    /// Stage deployments made.
    pub deployed: usize,
}

/// How a cycle ended, as `/status`, the metrics and the status page name it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CycleResult {
    /// Live matches the desired set.
    Converged,
    /// Changes wait: a backoff, a held or unconfirmed prune, dry-run (and a summary
    /// not finished yet).
    #[default]
    Pending,
    /// An action failed or is blocked.
    Failed,
    /// The plan could not be made (reading the live API failed).
    Error,
    /// No valid desired set was ever read.
    Invalid,
    /// Not run: the desired files were still changing (it runs once they are still).
    Waiting,
    /// Not run: shutdown came during the evaluation.
    Cancelled,
}

impl CycleResult {
    pub fn as_str(self) -> &'static str {
        match self {
            CycleResult::Converged => "converged",
            CycleResult::Pending => "pending",
            CycleResult::Failed => "failed",
            CycleResult::Error => "error",
            CycleResult::Invalid => "invalid",
            CycleResult::Waiting => "waiting",
            CycleResult::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for CycleResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An integration response found changed outside our own writes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftEvent {
    /// The cycle that found it.
    pub cycle: u64,
    pub at_unix: f64,
    /// The key as plans name it: `MyDemoAPI (abc123) /path GET 200`.
    pub key: String,
    /// The key itself, to match the outcomes of later writes (not in `/status`).
    #[serde(skip)]
    pub identity: Key,
    /// The daemon acts on it (false in dry-run: reported only). An intent, not an
    /// outcome: what became of the correction is [`DriftEvent::correction`].
    pub correcting: bool,
    /// What became of the correction so far: `corrected` only once the write that
    /// undoes the drift succeeded.
    pub correction: Correction,
    /// The cycle whose write corrected it (with `corrected`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected_in_cycle: Option<u64>,
    /// The one-action text plan: what differs, fields and template diffs.
    pub plan: String,
}

/// What became of a drift event's correction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    /// Dry-run: reported, never written.
    ReportedOnly,
    /// No write has succeeded yet: it has not run (a backoff, a prune's confirmation,
    /// a held prune, shutdown) or is under way.
    Pending,
    /// The last write of the key failed; it is retried after its backoff, or (refused
    /// by API Gateway) not until the spec changes or an operator asks.
    Failed,
    /// The write that undoes the drift succeeded.
    Corrected,
    /// The key was found in sync again with no write of ours seen to succeed: changed
    /// back outside apigw-reconciler, or a write whose answer was lost.
    InSyncAgain,
}

impl Correction {
    /// The name `/status` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Correction::ReportedOnly => "reported_only",
            Correction::Pending => "pending",
            Correction::Failed => "failed",
            Correction::Corrected => "corrected",
            Correction::InSyncAgain => "in_sync_again",
        }
    }

    /// Still to be settled by a later outcome.
    pub fn is_open(self) -> bool {
        matches!(self, Correction::Pending | Correction::Failed)
    }
}

/// How many cycles [`Status::recent_cycles`] keeps.
pub const CYCLE_HISTORY: usize = 10;
/// How many drift events [`Status::drift_events`] keeps.
pub const DRIFT_HISTORY: usize = 20;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub ready: bool,
    pub dry_run: bool,
    pub desired_set_valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_set_error: Option<String>,
    pub desired_specs: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_cycle: Option<CycleSummary>,
    pub keys: Vec<KeyStatus>,
    /// The last cycles, newest first, `last_cycle` included (kept by [`Shared`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recent_cycles: Vec<CycleSummary>,
    /// The last drift events, newest first (kept by [`Shared`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift_events: Vec<DriftEvent>,
    /// Dry-run: the text plan of what would be written, as `plan` prints it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_plan: Option<String>,
    /// An evaluation of the desired set is running now (filled in by
    /// [`Shared::status`]).
    pub evaluating: bool,
}

impl Status {
    /// Why the daemon is not ready, in words (`None` when it is).
    pub fn not_ready_reason(&self) -> Option<String> {
        if self.ready {
            None
        } else if self.last_cycle.is_none() {
            // Before the first publish nothing is known (the default says invalid).
            Some("first cycle not finished".to_owned())
        } else if !self.desired_set_valid {
            Some(format!(
                "desired set invalid: {}",
                self.desired_set_error.as_deref().unwrap_or_default()
            ))
        } else {
            Some("last cycle could not read the live state".to_owned())
        }
    }
}

/// The loop beats at least this often while it runs ([`Shared::beat`]).
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
/// `/healthz` fails once the loop has not beaten for this long: it is stuck (a cycle
/// blocking its thread), and Kubernetes should restart the process.
pub const HEARTBEAT_STALE: Duration = Duration::from_secs(20);

/// An evaluation of the desired set under way, for `/readyz`.
#[derive(Clone, Copy, Debug)]
struct Evaluating {
    since: Instant,
    deadline: Duration,
}

/// The handle the loop and the server share.
pub struct Shared {
    pub metrics: TargetMetrics,
    status: RwLock<Status>,
    ready: AtomicBool,
    triggers: mpsc::Sender<Trigger>,
    /// Newest first, at most [`CYCLE_HISTORY`].
    cycles: Mutex<VecDeque<CycleSummary>>,
    /// Newest first, at most [`DRIFT_HISTORY`].
    drift: Mutex<VecDeque<DriftEvent>>,
    /// When the loop last showed it was alive.
    heartbeat: Mutex<Instant>,
    evaluating: Mutex<Option<Evaluating>>,
}

impl Shared {
    pub fn new(triggers: mpsc::Sender<Trigger>) -> Arc<Shared> {
        Shared::with_metrics(triggers, TargetMetrics::default())
    }

    /// A target's handle, its metrics in a registry shared with other targets.
    pub fn with_metrics(triggers: mpsc::Sender<Trigger>, metrics: TargetMetrics) -> Arc<Shared> {
        Arc::new(Shared {
            metrics,
            status: RwLock::default(),
            ready: AtomicBool::new(false),
            triggers,
            cycles: Mutex::default(),
            drift: Mutex::default(),
            heartbeat: Mutex::new(Instant::now()),
            evaluating: Mutex::default(),
        })
    }

    /// The loop is alive: called at least every [`HEARTBEAT_EVERY`] while it runs.
    pub fn beat(&self) {
        *self.heartbeat.lock().expect("heartbeat lock") = Instant::now();
    }

    /// `/healthz`: an error when the loop has not beaten for [`HEARTBEAT_STALE`].
    pub fn liveness(&self, now: Instant) -> Result<(), String> {
        let last = *self.heartbeat.lock().expect("heartbeat lock");
        let quiet = now.saturating_duration_since(last);
        if quiet >= HEARTBEAT_STALE {
            return Err(format!(
                "the reconcile loop is stuck: no heartbeat for {}s (more than {}s)",
                quiet.as_secs(),
                HEARTBEAT_STALE.as_secs()
            ));
        }
        Ok(())
    }

    /// An evaluation of the desired set started (`Some`, with its deadline) or ended.
    pub fn set_evaluating(&self, deadline: Option<Duration>) {
        *self.evaluating.lock().expect("evaluation lock") = deadline.map(|deadline| Evaluating {
            since: Instant::now(),
            deadline,
        });
    }

    /// `/readyz`: why the daemon is not ready, if it is not: an evaluation running past
    /// its deadline, or what the last published status says.
    pub fn readiness(&self, now: Instant) -> Result<(), String> {
        if let Some(e) = *self.evaluating.lock().expect("evaluation lock") {
            let running = now.saturating_duration_since(e.since);
            if running > e.deadline {
                return Err(format!(
                    "evaluating the desired set has run for {}s, past its deadline of {}s \
                     (limits.deadline); the last valid set stays in use",
                    running.as_secs(),
                    e.deadline.as_secs()
                ));
            }
        }
        if self.is_ready() {
            return Ok(());
        }
        let status = Status {
            ready: false,
            ..self.status()
        };
        Err(status.not_ready_reason().unwrap_or_default())
    }

    pub fn status(&self) -> Status {
        let mut status = self.status.read().expect("status lock").clone();
        status.evaluating = self.evaluating.lock().expect("evaluation lock").is_some();
        status
    }

    /// Publish `status`; its `recent_cycles` and `drift_events` are filled here from
    /// the history this handle keeps (`last_cycle` joins the cycle history).
    pub fn set_status(&self, mut status: Status) {
        {
            let mut cycles = self.cycles.lock().expect("cycle history lock");
            if let Some(cycle) = &status.last_cycle
                && cycles.front().is_none_or(|c| c.id != cycle.id)
            {
                cycles.push_front(cycle.clone());
                cycles.truncate(CYCLE_HISTORY);
            }
            status.recent_cycles = cycles.iter().cloned().collect();
        }
        status.drift_events = self
            .drift
            .lock()
            .expect("drift history lock")
            .iter()
            .cloned()
            .collect();
        self.ready.store(status.ready, Ordering::SeqCst);
        *self.status.write().expect("status lock") = status;
    }

    /// Remember a drift event; it is published with the cycle's status.
    pub fn record_drift(&self, event: DriftEvent) {
        let mut drift = self.drift.lock().expect("drift history lock");
        drift.push_front(event);
        drift.truncate(DRIFT_HISTORY);
    }

    /// What became, in `cycle`, of the correction of `key`'s open drift events
    /// (pending or failed; `Pending` leaves them as they are): published with the
    /// cycle's status, like the events.
    pub fn settle_drift(&self, key: &Key, cycle: u64, correction: Correction) {
        if correction == Correction::Pending {
            return;
        }
        let mut drift = self.drift.lock().expect("drift history lock");
        for event in drift.iter_mut() {
            if event.identity == *key && event.correction.is_open() {
                event.correction = correction;
                event.corrected_in_cycle = (correction == Correction::Corrected).then_some(cycle);
            }
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Ask for a cycle. Requests made while one is queued coalesce into it.
    pub fn request_cycle(&self, trigger: Trigger) {
        // A full queue already holds a pending cycle: dropping is coalescing.
        let _ = self.triggers.try_send(trigger);
    }
}

/// One target the daemon reconciles: its handle, and its name, region and account
/// (`None` for a config without `targets`, which the server shows as before).
pub struct TargetHandle {
    pub info: Option<TargetInfo>,
    pub shared: Arc<Shared>,
}

/// Every target's handle, as the server reads them, and the metrics they share.
pub struct Fleet {
    pub targets: Vec<TargetHandle>,
    pub metrics: Arc<Metrics>,
}

impl Fleet {
    /// The one unnamed target of a config without `targets`.
    pub fn single(shared: Arc<Shared>) -> Arc<Fleet> {
        Arc::new(Fleet {
            metrics: shared.metrics.all().clone(),
            targets: vec![TargetHandle { info: None, shared }],
        })
    }

    /// A config without `targets`: every endpoint answers as it did before targets.
    pub fn single_target(&self) -> Option<&Arc<Shared>> {
        match self.targets.as_slice() {
            [one] if one.info.is_none() => Some(&one.shared),
            _ => None,
        }
    }

    pub fn find(&self, name: &str) -> Option<&TargetHandle> {
        self.targets
            .iter()
            .find(|t| t.info.as_ref().is_some_and(|i| i.name == name))
    }

    /// The target's name, for messages (`target <name>: ...`); empty when unnamed.
    fn prefix(t: &TargetHandle) -> String {
        t.info
            .as_ref()
            .map(|i| format!("target {}: ", i.name))
            .unwrap_or_default()
    }

    /// `/healthz`: every target's loop beats.
    pub fn liveness(&self, now: Instant) -> Result<(), String> {
        self.all_of(|t| t.shared.liveness(now))
    }

    /// `/readyz`: every target is ready; otherwise which are not, and why.
    pub fn readiness(&self, now: Instant) -> Result<(), String> {
        self.all_of(|t| t.shared.readiness(now))
    }

    fn all_of(&self, check: impl Fn(&TargetHandle) -> Result<(), String>) -> Result<(), String> {
        let problems: Vec<String> = self
            .targets
            .iter()
            .filter_map(|t| check(t).err().map(|why| Self::prefix(t) + &why))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// Ask every target for a cycle.
    pub fn request_cycle(&self, trigger: Trigger) {
        for t in &self.targets {
            t.shared.request_cycle(trigger);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loop_that_stops_beating_fails_liveness_and_an_overrun_fails_readiness() {
        let (tx, _rx) = mpsc::channel(1);
        let shared = Shared::new(tx);
        let now = Instant::now();
        assert!(shared.liveness(now).is_ok());
        let later = now + HEARTBEAT_STALE + Duration::from_secs(1);
        let stuck = shared.liveness(later).unwrap_err();
        assert!(stuck.contains("stuck"), "{stuck}");
        shared.beat();
        assert!(shared.liveness(Instant::now()).is_ok());

        shared.set_status(Status {
            ready: true,
            last_cycle: Some(CycleSummary::default()),
            ..Status::default()
        });
        assert!(shared.readiness(Instant::now()).is_ok());
        shared.set_evaluating(Some(Duration::from_secs(2)));
        assert!(
            shared.readiness(Instant::now()).is_ok(),
            "within the deadline"
        );
        let why = shared
            .readiness(Instant::now() + Duration::from_secs(3))
            .unwrap_err();
        assert!(why.contains("past its deadline of 2s"), "{why}");
        shared.set_evaluating(None);
        assert!(
            shared
                .readiness(Instant::now() + Duration::from_secs(3))
                .is_ok()
        );
    }

    fn key(method: &str) -> Key {
        Key {
            rest_api_id: "api".into(),
            resource_id: "r".into(),
            http_method: method.into(),
            status_code: "200".into(),
        }
    }

    /// A drift event of `key("GET")` found in `cycle`, its correction not written yet.
    fn event(cycle: u64) -> DriftEvent {
        DriftEvent {
            cycle,
            at_unix: 0.0,
            key: format!("k{cycle}"),
            identity: key("GET"),
            correcting: true,
            correction: Correction::Pending,
            corrected_in_cycle: None,
            plan: String::new(),
        }
    }

    #[test]
    fn a_drift_event_is_corrected_only_by_an_outcome_of_its_own_key() {
        let (tx, _rx) = mpsc::channel(1);
        let shared = Shared::new(tx);
        let corrections = |shared: &Shared| -> Vec<(Correction, Option<u64>)> {
            shared.set_status(shared.status());
            let status = shared.status();
            let d = status.drift_events.iter();
            d.map(|e| (e.correction, e.corrected_in_cycle)).collect()
        };
        shared.record_drift(event(1));
        assert_eq!(corrections(&shared), [(Correction::Pending, None)]);
        // Another key's write, or one that has not happened: still pending.
        shared.settle_drift(&key("POST"), 1, Correction::Corrected);
        shared.settle_drift(&key("GET"), 1, Correction::Pending);
        assert_eq!(corrections(&shared), [(Correction::Pending, None)]);
        shared.settle_drift(&key("GET"), 1, Correction::Failed);
        assert_eq!(corrections(&shared), [(Correction::Failed, None)]);
        // The retry two cycles later succeeds.
        shared.settle_drift(&key("GET"), 3, Correction::Corrected);
        assert_eq!(corrections(&shared), [(Correction::Corrected, Some(3))]);
        // Settled: a later outcome (a new drift's) does not rewrite it.
        shared.record_drift(event(5));
        shared.settle_drift(&key("GET"), 5, Correction::Failed);
        assert_eq!(
            corrections(&shared),
            [(Correction::Failed, None), (Correction::Corrected, Some(3))]
        );
        // In the JSON: the label and the cycle; the key's identity is not.
        let json = serde_json::to_value(&shared.status().drift_events[1]).unwrap();
        assert_eq!(json["correction"], "corrected");
        assert_eq!(json["correctedInCycle"], 3);
        assert_eq!(json["correcting"], true);
        assert!(json.get("identity").is_none(), "{json}");
    }

    #[test]
    fn shared_keeps_the_last_cycles_and_drift_events_newest_first() {
        let (tx, _rx) = mpsc::channel(1);
        let shared = Shared::new(tx);
        for id in 1..=CYCLE_HISTORY as u64 + 3 {
            shared.record_drift(event(id));
            shared.set_status(Status {
                last_cycle: Some(CycleSummary {
                    id,
                    ..CycleSummary::default()
                }),
                ..Status::default()
            });
        }
        // Publishing the same cycle again does not repeat it.
        shared.set_status(shared.status());
        let status = shared.status();
        let ids: Vec<u64> = status.recent_cycles.iter().map(|c| c.id).collect();
        assert_eq!(ids, (4..=13).rev().collect::<Vec<_>>());
        assert_eq!(status.drift_events.len(), 13);
        assert_eq!(status.drift_events[0].cycle, 13);
        for id in 0..DRIFT_HISTORY {
            shared.record_drift(event(100 + id as u64));
        }
        shared.set_status(shared.status());
        let status = shared.status();
        assert_eq!(status.drift_events.len(), DRIFT_HISTORY);
        assert_eq!(status.drift_events[0].cycle, 100 + DRIFT_HISTORY as u64 - 1);
    }
}
