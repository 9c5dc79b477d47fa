//! Carrying out a [`Plan`], method by method, so that a cycle never leaves a managed
//! method with fewer working integration responses because a replacement failed:
//!
//! 1. updates that stop a response being the method's default run first;
//! 2. a delete that frees the default for another status code (a status-code change of
//!    the default response) runs just before that write, since API Gateway allows one
//!    default per method (409 "Integration response with selection pattern default
//!    already exists", reported by Terraform users against AWS); if the new default
//!    then fails, the old one is put back;
//! 3. every other write (create, update);
//! 4. deletes last: `state: absent` deletes always, prune deletes only when every write
//!    on their method succeeded, otherwise they are *held* until a later cycle.
//!
//! Each action stands on its own otherwise, with a bounded retry for API Gateway's
//! "concurrent modification, try again later" conflicts. Throttling and 5xx are
//! retried by the SDK's standard retry below this layer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::backoff;

use crate::diff::{Action, ActionKind, Plan};
use crate::live::{ApiError, ApiGateway, FailureKind};

/// Retries for retry-later conflicts.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub initial: Duration,
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            initial: Duration::from_millis(200),
            max: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Exponential delay before attempt `n` (1-based retry), with up to 50% jitter.
    pub fn delay(&self, retry: u32) -> Duration {
        let base = self
            .initial
            .saturating_mul(1 << retry.min(16))
            .min(self.max);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        base.mul_f64(0.5 + f64::from(nanos % 1000) / 2000.0)
    }
}

/// What happened to one action.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Applied,
    Failed(ApiError),
    /// Not attempted: a dependency is missing or a guard refused it.
    Blocked,
    /// Not done, or undone, to keep its method working (the reason says which); a
    /// later cycle tries again.
    Held(String),
    /// Not started because shutdown was requested.
    Cancelled,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ActionResult {
    pub action: Action,
    pub outcome: Outcome,
    pub attempts: u32,
}

/// The results of one execution, in the order the actions ran.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExecutionReport {
    pub results: Vec<ActionResult>,
}

impl ExecutionReport {
    pub fn applied(&self, kind: ActionKind) -> usize {
        self.results
            .iter()
            .filter(|r| r.action.kind == kind && r.outcome == Outcome::Applied)
            .count()
    }

    pub fn failed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
            .count()
    }

    pub fn blocked(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.outcome == Outcome::Blocked)
            .count()
    }

    pub fn held(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Held(_)))
            .count()
    }

    /// Every action applied: none failed, blocked, held or cancelled.
    pub fn converged(&self) -> bool {
        self.results.iter().all(|r| r.outcome == Outcome::Applied)
    }
}

/// Execute every action of `plan` against `client`.
pub async fn execute<C: ApiGateway>(
    client: &C,
    plan: &Plan,
    retry: &RetryPolicy,
) -> ExecutionReport {
    execute_until(client, plan, retry, &AtomicBool::new(false), |_| {}).await
}

/// Like [`execute`], but starts no new action once `stop` is set (the call in flight
/// finishes; the rest are reported as cancelled), and shows each result to `observe`
/// as soon as it is known (the daemon's metrics move during long cycles).
pub async fn execute_until<C: ApiGateway>(
    client: &C,
    plan: &Plan,
    retry: &RetryPolicy,
    stop: &AtomicBool,
    mut observe: impl FnMut(&ActionResult),
) -> ExecutionReport {
    let mut report = ExecutionReport::default();
    let mut record = |result: ActionResult| {
        match &result.outcome {
            Outcome::Applied => {
                tracing::info!(key = %result.action.key, kind = ?result.action.kind, attempts = result.attempts, "applied")
            }
            Outcome::Failed(e) => {
                tracing::warn!(key = %result.action.key, kind = ?result.action.kind, attempts = result.attempts, error = %e, "failed")
            }
            Outcome::Held(why) => {
                tracing::warn!(key = %result.action.key, kind = ?result.action.kind, "held: {why}")
            }
            Outcome::Blocked | Outcome::Cancelled => {}
        }
        observe(&result);
        report.results.push(result);
    };
    for steps in by_method(plan) {
        let method = steps.method;
        let run = |action: &'_ Action| {
            let action = action.clone();
            async move {
                let (outcome, attempts) = if stop.load(Ordering::SeqCst) {
                    (Outcome::Cancelled, 0)
                } else {
                    run_with_retry(client, &action, retry).await
                };
                ActionResult {
                    action,
                    outcome,
                    attempts,
                }
            }
        };
        let mut writes_ok = !steps.blocked_write;
        for action in steps.blocked {
            record(ActionResult {
                action: action.clone(),
                outcome: Outcome::Blocked,
                attempts: 0,
            });
        }
        let mut freed = true;
        for action in steps.freeing {
            let result = run(action).await;
            freed &= result.outcome == Outcome::Applied;
            writes_ok &= result.outcome == Outcome::Applied;
            record(result);
        }
        let mut swapped: Option<&Action> = None;
        if let (Some(delete), true) = (steps.swap_delete, freed) {
            let result = run(delete).await;
            if result.outcome == Outcome::Applied {
                swapped = Some(delete);
            }
            freed = result.outcome == Outcome::Applied;
            record(result);
        }
        for action in steps.writes {
            let takes_default = steps.new_default.is_some_and(|d| std::ptr::eq(d, action));
            let result = if takes_default && !freed {
                ActionResult {
                    action: action.clone(),
                    outcome: Outcome::Held(format!(
                        "{method} keeps its current default response, which could not be changed or removed first \
                         (API Gateway allows one default per method); tried again next cycle"
                    )),
                    attempts: 0,
                }
            } else {
                run(action).await
            };
            writes_ok &= result.outcome == Outcome::Applied;
            let failed_default = takes_default && result.outcome != Outcome::Applied;
            record(result);
            if let (true, Some(old)) = (failed_default, swapped) {
                // Put the old default back: the method must not be left without one.
                let restore = Action {
                    kind: ActionKind::Create,
                    desired: old.live.clone(),
                    reason: Some("restore".into()),
                    ..old.clone()
                };
                let restored = run(&restore).await;
                let outcome = match restored.outcome {
                    Outcome::Applied => Outcome::Held(format!(
                        "status {} was put back because the new default response failed; tried again next cycle",
                        old.key.status_code
                    )),
                    other => other,
                };
                record(ActionResult {
                    action: old.clone(),
                    outcome,
                    attempts: restored.attempts,
                });
            }
        }
        for action in steps.deletes {
            let prune = action.source.is_none();
            let result = if prune && !writes_ok {
                ActionResult {
                    action: action.clone(),
                    outcome: Outcome::Held(format!(
                        "prune waits until every write on {method} has succeeded: deleting now would leave \
                         the method with fewer working responses"
                    )),
                    attempts: 0,
                }
            } else {
                run(action).await
            };
            record(result);
        }
    }
    report
}

