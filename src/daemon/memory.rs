//! The daemon's memory of each key between cycles, as a pure state machine.
//!
//! Given a plan and what happened to each key before (in sync, failing and backing off,
//! refused for good, blocked, pending in dry-run), [`Memory::triage`] decides what to do
//! with each planned action: a [`Decision`], like kube-runtime's `Action`, plus whether
//! the action is drift. [`Memory::record`] applies one execution outcome. Nothing here
//! logs, counts or calls the API: the cycle (`daemon::Reconciler`) does that with what
//! these return, so the rules are unit-tested alone (`memory::tests`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::backoff;
use crate::config::Backoff;
use crate::diff::{Action, ActionKind, Plan};
use crate::executor::{ActionResult, Outcome};
use crate::live::FailureKind;
use crate::model::{Key, Settings};
use crate::status::{KeyState, KeyStatus};

/// What the daemon remembers about one key between cycles.
#[derive(Clone, Debug)]
pub(super) struct KeyMemory {
    pub status: KeyStatus,
    pub retry_at: Option<Instant>,
    /// The write API Gateway refused for good (`FailureKind::Rejected`): the same
    /// write is not retried until the spec changes or an operator asks (SIGHUP, HTTP).
    pub rejected_for: Option<Option<Settings>>,
    /// Since when consecutive plans have wanted to prune this key.
    pub prune_wanted_since: Option<Instant>,
}

/// Every key of the last plan, with its memory.
#[derive(Debug, Default)]
pub(super) struct Memory {
    pub keys: BTreeMap<Key, KeyMemory>,
}

/// What the cycle knows when it triages a plan.
#[derive(Clone, Copy, Debug)]
pub(super) struct Situation {
    pub now: Instant,
    /// The desired set is the one the previous plan was made from (so a difference
    /// from live now is drift).
    pub desired_unchanged: bool,
    /// SIGHUP or `POST /reconcile`: an operator asks to retry refused writes.
    pub nudged: bool,
    pub dry_run: bool,
    /// This cycle evaluated the desired files afresh and found them as the previous
    /// evaluation did: a prune delete wanted then and now may run...
    pub input_confirmed: bool,
    /// ... once it has been wanted for this long (a writer may pause mid-file).
    pub confirm_after: Duration,
}

/// What to do with one planned action this cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Decision {
    /// Execute it.
    Run,
    /// A dependency is missing; `changed`: newly blocked or for another reason (log it).
    Blocked { changed: bool },
    /// The same write API Gateway refused for good: not sent again.
    StillRefused,
    /// Its backoff has not run out.
    BackingOff,
    /// Dry-run: report only; `changed`: newly pending (log it).
    WouldRun { changed: bool },
    /// A prune delete held while a write on its method waits (it would leave the
    /// method without the response that replaces it).
    Held,
    /// A prune delete seen for the first time: it runs when the next evaluation of the
    /// unchanged files still wants it (a half-written file must not delete).
    Confirming,
}

/// One action of the plan with the decision taken for it.
#[derive(Debug)]
pub(super) struct Triaged<'p> {
    pub action: &'p Action,
    pub decision: Decision,
    /// Live changed outside apigw-reconciler: the key was in sync (or unknown, for a
    /// delete) and the desired set did not change since the last plan.
    pub drift: bool,
}

/// What one execution result did to its key.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Recorded {
    Applied(ActionKind),
    /// Refused for good: not retried until the spec changes or an operator asks.
    Refused,
    /// Failed; retried after this wait.
    Retry(Duration),
    Held,
    /// Cancelled by shutdown, or blocked at execution time: still to do.
    Pending,
}

pub(super) const HELD_BEHIND_WAITING_WRITE: &str =
    "held: prune waits until the method's waiting write has succeeded";

pub(super) const CONFIRMING_PRUNE: &str = "waits: a prune delete runs once a later evaluation \
     of the unchanged desired files still wants it (so a half-written file never deletes)";

