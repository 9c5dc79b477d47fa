//! Carrying out a [`Plan`]: deletes first, then puts, each action on its own so one
//! failure does not stop the others, with a bounded retry for API Gateway's
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

    /// Every action applied: none failed, blocked or cancelled.
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
    let mut ordered: Vec<&Action> = plan.actions.iter().collect();
    // Deletes first: a status-code change frees the old default response before the
    // new one is written.
    ordered.sort_by_key(|a| a.kind != ActionKind::Delete);
    let mut report = ExecutionReport::default();
    for action in ordered {
        let (outcome, attempts) = match action.kind {
            ActionKind::Blocked => (Outcome::Blocked, 0),
            _ if stop.load(Ordering::SeqCst) => (Outcome::Cancelled, 0),
            _ => run_with_retry(client, action, retry).await,
        };
        match &outcome {
            Outcome::Applied => {
                tracing::info!(key = %action.key, kind = ?action.kind, attempts, "applied")
            }
            Outcome::Failed(e) => {
                tracing::warn!(key = %action.key, kind = ?action.kind, attempts, error = %e, "failed")
            }
            Outcome::Blocked | Outcome::Cancelled => {}
        }
        let result = ActionResult {
            action: action.clone(),
            outcome,
            attempts,
        };
        observe(&result);
        report.results.push(result);
    }
    report
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