/// One method's actions, in the order they must run.
struct MethodSteps<'a> {
    /// `api resource METHOD`, for messages.
    method: String,
    blocked: Vec<&'a Action>,
    /// Whether a write on this method is blocked (its prune deletes are then held).
    blocked_write: bool,
    /// Updates that make the live default response a non-default one.
    freeing: Vec<&'a Action>,
    /// The delete of the live default response when another status code becomes the
    /// default in the same plan.
    swap_delete: Option<&'a Action>,
    /// The write that makes a status code the new default (one of `writes`).
    new_default: Option<&'a Action>,
    writes: Vec<&'a Action>,
    deletes: Vec<&'a Action>,
}

fn is_default(s: Option<&crate::model::Settings>) -> bool {
    s.is_some_and(crate::model::Settings::is_default)
}

/// The plan's actions grouped by method, in plan order, each group ordered as the
/// module documentation says.
fn by_method(plan: &Plan) -> Vec<MethodSteps<'_>> {
    let mut groups: Vec<(MethodKey<'_>, Vec<&Action>)> = Vec::new();
    for action in &plan.actions {
        let k = method_key(action);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, list)) => list.push(action),
            None => groups.push((k, vec![action])),
        }
    }
    groups
        .into_iter()
        .map(|((api, resource, method), actions)| {
            let label = actions
                .iter()
                .find_map(|a| {
                    Some(format!(
                        "{} {} {method}",
                        a.api_name.as_deref()?,
                        a.resource_path.as_deref()?
                    ))
                })
                .unwrap_or_else(|| format!("{api} {resource} {method}"));
            let mut steps = MethodSteps {
                method: label,
                blocked: Vec::new(),
                blocked_write: false,
                freeing: Vec::new(),
                swap_delete: None,
                new_default: None,
                writes: Vec::new(),
                deletes: Vec::new(),
            };
            for a in &actions {
                match a.kind {
                    ActionKind::Blocked => {
                        steps.blocked_write |= a.desired.is_some();
                        steps.blocked.push(a);
                    }
                    ActionKind::Delete => steps.deletes.push(a),
                    ActionKind::Update
                        if is_default(a.live.as_ref()) && !is_default(a.desired.as_ref()) =>
                    {
                        steps.freeing.push(a)
                    }
                    ActionKind::Create | ActionKind::Update => {
                        if is_default(a.desired.as_ref()) && !is_default(a.live.as_ref()) {
                            steps.new_default = Some(a);
                        }
                        steps.writes.push(a);
                    }
                }
            }
            if steps.new_default.is_some()
                && let Some(i) = steps
                    .deletes
                    .iter()
                    .position(|d| is_default(d.live.as_ref()))
            {
                steps.swap_delete = Some(steps.deletes.remove(i));
            }
            steps
        })
        .collect()
}

type MethodKey<'a> = (&'a str, &'a str, &'a str);

fn method_key(a: &Action) -> MethodKey<'_> {
    (&a.key.rest_api_id, &a.key.resource_id, &a.key.http_method)
}

async fn run_with_retry<C: ApiGateway>(
    client: &C,
    action: &Action,
    retry: &RetryPolicy,
) -> (Outcome, u32) {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = match action.kind {
            ActionKind::Delete => match client.delete_integration_response(&action.key).await {
                // Already gone is what we wanted.
                Err(e) if e.kind == FailureKind::NotFound => Ok(()),
                other => other,
            },
            _ => {
                let settings = action.desired.clone().unwrap_or_default();
                client
                    .put_integration_response(&action.key, &settings)
                    .await
            }
        };
        match result {
            Ok(()) => return (Outcome::Applied, attempt),
            Err(e) if e.kind == FailureKind::RetryLater && attempt < retry.attempts => {
                tokio::time::sleep(backoff::exponential(retry.initial, retry.max, attempt - 1))
                    .await;
            }
            Err(e) => return (Outcome::Failed(e), attempt),
        }
    }
}