impl Memory {
    /// Decides every action of `plan` and rebuilds the memory from it: keys in sync are
    /// reset, keys with actions carry their memory over, keys in neither are forgotten.
    pub fn triage<'p>(&mut self, plan: &'p Plan, s: &Situation) -> Vec<Triaged<'p>> {
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
                    prune_wanted_since: None,
                },
            );
        }
        let mut triaged = Vec::with_capacity(plan.actions.len());
        for action in &plan.actions {
            let before = previous.get(&action.key);
            let was_in_sync = before.is_some_and(|m| m.status.state == KeyState::InSync);
            let appeared = before.is_none() && action.kind == ActionKind::Delete;
            let drift = action.kind != ActionKind::Blocked
                && s.desired_unchanged
                && (was_in_sync || appeared);
            let mut memory = before.cloned().unwrap_or_else(|| KeyMemory {
                status: key_status(
                    &action.key,
                    action.api_name.clone(),
                    action.resource_path.clone(),
                ),
                retry_at: None,
                rejected_for: None,
                prune_wanted_since: None,
            });
            let is_prune = action.kind == ActionKind::Delete && action.source.is_none();
            let since = memory.prune_wanted_since.filter(|_| is_prune);
            let confirmed = s.input_confirmed
                && since.is_some_and(|t| s.now.saturating_duration_since(t) >= s.confirm_after);
            memory.prune_wanted_since = is_prune.then(|| since.unwrap_or(s.now));
            memory.status.rest_api_name = action.api_name.clone().or(memory.status.rest_api_name);
            memory.status.resource_path =
                action.resource_path.clone().or(memory.status.resource_path);
            let decision = match action.kind {
                ActionKind::Blocked => {
                    let changed = memory.status.state != KeyState::Blocked
                        || memory.status.last_error != action.reason;
                    memory.status.state = KeyState::Blocked;
                    memory.status.last_error = action.reason.clone();
                    memory.retry_at = None;
                    Decision::Blocked { changed }
                }
                _ if !s.nudged && memory.rejected_for.as_ref() == Some(&action.desired) => {
                    Decision::StillRefused
                }
                _ if memory.retry_at.is_some_and(|at| at > s.now) => Decision::BackingOff,
                _ if s.dry_run => {
                    let changed = memory.status.state != KeyState::Pending;
                    memory.status.state = KeyState::Pending;
                    Decision::WouldRun { changed }
                }
                _ if is_prune && !confirmed => {
                    memory.status.state = KeyState::Pending;
                    memory.status.last_error = Some(CONFIRMING_PRUNE.into());
                    Decision::Confirming
                }
                _ => Decision::Run,
            };
            memory.status.retry_in_seconds = memory
                .retry_at
                .map(|at| at.saturating_duration_since(s.now).as_secs_f64());
            self.keys.insert(action.key.clone(), memory);
            triaged.push(Triaged {
                action,
                decision,
                drift,
            });
        }
        self.hold_prune_behind_waiting_writes(&mut triaged);
        triaged
    }

    /// A write that waits (backoff, refused for good) is a replacement not made yet:
    /// prune deletes on its method wait with it.
    fn hold_prune_behind_waiting_writes(&mut self, triaged: &mut [Triaged<'_>]) {
        let waiting_writes: BTreeSet<(&str, &str, &str)> = triaged
            .iter()
            .filter(|t| matches!(t.action.kind, ActionKind::Create | ActionKind::Update))
            .filter(|t| t.decision != Decision::Run)
            .map(|t| method_of(&t.action.key))
            .collect();
        for t in triaged.iter_mut() {
            let prune = t.action.kind == ActionKind::Delete && t.action.source.is_none();
            if prune
                && t.decision == Decision::Run
                && waiting_writes.contains(&method_of(&t.action.key))
            {
                t.decision = Decision::Held;
                if let Some(memory) = self.keys.get_mut(&t.action.key) {
                    memory.status.state = KeyState::Pending;
                    memory.status.last_error = Some(HELD_BEHIND_WAITING_WRITE.into());
                }
            }
        }
    }

    /// Applies one execution result to its key's memory, at `now`.
    pub fn record(&mut self, result: &ActionResult, now: Instant, backoff: &Backoff) -> Recorded {
        let key = &result.action.key;
        if result.outcome == Outcome::Applied && result.action.kind == ActionKind::Delete {
            self.keys.remove(key);
            return Recorded::Applied(ActionKind::Delete);
        }
        let memory = self
            .keys
            .get_mut(key)
            .expect("every executed key was triaged");
        let recorded = match &result.outcome {
            Outcome::Applied => {
                memory.status.state = KeyState::InSync;
                memory.status.last_error = None;
                memory.status.failures = 0;
                memory.retry_at = None;
                memory.rejected_for = None;
                Recorded::Applied(result.action.kind)
            }
            Outcome::Failed(e) => {
                memory.status.failures += 1;
                memory.status.state = KeyState::Failed;
                memory.status.last_error = Some(e.to_string());
                if e.kind == FailureKind::Rejected {
                    memory.retry_at = None;
                    memory.rejected_for = Some(result.action.desired.clone());
                    Recorded::Refused
                } else {
                    let wait = backoff::exponential(
                        backoff.initial,
                        backoff.max,
                        memory.status.failures - 1,
                    );
                    memory.retry_at = Some(now + wait);
                    memory.rejected_for = None;
                    Recorded::Retry(wait)
                }
            }
            Outcome::Held(why) => {
                memory.status.state = KeyState::Pending;
                memory.status.last_error = Some(format!("held: {why}"));
                Recorded::Held
            }
            Outcome::Cancelled | Outcome::Blocked => {
                memory.status.state = KeyState::Pending;
                Recorded::Pending
            }
        };
        memory.status.retry_in_seconds = memory
            .retry_at
            .map(|at| at.saturating_duration_since(now).as_secs_f64());
        recorded
    }

    pub fn statuses(&self) -> impl Iterator<Item = &KeyStatus> {
        self.keys.values().map(|m| &m.status)
    }

    /// How many keys are in each state that the cycle's result and gauges report.
    pub fn counts(&self) -> KeyCounts {
        let mut counts = KeyCounts::default();
        for status in self.statuses() {
            match status.state {
                KeyState::Pending => counts.pending += 1,
                KeyState::Blocked => counts.blocked += 1,
                KeyState::Failed => counts.failed += 1,
                KeyState::InSync => {}
            }
        }
        counts
    }
}

