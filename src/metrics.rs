//! The daemon's Prometheus metrics (names prefixed `apigw_reconciler_`), updated from
//! each cycle's result and rendered as OpenMetrics text by the server.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::live::CallCounts;

type Labels = Vec<(&'static str, String)>;

type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

fn cycle_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 14))
}

/// Every metric of the daemon, one registry for all targets. Each metric is a family
/// whose labels start with the target's (`target="<name>"`, none for a config
/// without `targets`); a target updates its own series through [`TargetMetrics`].
pub struct Metrics {
    registry: Registry,
    cycles: Family<Labels, Counter>,
    actions: Family<Labels, Counter>,
    api_calls: Family<Labels, Counter>,
    throttles: Family<Labels, Counter>,
    api_errors: Family<Labels, Counter>,
    drift: Family<Labels, Counter>,
    deployments: Family<Labels, Counter>,
    blocked: Family<Labels, Gauge>,
    failing: Family<Labels, Gauge>,
    desired_valid: Family<Labels, Gauge>,
    desired_specs: Family<Labels, Gauge>,
    last_success: Family<Labels, Gauge<f64, AtomicU64>>,
    cycle_seconds: HistogramFamily,
    tests_run: Family<Labels, Counter>,
    /// The server's, for every target at once: no target label.
    pub reconcile_refused: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("apigw_reconciler");
        let m = Metrics {
            cycles: Family::default(),
            actions: Family::default(),
            api_calls: Family::default(),
            throttles: Family::default(),
            api_errors: Family::default(),
            drift: Family::default(),
            deployments: Family::default(),
            blocked: Family::default(),
            failing: Family::default(),
            desired_valid: Family::default(),
            desired_specs: Family::default(),
            last_success: Family::default(),
            cycle_seconds: HistogramFamily::new_with_constructor(cycle_histogram),
            tests_run: Family::default(),
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
    /// OpenMetrics text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// One target's series of the shared [`Metrics`].
#[derive(Clone)]
pub struct TargetMetrics {
    all: Arc<Metrics>,
    /// `[("target", name)]`, or none for a config without `targets`.
    base: Labels,
}

impl Default for TargetMetrics {
    /// Metrics of their own, unlabelled (a config without `targets`; tests).
    fn default() -> Self {
        TargetMetrics::new(Arc::new(Metrics::default()), None)
    }
}

impl TargetMetrics {
    /// The series of `target` (unlabelled for `None`); those that are one number
    /// each show from the start, 0 until something happens, as plain metrics do.
    pub fn new(all: Arc<Metrics>, target: Option<&str>) -> Self {
        let base: Labels = target
            .map(|t| vec![("target", t.to_owned())])
            .unwrap_or_default();
        let m = TargetMetrics { all, base };
        let a = &m.all;
        let _ = a.throttles.get_or_create(&m.base);
        let _ = a.drift.get_or_create(&m.base);
        let _ = a.blocked.get_or_create(&m.base);
        let _ = a.failing.get_or_create(&m.base);
        let _ = a.desired_valid.get_or_create(&m.base);
        let _ = a.desired_specs.get_or_create(&m.base);
        let _ = a.last_success.get_or_create(&m.base);
        let _ = a.cycle_seconds.get_or_create(&m.base);
        let _ = a.tests_run.get_or_create(&m.base);
        m
    }

    /// The registry all targets share (what `/metrics` renders).
    pub fn all(&self) -> &Arc<Metrics> {
        &self.all
    }

    fn with(&self, more: &[(&'static str, String)]) -> Labels {
        let mut labels = self.base.clone();
        labels.extend_from_slice(more);
        labels
    }

    /// Add the calls made since `before` to the per-operation counters.
    pub fn record_calls(&self, before: &CallCounts, now: &CallCounts) {
        for (op, n) in &now.by_operation {
            let delta = n - before.by_operation.get(op).copied().unwrap_or(0);
            if delta > 0 {
                self.all
                    .api_calls
                    .get_or_create(&self.with(&[("operation", op.clone())]))
                    .inc_by(delta);
            }
        }
        self.all
            .throttles
            .get_or_create(&self.base)
            .inc_by(now.throttled - before.throttled);
        for (kind, n) in &now.errors {
            let delta = n - before.errors.get(kind).copied().unwrap_or(0);
            if delta > 0 {
                self.all
                    .api_errors
                    .get_or_create(&self.with(&[("kind", kind.clone())]))
                    .inc_by(delta);
            }
        }
    }

    pub fn cycle(&self, result: &str, seconds: f64) {
        self.all
            .cycles
            .get_or_create(&self.with(&[("result", result.to_owned())]))
            .inc();
        self.all
            .cycle_seconds
            .get_or_create(&self.base)
            .observe(seconds);
    }

    pub fn action(&self, kind: String, outcome: &str) {
        self.all
            .actions
            .get_or_create(&self.with(&[("kind", kind), ("outcome", outcome.to_owned())]))
            .inc();
    }

    pub fn deployment(&self, outcome: &str) {
        self.all
            .deployments
            .get_or_create(&self.with(&[("outcome", outcome.to_owned())]))
            .inc();
    }

    pub fn drift(&self) {
        self.all.drift.get_or_create(&self.base).inc();
    }

    pub fn keys(&self, blocked: usize, failing: usize) {
        self.all
            .blocked
            .get_or_create(&self.base)
            .set(blocked as i64);
        self.all
            .failing
            .get_or_create(&self.base)
            .set(failing as i64);
    }

    pub fn desired_valid(&self, valid: bool) {
        self.all
            .desired_valid
            .get_or_create(&self.base)
            .set(i64::from(valid));
    }

    pub fn desired_specs(&self, n: usize) {
        self.all
            .desired_specs
            .get_or_create(&self.base)
            .set(n as i64);
    }

    pub fn last_success(&self, unix: f64) {
        self.all.last_success.get_or_create(&self.base).set(unix);
    }

    pub fn tests_run(&self, n: u64) {
        self.all.tests_run.get_or_create(&self.base).inc_by(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prefixed_names_and_call_deltas() {
        let m = TargetMetrics::default();
        let mut before = CallCounts::default();
        before.by_operation.insert("GetResources".into(), 2);
        let mut now = before.clone();
        now.by_operation.insert("GetResources".into(), 5);
        now.throttled = 1;
        now.errors.insert("http_503".into(), 2);
        m.record_calls(&before, &now);
        m.cycle("converged", 0.5);
        let text = m.all().render();
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

    #[test]
    fn each_target_has_its_own_labelled_series_in_one_registry() {
        let all = Arc::new(Metrics::default());
        let us = TargetMetrics::new(all.clone(), Some("prod-us"));
        let eu = TargetMetrics::new(all.clone(), Some("prod-eu"));
        us.drift();
        us.drift();
        eu.cycle("failed", 0.1);
        let text = all.render();
        assert!(
            text.contains("apigw_reconciler_drift_detected_total{target=\"prod-us\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("apigw_reconciler_drift_detected_total{target=\"prod-eu\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("apigw_reconciler_cycles_total{target=\"prod-eu\",result=\"failed\"} 1"),
            "{text}"
        );
        assert_eq!(
            text.matches("# TYPE apigw_reconciler_drift_detected counter")
                .count(),
            1,
            "one family for all targets: {text}"
        );
        let unlabelled = TargetMetrics::default();
        assert!(
            unlabelled
                .all()
                .render()
                .contains("apigw_reconciler_drift_detected_total 0\n"),
            "a config without targets keeps its plain series"
        );
    }
}
