//! The daemon's Prometheus metrics (names prefixed `apigw_reconciler_`), updated from
//! each cycle's result and rendered as OpenMetrics text by the server.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::live::CallCounts;

type Labels = Vec<(&'static str, String)>;

pub struct Metrics {
    registry: Registry,
    pub cycles: Family<Labels, Counter>,
    pub actions: Family<Labels, Counter>,
    pub api_calls: Family<Labels, Counter>,
    pub throttles: Counter,
    pub api_errors: Family<Labels, Counter>,
    pub drift: Counter,
    pub deployments: Family<Labels, Counter>,
    pub blocked: Gauge,
    pub failing: Gauge,
    pub desired_valid: Gauge,
    pub desired_specs: Gauge,
    pub last_success: Gauge<f64, AtomicU64>,
    pub cycle_seconds: Histogram,
    pub tests_run: Counter,
    pub reconcile_refused: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("apigw_reconciler");
        let m = Metrics {
            cycles: Family::default(),
            actions: Family::default(),
            api_calls: Family::default(),
            throttles: Counter::default(),
            api_errors: Family::default(),
            drift: Counter::default(),
            deployments: Family::default(),
            blocked: Gauge::default(),
            failing: Gauge::default(),
            desired_valid: Gauge::default(),
            desired_specs: Gauge::default(),
            last_success: Gauge::default(),
            cycle_seconds: Histogram::new(exponential_buckets(0.01, 2.0, 14)),
            tests_run: Counter::default(),
            reconcile_refused: Counter::default(),
            registry: Registry::default(),
        };
        registry.register("cycles", "Reconcile cycles by result", m.cycles.clone());
        registry.register("actions", "Actions by kind and outcome", m.actions.clone());
        registry.register(
            "api_calls",
            "HTTP requests to API Gateway by operation, retries included",
            m.api_calls.clone(),
        );
        registry.register(
            "throttles",
            "Requests answered 429 (throttled) by API Gateway",
            m.throttles.clone(),
        );
        registry.register(
            "deployments",
            "Stage deployments after changes, by outcome (deployed, failed)",
            m.deployments.clone(),
        );
        registry.register(
            "api_errors",
            "Failed requests to API Gateway by kind (http_<status>, timeout, connection, bad_response)",
            m.api_errors.clone(),
        );
        registry.register(
            "drift_detected",
            "Integration responses found changed outside our own writes",
            m.drift.clone(),
        );
        registry.register(
            "blocked",
            "Integration responses blocked on a missing dependency",
            m.blocked.clone(),
        );
        registry.register(
            "failing",
            "Integration responses whose last write failed",
            m.failing.clone(),
        );
        registry.register(
            "desired_set_valid",
            "1 when the desired directory last loaded without errors",
            m.desired_valid.clone(),
        );
        registry.register(
            "desired_specs",
            "Specs in the desired set in use",
            m.desired_specs.clone(),
        );
        registry.register(
            "last_success_timestamp_seconds",
            "Unix time of the last cycle that converged",
            m.last_success.clone(),
        );
        registry.register(
            "cycle_duration_seconds",
            "Wall time of reconcile cycles",
            m.cycle_seconds.clone(),
        );
        registry.register(
            "reconcile_requests_refused",
            "POST /reconcile requests answered 429 (over the rate limit), no cycle queued",
            m.reconcile_refused.clone(),
        );
        registry.register(
            "response_tests_run",
            "Response tests run; a desired set unchanged since its last evaluation runs none",
            m.tests_run.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// Add the calls made since `before` to the per-operation counters.
    pub fn record_calls(&self, before: &CallCounts, now: &CallCounts) {
        for (op, n) in &now.by_operation {
            let delta = n - before.by_operation.get(op).copied().unwrap_or(0);
            if delta > 0 {
                self.api_calls
                    .get_or_create(&vec![("operation", op.clone())])
                    .inc_by(delta);
            }
        }
        self.throttles.inc_by(now.throttled - before.throttled);
        for (kind, n) in &now.errors {
            let delta = n - before.errors.get(kind).copied().unwrap_or(0);
            if delta > 0 {
                self.api_errors
                    .get_or_create(&vec![("kind", kind.clone())])
                    .inc_by(delta);
            }
        }
    }

    /// OpenMetrics text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prefixed_names_and_call_deltas() {
        let m = Metrics::default();
        let mut before = CallCounts::default();
        before.by_operation.insert("GetResources".into(), 2);
        let mut now = before.clone();
        now.by_operation.insert("GetResources".into(), 5);
        now.throttled = 1;
        now.errors.insert("http_503".into(), 2);
        m.record_calls(&before, &now);
        m.cycles
            .get_or_create(&vec![("result", "converged".into())])
            .inc();
        let text = m.render();
        assert!(
            text.contains("apigw_reconciler_api_calls_total{operation=\"GetResources\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("apigw_reconciler_throttles_total 1"),
            "{text}"
        );
        assert!(
            text.contains("apigw_reconciler_api_errors_total{kind=\"http_503\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("apigw_reconciler_cycles_total{result=\"converged\"} 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }
}