/// Keys by state, out of sync ones only ([`Memory::counts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct KeyCounts {
    pub pending: usize,
    pub blocked: usize,
    pub failed: usize,
}

fn method_of(k: &Key) -> (&str, &str, &str) {
    (&k.rest_api_id, &k.resource_id, &k.http_method)
}

pub(super) fn key_status(
    key: &Key,
    api_name: Option<String>,
    resource_path: Option<String>,
) -> KeyStatus {
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::desired::Location;
    use crate::live::ApiError;
    use crate::yaml::Pos;

    const BACKOFF: Backoff = Backoff {
        initial: Duration::from_secs(10),
        max: Duration::from_secs(300),
    };

    fn key(method: &str, status: &str) -> Key {
        Key {
            rest_api_id: "api".into(),
            resource_id: "res".into(),
            http_method: method.into(),
            status_code: status.into(),
        }
    }

    fn settings(template: &str) -> Settings {
        Settings {
            response_templates: [("application/json".to_owned(), template.to_owned())].into(),
            ..Settings::default()
        }
    }

    fn spec_location() -> Option<Location> {
        Some(Location {
            file: Arc::from("a.yaml"),
            pos: Pos { line: 1, col: 1 },
        })
    }

    fn action(kind: ActionKind, key: Key, desired: Option<Settings>) -> Action {
        Action {
            kind,
            key,
            api_name: Some("Pets".into()),
            resource_path: Some("/pets".into()),
            desired,
            live: None,
            reason: None,
            source: spec_location(),
        }
    }

    fn create(k: Key, template: &str) -> Action {
        action(ActionKind::Create, k, Some(settings(template)))
    }

    fn blocked(k: Key, reason: &str) -> Action {
        Action {
            reason: Some(reason.into()),
            ..action(ActionKind::Blocked, k, Some(settings("{}")))
        }
    }

    fn prune(k: Key) -> Action {
        Action {
            source: None,
            ..action(ActionKind::Delete, k, None)
        }
    }

    fn plan(actions: Vec<Action>, in_sync: Vec<Key>) -> Plan {
        Plan {
            actions,
            in_sync,
            ..Plan::default()
        }
    }

    fn at(now: Instant) -> Situation {
        Situation {
            now,
            desired_unchanged: false,
            nudged: false,
            dry_run: false,
            input_confirmed: true,
            confirm_after: Duration::ZERO,
        }
    }

    fn decisions(memory: &mut Memory, plan: &Plan, s: Situation) -> Vec<Decision> {
        memory.triage(plan, &s).iter().map(|t| t.decision).collect()
    }

    fn failed(a: &Action, kind: FailureKind) -> ActionResult {
        ActionResult {
            action: a.clone(),
            outcome: Outcome::Failed(ApiError {
                operation: "PutIntegrationResponse",
                target: a.key.to_string(),
                status: Some(if kind == FailureKind::Rejected {
                    400
                } else {
                    503
                }),
                code: None,
                message: "no".into(),
                kind,
            }),
            attempts: 1,
        }
    }

    fn applied(a: &Action) -> ActionResult {
        ActionResult {
            action: a.clone(),
            outcome: Outcome::Applied,
            attempts: 1,
        }
    }

    fn state(memory: &Memory, k: &Key) -> KeyState {
        memory.keys[k].status.state
    }

    #[test]
    fn a_failed_write_backs_off_then_runs_again_and_converges() {
        let mut memory = Memory::default();
        let write = create(key("GET", "200"), "{}");
        let p = plan(vec![write.clone()], vec![]);
        let t0 = Instant::now();
        assert_eq!(decisions(&mut memory, &p, at(t0)), [Decision::Run]);

        let Recorded::Retry(wait) =
            memory.record(&failed(&write, FailureKind::Other), t0, &BACKOFF)
        else {
            panic!("a transient failure is retried");
        };
        // the first wait is `initial`, jittered to 50-100%
        assert!(
            wait >= BACKOFF.initial / 2 && wait <= BACKOFF.initial,
            "{wait:?}"
        );
        assert_eq!(state(&memory, &write.key), KeyState::Failed);
        assert_eq!(memory.keys[&write.key].status.failures, 1);
        let shown = memory.keys[&write.key].status.retry_in_seconds.unwrap();
        assert!((shown - wait.as_secs_f64()).abs() < 1e-6, "{shown}");

        // before the wait is over it waits; the remaining time is shown
        let t1 = t0 + wait / 2;
        assert_eq!(decisions(&mut memory, &p, at(t1)), [Decision::BackingOff]);
        assert_eq!(state(&memory, &write.key), KeyState::Failed);
        let left = memory.keys[&write.key].status.retry_in_seconds.unwrap();
        assert!(left > 0.0 && left < wait.as_secs_f64(), "{left}");

        // a second failure waits longer (2 x initial, jittered)
        let t2 = t0 + wait;
        assert_eq!(decisions(&mut memory, &p, at(t2)), [Decision::Run]);
        let Recorded::Retry(second) =
            memory.record(&failed(&write, FailureKind::Throttled), t2, &BACKOFF)
        else {
            panic!("throttling is retried");
        };
        assert!(
            second >= BACKOFF.initial && second <= 2 * BACKOFF.initial,
            "{second:?}"
        );
        assert_eq!(memory.keys[&write.key].status.failures, 2);

        // once it succeeds, all of that is forgotten
        let t3 = t2 + second;
        assert_eq!(decisions(&mut memory, &p, at(t3)), [Decision::Run]);
        assert_eq!(
            memory.record(&applied(&write), t3, &BACKOFF),
            Recorded::Applied(ActionKind::Create)
        );
        let status = &memory.keys[&write.key];
        assert_eq!(status.status.state, KeyState::InSync);
        assert_eq!(
            (
                status.status.failures,
                status.retry_at,
                &status.status.last_error
            ),
            (0, None, &None)
        );
    }

    #[test]
    fn a_refused_write_is_not_sent_again_until_its_spec_changes_or_an_operator_asks() {
        let mut memory = Memory::default();
        let write = create(key("GET", "200"), "{}");
        let p = plan(vec![write.clone()], vec![]);
        let now = Instant::now();
        decisions(&mut memory, &p, at(now));
        assert_eq!(
            memory.record(&failed(&write, FailureKind::Rejected), now, &BACKOFF),
            Recorded::Refused
        );
        assert_eq!(memory.keys[&write.key].status.retry_in_seconds, None);

        // however much later: the same write is not sent again
        let later = now + Duration::from_secs(3600);
        assert_eq!(
            decisions(&mut memory, &p, at(later)),
            [Decision::StillRefused]
        );
        assert_eq!(state(&memory, &write.key), KeyState::Failed);
        // an operator's nudge (SIGHUP, POST /reconcile) sends it once more
        let nudged = Situation {
            nudged: true,
            ..at(later)
        };
        assert_eq!(decisions(&mut memory, &p, nudged), [Decision::Run]);
        // so does a changed spec
        let changed = plan(vec![create(key("GET", "200"), "{\"fixed\": 1}")], vec![]);
        assert_eq!(decisions(&mut memory, &changed, at(later)), [Decision::Run]);
    }

    #[test]
    fn a_blocked_key_is_reported_again_only_when_new_or_for_a_new_reason() {
        let mut memory = Memory::default();
        let k = key("GET", "201");
        let now = Instant::now();
        let first = plan(vec![blocked(k.clone(), "no method response 201")], vec![]);
        let changed = |memory: &mut Memory, p: &Plan| match decisions(memory, p, at(now))[..] {
            [Decision::Blocked { changed }] => changed,
            ref other => panic!("{other:?}"),
        };
        assert!(changed(&mut memory, &first));
        assert!(!changed(&mut memory, &first));
        assert_eq!(state(&memory, &k), KeyState::Blocked);
        assert_eq!(
            memory.keys[&k].status.last_error.as_deref(),
            Some("no method response 201")
        );
        let other = plan(vec![blocked(k.clone(), "no REST API named Pets")], vec![]);
        assert!(changed(&mut memory, &other));
        // unblocked and in sync, then blocked again: reported again
        decisions(&mut memory, &plan(vec![], vec![k.clone()]), at(now));
        assert!(changed(&mut memory, &other));
    }

    #[test]
    fn drift_is_a_change_to_a_key_in_sync_while_the_desired_set_stayed_the_same() {
        let mut memory = Memory::default();
        let k = key("GET", "200");
        let now = Instant::now();
        let unchanged = Situation {
            desired_unchanged: true,
            ..at(now)
        };
        let drifts = |memory: &mut Memory, p: &Plan, s: Situation| -> Vec<bool> {
            memory.triage(p, &s).iter().map(|t| t.drift).collect()
        };
        memory.triage(&plan(vec![], vec![k.clone()]), &unchanged);
        let update = action(ActionKind::Update, k.clone(), Some(settings("{}")));
        // the desired set changed: an update is the spec's change, not drift
        assert_eq!(
            drifts(&mut memory, &plan(vec![update.clone()], vec![]), at(now)),
            [false]
        );
        // in sync, same desired set, now different: drift
        memory.triage(&plan(vec![], vec![k.clone()]), &unchanged);
        assert_eq!(
            drifts(&mut memory, &plan(vec![update.clone()], vec![]), unchanged),
            [true]
        );
        // not in sync before (the correction failed): no new drift
        memory.record(&failed(&update, FailureKind::Other), now, &BACKOFF);
        assert_eq!(
            drifts(&mut memory, &plan(vec![update], vec![]), unchanged),
            [false]
        );
        // a response nobody knew appears on a managed method: drift
        let stranger = prune(key("GET", "418"));
        assert_eq!(
            drifts(&mut memory, &plan(vec![stranger], vec![]), unchanged),
            [true]
        );
        // blocked is never drift
        let b = blocked(key("GET", "500"), "no method response 500");
        assert_eq!(
            drifts(&mut memory, &plan(vec![b], vec![]), unchanged),
            [false]
        );
    }

    #[test]
    fn dry_run_runs_nothing_and_reports_each_pending_key_once() {
        let mut memory = Memory::default();
        let write = create(key("GET", "200"), "{}");
        let p = plan(vec![write.clone()], vec![]);
        let dry = Situation {
            dry_run: true,
            ..at(Instant::now())
        };
        assert_eq!(
            decisions(&mut memory, &p, dry),
            [Decision::WouldRun { changed: true }]
        );
        assert_eq!(
            decisions(&mut memory, &p, dry),
            [Decision::WouldRun { changed: false }]
        );
        assert_eq!(state(&memory, &write.key), KeyState::Pending);
        assert_eq!(memory.counts().pending, 1);
    }

    #[test]
    fn a_prune_delete_runs_only_when_two_evaluations_of_unchanged_files_want_it() {
        let mut memory = Memory::default();
        let stale = prune(key("GET", "500"));
        let p = plan(vec![stale.clone()], vec![]);
        let t0 = Instant::now();
        assert_eq!(decisions(&mut memory, &p, at(t0)), [Decision::Confirming]);
        assert_eq!(state(&memory, &stale.key), KeyState::Pending);
        assert_eq!(
            memory.keys[&stale.key].status.last_error.as_deref(),
            Some(CONFIRMING_PRUNE)
        );
        // The files changed (or were still being written) before the second look: the
        // delete waits again, for this new input to be seen twice.
        let changed = Situation {
            input_confirmed: false,
            ..at(t0)
        };
        assert_eq!(decisions(&mut memory, &p, changed), [Decision::Confirming]);
        // Seen again, but sooner than `confirm_after` since it was first wanted: waits.
        let patient = |now| Situation {
            confirm_after: Duration::from_secs(2),
            ..at(now)
        };
        assert_eq!(
            decisions(&mut memory, &p, patient(t0 + Duration::from_secs(1))),
            [Decision::Confirming]
        );
        assert_eq!(
            decisions(&mut memory, &p, patient(t0 + Duration::from_secs(2))),
            [Decision::Run]
        );
        // Once the file is whole again the key is desired: the wish is forgotten.
        let back = plan(vec![], vec![stale.key.clone()]);
        decisions(&mut memory, &back, at(t0));
        assert_eq!(decisions(&mut memory, &p, at(t0)), [Decision::Confirming]);
        // A delete a spec asks for (`state: absent`) is immediate.
        let asked = action(ActionKind::Delete, key("GET", "404"), None);
        assert_eq!(
            decisions(&mut memory, &plan(vec![asked], vec![]), at(t0)),
            [Decision::Run]
        );
    }

    #[test]
    fn a_prune_delete_waits_while_a_write_on_its_method_waits() {
        let mut memory = Memory::default();
        let write = create(key("GET", "201"), "{}");
        let replaced = prune(key("GET", "200"));
        let elsewhere = prune(key("POST", "200"));
        let asked = action(ActionKind::Delete, key("GET", "404"), None); // `state: absent`
        let p = plan(
            vec![
                write.clone(),
                replaced.clone(),
                elsewhere.clone(),
                asked.clone(),
            ],
            vec![],
        );
        let t0 = Instant::now();
        // first sight: prune deletes wait for a second evaluation, the rest runs
        assert_eq!(
            decisions(&mut memory, &p, at(t0)),
            [
                Decision::Run,
                Decision::Confirming,
                Decision::Confirming,
                Decision::Run
            ]
        );
        // nothing waits: everything runs
        assert_eq!(decisions(&mut memory, &p, at(t0)), [Decision::Run; 4]);
        let Recorded::Retry(wait) =
            memory.record(&failed(&write, FailureKind::Other), t0, &BACKOFF)
        else {
            panic!("retried");
        };
        // the write backs off: the prune delete on its method waits with it; a delete a
        // spec asks for and a prune on another method do not
        let t1 = t0 + wait / 2;
        assert_eq!(
            decisions(&mut memory, &p, at(t1)),
            [
                Decision::BackingOff,
                Decision::Held,
                Decision::Run,
                Decision::Run
            ]
        );
        assert_eq!(state(&memory, &replaced.key), KeyState::Pending);
        assert_eq!(
            memory.keys[&replaced.key].status.last_error.as_deref(),
            Some(HELD_BEHIND_WAITING_WRITE)
        );
        // the same while the write is refused for good, or only planned in dry-run
        memory.record(&failed(&write, FailureKind::Rejected), t1, &BACKOFF);
        assert_eq!(decisions(&mut memory, &p, at(t1))[1], Decision::Held);
        // in dry-run nothing runs, so nothing needs holding
        let dry = Situation {
            dry_run: true,
            nudged: true,
            ..at(t1)
        };
        assert!(
            decisions(&mut memory, &p, dry)
                .iter()
                .all(|d| matches!(d, Decision::WouldRun { .. }))
        );
    }

    #[test]
    fn keys_are_forgotten_when_deleted_or_no_longer_planned() {
        let mut memory = Memory::default();
        let gone = prune(key("GET", "418"));
        let kept = key("GET", "200");
        let now = Instant::now();
        decisions(
            &mut memory,
            &plan(vec![gone.clone()], vec![kept.clone()]),
            at(now),
        );
        assert_eq!(memory.keys.len(), 2);
        assert_eq!(
            memory.record(&applied(&gone), now, &BACKOFF),
            Recorded::Applied(ActionKind::Delete)
        );
        assert_eq!(memory.keys.keys().collect::<Vec<_>>(), [&kept]);
        // a key in sync keeps its names; one the plan no longer has is forgotten
        memory.keys.get_mut(&kept).unwrap().status.rest_api_name = Some("Pets".into());
        decisions(&mut memory, &plan(vec![], vec![kept.clone()]), at(now));
        assert_eq!(
            memory.keys[&kept].status.rest_api_name.as_deref(),
            Some("Pets")
        );
        decisions(&mut memory, &plan(vec![], vec![]), at(now));
        assert!(memory.keys.is_empty());
    }

    #[test]
    fn a_cancelled_or_held_result_leaves_the_key_pending() {
        let mut memory = Memory::default();
        let write = create(key("GET", "200"), "{}");
        let now = Instant::now();
        decisions(&mut memory, &plan(vec![write.clone()], vec![]), at(now));
        let cancelled = ActionResult {
            outcome: Outcome::Cancelled,
            ..applied(&write)
        };
        assert_eq!(memory.record(&cancelled, now, &BACKOFF), Recorded::Pending);
        assert_eq!(state(&memory, &write.key), KeyState::Pending);
        let held = ActionResult {
            outcome: Outcome::Held("the old default was put back".into()),
            ..applied(&write)
        };
        assert_eq!(memory.record(&held, now, &BACKOFF), Recorded::Held);
        assert_eq!(
            memory.keys[&write.key].status.last_error.as_deref(),
            Some("held: the old default was put back")
        );
    }
}
